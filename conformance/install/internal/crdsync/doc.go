// Package crdsync copies the Gateway API CustomResourceDefinitions that
// conformance/install embeds from where they are maintained (the Gateway
// API module in the module cache, at go.mod's version), and tells whether
// the embedded copies are stale. The AgentgatewayBackend CRD beside them is
// generated in place (ci/generate.sh), so it is not crdsync's.
package crdsync
