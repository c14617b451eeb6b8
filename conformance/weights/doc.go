// Package weights owns a weight-semantics suite stronger than the upstream
// Gateway API conformance test HTTPRouteWeight, which checks one 70/30/0
// split with 500 requests, ±0.05 and up to 10 retries. Each Case is a
// scenario (package scenarios) with what a correct gateway must show:
// pass (the split is verified), fail (for a deliberately wrong gateway) or
// spec-ambiguous (the spec does not say; the suite reports what it saw).
//
// Run replays every case in every pick mode a Target offers and returns
// one Result each; the Embedded target runs refproxy in-process per case
// (scenarios/embedded), in random and in smooth mode. Splits are decided
// by scenarios/replay: the sequential test for independent draws, and, for
// a mode whose order is deterministic (smooth WRR), a fixed run long
// enough for sim/sched to recognise the period, so that the verdict is
// the exactness test's. A weight-0 backendRef also gets a one-sided 95 %
// upper bound on its share (Clopper–Pearson, 1 − 0.05^(1/k) after k
// requests with none on it); a rule whose weights are all zero gets the
// statuses it was answered with, judged only as "a 5xx, not a backend".
//
// WriteTable and WriteJSON render the results. The package never prints
// on its own and imports no CLI package.
package weights
