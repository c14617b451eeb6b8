// Package replay owns turning a scenario into a verdict: it runs one of the
// scenario's documented snippets against a gateway endpoint, scaled to the
// number of requests the statistics need (or sequentially until the verdict
// is sure), classifies every response, and asks package sim for the verdict.
//
// Where the gateway is does not matter here: an Endpoint says which
// environment the snippet gets (INGRESS_GW_ADDRESS) and where the addresses
// the doc uses really are (the port-forward's localhost:8080, the external
// address on port 80). The embedded target, a gateway given by address, and
// a kind cluster each produce an Endpoint.
package replay
