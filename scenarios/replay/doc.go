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
//
// Every replay also keeps the order its responses arrived in
// ([Report.Sequence], package scenarios/sequence): per request, when it was
// sent and answered (offsets from the replay's start), the connection that
// carried it, its status and its category. The native curl's commands share
// one transport whose dialer numbers its connections, so the doc's loop of
// one curl per request reuses a keep-alive connection where real curl would
// open one per command; the sequence says which happened. The counts file
// ([Report.SequenceFile]) carries it, so `splitproof verify --sequence` can
// read the order back. A stepped scenario's sequence holds its step's own
// requests, not those of the background loop sent meanwhile.
package replay
