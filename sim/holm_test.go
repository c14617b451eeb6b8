package sim

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestHolm(t *testing.T) {
	tests := []struct {
		name   string
		p      []float64
		alpha  float64
		reject []bool
		thresh []float64
		adj    []float64
	}{
		// Sorted 0.001 < 0.01 < 0.02 < 0.5: thresholds 0.0125, 0.01667,
		// 0.025, 0.05; the first two pass, 0.02 < 0.025 too, 0.5 stops.
		{"steps down", []float64{0.02, 0.001, 0.5, 0.01}, 0.05,
			[]bool{true, true, false, true}, []float64{0.025, 0.0125, 0.05, 0.05 / 3}, []float64{0.04, 0.004, 0.5, 0.03}},
		// 0.013 fails its threshold 0.0125, so 0.014 < 0.0167 is not rejected either.
		{"stops at the first non-rejection", []float64{0.013, 0.014, 0.9, 0.9}, 0.05,
			[]bool{false, false, false, false}, []float64{0.0125, 0.05 / 3, 0.025, 0.05}, []float64{0.052, 0.052, 1, 1}},
		// Equal p-values take ranks in input order.
		{"ties", []float64{0.01, 0.01}, 0.05, []bool{true, true}, []float64{0.025, 0.05}, []float64{0.02, 0.02}},
		// Strict, as Verify: p equal to its threshold is not rejected.
		{"strict", []float64{0.025, 0.9}, 0.05, []bool{false, false}, []float64{0.025, 0.05}, []float64{0.05, 0.9}},
		{"one", []float64{0.0009}, 0.001, []bool{true}, []float64{0.001}, []float64{0.0009}},
		{"none", nil, 0.001, []bool{}, []float64{}, []float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := Holm(tt.p, tt.alpha)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != len(tt.p) {
				t.Fatalf("%d decisions for %d p-values", len(ds), len(tt.p))
			}
			for i, d := range ds {
				if d.Reject != tt.reject[i] || math.Abs(d.Threshold-tt.thresh[i]) > 1e-15 || math.Abs(d.AdjustedP-tt.adj[i]) > 1e-12 {
					t.Errorf("p[%d] = %v: %+v, want reject %v threshold %v adjusted %v", i, tt.p[i], d, tt.reject[i], tt.thresh[i], tt.adj[i])
				}
				if d.Reject != (d.AdjustedP < tt.alpha) {
					t.Errorf("p[%d]: reject %v disagrees with adjusted p %v", i, d.Reject, d.AdjustedP)
				}
			}
		})
	}
	for _, bad := range []struct {
		p     []float64
		alpha float64
		want  string
	}{
		{[]float64{0.1}, 0, "alpha 0"},
		{[]float64{0.1, math.NaN()}, 0.05, "p-value 1 is NaN"},
		{[]float64{1.5}, 0.05, "p-value 0 is 1.5"},
	} {
		if _, err := Holm(bad.p, bad.alpha); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Holm(%v, %v): err %v, want %q", bad.p, bad.alpha, err, bad.want)
		}
	}
	if got := PlanAlpha(0.001, 4); got != 0.00025 {
		t.Errorf("PlanAlpha(0.001, 4) = %v", got)
	}
	if got := PlanAlpha(0.001, 0); got != 0.001 {
		t.Errorf("PlanAlpha(0.001, 0) = %v", got)
	}
}

// fiftyFifty verifies a 50/50 split with a of n on the first backend.
func fiftyFifty(t *testing.T, a, n int64, alpha float64) *Verdict {
	t.Helper()
	v, err := Verify(CountsFile{Categories: []Category{{"a", 1}, {"b", 1}}, Counts: map[string]int64{"a": a, "b": n - a}}, Options{Alpha: alpha})
	if err != nil {
		t.Fatal(err)
	}
	return &v
}

// TestApplyHolm: a verdict planned at alpha/m that only Holm's larger
// threshold rejects becomes FAIL; one rejected at a level Holm does not
// grant goes back to its intervals; every verdict reports its share.
func TestApplyHolm(t *testing.T) {
	const run, m = 0.001, 4
	a := PlanAlpha(run, m)
	// Pearson on 50/50 at n = 10,000: 5,200 gives p 6.3e-5, 5,181 gives
	// 2.9e-4 (between a = 2.5e-4 and Holm's second threshold 3.3e-4).
	vs := []*Verdict{fiftyFifty(t, 5200, 10000, a), fiftyFifty(t, 5181, 10000, a), fiftyFifty(t, 5000, 10000, a), fiftyFifty(t, 5030, 10000, a)}
	if vs[0].Outcome != OutcomeFail || vs[1].Outcome != OutcomePass {
		t.Fatalf("before Holm: %s (p %v), %s (p %v)", vs[0].Outcome, vs[0].Test.PValue, vs[1].Outcome, vs[1].Test.PValue)
	}
	if err := ApplyHolm(vs, run); err != nil {
		t.Fatal(err)
	}
	want := []Outcome{OutcomeFail, OutcomeFail, OutcomePass, OutcomePass}
	for i, v := range vs {
		if v.Outcome != want[i] || v.Run == nil || v.Run.Alpha != run || v.Run.Verdicts != m {
			t.Fatalf("verdict %d (p %v): %s, run %+v; want %s", i, v.Test.PValue, v.Outcome, v.Run, want[i])
		}
	}
	if !strings.Contains(strings.Join(vs[1].Failures, ";"), "its Holm threshold (run-level alpha 0.001 over 4 verdicts)") {
		t.Errorf("failures %q", vs[1].Failures)
	}
	var b bytes.Buffer
	if err := vs[0].WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"run-level false-failure rate 0.001 nominal (Holm over 4 verdicts; this verdict's share 0.00025)",
		"verdict: FAIL (the split differs from the weights at run-level alpha 0.001, Holm over 4 verdicts)",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("table lacks %q:\n%s", line, b.String())
		}
	}
	// Verified alone at the run's alpha, 5,174 of 10,000 (p 5e-4) fails;
	// as the smallest of 4 p-values it needs p < 2.5e-4, so Holm clears it
	// and its intervals (0.5174 ± 0.008) decide: PASS.
	alone := fiftyFifty(t, 5174, 10000, run)
	if alone.Outcome != OutcomeFail {
		t.Fatalf("alone: %s (p %v)", alone.Outcome, alone.Test.PValue)
	}
	others := []*Verdict{alone, fiftyFifty(t, 5000, 10000, run), fiftyFifty(t, 5000, 10000, run), fiftyFifty(t, 5000, 10000, run)}
	if err := ApplyHolm(others, run); err != nil {
		t.Fatal(err)
	}
	if alone.Outcome != OutcomePass || len(alone.Failures) != 0 || alone.Run.Holm.Rank != 1 {
		t.Fatalf("after Holm: %s, failures %q, %+v", alone.Outcome, alone.Failures, alone.Run)
	}
}

// TestRunLevelFalseFailure: on correct gateways, a run of m verdicts each
// verified at PlanAlpha and combined by Holm fails with probability at
// most the run-level alpha, where m verdicts each at alpha would fail
// about m times as often.
//
// First with the actual tests at small n (exact multinomial tests, whose
// p-values are valid), at a run-level alpha of 0.05 so a few thousand runs
// can see it; then with uniform p-values (a continuous test's under its
// hypothesis) at 0.001, where Holm's rate is exactly 1-(1-alpha/m)^m.
func TestRunLevelFalseFailure(t *testing.T) {
	splits := [][]float64{{0.8, 0.2}, {0.5, 0.5}, {0.1, 0.1, 0.8}}
	ns := []int64{200, 120, 60}
	for _, m := range []int{4, 9} {
		const alpha, runs = 0.05, 3000
		tests := make([]TestOptions, len(splits))
		for j := range splits {
			// The exact test, which Verify uses wherever Pearson's rate is
			// not known to hold: its p-values are valid at every level.
			r := Rule{Method: MethodExact, PearsonSize: -1}
			tests[j] = TestOptions{Alpha: PlanAlpha(alpha, m), rule: &r}
		}
		rng := rand.New(rand.NewPCG(uint64(m), 0x401))
		memo := map[string]float64{}
		holmFails, naiveFails := 0, 0
		ps := make([]float64, m)
		for range runs {
			naive := false
			for i := range ps {
				j := i % len(splits)
				counts := make([]int64, len(splits[j]))
				drawMultinomial(rng, ns[j], splits[j], counts)
				key := fmt.Sprint(j, counts) // the exact test is costly; few outcomes recur
				p, ok := memo[key]
				if !ok {
					g, err := Test(counts, splits[j], tests[j])
					if err != nil {
						t.Fatal(err)
					}
					p = g.PValue
					memo[key] = p
				}
				ps[i] = p
				naive = naive || p < alpha
			}
			ds, err := Holm(ps, alpha)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if d.Reject {
					holmFails++
					break
				}
			}
			if naive {
				naiveFails++
			}
		}
		holm, naive := float64(holmFails)/runs, float64(naiveFails)/runs
		if holm > alpha+slack(alpha, runs) {
			t.Errorf("m = %d: run-level false-failure rate %.4f with Holm, above %v", m, holm, alpha)
		}
		if naive < 2*alpha {
			t.Errorf("m = %d: without Holm the rate is %.4f; a correction that matters should face at least %v", m, naive, 2*alpha)
		}
		t.Logf("m = %d exact tests: run-level false-failure rate %.4f with Holm, %.4f with each verdict at alpha %v (%d runs)", m, holm, naive, alpha, runs)
	}
	for _, m := range []int{4, 9} {
		const alpha, runs = 0.001, 200000
		rng := rand.New(rand.NewPCG(uint64(m), 0x402))
		ps := make([]float64, m)
		fails := 0
		for range runs {
			for i := range ps {
				ps[i] = rng.Float64()
			}
			ds, err := Holm(ps, alpha)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if d.Reject {
					fails++
					break
				}
			}
		}
		got, exact := float64(fails)/runs, -math.Expm1(float64(m)*math.Log1p(-alpha/float64(m)))
		if s := slack(exact, runs); math.Abs(got-exact) > s || got > alpha+s {
			t.Errorf("m = %d uniform p-values: rate %.5f, exactly %.5f (alpha %v)", m, got, exact, alpha)
		}
		t.Logf("m = %d uniform p-values: run-level false-failure rate %.5f (%d runs), exactly %.5f", m, got, runs, exact)
	}
}
