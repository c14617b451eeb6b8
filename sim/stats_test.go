package sim

import (
	"errors"
	"math"
	"testing"
)

// The reference values below were computed independently of this package
// (exact rational arithmetic or 30-digit mpmath quadrature), and, where the
// text names one, agree with the published example.

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestPearsonAndGTest(t *testing.T) {
	// Mendel's dihybrid cross (round/wrinkled × yellow/green), 9:3:3:1:
	// X² = 0.470, p = 0.9254 (e.g. Sokal & Rohlf, Biometry; McDonald,
	// Handbook of Biological Statistics gives G = 0.475, p = 0.924).
	obs := []int64{315, 108, 101, 32}
	p := []float64{9.0 / 16, 3.0 / 16, 3.0 / 16, 1.0 / 16}
	x2, px := Pearson(obs, p)
	g, pg := GTest(obs, p)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"chi2", x2, 0.470023980815347721},
		{"chi2 p", px, 0.925425895103615967},
		{"G", g, 0.475445238998263146},
		{"G p", pg, 0.924251903974526047},
	} {
		if !near(c.got, c.want, 1e-10) {
			t.Errorf("%s = %.15g, want %.15g", c.name, c.got, c.want)
		}
	}
}

func TestExactMultinomial(t *testing.T) {
	tests := []struct {
		name string
		obs  []int64
		p    []float64
		want float64
	}{
		// Two fair outcomes, both draws on one side: P(2,0)+P(0,2) = 0.5.
		{"coin", []int64{2, 0}, []float64{0.5, 0.5}, 0.5},
		// R's binom.test(c(682, 243), p = 3/4) example (Conover 1971): p = 0.3825.
		{"conover binomial", []int64{682, 243}, []float64{0.75, 0.25}, 0.382491559574851681},
		// Exact rational enumeration.
		{"three categories", []int64{3, 0, 1}, []float64{0.2, 0.3, 0.5}, 0.0353},
		{"10/10/80 all on the big one", []int64{0, 0, 12}, []float64{0.1, 0.1, 0.8}, 0.333206327296},
		{"10/10/80 small n off", []int64{4, 1, 5}, []float64{0.1, 0.1, 0.8}, 0.0162784256},
		{"uniform four", []int64{6, 4, 2, 1}, []float64{0.25, 0.25, 0.25, 0.25}, 0.2399967908859253},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, runs, _, err := ExactMultinomial(tt.obs, tt.p, 0, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			if runs != 0 || !near(got, tt.want, 1e-9) {
				t.Errorf("p = %.12g (runs %d), want %.12g by enumeration", got, runs, tt.want)
			}
		})
	}
}

func TestExactMonteCarloAgreesWithEnumeration(t *testing.T) {
	obs, p := []int64{6, 4, 2, 1}, []float64{0.25, 0.25, 0.25, 0.25}
	got, runs, se, err := ExactMultinomial(obs, p, 10, 50_000, 7) // 560 outcomes > 10: forced Monte Carlo
	if err != nil {
		t.Fatal(err)
	}
	want := 0.2399967908859253
	// Seeded, so deterministic; 4 standard errors would be exceeded by chance
	// with probability 6e-5 for an arbitrary seed.
	if runs != 50_000 || se <= 0 || !near(got, want, 4*se) {
		t.Errorf("monte carlo p = %.5f ± %.5f over %d runs, want %.5f", got, se, runs, want)
	}
}

func TestTestChoosesMethod(t *testing.T) {
	tests := []struct {
		name   string
		obs    []int64
		p      []float64
		opts   TestOptions
		method Method
		pv     float64 // negative: only check range
	}{
		{"single backend", []int64{40}, []float64{1}, TestOptions{}, MethodSingle, 1},
		{"zero counts", []int64{0, 0, 0}, []float64{0.1, 0.1, 0.8}, TestOptions{}, MethodExact, 1},
		{"expected below 5 uses exact", []int64{4, 1, 5}, []float64{0.1, 0.1, 0.8}, TestOptions{}, MethodExact, 0.0162784256},
		{"large counts use pearson", []int64{315, 108, 101, 32}, []float64{9.0 / 16, 3.0 / 16, 3.0 / 16, 1.0 / 16}, TestOptions{}, MethodPearson, 0.925425895103615967},
		{"one category carrying everything", []int64{0, 0, 1000}, []float64{0.1, 0.1, 0.8}, TestOptions{}, MethodPearson, -1},
		// Every expected count is at least 5, but Pearson's exact size at
		// n = 50 is 2.38 alpha: the exact test decides.
		{"pearson too far off alpha uses exact", []int64{5, 5, 40}, []float64{0.1, 0.1, 0.8}, TestOptions{}, MethodExact, 1},
		{"too many outcomes uses monte carlo", []int64{1, 0, 2, 0, 0, 1, 0, 3, 0, 0, 2, 0, 1, 0, 0, 30},
			[]float64{0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.7},
			TestOptions{MonteCarloRuns: 2000, Seed: 3}, MethodMonteCarlo, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Test(tt.obs, tt.p, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if g.Method != tt.method {
				t.Errorf("method = %s, want %s", g.Method, tt.method)
			}
			if tt.pv >= 0 && !near(g.PValue, tt.pv, 1e-9) {
				t.Errorf("p = %.12g, want %.12g", g.PValue, tt.pv)
			}
			if !(g.PValue >= 0 && g.PValue <= 1) {
				t.Errorf("p = %v outside [0,1]", g.PValue)
			}
		})
	}
	g, _ := Test([]int64{0, 0, 1000}, []float64{0.1, 0.1, 0.8}, TestOptions{})
	// chi2 = 100 + 100 + 200²/800 = 250 and with df = 2 the survival is exp(-x/2).
	if !near(g.Chi2, 250, 1e-9) || !near(g.PValue, math.Exp(-125), 1e-60) {
		t.Errorf("everything on the 80%% backend: chi2 = %v, p = %g, want 250 and exp(-125)", g.Chi2, g.PValue)
	}
}

func TestSharesRejected(t *testing.T) {
	for _, tt := range []struct {
		name string
		obs  []int64
		p    []float64
	}{
		{"zero share", []int64{1, 1}, []float64{1, 0}},
		{"not summing to one", []int64{1, 1}, []float64{0.5, 0.6}},
		{"length mismatch", []int64{1}, []float64{0.5, 0.5}},
		{"negative count", []int64{-1, 3}, []float64{0.5, 0.5}},
		{"empty", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Test(tt.obs, tt.p, TestOptions{}); !errors.Is(err, ErrShares) {
				t.Errorf("err = %v, want ErrShares", err)
			}
		})
	}
}

func TestIntervals(t *testing.T) {
	// Newcombe (1998), Statistics in Medicine 17:857–872, Table I, methods 3
	// (Wilson score) and 5 (Clopper–Pearson) at 95%; reproduced here to 1e-9
	// from independent 30-digit computations.
	tests := []struct {
		x, n       int64
		wilson, cp Interval
	}{
		{81, 263, Interval{0.2552885199, 0.366209577}, Interval{0.2527367456, 0.3676219226}},
		{15, 148, Interval{0.06238639953, 0.1604872417}, Interval{0.05784401008, 0.1616504903}},
		{0, 20, Interval{0, 0.1611251581}, Interval{0, 0.168433471}},
		{1, 29, Interval{0.006113214293, 0.1717552188}, Interval{0.0008726468836, 0.1776442955}},
		// R's binom.test(682, 925) example: 95% CI 0.7076683 0.7654066.
		{682, 925, Wilson(682, 925, 0.95), Interval{0.7076682641, 0.7654065582}},
	}
	for _, tt := range tests {
		w, cp := Wilson(tt.x, tt.n, 0.95), ClopperPearson(tt.x, tt.n, 0.95)
		if !near(w.Lo, tt.wilson.Lo, 1e-9) || !near(w.Hi, tt.wilson.Hi, 1e-9) {
			t.Errorf("Wilson(%d/%d) = %+v, want %+v", tt.x, tt.n, w, tt.wilson)
		}
		if !near(cp.Lo, tt.cp.Lo, 1e-8) || !near(cp.Hi, tt.cp.Hi, 1e-8) {
			t.Errorf("ClopperPearson(%d/%d) = %+v, want %+v", tt.x, tt.n, cp, tt.cp)
		}
	}
	if iv := ClopperPearson(20, 20, 0.95); iv.Hi != 1 || !near(iv.Lo, 1-0.168433471, 1e-8) {
		t.Errorf("ClopperPearson(20/20) = %+v, want the mirror of 0/20", iv)
	}
}

func TestCorrections(t *testing.T) {
	if got := Bonferroni.PerComparison(0.001, 4); got != 0.00025 {
		t.Errorf("bonferroni = %v", got)
	}
	// Šidák: 1-(1-0.05)^(1/3) = 0.016952...
	if got := Sidak.PerComparison(0.05, 3); !near(got, 0.016952427508441503, 1e-15) {
		t.Errorf("sidak = %.17g", got)
	}
	if got := Sidak.PerComparison(0.05, 1); got != 0.05 {
		t.Errorf("sidak k=1 = %v", got)
	}
}

func TestNoncentralChiSquared(t *testing.T) {
	// Reference: 30-digit quadrature of the Bessel-function density
	// f(x) = ½ e^{-(x+λ)/2} (x/λ)^{k/4-1/2} I_{k/2-1}(√(λx)), a different
	// formula from the Poisson mixture under test. The k=1 case is also
	// Φ(√x-√λ) - Φ(-√x-√λ).
	tests := []struct{ k, lambda, x, cdf float64 }{
		{2, 5, 10, 0.76869155065986334},
		{3, 1, 0.5, 0.051625930164535877},
		{1, 20, 15, 0.27453556111092282},
		{4, 100, 120, 0.79130965957181392},
		{2, 0.5, 13.8155105579643, 0.99670747486123801},
	}
	for _, tt := range tests {
		d := NoncentralChiSquared{K: tt.k, Lambda: tt.lambda}
		if got := d.CDF(tt.x); !near(got, tt.cdf, 1e-12) {
			t.Errorf("CDF(%v; k=%v, λ=%v) = %.17g, want %.17g", tt.x, tt.k, tt.lambda, got, tt.cdf)
		}
		if got := d.Survival(tt.x); !near(got, 1-tt.cdf, 1e-12) {
			t.Errorf("Survival(%v; k=%v, λ=%v) = %.17g, want %.17g", tt.x, tt.k, tt.lambda, got, 1-tt.cdf)
		}
	}
	// λ = 0 is the central distribution; huge λ must not underflow.
	if got := (NoncentralChiSquared{K: 3, Lambda: 0}).Survival(7.814727903251178); !near(got, 0.05, 1e-12) {
		t.Errorf("central survival = %v, want 0.05", got)
	}
	if got := (NoncentralChiSquared{K: 2, Lambda: 5000}).CDF(5002); !(got > 0.45 && got < 0.55) {
		t.Errorf("CDF at the mean for λ=5000 = %v, want about 0.5", got)
	}
}

func TestLeastFavourable(t *testing.T) {
	p := []float64{0.1, 0.1, 0.8}
	alt, err := LeastFavourable(p, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	// The 80% backend (p(1-p) = 0.16, the largest) moves; λ/n = δ²/0.16.
	if alt.Category != 2 || !near(alt.LambdaPerObs, 0.0004/0.16, 1e-15) {
		t.Errorf("alternative = %+v", alt)
	}
	if got := Noncentrality(p, alt.Shares, 1); !near(got, alt.LambdaPerObs, 1e-15) {
		t.Errorf("noncentrality of the returned split = %v, want %v", got, alt.LambdaPerObs)
	}
	sum := 0.0
	for _, s := range alt.Shares {
		sum += s
	}
	if !near(sum, 1, 1e-12) || !near(math.Abs(alt.Shares[2]-0.8), 0.02, 1e-12) {
		t.Errorf("shares %v: want a distribution with share 2 off by 0.02", alt.Shares)
	}
	// No pairwise move of δ is easier to miss than the least-favourable split.
	for i := range p {
		for j := range p {
			if i != j && Noncentrality(p, pairMove(p, i, j, 0.02), 1) < alt.LambdaPerObs-1e-15 {
				t.Errorf("moving 0.02 from %d to %d is less detectable than the least-favourable split", i, j)
			}
		}
	}
	if _, err := LeastFavourable([]float64{1}, 0.02); !errors.Is(err, ErrNoAlternative) {
		t.Errorf("single category: err = %v", err)
	}
}

func pairMove(p []float64, from, to int, d float64) []float64 {
	q := append([]float64(nil), p...)
	q[from] -= d
	q[to] += d
	return q
}

func TestPowerAndSampleSize(t *testing.T) {
	// Textbook check (Cohen 1988, Table 7.4.15): chi-square, df = 1,
	// alpha = 0.05, effect w = 0.3 (λ = n w²) needs n = 88 for power 0.80.
	// With two categories of 50% each, δ gives w = 2δ, so δ = 0.15.
	n, err := noncentralSampleSize([]float64{0.5, 0.5}, 0.05, 0.15, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	if n != 88 {
		t.Errorf("sample size = %d, want 88 (Cohen)", n)
	}
	// SampleSize itself is exact: the test it names reaches the power there.
	if ne, err := SampleSize([]float64{0.5, 0.5}, 0.05, 0.15, 0.8); err != nil {
		t.Fatal(err)
	} else if mp, _ := MinPower([]float64{0.5, 0.5}, 0.05, 0.15, ne, TestOptions{}); !mp.Exact || mp.Power < 0.8 {
		t.Errorf("exact sample size %d has power %+v", ne, mp)
	}
	pw, _ := Power([]float64{0.5, 0.5}, 0.05, 0.15, n)
	pwPrev, _ := Power([]float64{0.5, 0.5}, 0.05, 0.15, n-1)
	if !(pw >= 0.8 && pwPrev < 0.8) {
		t.Errorf("power at n=%d is %v and at n-1 is %v: want the first n reaching 0.8", n, pw, pwPrev)
	}
	// Power at λ=0 is the level.
	if got := PowerAt(2, 0.01, 0); !near(got, 0.01, 1e-12) {
		t.Errorf("power at λ=0 = %v, want alpha", got)
	}
}
