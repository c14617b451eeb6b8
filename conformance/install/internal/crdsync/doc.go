// Package crdsync copies the CustomResourceDefinitions that
// conformance/install embeds from where they are maintained (the Gateway
// API module in the module cache, conformance/manifests/crds), and tells
// whether the embedded copies are stale.
package crdsync
