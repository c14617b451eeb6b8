package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
)

// runSequential feeds picks from a random picker with weights truth into a
// sequential verification of shares until it decides.
func runSequential(t *testing.T, cfg SequentialConfig, truth []int32, seed uint64) SequentialState {
	t.Helper()
	s, err := NewSequential(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := picker.MustNew(picker.Random, truth, seed)
	for {
		d, err := s.Observe(p.Pick())
		if err != nil {
			t.Fatal(err)
		}
		if d != Continue {
			return s.State()
		}
	}
}

// ppmWeights turns shares into picker weights (parts per million), so a
// simulated gateway can be off by a non-round amount.
func ppmWeights(shares []float64) []int32 {
	w := make([]int32, len(shares))
	for i, q := range shares {
		w[i] = int32(math.Round(q * 1e6))
	}
	return w
}

// replayConfig is the configuration the replayer uses: power target 0.9
// (beta = 0.1) and a cap of four times the fixed test's planned requests.
func replayConfig(t *testing.T, w []int32, alpha, delta float64) (SequentialConfig, int64) {
	t.Helper()
	fixed, err := SampleSize(nonZero(sharesOf(w)), alpha, delta, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	return SequentialConfig{Shares: sharesOf(w), Alpha: alpha, Delta: delta, Beta: 0.1, MaxN: 4 * fixed}, fixed
}

// nonZero drops weight-0 categories, which the fixed test's plan ignores.
func nonZero(p []float64) []float64 {
	var out []float64
	for _, q := range p {
		if q > 0 {
			out = append(out, q)
		}
	}
	return out
}

// TestSequentialRequestsToPass: on a correct gateway the sequential test
// decides after at most 0.75 times the requests the fixed-n test plans for
// the same alpha, power and delta, counting every run (an undecided run
// counts its cap). It was 1,525 and 1,275 with the worst-case-variance
// intervals.
func TestSequentialRequestsToPass(t *testing.T) {
	const runs, alpha, delta = 250, 0.001, 0.05
	for _, w := range [][]int32{{10, 10, 80}, {80, 20}, {70, 30, 0}, {1, 1, 1, 1, 96}} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			cfg, fixed := replayConfig(t, w, alpha, delta)
			var total int64
			decided := map[Decision]int{}
			for r := range runs {
				st := runSequential(t, cfg, w, RunSeed(21, r))
				total += st.N
				decided[st.Decision]++
			}
			mean := float64(total) / runs
			if mean > 0.75*float64(fixed) {
				t.Errorf("mean %.0f requests to a decision, fixed-n plans %d: ratio %.3f > 0.75", mean, fixed, mean/float64(fixed))
			}
			if decided[Pass] < runs*95/100 {
				t.Errorf("only %d of %d correct runs passed (%v)", decided[Pass], runs, decided)
			}
			t.Logf("%v: mean %.0f requests, fixed-n %d (ratio %.3f), %v", w, mean, fixed, mean/float64(fixed), decided)
		})
	}
}

// TestSequentialFalsePassRate: with the least-favourable category (share
// nearest 1/2) just outside ±delta, either sign, the test passes with
// probability at most beta.
func TestSequentialFalsePassRate(t *testing.T) {
	const runs, alpha, delta = 300, 0.001, 0.05
	for _, w := range [][]int32{{10, 10, 80}, {80, 20}} {
		cfg, _ := replayConfig(t, w, alpha, delta)
		alts, err := Alternatives(sharesOf(w), delta+0.002)
		if err != nil {
			t.Fatal(err)
		}
		for _, alt := range alts {
			truth := ppmWeights(alt.Shares)
			t.Run(fmt.Sprintf("%v as %v", w, truth), func(t *testing.T) {
				passes := 0
				for r := range runs {
					if runSequential(t, cfg, truth, RunSeed(22, r)).Decision == Pass {
						passes++
					}
				}
				rate := float64(passes) / runs
				if rate > cfg.Beta+binomialSlack(cfg.Beta, runs) {
					t.Errorf("false-pass rate %.4f exceeds beta %v", rate, cfg.Beta)
				}
				t.Logf("false-pass rate %.4f (beta %v)", rate, cfg.Beta)
			})
		}
	}
}

// TestSequentialFalseFailureRate: Ville's inequality promises P(fail |
// correct split) <= alpha at any stopping time. At alpha = 0.001 the few
// thousand runs a unit test can afford would see about one failure, which
// checks nothing; the bound rests on the same martingale argument at any
// alpha, so it is checked at 0.05, where 1,200 runs resolve it to ±0.03. The fail
// rule is the pass rule's competitor, so this also checks that a faster
// pass does not come from a fail rule that fires too often.
func TestSequentialFalseFailureRate(t *testing.T) {
	const runs, alpha = 1200, 0.05
	for _, w := range [][]int32{{10, 10, 80}, {80, 20}} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			cfg := SequentialConfig{Shares: sharesOf(w), Alpha: alpha, Delta: 0.05, Beta: 0.1}
			fails, passes := 0, 0
			for r := range runs {
				switch runSequential(t, cfg, w, RunSeed(11, r)).Decision {
				case Fail:
					fails++
				case Pass:
					passes++
				}
			}
			if rate := float64(fails) / runs; rate > alpha+binomialSlack(alpha, runs) {
				t.Errorf("false-failure rate %.4f exceeds alpha %v", rate, alpha)
			}
			if passes < runs*9/10 {
				t.Errorf("only %d of %d correct runs passed", passes, runs)
			}
			t.Logf("false-failure rate %.4f (alpha %v), %d passes", float64(fails)/runs, alpha, passes)
		})
	}
}

// TestSequentialPower: the fail rule detects a split off by exactly delta on
// the least-favourable category (either sign) within the replayer's cap,
// at alpha = 0.001, in at least 90% of runs: the power the fixed test is
// planned for.
func TestSequentialPower(t *testing.T) {
	const runs, alpha, delta = 200, 0.001, 0.05
	for _, w := range [][]int32{{10, 10, 80}, {80, 20}} {
		cfg, fixed := replayConfig(t, w, alpha, delta)
		alts, err := Alternatives(sharesOf(w), delta)
		if err != nil {
			t.Fatal(err)
		}
		for _, alt := range alts {
			truth := ppmWeights(alt.Shares)
			t.Run(fmt.Sprintf("%v as %v", w, truth), func(t *testing.T) {
				fails := 0
				var needed int64
				for r := range runs {
					st := runSequential(t, cfg, truth, RunSeed(23, r))
					if st.Decision == Fail {
						fails++
						needed += st.N
					}
				}
				if power := float64(fails) / runs; power < 0.9 {
					t.Errorf("power %.3f against a %+g shift, want >= 0.9", power, alt.Delta)
				}
				t.Logf("power %.3f, mean %d requests to fail (fixed-n %d)", float64(fails)/runs, needed/int64(max(fails, 1)), fixed)
			})
		}
	}
}

func TestSequentialCatchesWrongSplit(t *testing.T) {
	const runs = 500
	cfg := SequentialConfig{Shares: sharesOf([]int32{10, 10, 80}), Alpha: 0.001, Delta: 0.05, Beta: 0.05}
	fails := 0
	var needed int64
	for r := range runs {
		st := runSequential(t, cfg, []int32{20, 10, 70}, RunSeed(12, r))
		if st.Decision == Fail {
			fails++
			needed += st.N
		}
	}
	if fails < runs*99/100 {
		t.Errorf("a 10-point deviation failed only %d of %d runs", fails, runs)
	}
	t.Logf("20/10/70 against 10/10/80: %d of %d failed, mean %d requests", fails, runs, needed/int64(max(fails, 1)))
}

// TestBetaCSCoverage: the confidence sequence misses the true share at any
// n up to 2,000 with probability at most its level. This is the whole of
// the false-pass guarantee, checked here on the sequence alone for shares
// across (0, 1), each with its prior centred off the truth as well as on it.
func TestBetaCSCoverage(t *testing.T) {
	const runs, horizon, level = 600, 2000, 0.1
	for _, tt := range []struct{ q, centre float64 }{{0.1, 0.1}, {0.5, 0.5}, {0.8, 0.8}, {0.75, 0.8}, {0.85, 0.8}, {0.03, 0.01}} {
		t.Run(fmt.Sprintf("q=%v prior=%v", tt.q, tt.centre), func(t *testing.T) {
			nu := tt.centre*(1-tt.centre)/(0.05*0.05) - 1
			cs := newBetaCS(nu*tt.centre, nu*(1-tt.centre))
			rng := rand.New(rand.NewPCG(31, math.Float64bits(tt.q)))
			misses := 0
			for range runs {
				var c, lnMarg float64
				for n := 1.0; n <= horizon; n++ {
					if rng.Float64() < tt.q {
						lnMarg += math.Log((cs.a + c) / (cs.a + cs.b + n - 1))
						c++
					} else {
						lnMarg += math.Log((cs.b + n - 1 - c) / (cs.a + cs.b + n - 1))
					}
					if lnRatio(lnMarg, c, n, tt.q) >= math.Log(1/level) {
						misses++
						break
					}
				}
			}
			if rate := float64(misses) / runs; rate > level+binomialSlack(level, runs) {
				t.Errorf("missed the true share in %.3f of runs, level %v", rate, level)
			}
			t.Logf("miss rate %.3f (level %v)", float64(misses)/runs, level)
		})
	}
}

// TestBetaCSBounds: the interval ends are where the ratio crosses the
// threshold, they bracket the observed share, and excludes agrees with them.
func TestBetaCSBounds(t *testing.T) {
	cs := newBetaCS(63*0.8, 63*0.2)
	lnThresh := math.Log(10)
	for _, tt := range []struct{ c, n float64 }{{0, 5}, {5, 5}, {80, 100}, {812, 1000}, {3, 1000}} {
		lnMarg := cs.lnMarginal(tt.c, tt.n)
		lo, hi := bounds(lnMarg, tt.c, tt.n, lnThresh)
		obs := tt.c / tt.n
		if !(lo <= obs && obs <= hi) {
			t.Errorf("c=%v n=%v: interval [%v, %v] misses %v", tt.c, tt.n, lo, hi, obs)
		}
		for _, end := range []float64{lo, hi} {
			if end > 0 && end < 1 && math.Abs(lnRatio(lnMarg, tt.c, tt.n, end)-lnThresh) > 1e-6 {
				t.Errorf("c=%v n=%v: ratio at %v is %v, want %v", tt.c, tt.n, end, lnRatio(lnMarg, tt.c, tt.n, end), lnThresh)
			}
		}
		for _, band := range [][2]float64{{lo - 1e-6, hi + 1e-6}, {lo + 1e-6, hi + 1e-6}, {lo - 1e-6, hi - 1e-6}} {
			want := band[0] < lo && hi < band[1]
			if got := excludes(lnMarg, tt.c, tt.n, band[0], band[1], lnThresh); got != want {
				t.Errorf("c=%v n=%v: excludes(%v, %v) = %v, interval [%v, %v]", tt.c, tt.n, band[0], band[1], got, lo, hi)
			}
		}
	}
}

// TestSequentialRunningMarginal: the per-observation updates of the pass
// rule's marginal likelihoods equal the closed form the estimates use, and
// at a pass every interval State reports lies within ±delta.
func TestSequentialRunningMarginal(t *testing.T) {
	s, err := NewSequential(SequentialConfig{Shares: []float64{0.1, 0.1, 0.8}, Alpha: 0.001, Delta: 0.05, Beta: 0.1, MaxN: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	p := picker.MustNew(picker.Random, []int32{10, 10, 80}, 7)
	for range 250 {
		if _, err := s.Observe(p.Pick()); err != nil {
			t.Fatal(err)
		}
	}
	for i, cs := range s.cs {
		if want := cs.lnMarginal(float64(s.counts[i]), 250); math.Abs(s.lnMarg[i]-want) > 1e-9 {
			t.Errorf("category %d: running %v, closed form %v", i, s.lnMarg[i], want)
		}
	}
	d := Continue
	for d == Continue {
		if d, err = s.Observe(p.Pick()); err != nil {
			t.Fatal(err)
		}
	}
	st := s.State()
	if d != Pass {
		t.Fatalf("correct split decided %s after %d", d, st.N)
	}
	widest := 0.0
	for i, q := range s.cfg.Shares {
		c, n := float64(st.Counts[i]), float64(st.N)
		lo, hi := bounds(s.cs[i].lnMarginal(c, n), c, n, math.Log(1/s.cfg.Beta))
		if lo < q-s.cfg.Delta || hi > q+s.cfg.Delta {
			t.Errorf("passed at n = %d with category %d's interval [%.4f, %.4f] outside %v±%v", st.N, i, lo, hi, q, s.cfg.Delta)
		}
		if hw := math.Max(c/n-lo, hi-c/n); math.Abs(st.HalfWidths[i]-hw) > 1e-12 {
			t.Errorf("category %d: half-width %v, want %v", i, st.HalfWidths[i], hw)
		}
		widest = math.Max(widest, st.HalfWidths[i])
	}
	if st.HalfWidth != widest {
		t.Errorf("half-width %v, widest of %v", st.HalfWidth, st.HalfWidths)
	}
}

// TestMinPassN: no whole counts pass before MinPassN and some do at it,
// checked by enumerating every count vector; the figures are those the
// replayer prints ("no sequential pass is possible before ..."), down from
// 1,014 (10/10/80) and 926 (80/20) with the worst-case-variance intervals.
func TestMinPassN(t *testing.T) {
	for _, tt := range []struct {
		w    []int32
		want int64
	}{{[]int32{10, 10, 80}, 422}, {[]int32{80, 20}, 422}, {[]int32{70, 30, 0}, 560}} {
		t.Run(fmt.Sprint(tt.w), func(t *testing.T) {
			s, err := NewSequential(SequentialConfig{Shares: sharesOf(tt.w), Alpha: 0.001, Delta: 0.05, Beta: 0.1})
			if err != nil {
				t.Fatal(err)
			}
			got := s.MinPassN()
			if got != tt.want {
				t.Errorf("MinPassN = %d, want %d", got, tt.want)
			}
			if anyPasses(s, got-1) || !anyPasses(s, got) {
				t.Errorf("enumeration disagrees with MinPassN %d", got)
			}
			// The scan skips n below passLowerBound: check from 1.
			if lb := s.passLowerBound(); lb < 2 || lb > got {
				t.Errorf("lower bound %d, MinPassN %d", lb, got)
			}
			for n := int64(1); n < got; n++ {
				if passable(s, n) {
					t.Fatalf("counts pass at n = %d < MinPassN %d", n, got)
				}
			}
			// With two weighted categories enumeration is cheap enough to
			// check the ranges of passing counts at every n around it.
			if len(nonZero(s.cfg.Shares)) == 2 {
				for n := got - 100; n <= got+100; n++ {
					if passable(s, n) != anyPasses(s, n) {
						t.Errorf("n = %d: ranges say %v, enumeration %v", n, passable(s, n), anyPasses(s, n))
					}
				}
			}
			t.Logf("MinPassN %d (lower bound %d, horizon %d)", got, s.passLowerBound(), s.State().Horizon)
			if h := s.State().Horizon; h < got {
				t.Errorf("horizon %d before MinPassN %d", h, got)
			}
		})
	}
}

// passable reports whether whole counts adding up to n pass every weighted
// category, from the per-category ranges of passing counts.
func passable(s *Sequential, n int64) bool {
	lo, hi := int64(0), int64(0)
	for i, q := range s.cfg.Shares {
		if q == 0 {
			continue
		}
		l, h, ok := s.passRange(i, n)
		if !ok {
			return false
		}
		lo, hi = lo+l, hi+h
	}
	return lo <= n && n <= hi
}

// anyPasses enumerates the counts of the weighted categories of s adding
// up to n (two or three of them) and reports whether any passes.
func anyPasses(s *Sequential, n int64) bool {
	var idx []int
	for i, q := range s.cfg.Shares {
		if q > 0 {
			idx = append(idx, i)
		}
	}
	fn := float64(n)
	ok := func(i int, c int64) bool { return s.passesAt(i, float64(c), fn) }
	switch len(idx) {
	case 2:
		for c := range n + 1 {
			if ok(idx[0], c) && ok(idx[1], n-c) {
				return true
			}
		}
	case 3:
		for c0 := range n + 1 {
			if !ok(idx[0], c0) {
				continue
			}
			for c1 := range n - c0 + 1 {
				if ok(idx[1], c1) && ok(idx[2], n-c0-c1) {
					return true
				}
			}
		}
	default:
		panic("anyPasses enumerates two or three categories")
	}
	return false
}

func TestSequentialImmediateFailures(t *testing.T) {
	cfg := SequentialConfig{Shares: []float64{0.7, 0.3, 0}, Alpha: 0.001, Delta: 0.05, Beta: 0.05}
	for _, tt := range []struct {
		name string
		cat  int
	}{{"weight 0", 2}, {"unexpected", -1}} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSequential(cfg)
			if err != nil {
				t.Fatal(err)
			}
			s.Observe(0)
			d, err := s.Observe(tt.cat)
			if err != nil || d != Fail || s.State().N != 2 {
				t.Errorf("decision %s after %d, err %v: want fail after 2", d, s.State().N, err)
			}
			if _, err := s.Observe(0); err == nil {
				t.Error("observing after a decision succeeded")
			}
		})
	}
	if _, err := NewSequential(SequentialConfig{Shares: []float64{0.5, 0.6}, Alpha: 0.01, Delta: 0.05, Beta: 0.05}); err == nil {
		t.Error("shares summing to 1.1 accepted")
	}
}

// TestSequentialSingleCategory: one category of share 1 has one possible
// count at every n, so it passes exactly at MinPassN (and never fails).
func TestSequentialSingleCategory(t *testing.T) {
	s, err := NewSequential(SequentialConfig{Shares: []float64{1, 0}, Alpha: 0.001, Delta: 0.05, Beta: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	d := Continue
	for d == Continue {
		if d, err = s.Observe(0); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.State(); d != Pass || st.N != s.MinPassN() || st.N != st.Horizon {
		t.Errorf("%s at %d, MinPassN %d, horizon %d", d, st.N, s.MinPassN(), st.Horizon)
	}
}
