package sched

import (
	"testing"

	"github.com/splitproof/splitproof/sim"
)

// FuzzClassify: any order and connections classify without error, the
// evidence agrees with the class, and Judge accepts the result.
func FuzzClassify(f *testing.F) {
	f.Add([]byte{0, 1, 2, 2, 2, 2, 2, 2, 2, 2}, uint8(3), false)
	f.Add([]byte{2, 2, 2, 0, 0, 0, 1, 1, 1, 3}, uint8(3), true)
	f.Fuzz(func(t *testing.T, data []byte, per uint8, withConns bool) {
		cats := []sim.Category{{Name: "a", Weight: 10}, {Name: "b", Weight: 10}, {Name: "c", Weight: 80}}
		seq := make([]int, len(data))
		for i, b := range data {
			seq[i] = int(b%4) - 1 // None, 0, 1, 2
		}
		opts := Options{}
		if withConns {
			opts.Conns = make([]int, len(seq))
			for i := range seq {
				opts.Conns[i] = i/max(int(per%8), 1) + 1
			}
		}
		res, err := Classify(seq, cats, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.N+res.Unclassified != len(seq) {
			t.Fatalf("%d + %d requests of %d", res.N, res.Unclassified, len(seq))
		}
		if res.Scheduler == Deterministic && (res.Period <= 0 || !res.PeriodConfirmed || 2*res.Period > res.N) {
			t.Fatalf("deterministic with period %d (confirmed %v) over %d requests", res.Period, res.PeriodConfirmed, res.N)
		}
		mv, err := Judge(seq, cats, res, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Scheduler == Bursty && mv.Outcome == sim.OutcomeFail && mv.WholePeriods < DefaultMinPeriods {
			t.Fatalf("bursty FAIL after %d whole periods", mv.WholePeriods)
		}
	})
}
