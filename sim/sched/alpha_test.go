package sched

import (
	"math"
	"testing"

	"github.com/splitproof/splitproof/sim"
)

// TestPerConnectionAlphaRestored: a correct gateway that picks per
// connection (k requests each) fails the per-request counts test far more
// often than alpha, and the verdict over connections (Judge) brings the
// rate back to alpha. alpha is 0.05 so that 1,000 seeded runs measure it.
func TestPerConnectionAlphaRestored(t *testing.T) {
	const (
		alpha = 0.05
		runs  = 1000
		n     = 1575
	)
	cats := catsOf(names3, split101080)
	shares := []float64{0.1, 0.1, 0.8}
	// Every test below is Pearson's (sim.ChooseRule at these n), so the
	// runs skip re-choosing it; the exact rates are computed below.
	fast := sim.TestOptions{Alpha: alpha, AlwaysAsymptotic: true}
	for _, m := range []int64{n, n / 2, n / 10} {
		if rule := sim.ChooseRule(shares, m, alpha, sim.TestOptions{}); rule.Method != sim.MethodPearson {
			t.Fatalf("n=%d: the verdict's test is %s, not Pearson's", m, rule.Method)
		}
	}
	for _, k := range []int{2, 10} {
		var perRequest, perConn int
		for r := range runs {
			seq, conns := perConnSeq(split101080, n, k, sim.RunSeed(uint64(100+k), r))
			counts := countsOf(seq, 3)
			g, err := sim.Test(counts, shares, fast)
			if err != nil {
				t.Fatal(err)
			}
			if g.PValue < alpha {
				perRequest++
			}
			opts := Options{Conns: conns, Alpha: alpha}
			res, err := Classify(seq, cats, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Scheduler != PerConnection {
				t.Fatalf("k=%d run %d: classified %s, want %s", k, r, res.Scheduler, PerConnection)
			}
			// The connections' counts, tested as Judge tests them; Judge
			// itself (sim.Verify, with its power and intervals) runs on
			// every 20th run and must reach the same decision.
			first := make([]int64, 3)
			for i := 0; i < n; i += k {
				first[seq[i]]++
			}
			gc, err := sim.Test(first, shares, fast)
			if err != nil {
				t.Fatal(err)
			}
			failed := gc.PValue < alpha
			if failed {
				perConn++
			}
			if r%20 == 0 {
				mv, err := Judge(seq, cats, res, opts)
				if err != nil {
					t.Fatal(err)
				}
				if (mv.Outcome == sim.OutcomeFail) != failed {
					t.Fatalf("k=%d run %d: Judge says %s, the test over connections p = %.4g", k, r, mv.Outcome, gc.PValue)
				}
			}
		}
		reqRate, connRate := float64(perRequest)/runs, float64(perConn)/runs
		// The draws over connections are exactly multinomial, so the
		// verdict's rate at this many connections is known exactly.
		exact, rule, err := sim.VerdictSize(shares, int64(n/k), alpha, sim.TestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if exact > 1.1*alpha {
			t.Errorf("k=%d: exact false-failure rate over %d connections %.4f > 1.1 alpha", k, n/k, exact)
		}
		// The verdict's test keeps its rate within 1.1 alpha (sim's
		// SizeTolerance); three binomial standard errors of slack keep
		// this seeded estimate from failing a rate that holds.
		bound := 1.1*alpha + 3*math.Sqrt(1.1*alpha*(1-1.1*alpha)/runs)
		t.Logf("k=%d, %d connections: false-failure rate per request %.3f, per connection %.3f (exact %.4f, %s; alpha %g, bound %.4f)", k, n/k, reqRate, connRate, exact, rule.Method, alpha, bound)
		if connRate > bound {
			t.Errorf("k=%d: per-connection false-failure rate %.3f > %.4f", k, connRate, bound)
		}
		// Per request the rate must be visibly inflated, else this test
		// would not show that anything was restored.
		if reqRate < 2*alpha {
			t.Errorf("k=%d: per-request false-failure rate %.3f, expected well above alpha %g", k, reqRate, alpha)
		}
	}
}
