package sim

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"
)

// ErrNoAlternative is returned when no split can deviate: a single category.
var ErrNoAlternative = errors.New("a single category cannot deviate from its share")

// Alternative is the least-favourable wrong split for a deviation of Delta:
// of all splits in which at least one category's share differs from expected
// by Delta (absolute), the one the chi-square test finds hardest to detect.
//
// Why it has this shape: the test's noncentrality per observation is
// sum_j d_j^2/p_j for a shift d (sum d_j = 0). Fixing d_i = ±Delta and
// minimising over the other d_j (a Lagrange multiplier) gives d_j ∝ p_j, i.e.
// the other categories absorb the shift in proportion to their shares, with
// noncentrality Delta^2 / (p_i (1-p_i)). The worst category is the one whose
// share is closest to 1/2. Moving Delta between two categories only (the
// conformance suites' mental model) is never harder to detect: its
// noncentrality Delta^2 (1/p_i + 1/p_j) is at least as large, equal when k = 2.
type Alternative struct {
	// Category is the index whose share is off by Delta.
	Category int `json:"category"`
	// Delta is the signed shift of that category's share.
	Delta float64 `json:"delta"`
	// Shares is the wrong split.
	Shares []float64 `json:"shares"`
	// LambdaPerObs is the noncentrality per observation; the test's
	// noncentrality at n observations is n*LambdaPerObs.
	LambdaPerObs float64 `json:"lambda_per_obs"`
}

// LeastFavourable returns the least-favourable alternative for a deviation
// delta in (0, 0.5] from shares p (positive, summing to 1) by the
// noncentral chi-square approximation, which cannot tell the two signs
// apart: the category whose share is closest to 1/2 (the first of equals),
// raised by delta when that leaves every category some traffic, otherwise
// lowered. The exact least-favourable sign is MinPower's business.
func LeastFavourable(p []float64, delta float64) (Alternative, error) {
	alts, err := Alternatives(p, delta)
	if err != nil {
		return Alternative{}, err
	}
	return alts[0], nil
}

// Alternatives returns the candidates for the least-favourable split at
// deviation delta: each category whose share is closest to 1/2 (equal
// within rounding, so 80/20 does not depend on a floating-point tie),
// shifted by +delta and by -delta with the others absorbing the shift in
// proportion. A candidate must be a valid split with every category still
// receiving traffic (95/5 at delta 0.05 cannot become 100/0); only when no
// sign qualifies (50/50 at delta 0.5) is a split with an empty category
// kept. With two categories, shifting one is shifting the other, so only
// the first is used.
func Alternatives(p []float64, delta float64) ([]Alternative, error) {
	if len(p) < 2 {
		return nil, ErrNoAlternative
	}
	if !(delta > 0 && delta <= 0.5) {
		return nil, fmt.Errorf("deviation %v out of range: expected a share in (0, 0.5]", delta)
	}
	maxVar := 0.0
	for _, q := range p {
		maxVar = math.Max(maxVar, q*(1-q))
	}
	var strict, loose []Alternative
	for i, q := range p {
		if q*(1-q) < maxVar*(1-1e-9) {
			continue
		}
		for _, d := range []float64{delta, -delta} {
			a := shiftAlternative(p, i, d)
			switch {
			case q+d > 1e-12 && q+d < 1-1e-12:
				strict = append(strict, a)
			case q+d >= -1e-12 && q+d <= 1+1e-12:
				loose = append(loose, a)
			}
		}
		if len(p) == 2 {
			break
		}
	}
	if len(strict) > 0 {
		return strict, nil
	}
	if len(loose) > 0 {
		return loose, nil
	}
	return nil, fmt.Errorf("no split deviates by %v from %v", delta, p)
}

// shiftAlternative moves category i's share by d and the others by -d in
// proportion to their shares.
func shiftAlternative(p []float64, i int, d float64) Alternative {
	q := p[i]
	alt := make([]float64, len(p))
	for j, pj := range p {
		if j == i {
			alt[j] = math.Min(1, math.Max(0, q+d))
		} else {
			alt[j] = math.Max(0, pj-d*pj/(1-q))
		}
	}
	return Alternative{Category: i, Delta: d, Shares: alt, LambdaPerObs: d * d / (q * (1 - q))}
}

// Noncentrality returns n * sum (alt_j - p_j)^2 / p_j, the noncentrality of
// Pearson's statistic at n observations drawn from alt when testing p.
func Noncentrality(p, alt []float64, n int64) float64 {
	s := 0.0
	for j := range p {
		d := alt[j] - p[j]
		s += d * d / p[j]
	}
	return float64(n) * s
}

// PowerAt returns the asymptotic power of the level-alpha chi-square test with
// df degrees of freedom at noncentrality lambda.
func PowerAt(df int, alpha, lambda float64) float64 {
	crit := distuv.ChiSquared{K: float64(df)}.Quantile(1 - alpha)
	return NoncentralChiSquared{K: float64(df), Lambda: lambda}.Survival(crit)
}

// Power returns the probability that the level-alpha test rejects after n
// observations when the true split is the least-favourable one at deviation
// delta from p (noncentral chi-square approximation).
func Power(p []float64, alpha, delta float64, n int64) (float64, error) {
	alt, err := LeastFavourable(p, delta)
	if err != nil {
		return 0, err
	}
	return PowerAt(len(p)-1, alpha, float64(n)*alt.LambdaPerObs), nil
}

// PowerResult is the power of a verdict's test at n against the hardest
// of the candidate alternatives.
type PowerResult struct {
	Power       float64
	Alternative Alternative
	// Exact: Power is the test's exact rejection probability (enumerated or
	// by conditional binomials), not the noncentral approximation.
	Exact bool
	// Method is the test the verdict uses at this n.
	Method Method
}

// MinPower returns the power at n of the test a verdict uses there
// (ChooseRule) against the hardest of Alternatives(p, delta), computed
// exactly, so a stated power is never above the truth. Where the exact
// figure is out of reach (a Monte Carlo test, or beyond the budget) it is
// the noncentral chi-square approximation and Exact is false.
func MinPower(p []float64, alpha, delta float64, n int64, opts TestOptions) (PowerResult, error) {
	alts, err := Alternatives(p, delta)
	if err != nil {
		return PowerResult{}, err
	}
	approx := PowerResult{Power: PowerAt(len(p)-1, alpha, float64(n)*alts[0].LambdaPerObs), Alternative: alts[0],
		Method: ChooseRule(p, n, alpha, opts).Method}
	rr, err := newRuleRejection(p, n, alpha, opts)
	if isNotComputable(err) {
		return approx, nil
	}
	if err != nil {
		return PowerResult{}, fmt.Errorf("power at n = %d: %w", n, err)
	}
	best := PowerResult{Power: math.Inf(1), Exact: true, Method: rr.rule.Method}
	for _, a := range alts {
		pw, err := rr.at(a.Shares)
		if isNotComputable(err) {
			return approx, nil
		}
		if err != nil {
			return PowerResult{}, fmt.Errorf("power at n = %d: %w", n, err)
		}
		if pw < best.Power {
			best.Power, best.Alternative = pw, a
		}
	}
	return best, nil
}

// sampleSizeKey memoises SampleSize: replays and reports ask for the same
// few splits again and again, and the exact search costs milliseconds.
type sampleSizeKey struct {
	shares              string
	alpha, delta, power float64
}

var sampleSizes sync.Map // sampleSizeKey -> int64

// SampleSize returns the smallest n (found by bisection from the noncentral
// estimate) at which MinPower reaches target: exact where computable, so
// the power a plan promises holds at the n it names. Exact power is not
// monotone in n (the test is discrete), so the promise is for that n.
func SampleSize(p []float64, alpha, delta, target float64) (int64, error) {
	if !(target > alpha && target < 1) {
		return 0, fmt.Errorf("target power %v out of range: expected in (alpha, 1)", target)
	}
	key := sampleSizeKey{fmt.Sprint(p), alpha, delta, target}
	if n, ok := sampleSizes.Load(key); ok {
		return n.(int64), nil
	}
	n, err := sampleSize(p, alpha, delta, target)
	if err != nil {
		return 0, err
	}
	sampleSizes.Store(key, n)
	return n, nil
}

func sampleSize(p []float64, alpha, delta, target float64) (int64, error) {
	n0, err := noncentralSampleSize(p, alpha, delta, target)
	if err != nil {
		return 0, err
	}
	reaches := func(n int64) (bool, bool, error) {
		r, err := MinPower(p, alpha, delta, n, TestOptions{})
		return r.Power >= target, r.Exact, err
	}
	ok, exact, err := reaches(n0)
	if err != nil || !exact {
		return n0, err
	}
	// Bracket the exact answer around the approximation, then bisect.
	lo, hi := n0, n0
	if ok {
		for ok && lo > 1 {
			hi, lo = lo, max(1, lo-max(1, lo/16))
			if ok, _, err = reaches(lo); err != nil {
				return 0, err
			}
		}
		if ok {
			return lo, nil
		}
	} else {
		for !ok {
			lo, hi = hi, hi+max(1, hi/16)
			if hi > math.MaxInt64/4 {
				return 0, fmt.Errorf("no sample size reaches power %v", target)
			}
			if ok, _, err = reaches(hi); err != nil {
				return 0, err
			}
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, _, err := reaches(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// noncentralSampleSize is the smallest n at which the noncentral chi-square
// approximation of the power reaches target.
func noncentralSampleSize(p []float64, alpha, delta, target float64) (int64, error) {
	alt, err := LeastFavourable(p, delta)
	if err != nil {
		return 0, err
	}
	df := len(p) - 1
	// Power grows with lambda = n*LambdaPerObs: bisect on n.
	lo, hi := int64(0), int64(1)
	for PowerAt(df, alpha, float64(hi)*alt.LambdaPerObs) < target {
		lo, hi = hi, hi*2
		if hi > math.MaxInt64/4 {
			return 0, fmt.Errorf("no sample size reaches power %v", target)
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if PowerAt(df, alpha, float64(mid)*alt.LambdaPerObs) >= target {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}
