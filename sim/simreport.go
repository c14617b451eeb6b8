package sim

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/splitproof/splitproof/refproxy/picker"
)

// WriteText writes the simulation's report as `splitproof sim` prints it:
// what was simulated, the tests used, the rejection rate with its
// interval, what theory expects (the false-failure rate that holds, or the
// power), the p-values' distance from their distribution, and in smooth
// mode how often the counts were exact.
func (r SimResult) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "simulated %d runs of %d %s picks from %s, tested against %s at alpha %g (seed %d)\n",
		r.Runs, r.N, r.Mode, joinWeights(r.Weights), joinWeights(r.TestAgainst), r.Alpha, r.Seed)
	for _, m := range []Method{MethodPearson, MethodExact, MethodMonteCarlo, MethodSingle} {
		if c := r.Methods[m]; c > 0 {
			fmt.Fprintf(&b, "test: %s in %d runs\n", m, c)
		}
	}
	fmt.Fprintf(&b, "rejections: %d of %d = %.4f, 99%% interval [%.4f, %.4f]\n", r.Rejections, r.Runs, r.RejectionRate, r.RateInterval.Lo, r.RateInterval.Hi)
	if joinWeights(r.Weights) == joinWeights(r.TestAgainst) {
		fmt.Fprintf(&b, "expected (false-failure rate): %g nominal; %s\n", r.Alpha, rateHolds(r.Rule))
	} else if r.Mode == string(picker.Smooth) {
		// Smooth picks are deterministic, not multinomial draws: no power
		// formula describes them, so none is printed.
		b.WriteString("expected: no power stated (smooth mode is deterministic; the multinomial power does not apply)\n")
	} else {
		fmt.Fprintf(&b, "expected (power, noncentral chi-square, lambda %.3g): %.4f\n", r.Noncentrality, r.TheoryPower)
	}
	if r.KSNull >= 0 {
		fmt.Fprintf(&b, "KS distance of p-values from their exact distribution under the split: %.4f (sampling alone stays below %.4f with 99%% probability); from uniform: %.4f, which the discrete counts explain\n",
			r.KSNull, r.KSBound99, r.KS)
	} else {
		fmt.Fprintf(&b, "KS distance of p-values from uniform: %.4f (no test: p-values of discrete counts are not uniform even when nothing is wrong)\n", r.KS)
	}
	if r.Mode == string(picker.Smooth) {
		fmt.Fprintf(&b, "smooth mode: period %d; counts exactly n*w/sum in %d of %d runs", r.Period, r.ExactRuns, r.Runs)
		if r.ExactRuns > 0 {
			b.WriteString(" (p-value 1)")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// rateHolds says which false-failure rate holds for the test the runs
// used at this n: Pearson's exact rate, or the exact test's bound.
func rateHolds(r Rule) string {
	switch r.Method {
	case MethodPearson:
		if r.PearsonSize >= 0 {
			return fmt.Sprintf("exact %.4g at this n (%s)", r.PearsonSize, r.Method)
		}
		return fmt.Sprintf("%s, exact rate not computed", r.Method)
	case MethodSingle:
		return "nothing to test (a single weighted category)"
	}
	why := ""
	if r.PearsonSize >= 0 {
		why = fmt.Sprintf("; Pearson's chi-square would have %.4g at this n", r.PearsonSize)
	}
	return fmt.Sprintf("at most that (%s%s)", r.Method, why)
}

// joinWeights writes weights as the report shows them: 10/10/80.
func joinWeights(w []int32) string {
	s := make([]string, len(w))
	for i, x := range w {
		s[i] = strconv.Itoa(int(x))
	}
	return strings.Join(s, "/")
}
