// Package picker owns the weighted choice among the backendRefs of one
// HTTPRoute rule. It is the single implementation of that idea in splitproof:
// the reference proxy calls it for every request and the simulator (package
// sim) draws from the very same code, so what sim proves about a split is a
// statement about the proxy.
//
// Weights follow the Gateway API: an unset weight is 1, a weight of 0 is never
// picked, the maximum is 1,000,000 and a rule has at most 16 backendRefs.
// Invalid backendRefs are not the picker's concern: they keep their index and
// their weight, and the caller answers 500 for the requests that land on them.
//
// Two modes exist because real gateways differ:
//
//   - Random draws independently for every pick, as Envoy and agentgateway do.
//     The generator is counter based (wyrand over an atomic Weyl sequence), so a
//     run is reproducible from its seed, concurrent picks need no lock, and the
//     k-th pick is the same whichever goroutine makes it.
//   - Smooth is nginx's smooth weighted round robin: deterministic, and in every
//     window of sum(weights)/gcd(weights) consecutive picks each backend appears
//     exactly weight/gcd times.
//
// The package uses the standard library and internal/splitmix (its seed
// mixer) only.
package picker
