package sim

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// HolmDecision is Holm's step-down decision on one of m hypotheses.
type HolmDecision struct {
	PValue float64 `json:"p_value"`
	// Rank is the p-value's position among the m, smallest first (1-based;
	// ties keep their input order).
	Rank int `json:"rank"`
	// Threshold is alpha/(m-Rank+1), the share of the run-level alpha this
	// hypothesis is tested at: alpha/m for the smallest p-value, alpha for
	// the largest.
	Threshold float64 `json:"threshold"`
	// AdjustedP is Holm's adjusted p-value, max over ranks up to this one of
	// (m-rank+1)·p, capped at 1: the hypothesis is rejected exactly when it
	// is below alpha.
	AdjustedP float64 `json:"adjusted_p"`
	Reject    bool    `json:"reject"`
}

// Holm applies Holm's (1979) step-down procedure at run-level alpha to the
// p-values of one run's verdicts, returning a decision per p-value in input
// order. Sorted ascending, p(i) is rejected while every p(j), j ≤ i, is
// below alpha/(m-j+1); the first that is not stops the procedure. The
// probability that any true hypothesis is rejected is at most alpha
// whatever the dependence between the p-values, provided each is valid
// (P(p < t) ≤ t under its hypothesis). Rejection is strict (p < threshold)
// as in Verify.
func Holm(pvalues []float64, alpha float64) ([]HolmDecision, error) {
	if !(alpha > 0 && alpha < 1) {
		return nil, fmt.Errorf("holm: run-level alpha %v must lie in (0,1)", alpha)
	}
	m := len(pvalues)
	order := make([]int, m)
	for i, p := range pvalues {
		if !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("holm: p-value %d is %v, expected one in [0,1]", i, p)
		}
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return pvalues[order[a]] < pvalues[order[b]] })
	out := make([]HolmDecision, m)
	adj, going := 0.0, true
	for r, i := range order {
		share := alpha / float64(m-r)
		adj = math.Max(adj, math.Min(1, float64(m-r)*pvalues[i]))
		going = going && pvalues[i] < share
		out[i] = HolmDecision{PValue: pvalues[i], Rank: r + 1, Threshold: share, AdjustedP: adj, Reject: going}
	}
	return out, nil
}

// PlanAlpha is the level at which to plan, and verify, each of m verdicts
// that share a run-level false-failure rate runAlpha: Holm's first
// threshold runAlpha/m. Planning each verdict's n with
// SampleSize(shares, PlanAlpha(runAlpha, m), delta, target) keeps its
// stated power whatever the other verdicts' p-values (Holm rejects
// everything Bonferroni does, and perhaps more). m below 1 counts as 1.
func PlanAlpha(runAlpha float64, m int) float64 {
	return runAlpha / float64(max(m, 1))
}

// RunLevel records a verdict's place in a run whose verdicts share one
// false-failure rate (ApplyHolm).
type RunLevel struct {
	// Alpha is the run-level false-failure rate, Verdicts how many share it.
	Alpha    float64 `json:"alpha"`
	Verdicts int     `json:"verdicts"`
	// Holm is this verdict's decision; Holm.Threshold is its share of Alpha.
	Holm HolmDecision `json:"holm"`
}

// Line is the report line under a verdict, e.g. "run-level false-failure
// rate 0.001 (Holm over 4 verdicts; this verdict's share 0.00025)". The
// rate holds for valid p-values (the exact test's); a Pearson p-value is
// valid only within SizeTolerance at the level ChooseRule checked, so for
// method Pearson the rate is called nominal.
func (r RunLevel) Line(method Method) string {
	nominal := ""
	if method == MethodPearson {
		nominal = " nominal"
	}
	return fmt.Sprintf("run-level false-failure rate %g%s (Holm over %s; this verdict's share %.4g)", r.Alpha, nominal, CountNoun(r.Verdicts, "verdict"), r.Holm.Threshold)
}

// ApplyHolm makes the fixed-n verdicts of one run share the run-level
// false-failure rate runAlpha. Each verdict keeps its p-value (Test.PValue)
// and records its RunLevel; one that Holm rejects but its own alpha did not
// becomes FAIL (its categories marked off as in Verify), and one rejected
// at its own alpha that Holm does not reject (verified at a level above
// runAlpha/m) is decided by its intervals again. Failures no p-value
// decides (weight-0, unexpected responses) stay. Wiring it into a run is:
//
//	a := sim.PlanAlpha(runAlpha, len(snippets)) // plan and verify each at a
//	for i := range snippets { vs[i], _ = sim.Verify(cf[i], sim.Options{Alpha: a}) }
//	ptrs := []*sim.Verdict{&vs[0], &vs[1], ...}
//	if err := sim.ApplyHolm(ptrs, runAlpha); err != nil { ... }
//
// after which each verdict's WriteTable prints its run-level line.
// Verdicts a sequential test decided do not belong here: their p-value is
// not the one their outcome rests on.
func ApplyHolm(vs []*Verdict, runAlpha float64) error {
	ps := make([]float64, len(vs))
	for i, v := range vs {
		if v == nil {
			return errors.New("holm: nil verdict")
		}
		ps[i] = v.Test.PValue
	}
	ds, err := Holm(ps, runAlpha)
	if err != nil {
		return err
	}
	for i, v := range vs {
		d := ds[i]
		v.Run = &RunLevel{Alpha: runAlpha, Verdicts: len(vs), Holm: d}
		switch {
		case d.Reject && !v.Rejected:
			v.Reject(fmt.Sprintf("%s: %s p = %.3g < %.3g, its Holm threshold (run-level alpha %g over %s)",
				fitFailurePrefix, v.Test.Method, d.PValue, d.Threshold, runAlpha, CountNoun(len(vs), "verdict")))
		case !d.Reject && v.Rejected:
			v.ClearRejection()
		}
	}
	return nil
}

// CountNoun writes n and noun, in the plural unless n is 1: "1 verdict",
// "4 verdicts".
func CountNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
