package weights

import (
	"context"
	"testing"
	"time"
)

// TestMeasureChanges runs two cycles of weight changes against refproxy in
// file mode, reloaded on request: every change reaches a correct window,
// no stale answer comes after the new table is applied, the flips are
// served, and the delays are ordered as their definitions make them.
func TestMeasureChanges(t *testing.T) {
	cs, err := MeasureChanges(context.Background(), ChangeOptions{Repeats: 2, Window: 100, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * (len(changeCycle) - 1); len(cs) != want {
		t.Fatalf("%d changes measured, want %d", len(cs), want)
	}
	for _, c := range cs {
		if c.Err != "" || c.Stale > 0 {
			t.Errorf("%s → %s: error %q, %d stale answers", c.From, c.To, c.Err, c.Stale)
		}
		// A generous sanity bound, not the goal: timing is reported, not asserted.
		if c.Applied <= 0 || c.Applied > 2*time.Second || c.Window < c.Applied || c.WindowAfter > c.Window {
			t.Errorf("%s → %s: applied %s, window %s (after applied %s): not ordered applied ≤ window", c.From, c.To, c.Applied, c.Window, c.WindowAfter)
		}
		// The changes that allow a backend the old weights gave 0.
		newOnly := map[string]bool{"100/0→90/10": true, "100/0→0/100": true, "0/100→100/0": true}[c.From+"→"+c.To]
		if newOnly != (c.Serving > 0) {
			t.Errorf("%s → %s: serving delay %s; want one exactly when a backend is newly allowed", c.From, c.To, c.Serving)
		}
		if c.Serving > 0 && c.Serving < c.Applied {
			t.Errorf("%s → %s: served by the new table (%s) before it was applied (%s)", c.From, c.To, c.Serving, c.Applied)
		}
	}
	rs := ChangeResults(cs, changeMode(0))
	if len(rs) != 5 {
		t.Fatalf("%d result rows, want 5 distinct changes", len(rs))
	}
	for _, r := range rs {
		t.Logf("%s: %v", r.Case, r.Notes)
		if !r.AsExpected {
			t.Errorf("%s: not as expected: %v", r.Case, r.Failures)
		}
	}
}

// BenchmarkWeightChange measures the weight-change cycle, b.N cycles, and
// reports for the 100/0 → 0/100 flip the delay from the write to the
// first answer from v2 (refproxy's goal: p99 ≤ ServingGoal when reloaded
// on request) and, over every change, the delay to a correct window.
// "poll-100ms" lets refproxy's poller find the changes instead.
func BenchmarkWeightChange(b *testing.B) {
	for _, bc := range []struct {
		name string
		poll time.Duration
	}{{"reload-on-request", 0}, {"poll-100ms", 100 * time.Millisecond}} {
		b.Run(bc.name, func(b *testing.B) {
			cs, err := MeasureChanges(context.Background(), ChangeOptions{Repeats: b.N, Poll: bc.poll, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			var serving, applied, win []time.Duration
			for _, c := range cs {
				if c.Err != "" {
					b.Fatalf("%s → %s: %s", c.From, c.To, c.Err)
				}
				applied = append(applied, c.Applied)
				win = append(win, c.Window)
				if c.From == "100/0" && c.To == "0/100" {
					serving = append(serving, c.Serving)
				}
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(quantile(serving, 0.5)), "p50-serving-ms")
			b.ReportMetric(ms(quantile(serving, 0.99)), "p99-serving-ms")
			b.ReportMetric(ms(quantile(applied, 0.99)), "p99-applied-ms")
			b.ReportMetric(ms(quantile(win, 0.5)), "p50-window-ms")
			b.ReportMetric(ms(quantile(win, 0.99)), "p99-window-ms")
			b.ReportMetric(ms(ServingGoal), "goal-ms")
		})
	}
}

// TestWindowRight pins the definition of a correct window: v2's share's
// 99.9 % Clopper–Pearson interval over a full window holds the new share
// and not the old; a weight-0 share only with no answer from it.
func TestWindowRight(t *testing.T) {
	for _, tc := range []struct {
		name     string
		v1, v2   int
		other    int
		want     float64
		old      float64
		expected bool
	}{
		{"all v1 is right for 100/0", 100, 0, 0, 0, -1, true},
		{"all v1 is not yet right for 90/10", 100, 0, 0, 0.1, 0, false},
		{"ten v2 is right for 90/10, not 100/0", 90, 10, 0, 0.1, 0, true},
		{"one v2 is not 100/0 but not yet 90/10", 99, 1, 0, 0.1, 0, false},
		{"one v1 is not right for 0/100", 1, 99, 0, 1, 0.5, false},
		{"all v2 is right for 0/100, not 50/50", 0, 100, 0, 1, 0.5, true},
		{"half and half is right for 50/50, not 90/10", 50, 50, 0, 0.5, 0.1, true},
		{"35 v2 is still consistent with 50/50 at 99.9 %, not with 90/10", 65, 35, 0, 0.5, 0.1, true},
		{"an answer from neither backend is never right", 50, 49, 1, 0.5, 0.1, false},
		{"a window not yet full is never right", 50, 40, 0, 0.5, 0.1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindow(100, DefaultWindowAlpha)
			for range tc.v1 {
				w.add(0)
			}
			for range tc.v2 {
				w.add(1)
			}
			for range tc.other {
				w.add(2)
			}
			if got := w.right(tc.want, tc.old); got != tc.expected {
				t.Errorf("v1=%d v2=%d other=%d: right(%g, %g) = %v, want %v", tc.v1, tc.v2, tc.other, tc.want, tc.old, got, tc.expected)
			}
		})
	}
}

// TestWindowSlides: the window forgets its oldest answer.
func TestWindowSlides(t *testing.T) {
	w := newWindow(4, DefaultWindowAlpha)
	for _, c := range []int{0, 0, 1, 1, 1, 1} {
		w.add(c)
	}
	if w.counts != [3]int{0, 4, 0} || !w.full() {
		t.Errorf("after 0 0 1 1 1 1 a window of 4 counts %v, want [0 4 0]", w.counts)
	}
	w.reset()
	if w.full() || w.counts != [3]int{} {
		t.Errorf("after reset: full %v, counts %v", w.full(), w.counts)
	}
}

func TestQuantile(t *testing.T) {
	ds := []int{5, 1, 4, 2, 3}
	for _, tc := range []struct {
		q    float64
		want int
	}{{0.5, 3}, {0.99, 5}, {0.2, 1}, {0.21, 2}} {
		if got := quantile(ds, tc.q); got != tc.want {
			t.Errorf("quantile(%v, %g) = %d, want %d", ds, tc.q, got, tc.want)
		}
	}
	if got := quantile([]int(nil), 0.5); got != 0 {
		t.Errorf("quantile of nothing = %d, want 0", got)
	}
}
