package sim

import (
	"errors"
	"fmt"
	"math"
)

// Rule is the test a verdict applies to n observations of shares p at level
// alpha, chosen before looking at the counts (so the choice cannot bias the
// false-failure rate), and what is known of that rate.
type Rule struct {
	Method Method `json:"method"`
	// PearsonSize is the Pearson chi-square test's exact false-failure rate
	// at this n and split (computed, to within 1e-10, by pearsonRejection),
	// or -1 when it was not computed.
	PearsonSize float64 `json:"pearson_exact_size"`
}

// ChooseRule picks the test for n observations of shares p at level alpha:
// Pearson's chi-square test when every expected count is at least
// MinExpected and its exact false-failure rate at this n is at most
// (1+SizeTolerance)·alpha; otherwise the exact multinomial test (size at
// most alpha), enumerated up to opts.MaxEnumerate outcomes and estimated by
// seeded Monte Carlo beyond. An n whose Pearson rate cannot be computed
// within the budget also gets the exact test: no rate is stated that is not
// known to hold.
func ChooseRule(p []float64, n int64, alpha float64, opts TestOptions) Rule {
	r := Rule{PearsonSize: -1}
	switch {
	case len(p) < 2:
		r.Method = MethodSingle
		return r
	case n == 0:
		r.Method = MethodExact
		return r
	case opts.AlwaysAsymptotic:
		r.Method = MethodPearson
		return r
	}
	minExp := math.Inf(1)
	for _, q := range p {
		minExp = math.Min(minExp, float64(n)*q)
	}
	if minExp >= MinExpected {
		if rej, left, err := pearsonRejection(p, p, n, alpha, opts.SizeBudget); err == nil {
			r.PearsonSize = rej + left
			if r.PearsonSize <= (1+SizeTolerance)*alpha {
				r.Method = MethodPearson
				return r
			}
		}
	}
	r.Method = MethodExact
	maxEnum := opts.MaxEnumerate
	if maxEnum <= 0 {
		maxEnum = DefaultMaxEnumerate
	}
	if Outcomes(n, len(p)) > maxEnum {
		r.Method = MethodMonteCarlo
	}
	return r
}

// ruleRejection computes the probability that the rule chosen for n
// observations of shares test at level alpha rejects draws from other
// splits. The exact test's region is found once and reused for every truth.
type ruleRejection struct {
	test  []float64
	n     int64
	alpha float64
	rule  Rule
	opts  TestOptions
	exact *exactRule
}

func newRuleRejection(test []float64, n int64, alpha float64, opts TestOptions) (*ruleRejection, error) {
	rr := &ruleRejection{test: test, n: n, alpha: alpha, rule: ChooseRule(test, n, alpha, opts), opts: opts}
	switch rr.rule.Method {
	case MethodExact:
		er, err := newExactRule(test, n, alpha, opts.MaxEnumerate)
		if err != nil {
			return nil, err
		}
		rr.exact = &er
	case MethodMonteCarlo:
		return nil, fmt.Errorf("%w: the Monte Carlo exact test at n = %d", ErrNotComputable, n)
	}
	return rr, nil
}

// at returns the probability of rejecting n draws from truth; for Pearson's
// test a lower bound within 1e-10 (the window's left-out mass).
func (rr *ruleRejection) at(truth []float64) (float64, error) {
	switch rr.rule.Method {
	case MethodPearson:
		rej, _, err := pearsonRejection(rr.test, truth, rr.n, rr.alpha, rr.opts.SizeBudget)
		return rej, err
	case MethodExact:
		return rr.exact.rejection(truth), nil
	}
	return 0, nil
}

// VerdictSize returns the exact false-failure rate of the test a verdict
// uses at n observations of shares p and level alpha: Pearson's exact size
// where ChooseRule keeps it, the exact multinomial test's (enumerated)
// otherwise. It is what TestSizeHolds checks at every n.
func VerdictSize(p []float64, n int64, alpha float64, opts TestOptions) (float64, Rule, error) {
	rr, err := newRuleRejection(p, n, alpha, opts)
	if err != nil {
		return 0, Rule{}, fmt.Errorf("size at n = %d: %w", n, err)
	}
	if rr.rule.Method == MethodPearson {
		return rr.rule.PearsonSize, rr.rule, nil
	}
	if rr.exact != nil {
		return rr.exact.size, rr.rule, nil
	}
	return 0, rr.rule, nil
}

// isNotComputable reports whether err only says an exact figure was too
// expensive, so a caller may fall back to an approximation it labels so.
func isNotComputable(err error) bool { return errors.Is(err, ErrNotComputable) }
