// Package weights owns a weight-semantics suite stronger than the upstream
// Gateway API conformance test HTTPRouteWeight, which checks one 70/30/0
// split with 500 requests, ±0.05 and up to 10 retries. Each Case is a
// scenario (package scenarios) with what a correct gateway must show:
// pass (the split is verified), fail (for a deliberately wrong gateway) or
// spec-ambiguous (the spec does not say; the suite reports what it saw).
//
// Run replays every case in every pick mode a Target offers and returns
// one Result each; the Embedded target runs refproxy in-process per case
// (scenarios/embedded), in random and in smooth mode; Gateway is a URL
// someone runs; Cluster applies each case to a Kubernetes cluster with its
// Gateway of a given GatewayClass (clusterplan.go names the objects,
// cluster.go applies, waits, reaches and deletes them). Splits are decided
// by scenarios/replay: the sequential test for independent draws, and, for
// a mode whose order is deterministic (smooth WRR), a fixed run long
// enough for sim/sched to recognise the period, so that the verdict is
// the exactness test's. A weight-0 backendRef also gets a one-sided 95 %
// upper bound on its share (Clopper–Pearson, 1 − 0.05^(1/k) after k
// requests with none on it); a rule whose weights are all zero gets the
// statuses it was answered with, judged only as "a 5xx, not a backend".
//
// RunDynamic runs the cases that take longer than one replay, outside
// Default: MeasureChanges, the time from a weight change in refproxy's
// file mode to the new table serving and to a sliding window that is
// statistically right for the new weights (change.go defines each delay),
// and RunConnCases, a 10/10/80 split over one keep-alive connection, a new
// connection per request and h2c streams, on refproxy and on a double that
// picks per connection (perconn.go). BenchmarkWeightChange reports the
// flip's p99 against ServingGoal. MeasureClusterChanges measures the same
// delay in a cluster, from a patch of an HTTPRoute's weights; both share
// change.go's window logic through a weightSetter.
//
// WriteTable, WriteJSON, WriteJUnit and WriteConformanceReport (upstream's
// ConformanceReport, confreport.go) render the results. The package never prints
// on its own and imports no CLI package.
package weights
