package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// SizeTolerance is how far above alpha the Pearson chi-square test's exact
// false-failure rate may lie for a verdict to use it: wherever it is further
// off, the exact multinomial test (size at most alpha) decides instead, so
// the rate a verdict states holds at every n.
const SizeTolerance = 0.10

// DefaultSizeBudget bounds the work of one exact Pearson rejection
// probability: the number of conditional binomial evaluations (about a
// microsecond each). Three categories stay within it up to n ≈ 10^8.
const DefaultSizeBudget = 400_000

// ErrNotComputable is returned when an exact rejection probability would
// take more than its budget (many categories or a huge n).
var ErrNotComputable = errors.New("exact rejection probability beyond the computation budget")

// windowSD and windowPad set the window of a conditional binomial that is
// summed term by term: mean ± (windowSD standard deviations + windowPad).
// The mass left outside is computed (binomial tails) and reported, never
// assumed; at these widths it is below 1e-10.
const (
	windowSD  = 7.5
	windowPad = 12
)

// pearsonRejection returns the probability that Pearson's chi-square test of
// shares test at level alpha rejects n observations drawn from shares truth,
// and the probability mass it left out of the sum (so the true value lies in
// [rej, rej+left]).
//
// Why it is cheap: conditional on the first k-2 counts the last two are
// binomial and the statistic is a convex quadratic in one of them, so the
// acceptance region is an interval whose probability is a difference of two
// binomial tails (regularized incomplete beta). Only the first k-2 counts are
// summed, and each only over the window where its probability is not
// negligible: O(sqrt(n)) terms for three categories, O(1) for two.
func pearsonRejection(test, truth []float64, n int64, alpha float64, budget int) (rej, left float64, err error) {
	k := len(test)
	if len(truth) != k {
		return 0, 0, fmt.Errorf("%w: %d true shares for %d tested", ErrShares, len(truth), k)
	}
	if k < 2 || n == 0 {
		return 0, 0, nil
	}
	if budget <= 0 {
		budget = DefaultSizeBudget
	}
	// Order the categories so the summed ones vary least (smallest
	// t(1-t)): the window, and so the work, is smallest. The statistic is
	// symmetric in the categories, so the order changes nothing else.
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ta, tb := truth[idx[a]], truth[idx[b]]
		return ta*(1-ta) < tb*(1-tb)
	})
	c := pearsonCalc{
		inv:    make([]float64, k),
		truth:  make([]float64, k),
		rest:   make([]float64, k+1),
		cut:    distuv.ChiSquared{K: float64(k - 1)}.Quantile(1-alpha) + float64(n),
		budget: budget,
	}
	for j, i := range idx {
		c.inv[j] = 1 / (float64(n) * test[i])
		c.truth[j] = truth[i]
	}
	for j := k - 1; j >= 0; j-- {
		c.rest[j] = c.rest[j+1] + c.truth[j]
	}
	// Refuse up front what the windows would make too costly (n = 10^12),
	// so a caller is not held up by work it would throw away.
	cost := 1.0
	for j := range k - 2 {
		t := c.truth[j]
		cost *= 2*(windowSD*math.Sqrt(float64(n)*t*(1-t))+windowPad) + 1
	}
	if cost > float64(budget) {
		return 0, 0, fmt.Errorf("%w: %d categories at n = %d", ErrNotComputable, k, n)
	}
	rej, left = c.level(0, n, 0)
	if c.spent > c.budget {
		return 0, 0, fmt.Errorf("%w: %d categories at n = %d", ErrNotComputable, k, n)
	}
	return math.Min(rej, 1), left, nil
}

type pearsonCalc struct {
	inv, truth, rest []float64
	// cut is the critical value plus n: Pearson's statistic is
	// sum x_i^2/(n p_i) - n, and the sum is what the levels accumulate.
	cut           float64
	budget, spent int
}

// level handles category i onwards, given m observations left and the
// partial sum of x_j^2/(n p_j) over the categories before i.
func (c *pearsonCalc) level(i int, m int64, partial float64) (rej, left float64) {
	if c.spent > c.budget {
		return 0, 0
	}
	k := len(c.inv)
	if i == k-2 {
		c.spent++
		return c.lastTwo(m, partial), 0
	}
	q := condShare(c.truth[i], c.rest[i])
	lo, pmf, out := binomialWindow(m, q)
	for j, w := range pmf {
		if w == 0 {
			continue
		}
		x := lo + int64(j)
		r, l := c.level(i+1, m-x, partial+float64(x)*float64(x)*c.inv[i])
		rej += w * r
		left += w * l
		if c.spent > c.budget {
			return 0, 0
		}
	}
	return rej, left + out
}

// lastTwo is the probability of rejection when m observations fall into the
// last two categories, x ~ Bin(m, q) into the first of them.
func (c *pearsonCalc) lastTwo(m int64, partial float64) float64 {
	k := len(c.inv)
	a, b := c.inv[k-2], c.inv[k-1]
	q := condShare(c.truth[k-2], c.rest[k-2])
	fm := float64(m)
	stat := func(x int64) float64 {
		fx := float64(x)
		return partial + a*fx*fx + b*(fm-fx)*(fm-fx)
	}
	// Accepted: stat(x) < cut, an interval around the minimiser b m/(a+b).
	A, B, C := a+b, -2*b*fm, b*fm*fm+partial-c.cut
	disc := B*B - 4*A*C
	if disc <= 0 {
		return 1
	}
	sq := math.Sqrt(disc)
	lo := int64(math.Ceil((-B - sq) / (2 * A)))
	hi := int64(math.Floor((-B + sq) / (2 * A)))
	lo, hi = max(lo, 0), min(hi, m)
	// The roots carry rounding: settle the edges on the statistic itself.
	for lo <= hi && stat(lo) >= c.cut {
		lo++
	}
	for lo > 0 && lo-1 <= hi && stat(lo-1) < c.cut {
		lo--
	}
	for hi >= lo && stat(hi) >= c.cut {
		hi--
	}
	for hi < m && hi+1 >= lo && stat(hi+1) < c.cut {
		hi++
	}
	if lo > hi {
		return 1
	}
	return binomLE(m, lo-1, q) + binomGT(m, hi, q)
}

// condShare is share t of the remaining mass rest, clamped to [0,1].
func condShare(t, rest float64) float64 {
	if rest <= 0 {
		return 0
	}
	return math.Min(1, math.Max(0, t/rest))
}

// binomLE is P(X <= x) for X ~ Bin(m, q).
func binomLE(m, x int64, q float64) float64 {
	switch {
	case x < 0:
		return 0
	case x >= m || q <= 0:
		return 1
	case q >= 1:
		return 0
	}
	return mathext.RegIncBeta(float64(m-x), float64(x+1), 1-q)
}

// binomGT is P(X > x) for X ~ Bin(m, q), computed directly (not 1-CDF) so
// small tails keep their precision.
func binomGT(m, x int64, q float64) float64 {
	switch {
	case x < 0:
		return 1
	case x >= m || q <= 0:
		return 0
	case q >= 1:
		return 1
	}
	return mathext.RegIncBeta(float64(x+1), float64(m-x), q)
}

// binomialWindow returns the probabilities of Bin(m, q) at lo, lo+1, ...
// over a window around the mode, and the mass outside it. The terms come
// from the ratio of neighbours, normalised by the window's mass from the
// tails, so they stay accurate for any m (log-gamma loses digits at 10^12).
func binomialWindow(m int64, q float64) (lo int64, pmf []float64, outside float64) {
	if m == 0 || q <= 0 {
		return 0, []float64{1}, 0
	}
	if q >= 1 {
		return m, []float64{1}, 0
	}
	fm := float64(m)
	mode := min(m, int64(math.Floor((fm+1)*q)))
	half := int64(math.Ceil(windowSD*math.Sqrt(fm*q*(1-q)))) + windowPad
	lo, hi := max(0, mode-half), min(m, mode+half)
	w := make([]float64, hi-lo+1)
	w[mode-lo] = 1
	r := q / (1 - q)
	for x := mode; x < hi; x++ {
		w[x+1-lo] = w[x-lo] * float64(m-x) / float64(x+1) * r
	}
	for x := mode; x > lo; x-- {
		w[x-1-lo] = w[x-lo] * float64(x) / float64(m-x+1) / r
	}
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	outside = binomLE(m, lo-1, q) + binomGT(m, hi, q)
	scale := (1 - outside) / sum
	for i := range w {
		w[i] *= scale
	}
	return lo, w, outside
}

// exactRule is the exact multinomial test at level alpha for n observations
// as a rejection region: the p-value is monotone in the outcome's null
// probability, so the test rejects exactly the outcomes whose null
// log-probability is at most tau.
type exactRule struct {
	test []float64
	n    int64
	tau  float64
	// size is the exact false-failure rate, at most alpha by construction.
	size float64
}

// nullLogProb is the log-probability of counts c under shares with logs
// logp; both passes of the exact rule use it, so they agree to the bit.
func nullLogProb(c []int64, logp []float64, lf func(int64) float64, n int64) float64 {
	s := lf(n)
	for j, x := range c {
		if x > 0 {
			s += float64(x)*logp[j] - lf(x)
		}
	}
	return s
}

// forEachOutcome calls f with every way n observations fall into k categories.
func forEachOutcome(n int64, k int, f func(c []int64)) {
	c := make([]int64, k)
	var rec func(i int, left int64)
	rec = func(i int, left int64) {
		if i == k-1 {
			c[i] = left
			f(c)
			return
		}
		for x := int64(0); x <= left; x++ {
			c[i] = x
			rec(i+1, left-x)
		}
	}
	rec(0, n)
}

// newExactRule enumerates and sorts every outcome (at most maxEnumerate) to
// find the exact multinomial test's rejection region; its p-value is the one
// ExactMultinomial computes, ties within probTolerance included.
func newExactRule(test []float64, n int64, alpha, maxEnumerate float64) (exactRule, error) {
	k := len(test)
	r := exactRule{test: test, n: n, tau: math.Inf(-1)}
	if k < 2 || n == 0 {
		return r, nil
	}
	if maxEnumerate <= 0 {
		maxEnumerate = DefaultMaxEnumerate
	}
	if o := Outcomes(n, k); o > maxEnumerate {
		return r, fmt.Errorf("%w: %.3g outcomes exceed the enumeration limit %.3g", ErrNotComputable, o, maxEnumerate)
	}
	lf := logFactorials(n)
	logp := logsOf(test)
	all := make([]float64, 0, int(Outcomes(n, k)))
	forEachOutcome(n, k, func(c []int64) { all = append(all, nullLogProb(c, logp, lf, n)) })
	slices.Sort(all)
	// cum[i] is the null probability of the i least likely outcomes.
	cum := make([]float64, len(all)+1)
	for i, lp := range all {
		cum[i+1] = cum[i] + math.Exp(lp)
	}
	tol := math.Log1p(probTolerance)
	// The p-value of the i-th least likely outcome counts every outcome no
	// more likely (within the tolerance), a prefix; it grows with i, so the
	// rejected outcomes are a prefix too.
	for i, lp := range all {
		j := sort.SearchFloat64s(all, math.Nextafter(lp+tol, math.Inf(1)))
		if math.Min(cum[j], 1) >= alpha {
			break
		}
		r.tau, r.size = lp, cum[i+1]
	}
	return r, nil
}

// rejection is the probability the rule rejects n draws from truth.
func (r exactRule) rejection(truth []float64) float64 {
	k := len(r.test)
	if k < 2 || r.n == 0 || math.IsInf(r.tau, -1) {
		return 0
	}
	lf := logFactorials(r.n)
	logp, logq := logsOf(r.test), logsOf(truth)
	rej := 0.0
	forEachOutcome(r.n, k, func(c []int64) {
		if nullLogProb(c, logp, lf, r.n) <= r.tau {
			rej += math.Exp(nullLogProb(c, logq, lf, r.n))
		}
	})
	return math.Min(rej, 1)
}

// logsOf returns the logs of shares (-Inf for 0, which nullLogProb skips
// when its count is 0).
func logsOf(p []float64) []float64 {
	out := make([]float64, len(p))
	for i, q := range p {
		out[i] = math.Log(q)
	}
	return out
}

// ExactTestSize returns an upper bound on the false-failure rate of the
// exact multinomial test (ExactMultinomial's p-value compared with alpha)
// for n observations of shares p, without enumerating every outcome, so the
// bound can be checked at every n cheaply. With G(t) the null probability
// that an outcome's log-probability is at most t, the test rejects x when
// G(log P(x) + tol) < alpha, that is when log P(x) < t* - tol with t* the
// point where G reaches alpha; t* is found by bisection and the bound is the
// null probability of log P < t* - tol. G is computed like
// pearsonRejection: given all but two counts, the outcomes at least as
// likely as t form an interval (the log-probability is concave in the last
// but one count), whose probability is two binomial tails.
func ExactTestSize(p []float64, n int64, alpha float64) (float64, error) {
	k := len(p)
	if k < 2 || n == 0 {
		return 0, nil
	}
	if n > maxLogFactorialTable {
		return 0, fmt.Errorf("%w: n = %d", ErrNotComputable, n)
	}
	lf := logFactorials(n)
	logp := logsOf(p)
	rest := make([]float64, k+1)
	for j := k - 1; j >= 0; j-- {
		rest[j] = rest[j+1] + p[j]
	}
	// below(t) is the null probability that log P(X) < t (strict), plus the
	// mass left outside the windows.
	budget, spent := DefaultSizeBudget, 0
	var level func(i int, m int64, partial, t float64) float64
	level = func(i int, m int64, partial, t float64) float64 {
		if i < k-2 {
			lo, pmf, out := binomialWindow(m, condShare(p[i], rest[i]))
			s := out
			for j, w := range pmf {
				x := lo + int64(j)
				s += w * level(i+1, m-x, partial+float64(x)*logp[i]-lf(x), t)
			}
			return s
		}
		spent++
		q := condShare(p[k-2], rest[k-2])
		lp := func(x int64) float64 {
			return partial + float64(x)*logp[k-2] - lf(x) + float64(m-x)*logp[k-1] - lf(m-x)
		}
		mode := min(m, int64(math.Floor(float64(m+1)*q)))
		if lp(mode) < t {
			return 1
		}
		// Largest interval [a, b] around the mode with lp >= t.
		a := mode - int64(sort.Search(int(mode)+1, func(d int) bool { return mode-int64(d)-1 < 0 || lp(mode-int64(d)-1) < t }))
		b := mode + int64(sort.Search(int(m-mode)+1, func(d int) bool { return mode+int64(d)+1 > m || lp(mode+int64(d)+1) < t }))
		return binomLE(m, a-1, q) + binomGT(m, b, q)
	}
	below := func(t float64) float64 { return level(0, n, lf(n), t) }
	// G(t) = P(log P <= t) >= alpha at t = 0 (every outcome); bisect for t*.
	lo, hi := -1.0, 0.0
	for below(math.Nextafter(lo, math.Inf(1))) >= alpha {
		lo *= 2
		if lo < -1e18 {
			return 0, fmt.Errorf("exact test size at n = %d: no threshold found", n)
		}
	}
	for range 200 {
		// hi always has G(hi) >= alpha, so stopping early only loosens
		// the bound (to within 1e-11 in log-probability), never breaks it.
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi || hi-lo <= 1e-11*math.Max(1, -lo) {
			break
		}
		// G(mid) = P(log P <= mid) = below(next float after mid).
		if below(math.Nextafter(mid, math.Inf(1))) < alpha {
			lo = mid
		} else {
			hi = mid
		}
	}
	if spent > budget*200 {
		return 0, fmt.Errorf("%w: exact test size at n = %d", ErrNotComputable, n)
	}
	return math.Min(1, below(hi-math.Log1p(probTolerance))), nil
}

// nullPValues returns the exact distribution of the p-value the rule gives
// to n observations drawn from shares p themselves (a correct split): the
// attainable p-values in increasing order with their cumulative
// probabilities. It enumerates every outcome, so it needs at most
// maxEnumerate of them and an enumerated test (Pearson or exact).
func nullPValues(p []float64, n int64, rule Rule, maxEnumerate float64) (pv, cum []float64, err error) {
	k := len(p)
	if maxEnumerate <= 0 {
		maxEnumerate = DefaultMaxEnumerate
	}
	if k < 2 || n == 0 || Outcomes(n, k) > maxEnumerate || (rule.Method != MethodPearson && rule.Method != MethodExact) {
		return nil, nil, fmt.Errorf("%w: null p-value distribution of %s at n = %d", ErrNotComputable, rule.Method, n)
	}
	lf, logp := logFactorials(n), logsOf(p)
	type atom struct{ pv, prob float64 }
	var atoms []atom
	if rule.Method == MethodPearson {
		forEachOutcome(n, k, func(c []int64) {
			_, v := Pearson(c, p)
			atoms = append(atoms, atom{v, math.Exp(nullLogProb(c, logp, lf, n))})
		})
	} else {
		var all []float64
		forEachOutcome(n, k, func(c []int64) { all = append(all, nullLogProb(c, logp, lf, n)) })
		slices.Sort(all)
		c := make([]float64, len(all)+1)
		for i, lp := range all {
			c[i+1] = c[i] + math.Exp(lp)
		}
		tol := math.Log1p(probTolerance)
		for _, lp := range all {
			j := sort.SearchFloat64s(all, math.Nextafter(lp+tol, math.Inf(1)))
			atoms = append(atoms, atom{math.Min(c[j], 1), math.Exp(lp)})
		}
	}
	slices.SortFunc(atoms, func(a, b atom) int {
		switch {
		case a.pv < b.pv:
			return -1
		case a.pv > b.pv:
			return 1
		}
		return 0
	})
	pv, cum = make([]float64, len(atoms)), make([]float64, len(atoms))
	s := 0.0
	for i, a := range atoms {
		s += a.prob
		pv[i], cum[i] = a.pv, s
	}
	return pv, cum, nil
}

// KSFromNull returns the Kolmogorov–Smirnov distance between the empirical
// distribution of the p-values ps and their exact distribution under a
// correct split (pv, cum from nullPValues). Unlike the distance from
// uniform, which discrete counts keep away from 0 with nothing wrong, it
// is only sampling noise when the test is right: by the DKW inequality
// (valid for discrete distributions too) it exceeds KSBound99(len(ps))
// with probability at most 1%. P-values equal within a relative 1e-9 count
// as the same atom, as the two computations may round differently.
func KSFromNull(ps, pv, cum []float64) float64 {
	s := slices.Clone(ps)
	slices.Sort(s)
	r := float64(len(s))
	// cdf(t) is P(p <= t) under the null.
	cdf := func(t float64) float64 {
		i := sort.Search(len(pv), func(i int) bool { return pv[i] > t })
		if i == 0 {
			return 0
		}
		return math.Min(cum[i-1], 1)
	}
	d := 0.0
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] <= s[i]*(1+1e-9) {
			j++
		}
		below, upTo := cdf(s[i]*(1-1e-9)-math.SmallestNonzeroFloat64), cdf(s[j-1]*(1+1e-9))
		d = math.Max(d, math.Max(math.Abs(float64(i)/r-below), math.Abs(float64(j)/r-upTo)))
		i = j
	}
	return d
}

// KSBound99 is the DKW bound a Kolmogorov–Smirnov distance over runs
// samples exceeds with probability at most 1%: sqrt(ln(2/0.01)/(2 runs)).
func KSBound99(runs int) float64 {
	return math.Sqrt(math.Log(2/0.01) / (2 * float64(runs)))
}
