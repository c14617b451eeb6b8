package sim

import (
	"errors"
	"fmt"
	"math"

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
// delta in (0, 0.5] from shares p (positive, summing to 1). The category's
// share is raised by delta when that stays below 1, otherwise lowered.
func LeastFavourable(p []float64, delta float64) (Alternative, error) {
	if len(p) < 2 {
		return Alternative{}, ErrNoAlternative
	}
	if !(delta > 0 && delta <= 0.5) {
		return Alternative{}, fmt.Errorf("deviation %v out of range: expected a share in (0, 0.5]", delta)
	}
	best := 0
	for i, q := range p {
		if q*(1-q) > p[best]*(1-p[best]) {
			best = i
		}
	}
	q := p[best]
	d := delta
	if q+d > 1 {
		d = -delta
	}
	alt := make([]float64, len(p))
	for j, pj := range p {
		if j == best {
			alt[j] = q + d
		} else {
			alt[j] = pj - d*pj/(1-q)
		}
	}
	return Alternative{Category: best, Delta: d, Shares: alt, LambdaPerObs: delta * delta / (q * (1 - q))}, nil
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

// SampleSize returns the smallest n at which Power reaches target.
func SampleSize(p []float64, alpha, delta, target float64) (int64, error) {
	if !(target > alpha && target < 1) {
		return 0, fmt.Errorf("target power %v out of range: expected in (alpha, 1)", target)
	}
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
