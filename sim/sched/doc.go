// Package sched owns what the arrival order of a replay's responses says
// about how the gateway schedules them, and the verdict that fits each
// scheduler.
//
// sim's verdicts assume every request is an independent weighted draw, as
// refproxy's random mode, Envoy and agentgateway make them. Many gateways
// do not: nginx's smooth weighted round robin, HAProxy's roundrobin and
// Traefik's earliest-deadline-first scheduler are deterministic (the counts
// are exact, the chi-square p-value sits near 1 and alpha and power mean
// nothing); Caddy's weighted_round_robin sends blocks of weight requests
// to each backend in turn (10 v1, 10 v2, 80 v3 for 10/10/80), so a run
// shorter than a few blocks fails a correct gateway; a gateway that picks
// per connection makes the k requests of each keep-alive connection one
// draw, and the per-request test's false-failure rate grows with k.
//
// The input is plain slices, so that the package depends on sim and
// nothing that records replays: the category of each request in arrival
// order (an index into the categories, None for a response that fits
// none), optionally the connection of each, and the categories with their
// integer weights ([]sim.Category).
//
// # Classification
//
// Classify returns a Result: the class (JSON "scheduler": independent,
// deterministic, bursty, per-connection or undetermined), the evidence
// and a one-paragraph explanation. Its checks, each at level Alpha
// (DefaultAlpha, 0.001), in this order:
//
//  1. per-connection, when connections are known: some connection carried
//     more than one request, none reached two categories, and independent
//     draws with the expected shares would keep them all constant with
//     probability below Alpha (the product over connections of
//     sum_c share_c^k). First, because a per-connection order is bursty
//     too, and the connections explain the bursts.
//  2. bursty: the longest run of some category is longer than independent
//     draws with the observed shares give with probability Alpha (a union
//     bound over the run's possible starts, never below the exact
//     probability: TestLongestRunBound). The period is the smallest P
//     longer than every run with x[i] == x[i+P] throughout (counts within
//     Tolerance when set), seen twice; until then it is estimated from the
//     blocks and the weights.
//  3. deterministic: the smallest period P (up to MaxPeriod and half the
//     requests) such that every window of P consecutive requests holds the
//     same counts (within Tolerance), if independent draws would be that
//     regular with probability below Alpha: the n/P disjoint windows are
//     independent under that hypothesis, each in the observed box with
//     probability at most the largest binomial box probability of the
//     tightest category, times the number of periods tried.
//  4. undetermined: runs too long for the expected shares (p < Alpha) but
//     fewer than 2k+1 runs, too few to tell a bursty scheduler from a wrong
//     split, as long as blocks proportional to the weights would repeat
//     within MaxPeriod (1,000; beyond it the order is judged independent,
//     so that a gateway sending everything to one backend still fails); or window counts (windows expecting at least 5 of every
//     category) dispersed too little or too much for independent draws
//     (two-sided chi-square of homogeneity, p < Alpha) with no model found.
//  5. independent otherwise.
//
// A replay that sends one request at a time keeps the order exact, so
// Tolerance defaults to 0; concurrent requests can swap across a window
// boundary, which Tolerance 1 absorbs (TestReorderTolerance).
//
// # Error rates
//
// Measured by TestConfusionMatrix on seeded orders from refproxy's picker
// (random, smooth), an earliest-deadline-first interleaving (edf,
// HAProxy- and Traefik-like), Caddy-like blocks (block, every phase) and
// per-connection random picks (k requests per connection, connections
// known); "random, 5/conn" is independent draws carried 5 to a
// keep-alive connection. testdata/confusion.golden has every cell:
//
//	split      n     random      random 5/conn  smooth  edf    block    per-conn k=2, 5, 10
//	10/10/80   200   998/1000 ✓  500/500 ✓      50/50   50/50  100/100  100/100 each
//	10/10/80   500   998/1000 ✓  499/500 ✓      50/50   50/50  100/100  100/100 each
//	10/10/80   1575  1000/1000   500/500        50/50   50/50  100/100  100/100 each
//	80/20      200   1000/1000   500/500        50/50   50/50  100/100  100/100 each
//	80/20      500   1000/1000   500/500        50/50   50/50  100/100  100/100 each
//	80/20      1401  999/1000 ✓  500/500        50/50   50/50  100/100  100/100 each
//
// (✓: every misclassification was undetermined.) The documented rates, at
// these request counts and splits: an independent order is taken for
// another class at most 0.005 of the time (measured 0 to 0.002 per cell),
// and every other model is taken for another class at most 0.01 (measured
// 0). The test fails when a cell's misclassifications exceed the 99.9%
// binomial quantile at the documented rate. The mistakes that matter are
// bounded by construction besides: an independent order is taken for a
// deterministic one (whose exactness test would fail it) with probability
// at most about Alpha (the bound uses the observed shares), and an undetermined order is INCONCLUSIVE, never FAIL.
//
// # Verdicts
//
// Judge applies the test that fits the class and returns a ModelVerdict
// (outcome with sim's Outcome constants, reason, failures, figures);
// Apply merges it into the counts verdict sim.Verify gave for the same
// requests, keeping failures no data can explain (weight-0 and
// unexpected responses):
//
//   - independent: no test of its own; sim.Verify's verdict stands.
//   - deterministic: exactness. PASS when every window of P requests holds
//     each category's reduced weight times P/sum (1/1/8 for 10/10/80),
//     within Tolerance, which is stronger than any ±delta bound; FAIL
//     naming each category whose window counts leave it (20/20/60 against
//     10/10/80: period 5, v1 and v2 one per window instead of 0.5, v3
//     three instead of 4).
//   - bursty: counts over whole periods only. INCONCLUSIVE until the
//     period has repeated and MinPeriods (2) whole periods were seen, with
//     the requests that takes; then PASS when every whole period holds the
//     weights, FAIL naming the categories that do not. A correct Caddy-like
//     gateway is never FAIL at any request count from 1 to 2,000
//     (TestBurstyNeverFails: INCONCLUSIVE to 199, PASS from 200).
//   - per-connection: sim.Verify over connections, the first category of
//     each connection one draw, so alpha holds again. At alpha 0.05 and
//     1,575 requests (TestPerConnectionAlphaRestored, 1,000 seeded runs):
//     k = 2 fails a correct gateway 21.8% of the time per request and
//     5.5% per connection (787 connections, exact rate 0.0501); k = 10
//     75.1% per request, 5.9% per connection (157 connections, exact
//     0.0508, within 1.1 alpha).
//   - undetermined: INCONCLUSIVE, with an estimate of the requests needed
//     when blocks suggest a period.
package sched
