package replay

import (
	"fmt"
	"io"
	"strings"

	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/sim"
	"github.com/splitproof/splitproof/sim/sched"
)

// applyScheduler classifies the arrival order r recorded and lets the
// test that fits the gateway's scheduler decide r's verdict (sim/sched):
// the counts test, fixed-n or sequential, assumes every request is an
// independent draw, which a deterministic, bursty or per-connection
// gateway breaks. An independent order leaves the verdict as it is.
//
// A sequential run's verdict is its sequential test's, which assumes
// independent draws too; for any other class the model decides from the
// fixed-n counts verdict of the same requests instead (the exactness and
// whole-period tests state no false-failure rate that optional stopping
// could void). An interrupted replay keeps its INCONCLUSIVE verdict: the
// class is reported, but a partial run decides nothing.
//
// A replay that sends one request at a time keeps the order exact
// (Tolerance 0); with several workers the arrival order is the gateway's
// give or take the requests in flight together (sequence.OverlapTolerance).
func applyScheduler(r *Report) error {
	if r.Sequence == nil || r.Sequence.Len() == 0 {
		return nil
	}
	cf := r.CountsFile()
	sc, err := sequence.Schedule(r.Sequence, cf.Categories, sequence.ScheduleOptions{Alpha: r.Verdict.Alpha})
	if err != nil {
		return fmt.Errorf("scheduler of %s: %w", r.label(), err)
	}
	r.Scheduler, r.ModelVerdict = &sc.Result, &sc.Verdict
	// An empty outcome leaves the counts verdict standing: independent
	// draws, or a regular order seen through overlapping requests.
	independent := sc.Verdict.Outcome == ""
	switch {
	case r.Interrupted:
		r.Verdict.Scheduler = string(sc.Result.Scheduler)
		return nil
	case r.Sequential != nil && !independent:
		v, err := sim.Verify(cf, sim.Options{Alpha: r.Verdict.Alpha, Delta: r.Verdict.Delta, Beta: r.Verdict.Beta})
		if err != nil {
			return fmt.Errorf("verify %s for its %s scheduler: %w", r.label(), sc.Result.Scheduler, err)
		}
		r.Verdict = v
	}
	sc.Verdict.Apply(&r.Verdict)
	return nil
}

// writeScheduler writes the report's scheduler lines: the class with its
// evidence, then which test decided and why.
func (r *Report) writeScheduler(w io.Writer) error {
	if r.Scheduler == nil || r.ModelVerdict == nil {
		return nil
	}
	cats := r.CountsFile().Categories
	decided := "the counts test decides (independent draws, as it assumes)"
	switch {
	case r.Interrupted:
		decided = fmt.Sprintf("not applied: the replay was interrupted, and a partial run decides nothing (the %s test would say: %s)", r.ModelVerdict.Test, r.ModelVerdict.Reason)
	case r.ModelVerdict.Scheduler != sched.Independent && r.ModelVerdict.Outcome == "":
		decided = "the counts test decides: " + r.ModelVerdict.Reason
	case r.ModelVerdict.Scheduler != sched.Independent:
		decided = fmt.Sprintf("the %s test decides, not the counts test above: %s", r.ModelVerdict.Test, r.ModelVerdict.Reason)
		if r.Sequential != nil {
			decided += " (the sequential test assumes independent draws too)"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  scheduler: %s (%s)\n    %s\n", r.Scheduler.Scheduler, r.Scheduler.Evidence(cats), decided)
	if !r.Interrupted && r.ModelVerdict.Scheduler != sched.Independent && r.ModelVerdict.Outcome != "" {
		for _, f := range r.ModelVerdict.Failures {
			fmt.Fprintf(&b, "      - %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// junitProperty is one <property> of a JUnit test case.
type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// junitProperties are a case's scheduler properties (none when the order
// was not classified).
func (r *Report) junitProperties() []junitProperty {
	if r.Scheduler == nil || r.ModelVerdict == nil {
		return nil
	}
	return []junitProperty{
		{"splitproof.scheduler", string(r.Scheduler.Scheduler)},
		{"splitproof.scheduler.evidence", r.Scheduler.Evidence(r.CountsFile().Categories)},
		{"splitproof.scheduler.test", r.ModelVerdict.Test},
	}
}

// holdCheckEvery is how often, in requests, a run held past its sequential
// decision classifies its order again at first; see holdCheckDue.
const holdCheckEvery = 10

// holdCheckDue says whether a run held past its sequential decision
// classifies its order again after n requests. Each check classifies the
// whole order, so checking every holdCheckEvery requests costs time
// quadratic in n (half a second of checks by a 6,300-request cap,
// BenchmarkHoldChecks). The step doubles instead as n grows, staying
// within max(10, n/20) (a long run is held at most 5 % longer than the
// model needs) and a multiple of holdCheckEvery: below 400 requests every
// 10, from 400 every 20, from 800 every 40… — 10 to 20 checks per
// doubling of n, so the checks cost O(n log n) in all.
func holdCheckDue(n int) bool {
	step := holdCheckEvery
	for 2*step <= n/20 {
		step *= 2
	}
	return n > 0 && n%step == 0
}

// modelAllowsStop says whether a sequential decision may end the run now:
// when the order recorded so far is independent draws (what the sequential
// test assumes), or when the test that fits its scheduler has decided on
// its own (PASS or FAIL). An order that fits no model yet, or a bursty one
// with too few whole periods, keeps the run going.
func modelAllowsStop(rec *sequence.Recording, cats []sim.Category, alpha float64) bool {
	sc, err := sequence.Schedule(rec, cats, sequence.ScheduleOptions{Alpha: alpha})
	if err != nil {
		return true
	}
	// An empty outcome: the counts test, which the sequential one is, decides.
	return sc.Verdict.Outcome == "" || sc.Verdict.Outcome == sim.OutcomePass || sc.Verdict.Outcome == sim.OutcomeFail
}
