// Package embedded owns the embedded target: the whole documented setup as
// in-process servers on loopback, so the main job needs no cluster. For a
// scenario it starts one helloworld server per Service the scenario names,
// a fake OpenAI provider for its AI backends, and refproxy serving the
// scenario's manifests exactly as written plus the local objects (Gateway,
// Secret) and what a cluster would add: EndpointSlices for the local servers
// and host/port/path overrides that point AI backends at the fake. The
// manifests are never edited; the overrides are applied to loaded objects.
//
// The Endpoint it returns maps the addresses the doc's snippets use — the
// external address on port 80 and the port-forward's localhost:8080 — to
// refproxy's loopback listener for the Gateway's port 80.
package embedded
