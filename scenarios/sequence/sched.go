package sequence

import (
	"fmt"

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
	// Tolerance is sched.Options.Tolerance: 0 for a replay that sends one
	// request at a time.
	Tolerance int
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
// test that fits its class.
func Schedule(r *Recording, cats []sim.Category, opts ScheduleOptions) (Scheduler, error) {
	seq, conns := r.Order(cats)
	res, err := sched.Classify(seq, cats, sched.Options{Conns: conns, Tolerance: opts.Tolerance})
	if err != nil {
		return Scheduler{}, fmt.Errorf("classify the arrival order: %w", err)
	}
	mv, err := sched.Judge(seq, cats, res, sched.Options{Conns: conns, Tolerance: opts.Tolerance, Alpha: opts.Alpha})
	if err != nil {
		return Scheduler{}, fmt.Errorf("judge the arrival order as %s: %w", res.Scheduler, err)
	}
	return Scheduler{Result: res, Verdict: mv}, nil
}
