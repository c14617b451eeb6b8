// Package e2e holds the end-to-end suites that run against a real kind
// cluster (ginkgo/gomega). The suites are behind the "e2e" build tag so
// `go test ./...` stays hermetic; `make e2e` builds the images, creates the
// cluster and runs them (see docs/kind.md).
package e2e
