package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
)

// Defaults for CI verdicts.
const (
	// DefaultAlpha is the false-failure rate of a CI verdict. A suite that
	// runs 100 verdicts a day at 0.05 would fail five times a day on correct
	// gateways; at 0.001 it fails about once in ten days, while the requests
	// needed for the same power grow only about 2x (the chi-square critical
	// value grows logarithmically in 1/alpha).
	DefaultAlpha = 0.001
	// DefaultDelta is the deviation a verdict states its power for: the
	// ±0.05 tolerance of the upstream conformance test.
	DefaultDelta = 0.05
	// DefaultPowerTarget is the power the sample-size advice aims at.
	DefaultPowerTarget = 0.8
)

// Status of one category in a verdict.
const (
	// StatusOK: the verdict's deciding test did not single this category out.
	StatusOK = "ok"
	// StatusOff: the deciding test rejected the split and the expected share
	// lies outside this category's simultaneous interval. A category is
	// never off under PASS or INCONCLUSIVE, so the column cannot contradict
	// the verdict; Inside keeps the interval's own answer.
	StatusOff        = "off"
	StatusWeightZero = "weight-0"   // weight 0 yet received responses
	StatusUnexpected = "unexpected" // not an expected category at all
)

// CategoryResult is one row of a verdict.
type CategoryResult struct {
	Name          string  `json:"name"`
	Weight        int64   `json:"weight"`
	Count         int64   `json:"count"`
	ExpectedShare float64 `json:"expected_share"`
	ObservedShare float64 `json:"observed_share"`
	ExpectedCount float64 `json:"expected_count"`
	// Deviation is ObservedShare - ExpectedShare.
	Deviation float64 `json:"deviation"`
	// Wilson and ClopperPearson are simultaneous intervals (see
	// IntervalLevel). The verdict uses Clopper–Pearson: its coverage is
	// never below nominal, so the family's error is at most Alpha, while
	// Wilson's falls short for small shares (TestIntervalCoverage); Wilson
	// is kept for reference.
	Wilson         Interval `json:"wilson"`
	ClopperPearson Interval `json:"clopper_pearson"`
	// Inside reports whether ExpectedShare lies in the Clopper–Pearson interval.
	Inside bool `json:"inside"`
	// Certify is the Clopper–Pearson interval at the verdict's
	// CertifyLevel, and Within reports whether it lies inside
	// ExpectedShare ± Delta: a fixed-n PASS needs every weighted category
	// Within (weight-0 and unexpected rows are never Within).
	Certify Interval `json:"certify"`
	Within  bool     `json:"within"`
	Status  string   `json:"status"`
}

// PowerStatement says what a verdict can detect.
type PowerStatement struct {
	// Delta is the deviation (absolute share) the power is computed for.
	Delta float64 `json:"delta"`
	// Power is the probability this verdict's n would fail the
	// least-favourable split at Delta: the minimum over both signs of the
	// shift, exact (MinPower) unless Exact is false, when it is the
	// noncentral chi-square approximation.
	Power float64 `json:"power"`
	Exact bool    `json:"exact"`
	// Alternative is that least-favourable split.
	Alternative Alternative `json:"alternative"`
	// NeededN is the n giving DefaultPowerTarget at Delta (SampleSize).
	NeededN int64 `json:"needed_n"`
	// Target is the power NeededN aims at.
	Target float64 `json:"target"`
}

// Outcome is a verdict's result. Each has its own exit code in splitproof:
// pass 0, fail 1, inconclusive 3 (2 is kept for bad input).
type Outcome string

const (
	// OutcomePass: every share is within ±Delta of its weight, with
	// confidence at least 1-Beta (the false-pass rate).
	OutcomePass Outcome = "pass"
	// OutcomeFail: the counts differ from the weights at Alpha (see Failures).
	OutcomeFail Outcome = "fail"
	// OutcomeInconclusive: the data cannot decide either way: a fixed-n fit
	// that found no significant deviation but whose intervals are wider than
	// ±Delta, a sequential test that reached its cap, or a replay that was
	// interrupted. It says nothing about the split; Inconclusive says why.
	OutcomeInconclusive Outcome = "inconclusive"
)

// Verdict is the outcome of verifying counts against a weighted split.
type Verdict struct {
	Scenario string `json:"scenario,omitempty"`
	// Scheduler is the arrival-order model the verdict was decided under
	// (sim/sched's classes); empty when no order was classified, in which
	// case the tests assume independent draws. Only verdicts of independent
	// draws carry a p-value that run-level corrections may combine.
	Scheduler string `json:"scheduler,omitempty"`
	// Outcome is pass, fail or inconclusive; Pass is Outcome == OutcomePass.
	Outcome Outcome `json:"outcome"`
	Pass    bool    `json:"pass"`
	// Alpha is the false-failure rate: a correct split fails with probability at most Alpha.
	Alpha float64 `json:"alpha"`
	// Beta is the false-pass rate and Delta the tolerance: a split with a
	// share more than Delta from its weight passes with probability at most
	// Beta. CertifyLevel is each Certify interval's confidence (CertifyLevel
	// of Beta over the weighted categories), and Certified reports whether
	// every weighted category is Within.
	Beta         float64 `json:"beta"`
	Delta        float64 `json:"delta"`
	CertifyLevel float64 `json:"certify_level"`
	Certified    bool    `json:"certified"`
	// N is the number of observations, Valid the ones in weight>0 categories.
	N     int64 `json:"n"`
	Valid int64 `json:"valid"`
	Test  GOF   `json:"test"`
	// IntervalLevel is each interval's confidence after the Correction over
	// the weight>0 categories, so the intervals hold simultaneously at 1-Alpha.
	IntervalLevel float64          `json:"interval_level"`
	Correction    Correction       `json:"correction"`
	Categories    []CategoryResult `json:"categories"`
	// Power is null when no wrong split is possible (a single category).
	Power    *PowerStatement `json:"power"`
	Failures []string        `json:"failures"`
	// Rejected is set when the test that decides the verdict (the fixed-n
	// fit, or a replay's sequential test) found the split differs from the
	// weights; only then are categories marked off.
	Rejected bool `json:"rejected"`
	// Inconclusive says why an inconclusive verdict could not decide.
	Inconclusive string `json:"inconclusive_reason,omitempty"`
	// MoreRequests estimates how many more requests would decide an
	// inconclusive verdict (0: no estimate); MoreRequestsBasis says what the
	// estimate assumes.
	MoreRequests      int64  `json:"more_requests,omitempty"`
	MoreRequestsBasis string `json:"more_requests_basis,omitempty"`
	// Run is set when the verdict is one of several sharing a run-level
	// false-failure rate (ApplyHolm).
	Run *RunLevel `json:"run,omitempty"`

	// certifyMore and certifyMoreBasis estimate the requests that would
	// decide a fit that neither rejects nor certifies (certifyMore).
	certifyMore      int64
	certifyMoreBasis string
}

// AddFailure records a reason the split is wrong and makes the verdict FAIL:
// a failure is final, whatever else is undecided.
func (v *Verdict) AddFailure(reason string) {
	v.Failures = append(v.Failures, reason)
	v.setOutcome(OutcomeFail)
}

// Reject records that the deciding test found the split differs from the
// weights, for reason, and makes the verdict FAIL. When no category's
// interval excludes its weight the deviation is joint, and reason says so.
func (v *Verdict) Reject(reason string) {
	v.Rejected = true
	if len(v.outside()) == 0 {
		reason += "; joint deviation: no single category's interval excludes its weight, the shares differ together"
	} else {
		reason += "; off: " + strings.Join(v.outside(), ", ")
	}
	v.AddFailure(reason)
}

// ClearRejection removes the fixed-n fit's rejection (its failure and its
// off marks), for callers whose verdict another test decides; failures no
// data can explain (weight-0, unexpected responses) stay. A verdict left
// without failures is decided by its intervals, as in Verify: PASS when
// certified, else INCONCLUSIVE; a caller whose own test decides overrides
// that with MarkPass, Reject or MarkInconclusive.
func (v *Verdict) ClearRejection() {
	kept := []string{}
	for _, f := range v.Failures {
		if !strings.HasPrefix(f, fitFailurePrefix) {
			kept = append(kept, f)
		}
	}
	v.Failures, v.Rejected = kept, false
	if len(kept) == 0 && v.Outcome == OutcomeFail {
		v.decideUnrejected()
	} else {
		v.setOutcome(v.Outcome)
	}
}

// decideUnrejected decides a verdict without failures whose fit did not
// reject: PASS when every share is certified within ±Delta, INCONCLUSIVE
// with an estimate of the requests that would decide otherwise.
func (v *Verdict) decideUnrejected() {
	if v.Certified {
		v.MarkPass()
		return
	}
	v.MarkInconclusive(v.certifyReason(), v.certifyMore, v.certifyMoreBasis)
}

// fitFailurePrefix starts the failure the fixed-n fit adds.
const fitFailurePrefix = "split differs from the weights"

// outside names the weighted categories whose interval excludes their weight.
func (v *Verdict) outside() []string {
	var out []string
	for _, r := range v.Categories {
		if r.Weight > 0 && !r.Inside {
			out = append(out, r.Name)
		}
	}
	return out
}

// MarkInconclusive makes a verdict without failures INCONCLUSIVE: reason says
// why the data cannot decide, more (when positive) estimates the requests
// that would, under the assumption basis states. A verdict that already
// failed stays FAIL: no amount of further data undoes a weight-0 hit.
func (v *Verdict) MarkInconclusive(reason string, more int64, basis string) {
	if len(v.Failures) > 0 {
		v.setOutcome(OutcomeFail)
		return
	}
	v.Inconclusive, v.MoreRequests, v.MoreRequestsBasis = reason, max(more, 0), basis
	v.setOutcome(OutcomeInconclusive)
}

// MarkPass makes the verdict PASS unless it has failures.
func (v *Verdict) MarkPass() {
	if len(v.Failures) > 0 {
		v.setOutcome(OutcomeFail)
		return
	}
	v.Inconclusive, v.MoreRequests, v.MoreRequestsBasis = "", 0, ""
	v.setOutcome(OutcomePass)
}

func (v *Verdict) setOutcome(o Outcome) {
	v.Outcome, v.Pass = o, o == OutcomePass
	if o != OutcomeFail {
		v.Rejected = false
	}
	for i := range v.Categories {
		r := &v.Categories[i]
		if r.Weight == 0 {
			continue // weight-0 and unexpected rows keep their own status
		}
		r.Status = StatusOK
		if v.Rejected && !r.Inside {
			r.Status = StatusOff
		}
	}
}

// Options tune Verify.
type Options struct {
	// Alpha overrides the counts file's alpha (0: the file's, else DefaultAlpha).
	Alpha float64
	// Delta overrides the counts file's delta (0: the file's, else DefaultDelta).
	Delta float64
	// Beta is the false-pass rate (0: DefaultBeta): PASS certifies every
	// share within ±Delta of its weight with confidence at least 1-Beta. A
	// caller whose sequential test decides (MarkPass) passes that test's
	// beta, as the PASS line states this one.
	Beta float64
	// Test tunes the exact test.
	Test TestOptions
}

// Verify tests the counts in cf against its weights. Categories with weight 0
// leave the goodness-of-fit test, and any count in them fails the verdict, as
// does any count under a name that is not a category. The verdict is FAIL
// when the fit rejects at alpha; PASS when it does not and every weighted
// share's certification interval (CertifyLevel of beta) lies within ±delta
// of its weight; INCONCLUSIVE otherwise, with an estimate of the further
// requests that would decide.
func Verify(cf CountsFile, opts Options) (Verdict, error) {
	if err := cf.Validate(); err != nil {
		return Verdict{}, err
	}
	alpha := firstPositive(opts.Alpha, cf.Alpha, DefaultAlpha)
	delta := firstPositive(opts.Delta, cf.Delta, DefaultDelta)
	beta := firstPositive(opts.Beta, DefaultBeta)
	if !(alpha > 0 && alpha < 1) || !(delta > 0 && delta <= 0.5) {
		return Verdict{}, fmt.Errorf("%w: alpha %v must lie in (0,1) and delta %v in (0,0.5]", ErrCounts, alpha, delta)
	}
	if !(beta > 0 && beta < 1) {
		return Verdict{}, fmt.Errorf("%w: beta %v must lie in (0,1)", ErrCounts, beta)
	}
	v := Verdict{Scenario: cf.Scenario, Alpha: alpha, Beta: beta, Delta: delta, Correction: Bonferroni, Failures: []string{}}
	var wsum int64
	known := map[string]bool{}
	for _, c := range cf.Categories {
		wsum += c.Weight
		known[c.Name] = true
	}
	var obs []int64
	var shares []float64
	var rows []int // index into v.Categories of each tested category
	for _, c := range cf.Categories {
		n := cf.Counts[c.Name]
		v.N += n
		r := CategoryResult{Name: c.Name, Weight: c.Weight, Count: n, ExpectedShare: float64(c.Weight) / float64(wsum), Status: StatusOK}
		if c.Weight == 0 {
			r.Inside = n == 0
			if n > 0 {
				r.Status = StatusWeightZero
				v.Failures = append(v.Failures, fmt.Sprintf("backend %s has weight 0 but received %d responses", c.Name, n))
			}
		} else {
			obs = append(obs, n)
			shares = append(shares, r.ExpectedShare)
			rows = append(rows, len(v.Categories))
			v.Valid += n
		}
		v.Categories = append(v.Categories, r)
	}
	for _, name := range sortedNames(cf.Counts) {
		if known[name] || cf.Counts[name] == 0 {
			continue
		}
		n := cf.Counts[name]
		v.N += n
		v.Categories = append(v.Categories, CategoryResult{Name: name, Count: n, Status: StatusUnexpected})
		v.Failures = append(v.Failures, fmt.Sprintf("%d responses fit no expected category (%q)", n, name))
	}
	if v.N == 0 {
		return Verdict{}, fmt.Errorf("%w: counts: no observations", ErrCounts)
	}
	k := len(shares)
	v.IntervalLevel = 1 - v.Correction.PerComparison(alpha, k)
	v.CertifyLevel = CertifyLevel(beta, k)
	v.Certified = true
	for i := range v.Categories {
		r := &v.Categories[i]
		r.ObservedShare = float64(r.Count) / float64(v.N)
		r.ExpectedCount = r.ExpectedShare * float64(v.N)
		r.Deviation = r.ObservedShare - r.ExpectedShare
		r.Wilson = Wilson(r.Count, v.N, v.IntervalLevel)
		r.ClopperPearson = ClopperPearson(r.Count, v.N, v.IntervalLevel)
		r.Certify = ClopperPearson(r.Count, v.N, v.CertifyLevel)
		if r.Weight > 0 {
			r.Inside = r.ClopperPearson.Contains(r.ExpectedShare)
			r.Within = within(r.Certify, r.ExpectedShare, delta)
			v.Certified = v.Certified && r.Within
		}
	}
	topts := opts.Test
	topts.Alpha = alpha
	g, err := Test(obs, shares, topts)
	if err != nil {
		return Verdict{}, err
	}
	v.Test = g
	if g.PValue < alpha {
		worst := rows[0]
		for _, i := range rows {
			if math.Abs(v.Categories[i].Deviation) > math.Abs(v.Categories[worst].Deviation) {
				worst = i
			}
		}
		w := v.Categories[worst]
		v.Reject(fmt.Sprintf("%s: %s p = %.3g < alpha = %g; largest deviation %s: observed %.4f, expected %.4f (%+.2f percentage points)",
			fitFailurePrefix, g.Method, g.PValue, alpha, w.Name, w.ObservedShare, w.ExpectedShare, 100*w.Deviation))
	}
	if k >= 2 {
		mp, err := MinPower(shares, alpha, delta, v.Valid, topts)
		if err != nil {
			return Verdict{}, fmt.Errorf("power of the verdict: %w", err)
		}
		ps := &PowerStatement{Delta: delta, Power: mp.Power, Exact: mp.Exact, Alternative: mp.Alternative, Target: DefaultPowerTarget}
		if ps.NeededN, err = SampleSize(shares, alpha, delta, DefaultPowerTarget); err != nil {
			return Verdict{}, fmt.Errorf("sample size for the verdict: %w", err)
		}
		v.Power = ps
	}
	if !v.Certified {
		// Kept for ClearRejection too: a rejection a caller clears (Holm's
		// smaller threshold) leaves the verdict to its intervals.
		v.certifyMore, v.certifyMoreBasis = certifyMore(obs, shares, v.N, alpha, delta, v.CertifyLevel)
	}
	if len(v.Failures) == 0 {
		v.decideUnrejected()
	} else {
		v.setOutcome(OutcomeFail)
	}
	return v, nil
}

func firstPositive(xs ...float64) float64 {
	for _, x := range xs {
		if x != 0 {
			return x
		}
	}
	return 0
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// WriteJSON writes the verdict as indented JSON.
func (v Verdict) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteTable writes the verdict for people: one row per category, then the
// test, the power statement and the verdict.
func (v Verdict) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if v.Scenario != "" {
		fmt.Fprintf(tw, "scenario: %s\n", v.Scenario)
	}
	fmt.Fprintf(tw, "CATEGORY\tWEIGHT\tCOUNT\tOBSERVED\tEXPECTED\tDEVIATION\tINTERVAL (%.4g%% Clopper-Pearson)\tWITHIN ±%.1f pp (%.4g%%)\tSTATUS\n",
		100*v.IntervalLevel, 100*v.Delta, 100*v.CertifyLevel)
	for _, r := range v.Categories {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4f\t%.4f\t%+.2f pp\t[%.4f, %.4f]\t%s\t%s\n",
			r.Name, r.Weight, r.Count, r.ObservedShare, r.ExpectedShare, 100*r.Deviation, r.ClopperPearson.Lo, r.ClopperPearson.Hi, withinCell(r), r.Status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	if out := v.outside(); len(out) > 0 && !v.Rejected {
		fmt.Fprintf(&b, "\nnote: the interval of %s excludes its weight, but the test that decides the verdict did not reject the split, so no category is off\n", strings.Join(out, ", "))
	}
	fmt.Fprintf(&b, "\nn = %d (%d in weighted categories)\n", v.N, v.Valid)
	fmt.Fprintf(&b, "test: %s, p = %.4g (chi2 = %.4g, G = %.4g, df = %d, min expected count %.3g)", v.Test.Method, v.Test.PValue, v.Test.Chi2, v.Test.G, v.Test.DF, v.Test.MinExpected)
	if v.Test.MonteCarloRuns > 0 {
		fmt.Fprintf(&b, ", %d draws, stderr %.2g", v.Test.MonteCarloRuns, v.Test.MonteCarloStdErr)
	}
	fmt.Fprintf(&b, "\nfalse-failure rate: %s; intervals simultaneous by %s\n", v.rateLine(), v.Correction)
	if v.Run != nil {
		fmt.Fprintf(&b, "%s\n", v.Run.Line(v.Test.Method))
	}
	if p := v.Power; p != nil {
		how := "exact"
		if !p.Exact {
			how = "noncentral chi-square approximation"
		}
		fmt.Fprintf(&b, "power: %.3f (%s) against a shift of %+.1f percentage points on %s (others moving in proportion; the harder sign); %d requests give power %.2f\n",
			p.Power, how, 100*p.Alternative.Delta, v.nameOfTested(p.Alternative.Category), p.NeededN, p.Target)
	} else {
		b.WriteString("power: not applicable (a single weighted category cannot deviate)\n")
	}
	switch v.Outcome {
	case OutcomePass:
		fmt.Fprintf(&b, "verdict: PASS (verified within ±%.1f percentage points: every share within ±%g of its weight, confidence ≥ %g)\n",
			100*v.Delta, v.Delta, 1-v.Beta)
	case OutcomeInconclusive:
		b.WriteString("verdict: INCONCLUSIVE (neither pass nor fail: the split is not known to be right or wrong)\n")
		fmt.Fprintf(&b, "  - %s\n", v.Inconclusive)
		if v.MoreRequests > 0 {
			fmt.Fprintf(&b, "  - about %d more requests would decide (%s)\n", v.MoreRequests, v.MoreRequestsBasis)
		}
	default:
		switch {
		case v.Rejected && v.Run != nil:
			fmt.Fprintf(&b, "verdict: FAIL (the split differs from the weights at run-level alpha %g, Holm over %s)\n", v.Run.Alpha, CountNoun(v.Run.Verdicts, "verdict"))
		case v.Rejected:
			fmt.Fprintf(&b, "verdict: FAIL (the split differs from the weights at alpha %g)\n", v.Alpha)
		default:
			b.WriteString("verdict: FAIL\n")
		}
		for _, f := range v.Failures {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// rateLine states the false-failure rate that holds for this verdict's n
// and split: Pearson's exact rate where its test decided (ChooseRule keeps
// it only within SizeTolerance of alpha), else the exact test's bound.
func (v Verdict) rateLine() string {
	switch v.Test.Method {
	case MethodPearson:
		if v.Test.PearsonExactSize >= 0 {
			return fmt.Sprintf("%.4g exact at n = %d for this split (Pearson chi-square at alpha %g)", v.Test.PearsonExactSize, v.Test.N, v.Alpha)
		}
		return fmt.Sprintf("%g nominal (chi-square approximation; its exact rate was not computed)", v.Alpha)
	case MethodSingle:
		return "none: nothing to test (a single weighted category takes every valid response)"
	}
	if v.Test.N == 0 {
		return "none: nothing to test (no response in a weighted category)"
	}
	why := ""
	if v.Test.PearsonExactSize >= 0 {
		why = fmt.Sprintf("; Pearson's chi-square would have %.4g at this n", v.Test.PearsonExactSize)
	}
	if v.Test.Method == MethodMonteCarlo {
		return fmt.Sprintf("at most %g (Monte Carlo exact multinomial test, valid by construction%s)", v.Alpha, why)
	}
	return fmt.Sprintf("at most %g (exact multinomial test%s)", v.Alpha, why)
}

// nameOfTested maps an index among the weight>0 categories back to its name.
func (v Verdict) nameOfTested(i int) string {
	for _, r := range v.Categories {
		if r.Weight > 0 {
			if i == 0 {
				return r.Name
			}
			i--
		}
	}
	return "?"
}

// withinCell shows a weighted category's certification interval and
// whether it lies within the tolerance; other rows have none.
func withinCell(r CategoryResult) string {
	if r.Weight == 0 {
		return "-"
	}
	verdict := "no"
	if r.Within {
		verdict = "yes"
	}
	return fmt.Sprintf("[%.4f, %.4f] %s", r.Certify.Lo, r.Certify.Hi, verdict)
}
