package sched

import (
	"fmt"
	"math"
	"strings"

	"github.com/splitproof/splitproof/sim"
)

// Tests a ModelVerdict can have applied.
const (
	// TestCounts: sim.Verify's counts test over requests (independent).
	TestCounts = "counts"
	// TestExactness: every window of the period holds the weights exactly.
	TestExactness = "exactness"
	// TestWholePeriods: counts over whole periods only (bursty).
	TestWholePeriods = "whole-periods"
	// TestConnections: sim.Verify's counts test over connections.
	TestConnections = "connections"
	// TestNone: no test applies yet (undetermined).
	TestNone = "none"
)

// ModelVerdict is the verdict of the test that fits the scheduler found.
// Merge it into the counts verdict with Apply.
type ModelVerdict struct {
	Scheduler Class  `json:"scheduler"`
	Test      string `json:"test"`
	// Outcome is empty for an independent order: the counts verdict stands
	// as sim.Verify gave it.
	Outcome sim.Outcome `json:"outcome,omitempty"`
	// Reason says what the test found, in one sentence.
	Reason string `json:"reason"`
	// Failures name what is off, one line per category or cause.
	Failures []string `json:"failures,omitempty"`
	// Period and WindowExpected: the period tested and the count each
	// category should have in one (GCD-reduced weights times P/sum);
	// WindowMin and WindowMax the counts seen over the windows tested.
	Period         int       `json:"period,omitempty"`
	WindowExpected []float64 `json:"window_expected,omitempty"`
	WindowMin      []int64   `json:"window_min,omitempty"`
	WindowMax      []int64   `json:"window_max,omitempty"`
	// WholePeriods is the number of whole periods tested (bursty).
	WholePeriods int `json:"whole_periods,omitempty"`
	// Counts are the requests per category in the order analysed, and
	// Shares their long-run shares.
	Counts []int64   `json:"counts,omitempty"`
	Shares []float64 `json:"shares,omitempty"`
	// RequestsNeeded estimates the requests an inconclusive verdict needs in
	// all (0: no estimate); NeededBasis says what the estimate assumes.
	RequestsNeeded int    `json:"requests_needed,omitempty"`
	NeededBasis    string `json:"needed_basis,omitempty"`
	// Connections is the counts verdict over connections (per-connection).
	Connections *sim.Verdict `json:"connections_verdict,omitempty"`
}

// Judge tests seq against cats with the test that fits res.Scheduler (res
// is Classify's answer for the same seq, cats and opts):
//   - independent: none here; the counts verdict (sim.Verify) stands;
//   - deterministic: exactness, every window of the period holds each
//     category's reduced weight (within opts.Tolerance);
//   - bursty: counts over whole periods, inconclusive until
//     opts.MinPeriods of them have been seen, so a correct bursty gateway
//     never fails on a short run;
//   - per-connection: sim.Verify over connections, the first category of
//     each connection one draw, so alpha holds again;
//   - undetermined: inconclusive.
func Judge(seq []int, cats []sim.Category, res Result, opts Options) (ModelVerdict, error) {
	if _, err := checkInput(seq, cats, opts); err != nil {
		return ModelVerdict{}, err
	}
	x := make([]int, 0, len(seq))
	for _, c := range seq {
		if c != None {
			x = append(x, c)
		}
	}
	if res.N != len(x) || (res.PeriodConfirmed && res.Period > len(x)) || (res.Scheduler == Deterministic && (res.Period <= 0 || !res.PeriodConfirmed)) {
		return ModelVerdict{}, fmt.Errorf("%w: the classification (%d requests, period %d) is not that of this sequence (%d requests in a category)",
			ErrInput, res.N, res.Period, len(x))
	}
	k := len(cats)
	mv := ModelVerdict{Scheduler: res.Scheduler, Counts: countsOf(x, k)}
	mv.Shares = make([]float64, k)
	for c, n := range mv.Counts {
		if len(x) > 0 {
			mv.Shares[c] = float64(n) / float64(len(x))
		}
	}
	switch res.Scheduler {
	case Independent:
		mv.Test = TestCounts
		mv.Reason = "independent draws: the counts test applies as stated"
	case Deterministic:
		mv.Test = TestExactness
		judgeExact(&mv, x, cats, res.Period, opts.Tolerance)
	case Bursty:
		mv.Test = TestWholePeriods
		judgeBursty(&mv, x, cats, res, opts)
	case PerConnection:
		mv.Test = TestConnections
		if err := judgeConnections(&mv, seq, cats, opts); err != nil {
			return ModelVerdict{}, err
		}
	case Undetermined:
		mv.Test, mv.Outcome = TestNone, sim.OutcomeInconclusive
		mv.Reason = "the order fits no scheduler model yet, so no test's false-failure rate can be stated"
		if res.Period > 0 {
			mv.RequestsNeeded = opts.minPeriods() * res.Period
			mv.NeededBasis = fmt.Sprintf("%d periods of about %d requests, for blocks proportional to the weights", opts.minPeriods(), res.Period)
		}
	default:
		return ModelVerdict{}, fmt.Errorf("%w: unknown scheduler %q", ErrInput, res.Scheduler)
	}
	return mv, nil
}

// windowExpected is each category's count in a window of p requests under
// the weights.
func windowExpected(cats []sim.Category, p int) []float64 {
	var total int64
	for _, c := range cats {
		total += c.Weight
	}
	out := make([]float64, len(cats))
	for i, c := range cats {
		out[i] = float64(c.Weight) * float64(p) / float64(total)
	}
	return out
}

// offCategories names the categories whose window counts leave
// expected ± tol, and says how.
func offCategories(cats []sim.Category, lo, hi []int64, exp []float64, tol int, what string) []string {
	var out []string
	for c := range cats {
		if float64(lo[c]) >= exp[c]-float64(tol) && float64(hi[c]) <= exp[c]+float64(tol) {
			continue
		}
		seen := fmt.Sprint(lo[c])
		if hi[c] != lo[c] {
			seen = fmt.Sprintf("%d to %d", lo[c], hi[c])
		}
		msg := fmt.Sprintf("%s: %s per %s, expected %s", cats[c].Name, seen, what, trimFloat(exp[c]))
		if tol > 0 {
			msg += fmt.Sprintf(" ± %d", tol)
		}
		out = append(out, msg)
	}
	return out
}

func trimFloat(f float64) string { return strings.TrimSuffix(fmt.Sprintf("%.4g", f), ".0") }

// judgeExact checks that every window of p consecutive requests holds the
// weights exactly (within tol per category).
func judgeExact(mv *ModelVerdict, x []int, cats []sim.Category, p, tol int) {
	k := len(cats)
	mv.Period = p
	mv.WindowExpected = windowExpected(cats, p)
	cnt := countsOf(x[:p], k)
	lo, hi := append([]int64(nil), cnt...), append([]int64(nil), cnt...)
	for i := 0; i+p < len(x); i++ {
		cnt[x[i]]--
		cnt[x[i+p]]++
		lo[x[i]] = min(lo[x[i]], cnt[x[i]])
		hi[x[i+p]] = max(hi[x[i+p]], cnt[x[i+p]])
	}
	mv.WindowMin, mv.WindowMax = lo, hi
	windows := len(x) - p + 1
	mv.Failures = offCategories(cats, lo, hi, mv.WindowExpected, tol, fmt.Sprintf("window of %d", p))
	if len(mv.Failures) > 0 {
		mv.Outcome = sim.OutcomeFail
		mv.Reason = fmt.Sprintf("not exact: the %d windows of %d consecutive requests do not hold the weights (%s)", windows, p, strings.Join(namesOff(cats, lo, hi, mv.WindowExpected, tol), ", "))
		return
	}
	mv.Outcome = sim.OutcomePass
	mv.Reason = fmt.Sprintf("exact: every window of %d requests holds %s", p, expectedList(mv.WindowExpected, cats))
	if tol > 0 {
		mv.Reason += fmt.Sprintf(" give or take %d per category", tol)
	}
	mv.Reason += fmt.Sprintf(" (%d windows), stronger than any ±delta bound on the shares", windows)
}

func namesOff(cats []sim.Category, lo, hi []int64, exp []float64, tol int) []string {
	var out []string
	for c := range cats {
		if float64(lo[c]) < exp[c]-float64(tol) || float64(hi[c]) > exp[c]+float64(tol) {
			out = append(out, cats[c].Name)
		}
	}
	return out
}

func expectedList(exp []float64, cats []sim.Category) string {
	nums := make([]string, len(exp))
	names := make([]string, len(exp))
	for i, e := range exp {
		nums[i], names[i] = trimFloat(e), cats[i].Name
	}
	return strings.Join(nums, "/") + " (" + strings.Join(names, "/") + ")"
}

// judgeBursty tests the counts of whole periods only, and only once
// MinPeriods of them were seen: until then it is inconclusive, never FAIL.
func judgeBursty(mv *ModelVerdict, x []int, cats []sim.Category, res Result, opts Options) {
	need := opts.minPeriods()
	mv.Period = res.Period
	if res.Period == 0 {
		mv.Outcome = sim.OutcomeInconclusive
		mv.Reason = "bursty, but no period could be estimated: whole periods cannot be counted"
		return
	}
	if !res.PeriodConfirmed || len(x)/res.Period < need {
		mv.Outcome = sim.OutcomeInconclusive
		mv.RequestsNeeded = need * res.Period
		if res.PeriodConfirmed {
			mv.WholePeriods = len(x) / res.Period
			mv.Reason = fmt.Sprintf("bursty with period %d: %d whole period(s) seen, %d needed before whole-period counts decide", res.Period, mv.WholePeriods, need)
			mv.NeededBasis = fmt.Sprintf("%d whole periods of %d requests", need, res.Period)
		} else {
			mv.Reason = "bursty, but no period has repeated yet: a run shorter than whole periods says nothing about the weights"
			mv.NeededBasis = fmt.Sprintf("%d periods of about %d requests, for blocks proportional to the weights", need, res.Period)
		}
		return
	}
	k := len(cats)
	p := res.Period
	m := len(x) / p
	mv.WholePeriods = m
	mv.WindowExpected = windowExpected(cats, p)
	lo, hi := make([]int64, k), make([]int64, k)
	for j := 0; j < m; j++ {
		w := countsOf(x[j*p:(j+1)*p], k)
		for c := range w {
			if j == 0 || w[c] < lo[c] {
				lo[c] = w[c]
			}
			if j == 0 || w[c] > hi[c] {
				hi[c] = w[c]
			}
		}
	}
	mv.WindowMin, mv.WindowMax = lo, hi
	mv.Failures = offCategories(cats, lo, hi, mv.WindowExpected, opts.Tolerance, fmt.Sprintf("period of %d", p))
	if len(mv.Failures) > 0 {
		mv.Outcome = sim.OutcomeFail
		mv.Reason = fmt.Sprintf("the %d whole periods of %d requests do not hold the weights (%s)", m, p, strings.Join(namesOff(cats, lo, hi, mv.WindowExpected, opts.Tolerance), ", "))
		return
	}
	mv.Outcome = sim.OutcomePass
	mv.Reason = fmt.Sprintf("each of the %d whole periods of %d requests holds %s", m, p, expectedList(mv.WindowExpected, cats))
	if opts.Tolerance > 0 {
		mv.Reason += fmt.Sprintf(" give or take %d per category", opts.Tolerance)
	}
}

// judgeConnections runs the counts test over connections: the first
// category of each connection is one draw.
func judgeConnections(mv *ModelVerdict, seq []int, cats []sim.Category, opts Options) error {
	if opts.Conns == nil {
		return fmt.Errorf("%w: a per-connection verdict needs the connection of each request", ErrInput)
	}
	cs := connStats(seq, opts.Conns, make([]float64, len(cats)))
	cf := sim.CountsFile{Categories: cats, Counts: map[string]int64{}, Alpha: opts.Alpha}
	for _, c := range cs.first {
		cf.Counts[cats[c].Name]++
	}
	if len(cs.first) == 0 {
		mv.Outcome = sim.OutcomeInconclusive
		mv.Reason = "per-connection, but no request has a known connection"
		return nil
	}
	v, err := sim.Verify(cf, sim.Options{Alpha: opts.Alpha})
	if err != nil {
		return fmt.Errorf("counts test over connections: %w", err)
	}
	mv.Connections = &v
	mv.Outcome = v.Outcome
	mv.Failures = v.Failures
	switch {
	case v.Outcome == sim.OutcomeInconclusive:
		mv.Reason = fmt.Sprintf("over %d connections (one draw each): the counts test cannot decide (%s p = %.3g at alpha %g; the connections verdict says why)",
			len(cs.first), v.Test.Method, v.Test.PValue, v.Alpha)
		if v.MoreRequests > 0 {
			// sim's estimate counts draws, here connections; at the
			// requests per connection seen so far they cost this many.
			mv.RequestsNeeded = int(math.Ceil(float64(v.N+v.MoreRequests) * cs.perConn))
			mv.NeededBasis = fmt.Sprintf("%d connections at %.3g requests each, as the connections verdict estimates", v.N+v.MoreRequests, cs.perConn)
		}
	case v.Test.PValue < v.Alpha:
		mv.Reason = fmt.Sprintf("the backends of %d connections (one draw each) differ from the weights: %s p = %.3g < alpha %g",
			len(cs.first), v.Test.Method, v.Test.PValue, v.Alpha)
	default:
		mv.Reason = fmt.Sprintf("the backends of %d connections (one draw each) agree with the weights: %s p = %.3g at alpha %g",
			len(cs.first), v.Test.Method, v.Test.PValue, v.Alpha)
		if v.Outcome == sim.OutcomeFail {
			mv.Reason += "; but " + strings.Join(v.Failures, "; ")
		}
	}
	return nil
}

// Apply merges the model's verdict into v, the counts verdict sim.Verify
// gave for the same requests. An independent order leaves v as it is.
// Otherwise the per-request fit's rejection is withdrawn (its false-failure
// rate does not hold for this scheduler) and the model's outcome takes its
// place; failures no data can explain (weight-0 or unexpected responses)
// stay, so such a verdict remains FAIL.
func (mv ModelVerdict) Apply(v *sim.Verdict) {
	v.Scheduler = string(mv.Scheduler)
	if mv.Scheduler == Independent || mv.Outcome == "" {
		return
	}
	v.ClearRejection()
	switch mv.Outcome {
	case sim.OutcomeFail:
		v.AddFailure(fmt.Sprintf("%s scheduler, %s test: %s", mv.Scheduler, mv.Test, mv.Reason))
	case sim.OutcomePass:
		v.MarkPass()
	default:
		v.MarkInconclusive(fmt.Sprintf("%s scheduler: %s", mv.Scheduler, mv.Reason), int64(max(mv.RequestsNeeded-int(v.N), 0)), mv.NeededBasis)
	}
}
