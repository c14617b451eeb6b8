// Package controller owns refproxy's controller mode: a controller-runtime
// manager that watches the Gateway API objects (GatewayClass, Gateway,
// HTTPRoute, ReferenceGrant), the core objects they refer to (Service,
// EndpointSlice, Secret, Namespace) and AgentgatewayBackend, and on any
// change rebuilds the whole routing table.
//
// There is a single reconcile key: every event, debounced (package
// refproxy/debounce), leads to one run that lists everything from the
// informer cache into an objects.Set, calls
// translate.Translate (the same code path as file mode), hands the table to
// the listener layer (filemode.Ports in the CLI), which swaps it into the
// proxy atomically, and then writes back the statuses the translator
// computed: GatewayClass Accepted and supportedFeatures; Gateway Accepted,
// Programmed, addresses and listeners; HTTPRoute Accepted and ResolvedRefs
// for the parents this instance serves. Status is written with Update under
// conflict retry and only when it changes, keeping a condition's
// lastTransitionTime while its status stays the same.
//
// With leader election, every replica serves traffic from its own cache, but
// only the leader writes status.
package controller
