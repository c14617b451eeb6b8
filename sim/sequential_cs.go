package sim

import "math"

// betaCS is a beta-binomial mixture confidence sequence for the share q of
// one category: after n observations of which c fell in the category,
//
//	M_n(q) = B(a+c, b+n-c)/B(a, b) / (q^c (1-q)^(n-c))
//
// is the marginal likelihood of the counts under a Beta(a, b) prior on the
// share over their likelihood at q. Under share q, M_n(q) is a nonnegative
// martingale with M_0(q) = 1 (each factor is a predictive probability over
// the true one, whose expectation is 1), so by Ville's inequality
// P(sup_n M_n(q) >= 1/level) <= level. The set {q : ln M_n(q) < ln(1/level)}
// therefore contains the true share at every n at once with probability at
// least 1-level: it is valid at any stopping time, however often it is
// checked. ln M_n(q) is convex in q (a constant minus a log-likelihood that
// is concave in q), so the set is an interval, and it contains c/n because
// the marginal likelihood never exceeds the maximum likelihood.
type betaCS struct {
	a, b float64
	// lnB is ln B(a, b), the normaliser shared by every n.
	lnB float64
}

func newBetaCS(a, b float64) betaCS {
	return betaCS{a: a, b: b, lnB: lnBeta(a, b)}
}

func lnBeta(x, y float64) float64 {
	lx, _ := math.Lgamma(x)
	ly, _ := math.Lgamma(y)
	lxy, _ := math.Lgamma(x + y)
	return lx + ly - lxy
}

// lnMarginal is ln B(a+c, b+n-c) - ln B(a, b): the log marginal likelihood
// of c hits in n, in closed form for real c (the estimates extrapolate
// counts that need not be whole).
func (m betaCS) lnMarginal(c, n float64) float64 {
	return lnBeta(m.a+c, m.b+n-c) - m.lnB
}

// lnRatio is ln M_n(q) given the log marginal likelihood lnMarg of c hits in n.
// A share of 0 or 1 that the counts contradict has ratio +Inf.
func lnRatio(lnMarg, c, n, q float64) float64 {
	ll := 0.0
	if c > 0 {
		ll += c * math.Log(q)
	}
	if n-c > 0 {
		ll += (n - c) * math.Log1p(-q)
	}
	return lnMarg - ll
}

// excludes reports whether the confidence set after c hits in n, with log
// marginal lnMarg and threshold lnThresh = ln(1/level), lies strictly inside
// (lo, hi): the observed share c/n lies between them and both ends are out
// of the set (an end at or beyond 0 or 1 is out of it by definition, since
// shares cannot reach it). The set is an interval around c/n, so that is
// enough.
func excludes(lnMarg, c, n, lo, hi, lnThresh float64) bool {
	obs := c / n
	if !(obs > lo && obs < hi) {
		return false
	}
	if lo > 0 && lnRatio(lnMarg, c, n, lo) < lnThresh {
		return false
	}
	return hi >= 1 || lnRatio(lnMarg, c, n, hi) >= lnThresh
}

// bounds returns the confidence interval [lower, upper] after c hits in n
// (n > 0), found by bisection on either side of c/n where ln M_n crosses
// lnThresh.
func bounds(lnMarg, c, n, lnThresh float64) (lower, upper float64) {
	obs := c / n
	out := func(q float64) bool { return lnRatio(lnMarg, c, n, q) >= lnThresh }
	lower, upper = 0, 1
	if out(0) {
		// Bisect between a point outside (lo) and one inside (hi).
		lo, hi := 0.0, obs
		for range 60 {
			mid := (lo + hi) / 2
			if out(mid) {
				lo = mid
			} else {
				hi = mid
			}
		}
		lower = lo
	}
	if out(1) {
		lo, hi := obs, 1.0
		for range 60 {
			mid := (lo + hi) / 2
			if out(mid) {
				hi = mid
			} else {
				lo = mid
			}
		}
		upper = hi
	}
	return lower, upper
}
