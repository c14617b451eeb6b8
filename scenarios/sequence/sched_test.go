package sequence

import (
	"slices"
	"testing"
	"time"

	"github.com/splitproof/splitproof/sim"
	"github.com/splitproof/splitproof/sim/sched"
)

// TestOrder: categories become indices into the categories (sched.None for
// any other), and connections are passed on only when the recording knows
// them.
func TestOrder(t *testing.T) {
	cats := []sim.Category{{Name: "a", Weight: 1}, {Name: "b", Weight: 1}}
	for _, tt := range []struct {
		conns     Connections
		wantConns []int
	}{
		{ConnsTraced, []int{1, 1, 2, 0}},
		{ConnsPerCommand, []int{1, 1, 2, 0}},
		{ConnsNone, nil},
	} {
		rec := New(time.Time{}, tt.conns)
		for i, c := range []string{"b", "a", "error", "a"} {
			rec.Add(0, 0, uint64([]int{1, 1, 2, 0}[i]), 200, c)
		}
		seq, conns := rec.Order(cats)
		if want := []int{1, 0, sched.None, 0}; !slices.Equal(seq, want) || !slices.Equal(conns, tt.wantConns) {
			t.Errorf("%s: order %v conns %v, want %v and %v", tt.conns, seq, conns, want, tt.wantConns)
		}
	}
}

// TestSchedule: a recording is classified and judged as sched would do
// it with the same slices.
func TestSchedule(t *testing.T) {
	cats := []sim.Category{{Name: "a", Weight: 1}, {Name: "b", Weight: 3}}
	rec := New(time.Time{}, ConnsTraced)
	for i := range 400 {
		c := "b"
		if i%4 == 0 {
			c = "a"
		}
		rec.Add(0, 0, uint64(i+1), 200, c)
	}
	got, err := Schedule(rec, cats, ScheduleOptions{Alpha: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	if got.Result.Scheduler != sched.Deterministic || got.Result.Period != 4 || got.Verdict.Test != sched.TestExactness || got.Verdict.Outcome != sim.OutcomePass {
		t.Fatalf("%+v", got)
	}
	if _, err := Schedule(rec, nil, ScheduleOptions{}); err == nil {
		t.Fatal("no categories: no error")
	}
}

// TestOverlapTolerance: the tolerance follows the most requests in flight
// at once, from the recorded send and answer times.
func TestOverlapTolerance(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		name      string
		intervals [][2]time.Duration // sent, received
		want      int
	}{
		{"one at a time, back to back", [][2]time.Duration{{0, ms}, {ms, 2 * ms}, {2 * ms, 3 * ms}}, 0},
		{"two overlap", [][2]time.Duration{{0, 2 * ms}, {ms, 3 * ms}, {4 * ms, 5 * ms}}, 2},
		{"three overlap, answered out of order", [][2]time.Duration{{0, 5 * ms}, {ms, 2 * ms}, {ms, 3 * ms}, {6 * ms, 7 * ms}}, 4},
		{"empty", nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := New(time.Now(), ConnsNone)
			for _, iv := range tt.intervals {
				rec.Add(iv[0], iv[1], 0, 200, "v1")
			}
			if got := OverlapTolerance(rec); got != tt.want {
				t.Fatalf("tolerance %d, want %d", got, tt.want)
			}
		})
	}
}
