// Package embedded owns the embedded target: the whole documented setup as
// in-process servers on loopback, so the main job needs no cluster. For a
// scenario it starts one helloworld server per Service the scenario names,
// a fake OpenAI provider for its AI backends, and refproxy serving the
// scenario's manifests exactly as written plus the local objects (Gateway,
// Secret) and what a cluster would add: EndpointSlices for the local servers
// and host/port/path overrides that point AI backends at the fake. The
// manifests are never edited; the overrides are applied to loaded objects.
// A scenario's faults become the fake provider's fault rates for the model
// the faulty arm's backend sends, so that arm alone fails at its rate.
//
// refproxy runs here exactly as `splitproof proxy` runs it (refproxy/runtime:
// the same listener layer, server timeouts, h2c and drain), fed the
// scenario's tables in memory instead of from files or a cluster. The
// helloworld servers and the fake provider are served by their own
// packages' Serve helpers.
//
// The Endpoint it returns maps the addresses the doc's snippets use — the
// external address on port 80 and the port-forward's localhost:8080 — to
// refproxy's loopback listener for the Gateway's port 80.
package embedded
