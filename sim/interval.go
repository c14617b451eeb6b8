package sim

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a confidence interval for a share.
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// Contains reports whether x lies in the closed interval.
func (iv Interval) Contains(x float64) bool { return x >= iv.Lo && x <= iv.Hi }

// Wilson is the Wilson (1927) score interval for x successes in n trials at
// confidence conf (e.g. 0.95). It stays inside [0,1] and, unlike the Wald
// interval, keeps close to its nominal coverage for small n and extreme shares.
func Wilson(x, n int64, conf float64) Interval {
	if n <= 0 {
		return Interval{0, 1}
	}
	z := distuv.UnitNormal.Quantile(1 - (1-conf)/2)
	fn, fx, z2 := float64(n), float64(x), z*z
	center := (fx + z2/2) / (fn + z2)
	half := z / (fn + z2) * math.Sqrt(fx*(fn-fx)/fn+z2/4)
	return Interval{math.Max(0, center-half), math.Min(1, center+half)}
}

// ClopperPearson is the Clopper–Pearson (1934) "exact" interval from Beta
// quantiles: never below its nominal coverage, at the price of width.
func ClopperPearson(x, n int64, conf float64) Interval {
	if n <= 0 {
		return Interval{0, 1}
	}
	a := (1 - conf) / 2
	iv := Interval{0, 1}
	if x > 0 {
		iv.Lo = distuv.Beta{Alpha: float64(x), Beta: float64(n - x + 1)}.Quantile(a)
	}
	if x < n {
		iv.Hi = distuv.Beta{Alpha: float64(x + 1), Beta: float64(n - x)}.Quantile(1 - a)
	}
	return iv
}

// Correction names a multiple-comparison correction for k simultaneous intervals.
type Correction string

const (
	// Bonferroni gives each of k intervals the error alpha/k.
	Bonferroni Correction = "bonferroni"
	// Sidak gives each of k intervals the error 1-(1-alpha)^(1/k), exact for independent intervals.
	Sidak Correction = "sidak"
)

// PerComparison returns the error rate each of k intervals gets so that the
// family's error rate is at most alpha.
func (c Correction) PerComparison(alpha float64, k int) float64 {
	if k <= 1 {
		return alpha
	}
	if c == Sidak {
		return -math.Expm1(math.Log1p(-alpha) / float64(k))
	}
	return alpha / float64(k)
}
