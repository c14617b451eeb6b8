package sim

import (
	"errors"
	"fmt"
	"math"
)

// Decision is the state of a sequential verification.
type Decision string

const (
	// Continue means more observations are needed.
	Continue Decision = "continue"
	// Pass means every share is within Delta of expected (always-valid intervals).
	Pass Decision = "pass"
	// Fail means the evidence against the expected split reached 1/Alpha, or an
	// observation landed where none may.
	Fail Decision = "fail"
	// Inconclusive means MaxN observations were seen without a decision.
	Inconclusive Decision = "inconclusive"
)

// SequentialConfig configures a Sequential verification.
type SequentialConfig struct {
	// Shares are the expected shares; zeros are categories that must receive nothing.
	Shares []float64
	// Alpha bounds the false-failure rate: P(Fail | correct split) <= Alpha
	// however long the run and whenever it is stopped.
	Alpha float64
	// Delta is the tolerance of the pass rule (absolute share).
	Delta float64
	// Beta bounds the false-pass rate: P(Pass | some share is off by more than
	// Delta) <= Beta.
	Beta float64
	// MaxN stops with Inconclusive (0: 4 times the pass horizon).
	MaxN int64
}

// Sequential verifies a split one observation at a time.
//
// Failing uses a mixture likelihood ratio (a Dirichlet-multinomial Bayes
// factor) against the point null: E_n = ∫ prod q_i^{c_i} dDir(q; m p) /
// prod p_i^{c_i}. Under the expected split E_n is a nonnegative martingale
// with E_0 = 1, so by Ville's inequality P(sup_n E_n >= 1/Alpha) <= Alpha:
// stopping at the first n with E_n >= 1/Alpha keeps the false-failure rate at
// Alpha under continuous monitoring. The prior is centred on the expected
// split with concentration m sized so its spread matches Delta, which puts
// the prior's mass where the deviations of interest are.
//
// Passing uses, per category, Robbins' normal-mixture confidence sequence for
// a Bernoulli mean (1/2-sub-Gaussian): with V = n/4, |c_i - n q_i| <=
// sqrt(2 (V+rho) (ln(k/Beta) + ln((V+rho)/rho)/2)) for all n at once with
// probability at least 1-Beta/k. Passing when every such interval lies within
// [p_i-Delta, p_i+Delta] is therefore wrong with probability at most Beta
// whenever some share is off by more than Delta. rho is tuned so the
// intervals are narrowest near the horizon where they can first reach Delta.
type Sequential struct {
	cfg      SequentialConfig
	prior    []float64
	m        float64
	k        int
	counts   []int64
	n        int64
	logE     float64
	logBound float64
	rho      float64
	horizon  int64
	decision Decision
	reason   string
}

// NewSequential validates cfg and starts a verification.
func NewSequential(cfg SequentialConfig) (*Sequential, error) {
	if !(cfg.Alpha > 0 && cfg.Alpha < 1) || !(cfg.Beta > 0 && cfg.Beta < 1) {
		return nil, fmt.Errorf("alpha %v and beta %v must lie in (0,1)", cfg.Alpha, cfg.Beta)
	}
	if !(cfg.Delta > 0 && cfg.Delta <= 0.5) {
		return nil, fmt.Errorf("delta %v out of range: expected a share in (0, 0.5]", cfg.Delta)
	}
	s := &Sequential{cfg: cfg, counts: make([]int64, len(cfg.Shares)), prior: make([]float64, len(cfg.Shares)), decision: Continue}
	sum, spread := 0.0, 0.0
	for i, q := range cfg.Shares {
		if q < 0 || math.IsNaN(q) {
			return nil, fmt.Errorf("%w: share[%d] is %v", ErrShares, i, q)
		}
		if q > 0 {
			s.k++
			spread = math.Max(spread, q*(1-q))
		}
		sum += q
	}
	if s.k == 0 || math.Abs(sum-1) > 1e-9 {
		return nil, fmt.Errorf("%w: shares sum to %v, expected 1", ErrShares, sum)
	}
	// Dir(m p) gives share i the variance p_i(1-p_i)/(m+1): match Delta^2 on
	// the category where deviations are hardest to see.
	s.m = math.Max(float64(s.k), spread/(cfg.Delta*cfg.Delta)-1)
	for i, q := range cfg.Shares {
		s.prior[i] = s.m * q
	}
	s.logBound = math.Log(1 / cfg.Alpha)
	s.horizon = int64(math.Ceil((math.Log(float64(s.k)/cfg.Beta) + 3) / (2 * cfg.Delta * cfg.Delta)))
	s.rho = bestRho(s.horizon, float64(s.k)/cfg.Beta)
	if s.cfg.MaxN <= 0 {
		s.cfg.MaxN = 4 * s.horizon
	}
	return s, nil
}

// csHalfWidth is the normal-mixture boundary for |S_n| at n observations.
func csHalfWidth(n int64, rho, kOverBeta float64) float64 {
	v := float64(n)/4 + rho
	return math.Sqrt(2 * v * (math.Log(kOverBeta) + 0.5*math.Log(v/rho)))
}

// bestRho picks the mixture width that makes the boundary narrowest at the
// horizon where Delta is first reachable.
func bestRho(horizon int64, kOverBeta float64) float64 {
	best, bw := 1.0, math.Inf(1)
	for e := -16.0; e <= 4; e += 0.25 {
		rho := float64(horizon) / 4 * math.Exp2(e)
		if w := csHalfWidth(horizon, rho, kOverBeta); w < bw {
			best, bw = rho, w
		}
	}
	return best
}

// ErrDecided is returned by Observe after a final decision.
var ErrDecided = errors.New("sequential verification already decided")

// Observe records one observation in category i (an index into Shares, or -1
// for an observation that fits no category) and returns the decision.
func (s *Sequential) Observe(i int) (Decision, error) {
	if s.decision != Continue {
		return s.decision, ErrDecided
	}
	if i < -1 || i >= len(s.counts) {
		return s.decision, fmt.Errorf("category %d out of range [-1, %d)", i, len(s.counts))
	}
	s.n++
	if i == -1 {
		s.decision, s.reason = Fail, "an observation fits no expected category"
		return s.decision, nil
	}
	q := s.cfg.Shares[i]
	if q == 0 {
		s.counts[i]++
		s.decision, s.reason = Fail, fmt.Sprintf("category %d has weight 0 but received a response", i)
		return s.decision, nil
	}
	// Predictive probability of category i under the Dirichlet mixture,
	// divided by its null probability: one factor of the Bayes factor.
	// Every earlier observation was valid: any other ended the run.
	s.logE += math.Log((s.prior[i]+float64(s.counts[i]))/(s.m+float64(s.n-1))) - math.Log(q)
	s.counts[i]++
	switch {
	case s.logE >= s.logBound:
		s.decision, s.reason = Fail, fmt.Sprintf("evidence against the expected split reached %.3g >= 1/alpha = %.3g", math.Exp(s.logE), 1/s.cfg.Alpha)
	case s.withinDelta():
		s.decision, s.reason = Pass, fmt.Sprintf("every share is within ±%g of expected (always-valid intervals)", s.cfg.Delta)
	case s.n >= s.cfg.MaxN:
		s.decision, s.reason = Inconclusive, fmt.Sprintf("no decision after %d observations", s.n)
	}
	return s.decision, nil
}

func (s *Sequential) withinDelta() bool {
	w := csHalfWidth(s.n, s.rho, float64(s.k)/s.cfg.Beta) / float64(s.n)
	if w > s.cfg.Delta {
		return false
	}
	for i, q := range s.cfg.Shares {
		if q == 0 {
			continue
		}
		obs := float64(s.counts[i]) / float64(s.n)
		if obs-w < q-s.cfg.Delta || obs+w > q+s.cfg.Delta {
			return false
		}
	}
	return true
}

// SequentialState is a snapshot of a verification.
type SequentialState struct {
	Decision Decision `json:"decision"`
	Reason   string   `json:"reason,omitempty"`
	// N is the number of observations the decision needed.
	N      int64   `json:"n"`
	Counts []int64 `json:"counts"`
	// EValue is the current mixture likelihood ratio (fail at 1/Alpha).
	EValue float64 `json:"e_value"`
	// HalfWidth is the current always-valid interval half-width on every share.
	HalfWidth float64 `json:"half_width"`
	// Horizon is roughly where a correct split can first pass.
	Horizon int64 `json:"horizon"`
	MaxN    int64 `json:"max_n"`
}

// State returns a snapshot.
func (s *Sequential) State() SequentialState {
	hw := 1.0
	if s.n > 0 {
		hw = math.Min(1, csHalfWidth(s.n, s.rho, float64(s.k)/s.cfg.Beta)/float64(s.n))
	}
	return SequentialState{
		Decision: s.decision, Reason: s.reason, N: s.n,
		Counts: append([]int64(nil), s.counts...), EValue: math.Exp(s.logE),
		HalfWidth: hw, Horizon: s.horizon, MaxN: s.cfg.MaxN,
	}
}

// estimateCap bounds the search of EstimateTotal: beyond it the answer is
// "no realistic number of requests", not a number.
const estimateCap = MaxObservations

// EstimateTotal estimates the total number of observations at which the
// verification would decide if the shares observed so far held exactly from
// now on: the first n where the pass rule's always-valid intervals around
// those shares fit inside ±Delta, or where the fail rule's mixture
// likelihood ratio for counts n·(observed share) reaches 1/Alpha, whichever
// comes first. It is an estimate, not a promise: real counts fluctuate, and
// on a correct gateway the observed deviation shrinks, so the pass side is
// pessimistic, while a small chance deviation extrapolated this way may
// predict a fail that more data would not confirm. It returns the total and
// the decision (Pass or Fail) expected there, or 0 and Continue when nothing
// was observed or no n up to 10^12 would decide.
func (s *Sequential) EstimateTotal() (int64, Decision) {
	if s.n == 0 {
		return 0, Continue
	}
	obs := make([]float64, len(s.counts))
	dev := 0.0
	for i, c := range s.counts {
		obs[i] = float64(c) / float64(s.n)
		if s.cfg.Shares[i] > 0 {
			dev = math.Max(dev, math.Abs(obs[i]-s.cfg.Shares[i]))
		}
	}
	kOverBeta := float64(s.k) / s.cfg.Beta
	passes := func(n int64) bool {
		return dev < s.cfg.Delta && csHalfWidth(n, s.rho, kOverBeta)/float64(n) <= s.cfg.Delta-dev
	}
	fails := func(n int64) bool { return s.logEAt(n, obs) >= s.logBound }
	// Scan in steps of 1% (both rules are monotone in n once they start to
	// hold, up to the fluctuation this estimate ignores anyway), then refine
	// the last step by bisection.
	prev := s.n
	for n := s.n + 1; n <= estimateCap; n = max(n+1, n+n/100) {
		if passes(n) || fails(n) {
			lo, hi := prev, n
			for hi-lo > 1 {
				mid := lo + (hi-lo)/2
				if passes(mid) || fails(mid) {
					hi = mid
				} else {
					lo = mid
				}
			}
			if fails(hi) {
				return hi, Fail
			}
			return hi, Pass
		}
		prev = n
	}
	return 0, Continue
}

// logEAt is the log mixture likelihood ratio the fail rule would reach
// after n observations split exactly in the proportions obs: the
// Dirichlet-multinomial marginal likelihood over the null's, in closed form
// with real-valued counts.
func (s *Sequential) logEAt(n int64, obs []float64) float64 {
	lg := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
	fn := float64(n)
	e := lg(s.m) - lg(s.m+fn)
	for i, q := range s.cfg.Shares {
		if q == 0 {
			continue
		}
		c := fn * obs[i]
		e += lg(s.prior[i]+c) - lg(s.prior[i]) - c*math.Log(q)
	}
	return e
}

// MinPassN is the fewest observations at which the pass rule can hold at
// all, even with every share exactly at its weight.
func (s *Sequential) MinPassN() int64 {
	kOverBeta := float64(s.k) / s.cfg.Beta
	lo, hi := int64(1), int64(1)
	for csHalfWidth(hi, s.rho, kOverBeta)/float64(hi) > s.cfg.Delta {
		lo, hi = hi, 2*hi
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if csHalfWidth(mid, s.rho, kOverBeta)/float64(mid) <= s.cfg.Delta {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
