package sequence

import (
	"fmt"
	"slices"
	"time"

	"github.com/splitproof/splitproof/sim"
	"github.com/splitproof/splitproof/sim/sched"
)

// Scheduler is what a recording's arrival order says about the gateway's
// scheduler (Result) and the verdict of the test that fits it (Verdict),
// to be merged into the counts verdict with Verdict.Apply.
type Scheduler struct {
	Result  sched.Result       `json:"result"`
	Verdict sched.ModelVerdict `json:"verdict"`
}

// ScheduleOptions tune Schedule.
type ScheduleOptions struct {
	// Alpha is the counts verdict's false-failure rate, used by the test
	// over connections (per-connection orders). The classification itself
	// keeps sched.DefaultAlpha: a looser level there would take independent
	// orders for models whose tests fail them.
	Alpha float64
}

// Order returns the recording as sched reads it: each request's index in
// cats (sched.None for a category not among them, such as an error) and,
// when the recording knows them, its connection (nil for a plain list).
// With ConnsPerCommand the "connection" is the curl command, so a
// per-connection class then means per command.
func (r *Recording) Order(cats []sim.Category) (seq, conns []int) {
	index := make(map[string]int, len(cats))
	for i, c := range cats {
		index[c.Name] = i
	}
	known := r.Connections == ConnsTraced || r.Connections == ConnsPerCommand
	seq = make([]int, 0, r.Len())
	if known {
		conns = make([]int, 0, r.Len())
	}
	for _, req := range r.All() {
		i, ok := index[r.Category(req)]
		if !ok {
			i = sched.None
		}
		seq = append(seq, i)
		if known {
			conns = append(conns, int(req.Conn))
		}
	}
	return seq, conns
}

// Schedule classifies the recording against cats and judges it with the
// test that fits its class. The order is taken as the gateway's to within
// OverlapTolerance: exact for a replay one request at a time.
//
// Requests in flight together hide a round robin's period: the gateway
// picked in an order known only to within the requests that overlapped,
// so no period is confirmed and the order is undetermined, its counts over
// windows varying less than independent draws' (a replay one request at a
// time finds the period). Such an order is more regular than independent
// draws, never burstier: a correct round robin's counts stray from the
// weights less than independent draws' do, so the counts test, whose
// false-failure rate is stated for independent draws, decides it as it
// does them (its Verdict has an empty Outcome, as an independent order's
// has). An order whose windows vary more, or whose runs are long, stays
// undetermined: bursts would void the counts test.
func Schedule(r *Recording, cats []sim.Category, opts ScheduleOptions) (Scheduler, error) {
	tolerance := OverlapTolerance(r)
	seq, conns := r.Order(cats)
	res, err := sched.Classify(seq, cats, sched.Options{Conns: conns, Tolerance: tolerance})
	if err != nil {
		return Scheduler{}, fmt.Errorf("classify the arrival order: %w", err)
	}
	mv, err := sched.Judge(seq, cats, res, sched.Options{Conns: conns, Tolerance: tolerance, Alpha: opts.Alpha})
	if err != nil {
		return Scheduler{}, fmt.Errorf("judge the arrival order as %s: %w", res.Scheduler, err)
	}
	if tolerance > 0 && res.Scheduler == sched.Undetermined && res.BurstLength == nil && res.DispersionWindow > 0 &&
		res.DispersionChi2 < float64(res.N/res.DispersionWindow-1) {
		mv = sched.ModelVerdict{
			Scheduler: sched.Undetermined,
			Test:      "counts",
			Reason: fmt.Sprintf("the requests overlapped, so the order the gateway picked in is known only approximately and no period can be confirmed; "+
				"counts over windows of %d requests vary less than independent draws' (p = %.3g): a scheduler more regular than random, such as a round robin, whose counts stray from correct weights less than independent draws' do, so the counts test decides as for independent draws",
				res.DispersionWindow, res.DispersionP),
		}
	}
	return Scheduler{Result: res, Verdict: mv}, nil
}

// OverlapTolerance is how far the counts of a window of rec's arrival
// order may be from those of the same window of the order the gateway
// picked backends in (sched.Options.Tolerance). A request is picked
// between its send and its answer, so two requests picked in one order
// and answered in the other were in flight together: with at most depth
// requests in flight at once, a request's two positions differ by less
// than depth, and a window's count of a category by at most depth-1 at
// each of its two ends. One request at a time (depth 1, every request
// sent once the previous one was answered) keeps the order exact:
// tolerance 0.
func OverlapTolerance(rec *Recording) int {
	sent := make([]time.Duration, 0, rec.Len())
	received := make([]time.Duration, 0, rec.Len())
	for _, req := range rec.All() {
		sent = append(sent, req.Sent)
		received = append(received, req.Received)
	}
	slices.Sort(sent)
	slices.Sort(received)
	// In flight at the i-th send: the i+1 requests sent by then, less
	// those answered by then (an answer at the very moment of a send is
	// over before it).
	depth, done := 0, 0
	for i, t := range sent {
		for done < len(received) && received[done] <= t {
			done++
		}
		depth = max(depth, i+1-done)
	}
	return 2 * max(depth-1, 0)
}
