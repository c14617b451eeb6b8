// Package sim owns splitproof's statistical verdicts on weighted traffic
// splits: goodness-of-fit tests of observed counts against the weights,
// simultaneous per-category intervals, power and sample size, a sequential
// (always-valid) verification for CI, and simulation through the proxy's own
// picker (refproxy/picker) to calibrate all of it.
//
// # Verdicts
//
// Verify tests counts per category against expected shares weight/sum and
// certifies them within a tolerance (see Outcomes). A
// category is a backend or a status such as "500" (the share of invalid
// backendRefs) or "503"; all are tested alike. Categories with weight 0 leave
// the fit and any response in them fails the verdict ("backend X has weight 0
// but received N responses"), as does any response under a name that is no
// category. The fit uses Pearson's chi-square test (k-1 degrees of freedom)
// only where it keeps its promise: every expected count at least 5
// (Cochran) and its exact false-failure rate at this n and split, computed
// before looking at the counts (ChooseRule), at most 1.1 alpha
// (SizeTolerance). Everywhere else the exact multinomial test decides:
// all outcomes enumerated up to DefaultMaxEnumerate, beyond that a seeded
// Monte Carlo estimate whose p-value (1+hits)/(1+runs) is valid by
// construction and whose standard error is reported. The G-test is
// reported beside Pearson's. Each category gets a Clopper–Pearson interval
// at level 1-alpha/k (Bonferroni over the k weighted categories), so the
// table says which category is off and by how much. Clopper–Pearson never
// covers less than its level (TestIntervalCoverage enumerates it), so the
// intervals hold together with probability at least 1-alpha; the Wilson
// interval, kept in the JSON for reference, under-covers small shares.
//
// # Outcomes
//
// A Verdict's Outcome is pass, fail or inconclusive (Pass mirrors pass);
// splitproof exits 0, 1 and 3 for them. A fixed-n verdict (Verify) is
//
//   - FAIL when the fit rejects at alpha: "the split differs from the
//     weights at alpha", naming the categories off or a joint deviation;
//     and whatever the fit says, when a weight-0 category or a name that is
//     no category received responses;
//   - PASS when the fit does not reject and every weighted share is
//     certified: its Clopper–Pearson interval at CertifyLevel (1-beta/k by
//     Bonferroni over the k weighted categories, 1-beta when k is 2, as
//     two shares are complementary) lies inside [w-delta, w+delta]. Only
//     then does the report say "verified within ±delta": every share within
//     ±delta of its weight, confidence at least 1-beta. beta (the false-pass
//     rate) defaults to DefaultBeta, 0.1, delta to DefaultDelta, 0.05;
//   - INCONCLUSIVE when the fit does not reject but some interval reaches
//     beyond ±delta, with "about N more requests would decide": an
//     estimate, assuming the observed shares hold, of the total at which
//     the intervals would fit (or, for a share observed outside the
//     tolerance, at which the test would reject with probability 1/2).
//
// Without the certification a non-rejection meant only "no significant
// deviation": at the n planned for power 0.8, a split 5 points off could
// pass a fifth of the time, and one less far off more often. Now a split
// with a share just outside ±delta passes at most beta of the time at any
// n (TestFalsePassAtMostBeta, at 600 requests and at half, once and twice
// the planned n: the exact bound, a binomial sum over CertifyRange, is at
// most 0.014 for 10/10/80 and 0.043 for 80/20, as the two-sided intervals
// spend only half of beta on the side that matters). The price on a correct gateway is small: at the
// replayer's planned n (power 0.9: 1,575 for 10/10/80, 1,401 for 80/20)
// a verdict is INCONCLUSIVE with probability 0.006 and 0.003, at the n for
// power 0.8 (1,283 and 1,140) 0.022 and 0.012 (TestInconclusiveAtPlan,
// computed exactly and checked by simulation).
//
// A caller that could not finish its data makes the verdict inconclusive
// itself (MarkInconclusive): a sequential test that reached its cap
// undecided, or a replay interrupted before its plan, with the estimate
// its own test gives (for the sequential test, Sequential.EstimateTotal).
// A failure that no further data can undo (a weight-0 or unexpected
// response) keeps the verdict at fail.
//
// # One alpha per run
//
// A run of m verdicts (a replay of several snippets, the demo's examples)
// states one false-failure rate for the run with Holm's step-down
// procedure: each verdict is planned and verified at PlanAlpha(alpha, m) =
// alpha/m, Holm's first threshold, so its stated power holds whatever the
// others find; then ApplyHolm compares the sorted p-values with alpha/m,
// alpha/(m-1), ..., alpha, failing a verdict that only a larger threshold
// rejects, and records under each verdict "run-level false-failure rate
// alpha (Holm over m verdicts; this verdict's share alpha/(m-rank+1))".
// The probability that a run on correct gateways fails at all is at most
// alpha for valid p-values (TestRunLevelFalseFailure: 0.043 at a run-level
// 0.05 for m = 4 and 9 exact tests, where verdicts at 0.05 each fail 0.15
// and 0.32 of runs); Pearson's p-value is valid within SizeTolerance only
// at the level ChooseRule checked, so the line calls its rate nominal.
//
// # False-failure rate and power
//
// DefaultAlpha is 0.001: CI runs many verdicts, and at 0.05 a suite of 100
// verdicts a day would fail five times a day on correct gateways; 0.001 costs
// about twice the requests of 0.05 for the same power. The rate printed under
// a verdict is the one that holds at its n: Pearson's exact rate where its
// test decides, "at most alpha" where the exact test does.
//
// Pearson's exact rate comes from conditional binomials (pearsonRejection):
// given all counts but two, the statistic is a quadratic in one of them, so
// its acceptance region is an interval and its probability two binomial
// tails; only the first k-2 counts are summed, over the window where they
// carry probability, so three categories cost O(sqrt(n)). The exact test's
// rate (at most alpha by construction) is computed the same way
// (ExactTestSize), which is how TestSizeHoldsAtEveryN checks every n from 10
// to 2,000 in well under a second.
//
// The power is stated against the least-favourable split at deviation delta:
// the category whose share is nearest 1/2 off by delta and the others
// absorbing it in proportion (moving delta between two categories is never
// harder for the chi-square test). The noncentral chi-square approximation
// (NoncentralChiSquared, a Poisson mixture of central ones, as gonum has no
// noncentral chi-square) sees both signs alike; the test does not: for
// 10/10/80, 75/12.5/12.5 is harder to see than 85/7.5/7.5. So MinPower
// computes the exact power of the test the verdict uses at that n for both
// signs (a shift that would leave a category no traffic, 95/5 to 100/0, is
// no split) and states the smaller, and SampleSize searches the smallest n
// at which that exact minimum reaches the target. For the documented splits
// at alpha = 0.001 (from TestPowerTableGolden, testdata/power-table.golden):
//
//	   split      n  alpha  Pearson's exact rate  test used  its exact rate  delta  power (noncentral)  power (exact, min)  n for power 0.8
//	10/10/80     50  0.001              0.002384      exact        0.000984   0.02              0.0015              0.0004             7937
//	10/10/80     50  0.001              0.002384      exact        0.000984   0.05              0.0051              0.0004             1283
//	10/10/80    500  0.001              0.001104      exact        0.000995   0.02              0.0092              0.0072             7937
//	10/10/80    500  0.001              0.001104      exact        0.000995   0.05              0.2222              0.2189             1283
//	10/10/80    590  0.001              0.001075    Pearson        0.001075   0.02              0.0116              0.0063             7937
//	10/10/80    590  0.001              0.001075    Pearson        0.001075   0.05              0.2981              0.2632             1283
//	10/10/80   1000  0.001              0.001025    Pearson        0.001025   0.02              0.0268              0.0182             7937
//	10/10/80   1000  0.001              0.001025    Pearson        0.001025   0.05              0.6435              0.6397             1283
//	10/10/80  10000  0.001              0.001006    Pearson        0.001006   0.02              0.9192              0.9136             7937
//	10/10/80  10000  0.001              0.001006    Pearson        0.001006   0.05              1.0000              1.0000             1283
//	   80/20     50  0.001              0.000947    Pearson        0.000947   0.02              0.0018              0.0003             6921
//	   80/20     50  0.001              0.000947    Pearson        0.000947   0.05              0.0081              0.0003             1140
//	   80/20    500  0.001              0.000987    Pearson        0.000987   0.02              0.0149              0.0100             6921
//	   80/20    500  0.001              0.000987    Pearson        0.000987   0.05              0.3101              0.2900             1140
//	   80/20    590  0.001              0.001197      exact        0.000968   0.02              0.0189              0.0156             6921
//	   80/20    590  0.001              0.001197      exact        0.000968   0.05              0.3996              0.3850             1140
//	   80/20   1000  0.001              0.001042    Pearson        0.001042   0.02              0.0437              0.0367             6921
//	   80/20   1000  0.001              0.001042    Pearson        0.001042   0.05              0.7461              0.7314             1140
//	   80/20  10000  0.001              0.001011    Pearson        0.001011   0.02              0.9563              0.9513             6921
//	   80/20  10000  0.001              0.001011    Pearson        0.001011   0.05              1.0000              1.0000             1140
//
// Pearson's own rate is 2.38 alpha at n = 50 for 10/10/80 and 1.20 alpha at
// n = 590 for 80/20; there the exact test decides. 500 or 1,000 requests
// cannot detect a 2-point deviation at all: that takes about 7,900
// (10/10/80) or 6,900 (80/20).
//
// # Sequential verification
//
// Sequential decides one observation at a time. It fails when a
// Dirichlet-multinomial mixture likelihood ratio reaches 1/alpha (a
// nonnegative martingale under the expected split, so Ville's inequality
// bounds the false-failure rate by alpha however often it is checked), and
// passes when every share's beta-binomial mixture confidence sequence (level
// 1-beta, valid at every n at once by the same inequality, its width set by
// the binomial variance) lies within ±delta of expected. A split off by
// more than delta on some category passes only if that category's sequence
// misses its true share, so the false-pass rate is at most beta with no
// union over categories. On a correct gateway at alpha = 0.001, power 0.9,
// delta = 0.05 a decision takes on average under half the fixed test's
// planned requests (10/10/80: about 720 against 1,575; 80/20: about 670
// against 1,401; TestSequentialRequestsToPass), and no pass is possible
// before 422 requests in either (MinPassN). SequentialState.N is the
// number of requests the decision needed.
//
// # Counts file
//
// The replayer writes, and `splitproof verify --file` reads, one JSON object:
//
//	{
//	  "scenario": "traffic-split 10/10/80",
//	  "categories": [
//	    {"name": "helloworld-v1", "weight": 10},
//	    {"name": "helloworld-v2", "weight": 10},
//	    {"name": "helloworld-v3", "weight": 80}
//	  ],
//	  "counts": {"helloworld-v1": 103, "helloworld-v2": 95, "helloworld-v3": 802},
//	  "alpha": 0.001,
//	  "delta": 0.05
//	}
//
// scenario is optional. categories lists every expected outcome in order with
// its weight (0 to 16,000,000, so a status category can carry the summed
// weight of several invalid backendRefs); names are unique and non-empty, and
// not all weights are 0. counts maps names to non-negative counts; names
// missing from counts count 0, names missing from categories are unexpected
// responses; all counts add up to at most MaxObservations (10^12). alpha
// (the false-failure rate, default 0.001) and delta (the deviation the power
// is stated for, default 0.05) are optional. Decoding is strict: an unknown
// field, trailing data or an invalid value is an error naming the file, the
// line where known, and the field.
//
// # Simulation
//
// Simulate makes Runs runs of N picks through refproxy/picker (random or
// smooth mode), run r seeded by RunSeed(seed, r) so results do not depend on
// parallelism, tests each run and reports the rejection rate with its
// binomial interval, the p-values' Kolmogorov–Smirnov distance from their
// exact distribution under a correct split (KSFromNull, within KSBound99
// when the test is right; the distance from uniform is also kept, but
// discrete counts keep it away from 0 with nothing wrong),
// the test every run used (ChooseRule, once for the simulation's n) and the
// noncentral chi-square prediction of power (none in smooth mode, whose
// counts are deterministic). Smooth mode at a multiple of its
// period produces exactly n*w/sum per backend (p-value 1; ExactRuns).
package sim
