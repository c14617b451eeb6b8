package sim

import (
	"fmt"
	"math"
	"strings"
)

// DefaultBeta is the false-pass rate of a fixed-n verdict: a split with a
// share more than delta from its weight passes with probability at most
// DefaultBeta. It is the complement of the replayer's power target 0.9 and
// the sequential test's beta, so a fixed-n PASS and a sequential PASS
// certify the same thing.
const DefaultBeta = 0.1

// CertifyLevel returns the confidence of each of k simultaneous
// Clopper–Pearson intervals that hold together with probability at least
// 1-beta: Bonferroni's 1-beta/k, except that two shares are complementary
// (every response counted is in one or the other, else the verdict fails),
// so one interval at 1-beta covers both, and their two intervals are
// mirror images of each other.
func CertifyLevel(beta float64, k int) float64 {
	if k <= 2 {
		return 1 - beta
	}
	return 1 - beta/float64(k)
}

// within reports whether the interval lies inside [w-delta, w+delta].
func within(iv Interval, w, delta float64) bool {
	return iv.Lo >= w-delta && iv.Hi <= w+delta
}

// CertifyRange returns the counts x out of n whose Clopper–Pearson interval
// at confidence conf lies inside [w-delta, w+delta]: lo through hi, and ok
// false when no count's does (n too small for the tolerance). Both ends of
// the interval grow with x, so the set is one run of counts, found by
// bisection. A verdict certifies a share exactly when its count is in it,
// so the probability of a PASS under any truth is bounded by binomial sums
// over these ranges (TestFalsePassAtMostBeta).
func CertifyRange(n int64, w, delta, conf float64) (lo, hi int64, ok bool) {
	if n <= 0 {
		return 0, -1, false
	}
	// lo: the smallest x whose lower end reaches w-delta.
	a, b := int64(0), n+1 // invariant: Lo(x) < w-delta for x < a; Lo(b) >= w-delta or b = n+1
	for a < b {
		m := a + (b-a)/2
		if ClopperPearson(m, n, conf).Lo >= w-delta {
			b = m
		} else {
			a = m + 1
		}
	}
	lo = a
	// hi: the largest x whose upper end stays at or below w+delta.
	a, b = -1, n // invariant: Hi(x) <= w+delta for x <= a; Hi(x) > w+delta for x > b
	for a < b {
		m := a + (b-a+1)/2
		if ClopperPearson(m, n, conf).Hi <= w+delta {
			a = m
		} else {
			b = m - 1
		}
	}
	hi = a
	return lo, hi, lo <= hi
}

// certifyMore estimates how many more requests would decide a verdict the
// fit did not reject but the intervals could not certify, assuming the
// observed shares hold: the smallest total at which the certification
// intervals around them would lie within ±delta, or, when an observed
// share is itself outside the tolerance (so no n would certify it), the
// smallest total at which the test would reject with probability 1/2
// (noncentral chi-square approximation). It returns the further requests
// and what the estimate assumes; 0 when nothing reachable would decide.
func certifyMore(obs []int64, shares []float64, n int64, alpha, delta, conf float64) (int64, string) {
	if n <= 0 {
		return 0, ""
	}
	hat := make([]float64, len(obs))
	certifiable := true
	for j, x := range obs {
		hat[j] = float64(x) / float64(n)
		if !(hat[j] > shares[j]-delta && hat[j] < shares[j]+delta) {
			certifiable = false
		}
	}
	if certifiable {
		fits := func(m int64) bool {
			for j := range hat {
				if !within(ClopperPearson(int64(math.Round(hat[j]*float64(m))), m, conf), shares[j], delta) {
					return false
				}
			}
			return true
		}
		if total, ok := smallestFrom(n, fits); ok {
			return total - n, fmt.Sprintf("an estimate, assuming the observed shares hold: at that total the %.4g%% intervals would lie within ±%.1f percentage points",
				100*conf, 100*delta)
		}
		return 0, ""
	}
	if len(shares) < 2 {
		return 0, ""
	}
	lambda := Noncentrality(shares, hat, 1)
	rejects := func(m int64) bool { return PowerAt(len(shares)-1, alpha, lambda*float64(m)) >= 0.5 }
	if total, ok := smallestFrom(n, rejects); ok {
		return total - n, "an estimate, assuming the observed shares hold: at that total the test would reject the split with probability 1/2 (noncentral chi-square approximation)"
	}
	return 0, ""
}

// smallestFrom returns the smallest m > n (up to MaxObservations) at which
// ok holds, by doubling then bisection; ok is taken to hold from some m on,
// which is true of both uses up to the rounding of counts.
func smallestFrom(n int64, ok func(int64) bool) (int64, bool) {
	lo, hi := n, max(2*n, n+1)
	for !ok(hi) {
		if hi >= MaxObservations {
			return 0, false
		}
		lo, hi = hi, min(2*hi, MaxObservations)
	}
	for hi-lo > 1 {
		m := lo + (hi-lo)/2
		if ok(m) {
			hi = m
		} else {
			lo = m
		}
	}
	return hi, true
}

// certifyReason says why a verdict the fit did not reject is not certified.
func (v *Verdict) certifyReason() string {
	var wide []string
	for _, r := range v.Categories {
		if r.Weight > 0 && !r.Within {
			wide = append(wide, r.Name)
		}
	}
	what := "interval of " + wide[0] + " reaches"
	if len(wide) > 1 {
		what = "intervals of " + strings.Join(wide, ", ") + " reach"
	}
	if v.Test.PValue <= v.Alpha {
		// Another test cleared the fit's rejection (a sequential test, a
		// scheduler model, Holm): "no significant deviation" would be
		// false, so the counts test is only quoted.
		return fmt.Sprintf("not verified within ±%.1f percentage points: the %.4g%% simultaneous %s beyond it (the counts test, %s p = %.3g at alpha %g, does not decide this verdict)",
			100*v.Delta, 100*v.CertifyLevel, what, v.Test.Method, v.Test.PValue, v.Alpha)
	}
	return fmt.Sprintf("no significant deviation (%s p = %.3g, alpha %g), but not verified within ±%.1f percentage points: the %.4g%% simultaneous %s beyond it",
		v.Test.Method, v.Test.PValue, v.Alpha, 100*v.Delta, 100*v.CertifyLevel, what)
}
