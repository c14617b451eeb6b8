package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// Method names the goodness-of-fit test whose p-value a verdict uses.
type Method string

const (
	// MethodPearson is Pearson's chi-square test with k-1 degrees of freedom.
	MethodPearson Method = "pearson-chi-square"
	// MethodExact is the exact multinomial test, all outcomes enumerated.
	MethodExact Method = "exact-multinomial"
	// MethodMonteCarlo is the exact multinomial test estimated from seeded
	// draws under the null; its p-value (1+hits)/(1+runs) is valid for any
	// number of runs, the standard error says how far it is from the exact one.
	MethodMonteCarlo Method = "monte-carlo-multinomial"
	// MethodSingle is used when only one category has a positive weight: every
	// valid observation must land there, so there is nothing to fit.
	MethodSingle Method = "single-category"
)

// Defaults for choosing and running the exact test.
const (
	// MinExpected is Cochran's rule: with every expected count at least 5 the
	// chi-square approximation is used, otherwise the exact test.
	MinExpected = 5.0
	// DefaultMaxEnumerate bounds the number of outcomes the exact test
	// enumerates (about 0.1 s); beyond it the Monte Carlo estimate is used.
	DefaultMaxEnumerate = 2_000_000
	// DefaultMonteCarloRuns gives a standard error of at most 0.0016 on the
	// p-value (and about 0.0001 near p = 0.001).
	DefaultMonteCarloRuns = 100_000
)

// ErrShares is returned for expected shares that are not a distribution.
var ErrShares = errors.New("invalid expected shares")

// GOF is the outcome of a goodness-of-fit test of counts against expected shares.
type GOF struct {
	// Method is the test whose p-value is PValue.
	Method Method `json:"method"`
	// N is the number of observations tested.
	N int64 `json:"n"`
	// DF is the chi-square degrees of freedom, k-1.
	DF int `json:"df"`
	// Chi2 and Chi2P are Pearson's statistic and its asymptotic p-value.
	Chi2  float64 `json:"chi2"`
	Chi2P float64 `json:"chi2_p"`
	// G and GP are the likelihood-ratio (G-test) statistic and its asymptotic p-value.
	G  float64 `json:"g"`
	GP float64 `json:"g_p"`
	// PValue is the p-value the verdict uses (Chi2P, or the exact one).
	PValue float64 `json:"p_value"`
	// MinExpected is the smallest expected count; below MinExpected the exact test is chosen.
	MinExpected float64 `json:"min_expected"`
	// PearsonExactSize is the Pearson test's exact false-failure rate at this
	// n and split, the figure that decides between it and the exact test
	// (ChooseRule); -1 when it was not computed.
	PearsonExactSize float64 `json:"pearson_exact_size"`
	// MonteCarloRuns and MonteCarloStdErr describe a Monte Carlo p-value (zero otherwise).
	MonteCarloRuns   int     `json:"monte_carlo_runs,omitempty"`
	MonteCarloStdErr float64 `json:"monte_carlo_stderr,omitempty"`
}

// TestOptions tune how Test picks and runs the exact test.
type TestOptions struct {
	// MaxEnumerate is the largest number of outcomes enumerated (DefaultMaxEnumerate if 0).
	MaxEnumerate float64
	// MonteCarloRuns is the number of null draws when enumeration is too large
	// (DefaultMonteCarloRuns if 0).
	MonteCarloRuns int
	// Seed seeds the Monte Carlo draws, so a verdict is reproducible.
	Seed uint64
	// AlwaysAsymptotic skips the exact test (simulations that only study the chi-square test).
	AlwaysAsymptotic bool
	// Alpha is the level the p-value will be compared with (DefaultAlpha if
	// 0): Pearson's test is used only where its exact false-failure rate at
	// this level is within SizeTolerance of it (ChooseRule).
	Alpha float64
	// SizeBudget bounds the work of computing that rate (DefaultSizeBudget if 0).
	SizeBudget int

	// rule, when set, is ChooseRule's answer for this n, computed once by
	// a caller (Simulate) that tests many runs of the same n.
	rule *Rule
}

func checkShares(obs []int64, p []float64) error {
	if len(obs) != len(p) {
		return fmt.Errorf("%w: %d counts but %d shares", ErrShares, len(obs), len(p))
	}
	if len(p) == 0 {
		return fmt.Errorf("%w: no categories", ErrShares)
	}
	sum := 0.0
	for i, q := range p {
		if !(q > 0 && q <= 1) {
			return fmt.Errorf("%w: share[%d] is %v, expected in (0,1] (remove weight-0 categories first)", ErrShares, i, q)
		}
		if obs[i] < 0 {
			return fmt.Errorf("%w: count[%d] is negative (%d)", ErrShares, i, obs[i])
		}
		sum += q
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("%w: shares sum to %v, expected 1", ErrShares, sum)
	}
	return nil
}

func total(obs []int64) int64 {
	var n int64
	for _, o := range obs {
		n += o
	}
	return n
}

// Pearson returns Pearson's chi-square statistic sum((O-E)^2/E) and its
// p-value from the chi-square distribution with k-1 degrees of freedom.
// Shares must be positive and sum to 1.
func Pearson(obs []int64, p []float64) (stat, pvalue float64) {
	n := float64(total(obs))
	for i, o := range obs {
		e := n * p[i]
		d := float64(o) - e
		stat += d * d / e
	}
	return stat, chi2Survival(stat, len(p)-1)
}

// GTest returns the likelihood-ratio statistic 2*sum(O*ln(O/E)) and its
// p-value from the chi-square distribution with k-1 degrees of freedom.
func GTest(obs []int64, p []float64) (stat, pvalue float64) {
	n := float64(total(obs))
	for i, o := range obs {
		if o == 0 {
			continue // 0*ln(0) = 0
		}
		stat += float64(o) * math.Log(float64(o)/(n*p[i]))
	}
	stat *= 2
	if stat < 0 { // rounding when O == E everywhere
		stat = 0
	}
	return stat, chi2Survival(stat, len(p)-1)
}

func chi2Survival(x float64, df int) float64 {
	if df <= 0 {
		return 1
	}
	if math.IsNaN(x) {
		return math.NaN()
	}
	return distuv.ChiSquared{K: float64(df)}.Survival(x)
}

// Outcomes is the number of ways n observations fall into k categories,
// C(n+k-1, k-1), as a float (it overflows integers quickly).
func Outcomes(n int64, k int) float64 {
	if k <= 1 {
		return 1
	}
	lg := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
	return math.Round(math.Exp(lg(float64(n+int64(k))) - lg(float64(n+1)) - lg(float64(k))))
}

// probTolerance treats outcomes within this relative factor of the observed
// probability as equally likely, so rounding in the log-probabilities cannot
// drop ties (the same rule as R's binom.test).
const probTolerance = 1e-7

// ExactMultinomial is the exact multinomial test: the p-value is the total
// probability, under the expected shares, of all outcomes with n observations
// that are no more likely than the observed one. It enumerates every outcome
// when there are at most maxEnumerate of them and returns runs = 0; otherwise
// it estimates the p-value from runs seeded draws as (1+hits)/(1+runs), which
// is a valid p-value in its own right, and returns its standard error.
func ExactMultinomial(obs []int64, p []float64, maxEnumerate float64, runs int, seed uint64) (pvalue float64, usedRuns int, stderr float64, err error) {
	if err := checkShares(obs, p); err != nil {
		return 0, 0, 0, err
	}
	n := total(obs)
	if maxEnumerate <= 0 {
		maxEnumerate = DefaultMaxEnumerate
	}
	if runs <= 0 {
		runs = DefaultMonteCarloRuns
	}
	lf := logFactorials(n)
	logp := make([]float64, len(p))
	for i, q := range p {
		logp[i] = math.Log(q)
	}
	logProb := func(c []int64) float64 {
		s := lf(n)
		for i, x := range c {
			s += float64(x)*logp[i] - lf(x)
		}
		return s
	}
	cut := logProb(obs) + math.Log1p(probTolerance)
	if Outcomes(n, len(p)) <= maxEnumerate {
		return enumerate(n, logp, lf, cut), 0, 0, nil
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	c := make([]int64, len(p))
	hits := 0
	for range runs {
		drawMultinomial(rng, n, p, c)
		if logProb(c) <= cut {
			hits++
		}
	}
	pv := float64(1+hits) / float64(1+runs)
	return pv, runs, math.Sqrt(pv * (1 - pv) / float64(runs)), nil
}

// maxLogFactorialTable is the largest n whose log-factorials are tabulated
// (128 MiB); beyond it they come from math.Lgamma, as a table of n+1 floats
// would not fit in memory for totals up to MaxObservations.
const maxLogFactorialTable = 1 << 24

// logFactorials returns x -> ln(x!) for 0 <= x <= n.
func logFactorials(n int64) func(int64) float64 {
	if n > maxLogFactorialTable {
		return func(x int64) float64 {
			v, _ := math.Lgamma(float64(x) + 1)
			return v
		}
	}
	lf := make([]float64, n+1)
	for i := int64(2); i <= n; i++ {
		lf[i] = lf[i-1] + math.Log(float64(i))
	}
	return func(x int64) float64 { return lf[x] }
}

// enumerate sums exp(log-probability) over all outcomes at or below cut. It
// walks compositions depth first, carrying the partial log-probability.
func enumerate(n int64, logp []float64, lf func(int64) float64, cut float64) float64 {
	k := len(logp)
	sum := 0.0
	var rec func(i int, left int64, partial float64)
	rec = func(i int, left int64, partial float64) {
		if i == k-1 {
			lp := partial + float64(left)*logp[i] - lf(left)
			if lp <= cut {
				sum += math.Exp(lp)
			}
			return
		}
		for x := int64(0); x <= left; x++ {
			rec(i+1, left-x, partial+float64(x)*logp[i]-lf(x))
		}
	}
	rec(0, n, lf(n))
	return math.Min(sum, 1)
}

// drawMultinomial fills c with one multinomial(n, p) draw by successive
// conditional binomials.
func drawMultinomial(rng *rand.Rand, n int64, p []float64, c []int64) {
	left, rest := n, 1.0
	for i := range p {
		if i == len(p)-1 || left == 0 {
			c[i] = left
			for j := i + 1; j < len(p); j++ {
				c[j] = 0
			}
			return
		}
		q := math.Min(1, p[i]/rest)
		x := int64(distuv.Binomial{N: float64(left), P: q, Src: rng}.Rand())
		c[i] = x
		left -= x
		rest -= p[i]
	}
}

// Test runs the goodness-of-fit test of obs against shares p (positive,
// summing to 1) with the test ChooseRule picks for this n and opts.Alpha:
// Pearson's chi-square where its exact false-failure rate is within
// SizeTolerance of alpha, the exact multinomial test otherwise. Chi-square
// and G-test statistics are always reported.
func Test(obs []int64, p []float64, opts TestOptions) (GOF, error) {
	if err := checkShares(obs, p); err != nil {
		return GOF{}, err
	}
	n := total(obs)
	g := GOF{N: n, DF: len(p) - 1, MinExpected: math.Inf(1), PearsonExactSize: -1}
	for _, q := range p {
		g.MinExpected = math.Min(g.MinExpected, float64(n)*q)
	}
	if len(p) == 1 || n == 0 {
		// Nothing can deviate: one category takes everything, or nothing was seen.
		g.Method, g.Chi2P, g.GP, g.PValue = MethodSingle, 1, 1, 1
		if len(p) > 1 {
			g.Method = MethodExact
		}
		return g, nil
	}
	g.Chi2, g.Chi2P = Pearson(obs, p)
	g.G, g.GP = GTest(obs, p)
	rule := opts.rule
	if rule == nil {
		alpha := opts.Alpha
		if alpha <= 0 {
			alpha = DefaultAlpha
		}
		r := ChooseRule(p, n, alpha, opts)
		rule = &r
	}
	g.PearsonExactSize = rule.PearsonSize
	if rule.Method == MethodPearson {
		g.Method, g.PValue = MethodPearson, g.Chi2P
		return g, nil
	}
	pv, runs, se, err := ExactMultinomial(obs, p, opts.MaxEnumerate, opts.MonteCarloRuns, opts.Seed)
	if err != nil {
		return GOF{}, err
	}
	g.PValue, g.MonteCarloRuns, g.MonteCarloStdErr = pv, runs, se
	g.Method = MethodExact
	if runs > 0 {
		g.Method = MethodMonteCarlo
	}
	return g, nil
}
