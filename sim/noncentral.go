package sim

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// NoncentralChiSquared is the noncentral chi-square distribution with K
// degrees of freedom and noncentrality Lambda (the distribution of
// sum (Z_i + mu_i)^2 with sum mu_i^2 = Lambda). gonum's distuv has the central
// one only; this evaluates the Poisson(Lambda/2) mixture of central chi-square
// distributions with K+2j degrees of freedom.
type NoncentralChiSquared struct {
	K      float64
	Lambda float64
}

// mixTolerance stops the Poisson sum once the remaining weight is negligible.
const mixTolerance = 1e-17

// mixture sums Pois(j; Lambda/2) * f(K+2j), starting at the Poisson mode and
// walking both ways, so large Lambda neither underflows nor needs thousands
// of leading terms.
func (d NoncentralChiSquared) mixture(f func(df float64) float64) float64 {
	if d.Lambda == 0 {
		return f(d.K)
	}
	mu := d.Lambda / 2
	logw := func(j float64) float64 { lg, _ := math.Lgamma(j + 1); return -mu + j*math.Log(mu) - lg }
	j0 := math.Floor(mu)
	sum, mass := 0.0, 0.0
	for j := j0; j >= 0; j-- {
		w := math.Exp(logw(j))
		sum += w * f(d.K+2*j)
		mass += w
		if w < mixTolerance && j < j0 {
			break
		}
	}
	for j := j0 + 1; ; j++ {
		w := math.Exp(logw(j))
		sum += w * f(d.K+2*j)
		mass += w
		if w < mixTolerance || mass >= 1 {
			break
		}
	}
	return sum
}

// CDF returns P(X <= x).
func (d NoncentralChiSquared) CDF(x float64) float64 {
	if x <= 0 {
		return 0
	}
	return math.Min(1, d.mixture(func(df float64) float64 { return distuv.ChiSquared{K: df}.CDF(x) }))
}

// Survival returns P(X > x), summed directly so that values near 1 (power)
// and near 0 keep their precision.
func (d NoncentralChiSquared) Survival(x float64) float64 {
	if x <= 0 {
		return 1
	}
	return math.Min(1, d.mixture(func(df float64) float64 { return distuv.ChiSquared{K: df}.Survival(x) }))
}

// Mean returns K + Lambda.
func (d NoncentralChiSquared) Mean() float64 { return d.K + d.Lambda }
