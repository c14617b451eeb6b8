package sched

import (
	"slices"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/sim"
)

// mustJudge classifies and judges seq, failing the test on an error.
func mustJudge(t *testing.T, seq []int, cats []sim.Category, opts Options) (Result, ModelVerdict) {
	t.Helper()
	res, err := Classify(seq, cats, opts)
	if err != nil {
		t.Fatalf("classify: %v", err)
	}
	mv, err := Judge(seq, cats, res, opts)
	if err != nil {
		t.Fatalf("judge: %v", err)
	}
	return res, mv
}

// countsFile is the counts verdict's input for seq.
func countsFile(seq []int, cats []sim.Category) sim.CountsFile {
	cf := sim.CountsFile{Categories: cats, Counts: map[string]int64{}}
	for _, c := range seq {
		name := "(none)"
		if c != None {
			name = cats[c].Name
		}
		cf.Counts[name]++
	}
	return cf
}

// TestWrongWeightsDeterministicFails: a smooth scheduler running 20/20/60
// against the expected 10/10/80 is deterministic with period 5 (1/1/3), and
// the exactness test fails it naming every backend.
func TestWrongWeightsDeterministicFails(t *testing.T) {
	cats := catsOf(names3, split101080)
	seq := pickerSeq(picker.Smooth, []int32{20, 20, 60}, 500, 0, 0)
	res, mv := mustJudge(t, seq, cats, Options{})
	if res.Scheduler != Deterministic || res.Period != 5 {
		t.Fatalf("classified %s period %d, want deterministic period 5: %s", res.Scheduler, res.Period, res.Explanation)
	}
	if mv.Outcome != sim.OutcomeFail {
		t.Fatalf("outcome %s, want fail: %s", mv.Outcome, mv.Reason)
	}
	for _, name := range []string{"v1", "v2", "v3"} {
		found := false
		for _, f := range mv.Failures {
			found = found || strings.HasPrefix(f, name+":")
		}
		if !found {
			t.Errorf("no failure names %s: %q", name, mv.Failures)
		}
	}
	want := "v1: 1 per window of 5, expected 0.5"
	if mv.Failures[0] != want {
		t.Errorf("first failure %q, want %q", mv.Failures[0], want)
	}
}

// TestBurstyNeverFails: a correct Caddy-like block scheduler, at every
// request count from 1 to 2,000 and several phases, is never FAIL once the
// counts verdict and the model's verdict are merged (Apply): short runs are
// inconclusive, whole periods pass.
func TestBurstyNeverFails(t *testing.T) {
	cases := []struct {
		names  []string
		w      []int32
		phases []int
	}{
		{names3, split101080, []int{0, 15, 50, 99}},
		{names2, split8020, []int{0, 79, 90}},
	}
	for _, tc := range cases {
		cats := catsOf(tc.names, tc.w)
		for _, phase := range tc.phases {
			full := blockSeq(tc.w, 2000, phase)
			outcomes := map[sim.Outcome]int{}
			firstPass := 0
			for n := 1; n <= len(full); n++ {
				seq := full[:n]
				res, mv := mustJudge(t, seq, cats, Options{})
				o := mv.Outcome
				if res.Scheduler == Independent {
					v, err := sim.Verify(countsFile(seq, cats), sim.Options{})
					if err != nil {
						t.Fatal(err)
					}
					mv.Apply(&v)
					o = v.Outcome
				}
				if o == sim.OutcomeFail {
					t.Fatalf("weights %v phase %d n=%d: FAIL (%s): %s %s", tc.w, phase, n, res.Scheduler, mv.Reason, res.Explanation)
				}
				if o == sim.OutcomePass && firstPass == 0 {
					firstPass = n
				}
				outcomes[o]++
			}
			// Passing must come once whole periods are seen, else the
			// test would be satisfied by a verdict that never decides.
			if firstPass == 0 || firstPass > 2*100+100 {
				t.Errorf("weights %v phase %d: first PASS at n=%d, want by 300", tc.w, phase, firstPass)
			}
			t.Logf("weights %v phase %d: %v, first pass at n=%d", tc.w, phase, outcomes, firstPass)
		}
	}
}

// TestBurstyWrongWeightsFails: blocks of 20/20/60 against 10/10/80 fail
// once whole periods are seen, naming every backend.
func TestBurstyWrongWeightsFails(t *testing.T) {
	cats := catsOf(names3, split101080)
	res, mv := mustJudge(t, blockSeq([]int32{20, 20, 60}, 400, 3), cats, Options{})
	if res.Scheduler != Bursty || res.Period != 100 || !res.PeriodConfirmed {
		t.Fatalf("classified %s period %d (confirmed %v), want bursty period 100", res.Scheduler, res.Period, res.PeriodConfirmed)
	}
	if mv.Outcome != sim.OutcomeFail || len(mv.Failures) != 3 {
		t.Fatalf("outcome %s failures %q, want fail on v1, v2, v3", mv.Outcome, mv.Failures)
	}
}

// TestApply: how a model's verdict replaces the per-request fit.
func TestApply(t *testing.T) {
	cats := catsOf(names3, split101080)
	tests := []struct {
		name string
		seq  []int
		want sim.Outcome
	}{
		// 20 requests in the first two blocks: the fit fails them, the
		// model makes them inconclusive.
		{"bursty short run", blockSeq(split101080, 20, 0), sim.OutcomeInconclusive},
		{"bursty whole periods", blockSeq(split101080, 300, 0), sim.OutcomePass},
		{"smooth exact", pickerSeq(picker.Smooth, split101080, 300, 0, 0), sim.OutcomePass},
		{"smooth wrong weights", pickerSeq(picker.Smooth, []int32{20, 20, 60}, 300, 0, 0), sim.OutcomeFail},
		// A response that fits no category fails whatever the model says.
		{"smooth with an unexpected response", append(pickerSeq(picker.Smooth, split101080, 300, 0, 0), None), sim.OutcomeFail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, mv := mustJudge(t, tc.seq, cats, Options{})
			v, err := sim.Verify(countsFile(tc.seq, cats), sim.Options{})
			if err != nil {
				t.Fatal(err)
			}
			mv.Apply(&v)
			if v.Outcome != tc.want {
				t.Fatalf("outcome %s, want %s (model: %s %s; failures %q)", v.Outcome, tc.want, mv.Outcome, mv.Reason, v.Failures)
			}
		})
	}
}

// TestApplyIndependentLeavesVerdict: for independent draws the counts
// verdict stands untouched.
func TestApplyIndependentLeavesVerdict(t *testing.T) {
	cats := catsOf(names3, split101080)
	seq := pickerSeq(picker.Random, split101080, 1575, 7, 0)
	_, mv := mustJudge(t, seq, cats, Options{})
	if mv.Scheduler != Independent || mv.Outcome != "" {
		t.Fatalf("got %s with outcome %q, want independent with none", mv.Scheduler, mv.Outcome)
	}
	v, err := sim.Verify(countsFile(seq, cats), sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := v.Outcome
	mv.Apply(&v)
	if v.Outcome != before {
		t.Fatalf("outcome changed from %s to %s", before, v.Outcome)
	}
}

// TestReorderTolerance: a smooth order with adjacent requests swapped, as
// concurrency swaps them, is exact only within a tolerance of 1.
func TestReorderTolerance(t *testing.T) {
	cats := catsOf(names3, split101080)
	seq := swapAdjacent(pickerSeq(picker.Smooth, split101080, 1575, 0, 0), 0.3, 1)
	for _, tc := range []struct {
		tol   int
		class Class
		want  sim.Outcome
	}{
		{0, Undetermined, sim.OutcomeInconclusive},
		{1, Deterministic, sim.OutcomePass},
	} {
		res, mv := mustJudge(t, seq, cats, Options{Tolerance: tc.tol})
		if tc.class == Deterministic && res.Period != 10 {
			t.Errorf("tolerance %d: period %d, want 10", tc.tol, res.Period)
		}
		if res.Scheduler != tc.class || mv.Outcome != tc.want {
			t.Errorf("tolerance %d: %s / %s, want %s / %s: %s", tc.tol, res.Scheduler, mv.Outcome, tc.class, tc.want, res.Explanation)
		}
	}
}

func TestInputErrors(t *testing.T) {
	cats := catsOf(names3, split101080)
	tests := []struct {
		name string
		seq  []int
		cats []sim.Category
		opts Options
		want string
	}{
		{"no categories", []int{0}, nil, Options{}, "no categories"},
		{"negative weight", []int{0}, []sim.Category{{Name: "a", Weight: -1}}, Options{}, "categories[0] (a): weight -1 is negative"},
		{"all zero", []int{0}, []sim.Category{{Name: "a"}}, Options{}, "every weight is 0"},
		{"category out of range", []int{0, 3}, cats, Options{}, "request 2: category 3"},
		{"connections length", []int{0, 1}, cats, Options{Conns: []int{1}}, "1 connection numbers for 2 requests"},
		{"negative connection", []int{0}, cats, Options{Conns: []int{-2}}, "request 1: connection -2"},
		{"negative tolerance", []int{0}, cats, Options{Tolerance: -1}, "tolerance -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Classify(tc.seq, tc.cats, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := Judge([]int{0, 0}, cats, Result{Scheduler: Deterministic, N: 2, Period: 3, PeriodConfirmed: true}, Options{}); err == nil {
		t.Error("a period longer than the sequence: no error")
	}
	if _, err := Judge([]int{0, 0}, cats, Result{Scheduler: PerConnection, N: 2}, Options{}); err == nil {
		t.Error("per-connection verdict without connections: no error")
	}
}

// TestOneBackendOnlyFails: a gateway sending every request to v3 is
// undetermined while blocks of a bursty scheduler could explain it, and
// failed by the counts test once they cannot (period beyond MaxPeriod).
func TestOneBackendOnlyFails(t *testing.T) {
	cats := catsOf(names3, split101080)
	for _, tc := range []struct {
		n      int
		class  Class
		want   sim.Outcome
		needed int
	}{
		{200, Undetermined, sim.OutcomeInconclusive, 500}, // 200 v3 at 0.8: period about 250, twice
		{1575, Independent, sim.OutcomeFail, 0},
	} {
		seq := slices.Repeat([]int{2}, tc.n)
		res, mv := mustJudge(t, seq, cats, Options{})
		v, err := sim.Verify(countsFile(seq, cats), sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		mv.Apply(&v)
		if res.Scheduler != tc.class || v.Outcome != tc.want || mv.RequestsNeeded != tc.needed {
			t.Errorf("n=%d: %s, %s, needs %d; want %s, %s, %d: %s", tc.n, res.Scheduler, v.Outcome, mv.RequestsNeeded, tc.class, tc.want, tc.needed, res.Explanation)
		}
	}
}
