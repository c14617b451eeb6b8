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
// A whole run — every snippet of several scenarios, each scenario on its
// own target — is [RunAll]: the caller says how a scenario's target is
// opened ([TargetFactory]; the embedded one is passed in by the caller,
// since scenarios/embedded imports this package), and gets back every
// report, whether SIGINT or SIGTERM cut the run short, and the run's
// outcome (FAIL beats INCONCLUSIVE beats PASS). Stepped scenarios run only
// on targets with an [Applier]. [WriteFiles] writes a run's JUnit, plots
// and counts files. `splitproof replay` and the e2e suite both run this.
//
// RunAll runs a sequential test per replay unless [Config.Fixed], and gives
// the run one false-failure rate ([RunSummary]): it counts the verdicts it
// will make, plans and decides each at alpha over their number, and at the
// end combines the fixed-n verdicts of independent draws by Holm's
// step-down, while sequential ones keep their share (Bonferroni). Holm can
// still turn a fixed-n verdict into a FAIL then, so a report is final only
// once RunAll returns.
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
