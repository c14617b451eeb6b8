// Package upstream owns a drop-in replacement for the request-sending check
// of the upstream Gateway API conformance suite (package
// sigs.k8s.io/gateway-api/conformance/utils/weight): TestWeightedDistribution
// has its signature and takes the same RequestSender (any value with
// SendRequest() (podName string, err error), such as
// weight.NewFunctionBasedSender's), so an implementation's own conformance
// tests can swap it in by changing the import.
//
// Upstream sends 500 requests, allows ±0.05 per share and retries up to 10
// times: a correct gateway fails an attempt 1.46 % of the time and a
// gateway routing 64/36 instead of 70/30 passes 98.4 %. Here each attempt
// is a window sized by package sim, so that its figures are stated rather
// than measured after the fact, and the windows also wait for a weight
// change to converge: Check sends window after window until one certifies
// every share within ±Delta (PASS), up to MaxWindows. When none does, the
// last window decides: FAIL if its goodness-of-fit test rejects the
// weights, INCONCLUSIVE otherwise. The rates, for a gateway whose split no
// longer changes:
//
//   - false failure (a correct gateway not passed) at most
//     Alpha + q^MaxWindows, where q bounds the chance that one window of a
//     correct gateway does not certify (a union of binomial tails over the
//     certification ranges, sim.CertifyRange) and Alpha is the last
//     window's rejection rate;
//   - false pass (a gateway with a share off by more than Delta passed) at
//     most Beta: each window certifies at Beta/MaxWindows (Bonferroni over
//     the windows);
//   - FailPower: the chance the last window fails a split off by Delta
//     (sim.MinPower), the rest being INCONCLUSIVE.
//
// The rates assume each response is an independent draw, as the fit does
// (Envoy-style random picking); a deterministic round robin passes sooner,
// and a gateway that picks per connection needs a sender that opens a
// connection per request.
//
// Responses are counted per backend name, taken from the pod name as
// upstream does (the last two dash-separated parts dropped) unless
// Options.BackendName says otherwise. A name that is not an expected
// backend, or a hit on a weight-0 backend, fails the window.
package upstream
