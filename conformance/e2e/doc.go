// Package e2e holds the end-to-end suites that run against a real kind
// cluster (ginkgo/gomega). The suites are behind the "e2e" build tag so
// `go test ./...` stays hermetic; `make e2e` builds the images, creates the
// cluster and runs them (see docs/kind.md).
//
// The suite runs conformance/lb on the host for its whole lifetime, so the
// LoadBalancer Service of the refproxy install has an address the host
// reaches (the doc's INGRESS_GW_ADDRESS). "the doc's examples through
// refproxy on kind" installs refproxy (conformance/install, Doc profile),
// runs the documentation page's commands with its YAML unchanged, replays
// every snippet of both examples through scenarios/kube (the LoadBalancer
// address and the port-forward) with the replayer's defaults (a sequential
// test per snippet, one false-failure rate for the four verdicts), writes
// the run's JSON to out/e2e/doc-examples.json and runs the page's Cleanup
// commands. Every
// top-level container sets up what it needs: ginkgo shuffles them.
package e2e
