package sim

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// TestCertifyRange: the range is exactly the counts whose interval lies
// within the tolerance, checked against every count.
func TestCertifyRange(t *testing.T) {
	tests := []struct {
		n            int64
		w, delta, cf float64
		ok           bool
	}{
		{1283, 0.8, 0.05, 1 - 0.1/3, true},
		{1283, 0.1, 0.05, 1 - 0.1/3, true},
		{1140, 0.2, 0.05, 0.9, true},
		{100, 0.8, 0.05, 0.9, false}, // 80/100 gives [0.723, 0.863]: no count fits
		{59, 1, 0.05, 0.9, true},     // only 59/59
		{58, 1, 0.05, 0.9, false},
		{60, 0.02, 0.05, 0.9, true},  // the lower end never binds below 0: 0/60 gives [0, 0.0487]
		{40, 0.02, 0.05, 0.9, false}, // 0/40 gives [0, 0.0722]
	}
	for _, tt := range tests {
		lo, hi, ok := CertifyRange(tt.n, tt.w, tt.delta, tt.cf)
		if ok != tt.ok {
			t.Errorf("n %d w %v: ok = %v, want %v (range %d..%d)", tt.n, tt.w, ok, tt.ok, lo, hi)
		}
		for x := int64(0); x <= tt.n; x++ {
			in := within(ClopperPearson(x, tt.n, tt.cf), tt.w, tt.delta)
			if in != (ok && x >= lo && x <= hi) {
				t.Fatalf("n %d w %v: count %d within = %v, range %d..%d (ok %v)", tt.n, tt.w, x, in, lo, hi, ok)
			}
		}
	}
}

// certifyRanges returns each share's CertifyRange at n, as Verify
// certifies: CertifyLevel of beta over len(p) categories.
func certifyRanges(t *testing.T, n int64, p []float64, beta, delta float64) [][2]int64 {
	t.Helper()
	conf := CertifyLevel(beta, len(p))
	rs := make([][2]int64, len(p))
	for j, w := range p {
		lo, hi, ok := CertifyRange(n, w, delta, conf)
		if !ok {
			lo, hi = 1, 0
		}
		rs[j] = [2]int64{lo, hi}
	}
	return rs
}

// probCertified is the exact probability, under multinomial(n, truth), that
// every count lies in its range: successive conditional binomials, the last
// category taking what is left.
func probCertified(n int64, truth []float64, rs [][2]int64) float64 {
	if len(truth) == 1 {
		if n >= rs[0][0] && n <= rs[0][1] {
			return 1
		}
		return 0
	}
	q := truth[0]
	rest := make([]float64, len(truth)-1)
	for j := range rest {
		rest[j] = truth[j+1] / (1 - q)
	}
	b := distuv.Binomial{N: float64(n), P: q}
	sum := 0.0
	for x := rs[0][0]; x <= min(rs[0][1], n); x++ {
		pr := b.Prob(float64(x))
		if pr < 1e-300 {
			continue
		}
		sum += pr * probCertified(n-x, rest, rs[1:])
	}
	return sum
}

// fixedOutcome is Verify's fixed-n decision on counts of shares p, with the
// test's rule computed once for n and certification by the counts' ranges
// (TestCertifyRange shows they agree with the intervals).
func fixedOutcome(t *testing.T, obs []int64, p []float64, topts TestOptions, rs [][2]int64) Outcome {
	t.Helper()
	g, err := Test(obs, p, topts)
	if err != nil {
		t.Fatal(err)
	}
	if g.PValue < topts.Alpha {
		return OutcomeFail
	}
	for j, x := range obs {
		if x < rs[j][0] || x > rs[j][1] {
			return OutcomeInconclusive
		}
	}
	return OutcomePass
}

// outcomeRates simulates runs verdicts of n draws from truth against p and
// returns the rate of each outcome; the first few are checked against
// Verify itself so the shortcut cannot drift from it.
func outcomeRates(t *testing.T, p, truth []float64, n int64, alpha, beta, delta float64, runs int, seed uint64) map[Outcome]float64 {
	t.Helper()
	rule := ChooseRule(p, n, alpha, TestOptions{})
	topts := TestOptions{Alpha: alpha, rule: &rule}
	rs := certifyRanges(t, n, p, beta, delta)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	counts := make([]int64, len(p))
	rates := map[Outcome]float64{}
	for r := range runs {
		drawMultinomial(rng, n, truth, counts)
		o := fixedOutcome(t, counts, p, topts, rs)
		rates[o] += 1 / float64(runs)
		if r < 3 {
			cf := CountsFile{Counts: map[string]int64{}}
			for j, c := range counts {
				name := string(rune('a' + j))
				cf.Categories = append(cf.Categories, Category{Name: name, Weight: int64(math.Round(p[j] * 1000))})
				cf.Counts[name] = c
			}
			v, err := Verify(cf, Options{Alpha: alpha, Beta: beta, Delta: delta})
			if err != nil {
				t.Fatal(err)
			}
			if v.Outcome != o {
				t.Fatalf("counts %v: Verify says %s, the shortcut %s", counts, v.Outcome, o)
			}
		}
	}
	return rates
}

// slack is a one-sided binomial allowance for a rate estimated from runs
// draws: 3.29 standard errors (a seeded run, so this only sizes how far a
// correct rate may sit from its bound by chance; about 1 in 2,000).
func slack(rate float64, runs int) float64 {
	return 3.29 * math.Sqrt(rate*(1-rate)/float64(runs))
}

// TestFalsePassAtMostBeta: a split with its least-favourable share just
// outside ±delta passes with probability at most beta, at the planned n
// and at others, for both signs of the shift. Exact: the probability that
// the shifted share's count lands in its certification range (a PASS needs
// that), a binomial sum. Simulated: the actual decision.
func TestFalsePassAtMostBeta(t *testing.T) {
	const alpha, beta, delta, runs = DefaultAlpha, DefaultBeta, DefaultDelta, 2000
	for _, split := range [][]float64{{0.1, 0.1, 0.8}, {0.8, 0.2}} {
		planned, err := SampleSize(split, alpha, delta, 1-beta)
		if err != nil {
			t.Fatal(err)
		}
		alts, err := Alternatives(split, delta+0.001)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int64{600, planned / 2, planned, 2 * planned} {
			rs := certifyRanges(t, n, split, beta, delta)
			for _, a := range alts {
				i := a.Category
				exact := distuv.Binomial{N: float64(n), P: a.Shares[i]}
				bound := 0.0
				if rs[i][0] <= rs[i][1] {
					bound = exact.CDF(float64(rs[i][1])) - exact.CDF(float64(rs[i][0])-0.5)
				}
				if bound > beta {
					t.Errorf("%v at n = %d, truth %.3f: P(share certified) = %.4f > beta", split, n, a.Shares, bound)
				}
				rates := outcomeRates(t, split, a.Shares, n, alpha, beta, delta, runs, uint64(n)*7+uint64(i))
				if got := rates[OutcomePass]; got > bound+slack(max(bound, 1.0/runs), runs) || got > beta+slack(beta, runs) {
					t.Errorf("%v at n = %d, truth %.3f: simulated false pass %.4f, exact bound %.4f, beta %v", split, n, a.Shares, got, bound, beta)
				}
				t.Logf("%v n = %5d truth %.3f: false pass %.4f simulated (%d runs), at most %.4f exact", split, n, a.Shares, rates[OutcomePass], runs, bound)
			}
		}
	}
}

// TestInconclusiveAtPlan: on a correct gateway at the planned n the price
// of certifying is small. INCONCLUSIVE needs some share uncertified, and
// non-rejection; so its rate lies between P(uncertified) - size and
// P(uncertified), which probCertified computes exactly.
func TestInconclusiveAtPlan(t *testing.T) {
	const alpha, beta, delta, runs = DefaultAlpha, DefaultBeta, DefaultDelta, 4000
	tests := []struct {
		split []float64
		// target is the power the plan aims at: 0.9 the replayer's, 0.8
		// the one a verdict's sample-size advice names.
		target float64
		// atMost is what the computation gives, rounded up: the figure the
		// documentation quotes.
		atMost float64
	}{
		{[]float64{0.1, 0.1, 0.8}, 0.9, 0.01},
		{[]float64{0.8, 0.2}, 0.9, 0.01},
		{[]float64{0.1, 0.1, 0.8}, 0.8, 0.03},
		{[]float64{0.8, 0.2}, 0.8, 0.015},
	}
	for _, tt := range tests {
		planned, err := SampleSize(tt.split, alpha, delta, tt.target)
		if err != nil {
			t.Fatal(err)
		}
		uncertified := 1 - probCertified(planned, tt.split, certifyRanges(t, planned, tt.split, beta, delta))
		if uncertified > tt.atMost {
			t.Errorf("%v at n = %d: P(uncertified) = %.4f exact, above %v", tt.split, planned, uncertified, tt.atMost)
		}
		size, _, err := VerdictSize(tt.split, planned, alpha, TestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rates := outcomeRates(t, tt.split, tt.split, planned, alpha, beta, delta, runs, uint64(planned))
		got, s := rates[OutcomeInconclusive], slack(uncertified, runs)
		if got > uncertified+s || got < uncertified-size-s {
			t.Errorf("%v at n = %d: inconclusive %.4f simulated, exact range [%.4f, %.4f]", tt.split, planned, got, uncertified-size, uncertified)
		}
		t.Logf("%v at planned n = %d: inconclusive %.4f simulated (%d runs), P(uncertified) %.4f exact; fail %.4f, pass %.4f",
			tt.split, planned, got, runs, uncertified, rates[OutcomeFail], rates[OutcomePass])
	}
}

// TestClearedRejectionWording: when another test clears the fit's
// rejection and the intervals are too wide to certify, the reason must not
// claim "no significant deviation" for a p-value below alpha.
func TestClearedRejectionWording(t *testing.T) {
	cats := []Category{{Name: "a", Weight: 50}, {Name: "b", Weight: 50}}
	// 40/60 of 200: the fit rejects 50/50 at alpha 0.01 (p ≈ 0.005),
	// and the intervals are far wider than ±5 points.
	v, err := Verify(CountsFile{Categories: cats, Counts: map[string]int64{"a": 80, "b": 120}, Alpha: 0.01}, Options{Alpha: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if v.Outcome != OutcomeFail || v.Test.PValue > 0.01 {
		t.Fatalf("setup: outcome %s, p %g; want a rejection", v.Outcome, v.Test.PValue)
	}
	v.ClearRejection()
	if v.Outcome != OutcomeInconclusive {
		t.Fatalf("after ClearRejection: %s, want inconclusive", v.Outcome)
	}
	if strings.Contains(v.Inconclusive, "no significant deviation") || !strings.Contains(v.Inconclusive, "does not decide this verdict") {
		t.Errorf("reason %q", v.Inconclusive)
	}
}
