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
	// Pass means every share's always-valid interval lies within Delta of
	// expected.
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
// Passing uses, per category, a beta-binomial mixture confidence sequence
// for its share (betaCS): the shares q for which the Beta-prior marginal
// likelihood of the category's count over its likelihood at q stays below
// 1/Beta. Its width follows the binomial variance q(1-q), not the
// worst case 1/4, and it holds at every n at once (Ville's inequality on a
// nonnegative martingale), so checking it after every observation costs
// nothing. It passes when every weighted category's confidence interval lies
// inside [p_i-Delta, p_i+Delta]. If some share q_j is off by more than
// Delta, a pass at any time means category j's interval missed q_j, which
// happens with probability at most Beta: the false-pass rate is at most Beta
// with each interval at level 1-Beta, and no union over categories is needed
// because the event concerns one fixed category (the intervals are not
// claimed to hold jointly). That holds whatever stops the run (the fail
// rule, the cap, an interrupt), since the interval misses q_j at no n at
// all with probability at least 1-Beta. Category i's prior is Beta(nu p_i, nu (1-p_i)),
// centred on the expected share with spread passPriorSpread*Delta: the
// nearer the truth is to the prior's mass, the larger the mixture and the
// sooner a correct split passes.
type Sequential struct {
	cfg      SequentialConfig
	prior    []float64
	m        float64
	k        int
	counts   []int64
	n        int64
	logE     float64
	logBound float64
	// cs and lnMarg are the pass rule's per-category mixtures and their
	// running log marginal likelihoods (unused for weight-0 categories).
	cs       []betaCS
	lnMarg   []float64
	lnPass   float64
	horizon  int64
	minPass  int64
	decision Decision
	reason   string
}

// passPriorSpread is the standard deviation of each category's Beta prior
// in units of Delta. A tight prior (0) would be a sequential probability
// ratio test of p_i against p_i±Delta, fastest when the gateway is exactly
// right but slow when it is off by less than Delta; a wide one wastes
// evidence on shares far from p_i. A spread of Delta keeps the prior on the
// whole band the rule accepts; at alpha = 0.001, beta = 0.1, Delta = 0.05 a
// correct 10/10/80 or 80/20 gateway then passes after under half the fixed
// test's planned requests on average (TestSequentialRequestsToPass). A
// spread of Delta/2 saves about an eighth more but leaves more runs
// undecided at the default cap (7 against 4 in 1,000 seeded runs of
// 10/10/80).
const passPriorSpread = 1.0

// NewSequential validates cfg and starts a verification.
func NewSequential(cfg SequentialConfig) (*Sequential, error) {
	if !(cfg.Alpha > 0 && cfg.Alpha < 1) || !(cfg.Beta > 0 && cfg.Beta < 1) {
		return nil, fmt.Errorf("alpha %v and beta %v must lie in (0,1)", cfg.Alpha, cfg.Beta)
	}
	if !(cfg.Delta > 0 && cfg.Delta <= 0.5) {
		return nil, fmt.Errorf("delta %v out of range: expected a share in (0, 0.5]", cfg.Delta)
	}
	n := len(cfg.Shares)
	s := &Sequential{cfg: cfg, counts: make([]int64, n), prior: make([]float64, n), cs: make([]betaCS, n), lnMarg: make([]float64, n), decision: Continue}
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
		if q > 0 {
			// Beta(nu q, nu (1-q)) has variance q(1-q)/(nu+1). A single
			// category of share 1 gets a uniform prior (b must be positive).
			sd := passPriorSpread * cfg.Delta
			nu := math.Max(q*(1-q)/(sd*sd)-1, 1)
			a, b := nu*q, nu*(1-q)
			if q == 1 {
				a, b = 1, 1
			}
			s.cs[i] = newBetaCS(a, b)
		}
	}
	s.logBound = math.Log(1 / cfg.Alpha)
	s.lnPass = math.Log(1 / cfg.Beta)
	s.horizon, _ = s.passEstimate(0, cfg.Shares)
	if s.cfg.MaxN <= 0 {
		s.cfg.MaxN = 4 * s.horizon
		if s.horizon == 0 {
			// Not even exact shares pass below 10^12: no cap short of that.
			s.cfg.MaxN = estimateCap
		}
	}
	return s, nil
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
	prev := float64(s.n - 1)
	s.logE += math.Log((s.prior[i]+float64(s.counts[i]))/(s.m+prev)) - math.Log(q)
	// Each category's beta-binomial marginal grows by the predictive
	// probability of a hit (category i) or a miss (every other one).
	for j, cs := range s.cs {
		if s.cfg.Shares[j] == 0 {
			continue
		}
		c := float64(s.counts[j])
		if j == i {
			s.lnMarg[j] += math.Log((cs.a + c) / (cs.a + cs.b + prev))
		} else {
			s.lnMarg[j] += math.Log((cs.b + prev - c) / (cs.a + cs.b + prev))
		}
	}
	s.counts[i]++
	switch {
	case s.logE >= s.logBound:
		s.decision, s.reason = Fail, fmt.Sprintf("evidence against the expected split reached %.3g >= 1/alpha = %.3g", math.Exp(s.logE), 1/s.cfg.Alpha)
	case s.withinDelta():
		s.decision, s.reason = Pass, fmt.Sprintf("every share's always-valid interval (level 1-beta = %g) lies within ±%g of expected", 1-s.cfg.Beta, s.cfg.Delta)
	case s.n >= s.cfg.MaxN:
		s.decision, s.reason = Inconclusive, fmt.Sprintf("no decision after %d observations", s.n)
	}
	return s.decision, nil
}

// withinDelta is the pass rule on the running counts.
func (s *Sequential) withinDelta() bool {
	n := float64(s.n)
	for i, q := range s.cfg.Shares {
		if q == 0 {
			continue
		}
		if !excludes(s.lnMarg[i], float64(s.counts[i]), n, q-s.cfg.Delta, q+s.cfg.Delta, s.lnPass) {
			return false
		}
	}
	return true
}

// passesAt is the pass rule for category i after c hits in n, with real c:
// the closed form the estimates use.
func (s *Sequential) passesAt(i int, c, n float64) bool {
	q := s.cfg.Shares[i]
	return excludes(s.cs[i].lnMarginal(c, n), c, n, q-s.cfg.Delta, q+s.cfg.Delta, s.lnPass)
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
	// HalfWidths is, per category, the larger distance from the observed
	// share to an end of its always-valid interval (level 1-Beta each; the
	// intervals follow the binomial likelihood, so they are asymmetric):
	// 1 before any observation, 0 for weight-0 categories, which have none.
	HalfWidths []float64 `json:"half_widths"`
	// HalfWidth is the widest of HalfWidths.
	HalfWidth float64 `json:"half_width"`
	// Horizon is where a split observed exactly at its weights would pass.
	Horizon int64 `json:"horizon"`
	MaxN    int64 `json:"max_n"`
}

// State returns a snapshot.
func (s *Sequential) State() SequentialState {
	hws := make([]float64, len(s.counts))
	widest := 0.0
	for i, q := range s.cfg.Shares {
		if q == 0 {
			continue
		}
		hws[i] = 1
		if s.n > 0 {
			c, n := float64(s.counts[i]), float64(s.n)
			lo, hi := bounds(s.lnMarg[i], c, n, s.lnPass)
			hws[i] = math.Max(c/n-lo, hi-c/n)
		}
		widest = math.Max(widest, hws[i])
	}
	return SequentialState{
		Decision: s.decision, Reason: s.reason, N: s.n,
		Counts: append([]int64(nil), s.counts...), EValue: math.Exp(s.logE),
		HalfWidths: hws, HalfWidth: widest, Horizon: s.horizon, MaxN: s.cfg.MaxN,
	}
}

// estimateCap bounds the search of EstimateTotal: beyond it the answer is
// "no realistic number of requests", not a number.
const estimateCap = MaxObservations

// EstimateTotal estimates the total number of observations at which the
// verification would decide if the shares observed so far held exactly from
// now on: the first n where the pass rule's always-valid intervals around
// counts n·(observed share) fit inside ±Delta, or where the fail rule's
// mixture likelihood ratio for those counts reaches 1/Alpha, whichever
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
	for i, c := range s.counts {
		obs[i] = float64(c) / float64(s.n)
	}
	return s.passEstimate(s.n, obs)
}

// passEstimate is the first n > from at which counts n·obs would decide, and
// the decision there (0 and Continue if none up to estimateCap).
func (s *Sequential) passEstimate(from int64, obs []float64) (int64, Decision) {
	passes := func(n int64) bool {
		for i, q := range s.cfg.Shares {
			if q == 0 {
				if obs[i] > 0 {
					return false
				}
				continue
			}
			if !s.passesAt(i, float64(n)*obs[i], float64(n)) {
				return false
			}
		}
		return true
	}
	fails := func(n int64) bool { return s.logEAt(n, obs) >= s.logBound }
	// Scan in steps of 1% (both rules are monotone in n once they start to
	// hold, up to the fluctuation this estimate ignores anyway), then refine
	// the last step by bisection.
	prev := from
	for n := from + 1; n <= estimateCap; n = max(n+1, n+n/100) {
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
// all, for any counts. Counts exactly at the weights are not the most
// favourable: the likelihood falls off faster on one side of a share than
// on the other, so a count slightly toward the steeper side passes sooner.
// So each n up from a proven lower bound (passLowerBound) is checked for
// whole counts, one per weighted category, that add up to n and pass every
// category (passRange).
func (s *Sequential) MinPassN() int64 {
	if s.minPass > 0 {
		return s.minPass
	}
	for n := s.passLowerBound(); n <= estimateCap; n++ {
		lo, hi, ok := int64(0), int64(0), true
		for i, q := range s.cfg.Shares {
			if q == 0 {
				continue
			}
			l, h, any := s.passRange(i, n)
			if !any {
				ok = false
				break
			}
			lo, hi = lo+l, hi+h
		}
		if ok && lo <= n && n <= hi {
			s.minPass = n
			return n
		}
	}
	return 0
}

// passRange is the range [lo, hi] of whole counts c with which category i
// passes after n observations, and whether there is any. On the counts
// between n(p_i-Delta) and n(p_i+Delta) the log ratio at p_i-Delta is
// convex in c (log-beta is convex) and below the threshold at the lower end,
// so it is above it on an upper range of c; likewise for p_i+Delta on a
// lower range. The passing counts are the intersection: bisect each end.
func (s *Sequential) passRange(i int, n int64) (int64, int64, bool) {
	q, fn := s.cfg.Shares[i], float64(n)
	first := max(int64(math.Floor(fn*(q-s.cfg.Delta)))+1, 0)
	last := min(int64(math.Ceil(fn*(q+s.cfg.Delta)))-1, n)
	if first > last {
		return 0, 0, false
	}
	lnThresh := s.lnPass
	lowOK := func(c int64) bool {
		lo := q - s.cfg.Delta
		return lo <= 0 || lnRatio(s.cs[i].lnMarginal(float64(c), fn), float64(c), fn, lo) >= lnThresh
	}
	highOK := func(c int64) bool {
		hi := q + s.cfg.Delta
		return hi >= 1 || lnRatio(s.cs[i].lnMarginal(float64(c), fn), float64(c), fn, hi) >= lnThresh
	}
	// Smallest c in [first, last] with lowOK.
	a, b := first, last+1
	for a < b {
		mid := a + (b-a)/2
		if lowOK(mid) {
			b = mid
		} else {
			a = mid + 1
		}
	}
	lo := a
	// Largest c in [first, last] with highOK.
	a, b = first-1, last
	for a < b {
		mid := b - (b-a)/2
		if highOK(mid) {
			a = mid
		} else {
			b = mid - 1
		}
	}
	hi := a
	if lo > hi || lo > last || hi < first {
		return 0, 0, false
	}
	return lo, hi, true
}

// passLowerBound is an n below which no counts can pass. The marginal
// likelihood never exceeds the maximum likelihood, so ln M_n(q) <=
// n KL(c/n || q), and a pass needs both ends p_i±Delta (those inside (0,1))
// out of category i's interval: n min(KL(c/n || lo), KL(c/n || hi)) >=
// ln(1/Beta) for some c/n between them. The largest such minimum is K_i,
// so n >= ln(1/Beta)/K_i for every category.
func (s *Sequential) passLowerBound() int64 {
	bound := 1.0
	for _, q := range s.cfg.Shares {
		if q == 0 {
			continue
		}
		lo, hi := q-s.cfg.Delta, q+s.cfg.Delta
		var k float64
		switch {
		case lo <= 0 && hi >= 1:
			continue
		case lo <= 0:
			// KL(x || hi) falls as x rises to hi: its supremum is at x = 0.
			k = -math.Log1p(-hi)
		case hi >= 1:
			k = -math.Log(lo)
		default:
			// KL(x || lo) rises and KL(x || hi) falls on [lo, hi]: the
			// largest minimum is where they cross. Bisect, and bound it
			// from above by KL(b || lo) at the bracket's upper end b.
			a, b := lo, hi
			for range 100 {
				mid := (a + b) / 2
				if klBernoulli(mid, lo) < klBernoulli(mid, hi) {
					a = mid
				} else {
					b = mid
				}
			}
			k = klBernoulli(b, lo)
		}
		// Shave a little off for rounding: starting lower is always safe.
		bound = math.Max(bound, math.Floor(s.lnPass/k*(1-1e-9)))
	}
	return int64(bound)
}

// klBernoulli is the Kullback-Leibler divergence of Bernoulli(q) from
// Bernoulli(p), for q in [0, 1] and p in (0, 1).
func klBernoulli(q, p float64) float64 {
	d := 0.0
	if q > 0 {
		d += q * math.Log(q/p)
	}
	if q < 1 {
		d += (1 - q) * math.Log((1-q)/(1-p))
	}
	return d
}
