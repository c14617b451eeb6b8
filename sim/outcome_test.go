package sim

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
)

// TestCountsOverflow: counts summing past int64 panicked in Verify (v.N += n)
// or allocated a log-factorial table of n+1 floats. They are invalid counts.
func TestCountsOverflow(t *testing.T) {
	cats := []Category{{Name: "a", Weight: 1}, {Name: "b", Weight: 1}}
	tests := []struct {
		name   string
		counts map[string]int64
		want   string
	}{
		{"one count at int64 max", map[string]int64{"a": math.MaxInt64, "b": 1}, `counts["a"] is 9223372036854775807, expected at most 1000000000000`},
		{"sum wraps int64", map[string]int64{"a": math.MaxInt64 / 2, "b": math.MaxInt64/2 + 2}, "expected at most 1000000000000"},
		{"sum past the bound", map[string]int64{"a": MaxObservations, "b": 1}, "counts add up to more than 1000000000000"},
		{"unexpected name past the bound", map[string]int64{"a": 1, "zz": MaxObservations}, "counts add up to more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(CountsFile{Categories: cats, Counts: tt.counts}, Options{})
			if !errors.Is(err, ErrCounts) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrCounts with %q", err, tt.want)
			}
		})
	}
	// At the bound itself the verdict is computed, by the exact test's
	// Monte Carlo branch for a share too small for Pearson: n > 2^24 uses
	// Lgamma instead of a table.
	cf := CountsFile{Categories: []Category{{Name: "a", Weight: 1}, {Name: "b", Weight: 16_000_000}}, Counts: map[string]int64{"a": 3, "b": 50_000_000}}
	v, err := Verify(cf, Options{Test: TestOptions{MonteCarloRuns: 2000}})
	if err != nil || v.Test.Method != MethodMonteCarlo || v.Outcome != OutcomePass {
		t.Fatalf("verdict %s by %s, err %v", v.Outcome, v.Test.Method, err)
	}
}

// TestVerdictOutcomes checks the three outcomes and that Pass mirrors them.
func TestVerdictOutcomes(t *testing.T) {
	// 90% interval of 800/1000: [0.779, 0.820], within ±0.05 of 0.8.
	cf := CountsFile{Categories: []Category{{Name: "a", Weight: 80}, {Name: "b", Weight: 20}}, Counts: map[string]int64{"a": 800, "b": 200}}
	tests := []struct {
		name string
		mod  func(*Verdict)
		want Outcome
	}{
		{"pass", func(*Verdict) {}, OutcomePass},
		{"inconclusive", func(v *Verdict) { v.MarkInconclusive("cap reached", 10, "an estimate") }, OutcomeInconclusive},
		{"failure beats inconclusive", func(v *Verdict) { v.AddFailure("b has weight 0"); v.MarkInconclusive("cap", 1, "") }, OutcomeFail},
		{"failure beats pass", func(v *Verdict) { v.AddFailure("x"); v.MarkPass() }, OutcomeFail},
		{"pass after inconclusive clears the reason", func(v *Verdict) { v.MarkInconclusive("cap", 1, "e"); v.MarkPass() }, OutcomePass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := MustVerify(t, cf)
			tt.mod(&v)
			if v.Outcome != tt.want || v.Pass != (tt.want == OutcomePass) {
				t.Fatalf("outcome %s pass %v, want %s", v.Outcome, v.Pass, tt.want)
			}
			if tt.want == OutcomePass && (v.Inconclusive != "" || v.MoreRequests != 0) {
				t.Fatalf("a pass keeps an inconclusive reason: %+v", v)
			}
		})
	}
	// At n = 100 the fit alone is inconclusive (intervals too wide); a
	// caller's reason replaces its own.
	v := MustVerify(t, CountsFile{Categories: cf.Categories, Counts: map[string]int64{"a": 80, "b": 20}})
	if v.Outcome != OutcomeInconclusive || !strings.Contains(v.Inconclusive, "not verified within ±5.0 percentage points") {
		t.Fatalf("n = 100: %s (%s)", v.Outcome, v.Inconclusive)
	}
	v.MarkInconclusive("sequential test undecided after 100 requests, its cap (--requests)", 830, "an estimate, assuming the shares observed so far hold")
	var table bytes.Buffer
	if err := v.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	MustMatchGolden(t, "inconclusive.table.golden", table.Bytes())
}

// TestSequentialEstimate: the closed-form mixture ratio behind the estimate
// equals the running one, and the estimate is where a run that keeps the
// observed shares decides.
func TestSequentialEstimate(t *testing.T) {
	cfg := SequentialConfig{Shares: []float64{0.1, 0.1, 0.8}, Alpha: 0.001, Delta: 0.05, Beta: 0.1, MaxN: 1 << 30}
	s, err := NewSequential(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.EstimateTotal(); n != 0 {
		t.Fatal("an estimate from no observations")
	}
	p := picker.MustNew(picker.Random, []int32{10, 10, 80}, 42)
	for range 300 {
		if _, err := s.Observe(p.Pick()); err != nil {
			t.Fatal(err)
		}
	}
	obs := make([]float64, 3)
	for i, c := range s.counts {
		obs[i] = float64(c) / 300
	}
	if got := s.logEAt(300, obs); math.Abs(got-s.logE) > 1e-9 {
		t.Fatalf("closed form %v, running %v", got, s.logE)
	}
	total, d := s.EstimateTotal()
	if total <= 300 || d == Continue || (d == Pass && total < s.MinPassN()) {
		t.Fatalf("estimate %d (%s), min pass n %d", total, d, s.MinPassN())
	}
	// With every share exactly at its weight only the pass rule can decide:
	// at the horizon, no sooner than MinPassN (counts just off the weights
	// can pass sooner, see MinPassN).
	exact, _ := NewSequential(cfg)
	for range 10 {
		for _, i := range []int{0, 1, 2, 2, 2, 2, 2, 2, 2, 2} {
			_, _ = exact.Observe(i)
		}
	}
	if et, ed := exact.EstimateTotal(); et != exact.State().Horizon || et < exact.MinPassN() || ed != Pass {
		t.Fatalf("exact shares: estimate %d (%s), min pass n %d", et, ed, exact.MinPassN())
	}
	// A split far off is estimated to fail, and sooner than a correct one passes.
	bad, _ := NewSequential(cfg)
	pb := picker.MustNew(picker.Random, []int32{20, 20, 60}, 42)
	for range 30 {
		_, _ = bad.Observe(pb.Pick())
	}
	if bt, bd := bad.EstimateTotal(); bt == 0 || bd != Fail || bt >= exact.MinPassN() {
		t.Fatalf("estimate for a 20/20/60 split %d (%s)", bt, bd)
	}
}

// TestSimulateCancel: a run of 10^12 picks ignored its context; it now
// stops within milliseconds of cancellation.
func TestSimulateCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Simulate(ctx, SimConfig{Weights: []int32{10, 10, 80}, Mode: picker.Random, N: MaxObservations, Runs: 2, Alpha: 0.001, Workers: 2}, discard())
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}

// TestSimulateLimits: absurd sizes are errors, not allocations.
func TestSimulateLimits(t *testing.T) {
	base := SimConfig{Weights: []int32{1, 2}, Mode: picker.Random, N: 10, Runs: 1, Alpha: 0.1}
	for _, tt := range []struct {
		name string
		mod  func(*SimConfig)
		want string
	}{
		{"n past the bound", func(c *SimConfig) { c.N = MaxObservations + 1 }, "n is 1000000000001"},
		{"negative n", func(c *SimConfig) { c.N = -1 }, "n is -1"},
		{"runs past the bound", func(c *SimConfig) { c.Runs = MaxSimRuns + 1 }, "runs is 10000001"},
		{"negative workers", func(c *SimConfig) { c.Workers = -2 }, "workers is -2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mod(&cfg)
			if _, err := Simulate(context.Background(), cfg, discard()); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

// TestOffAgreesWithVerdict: the table marked a category off under PASS and
// showed a FAIL with every row ok. The off column now comes from the test
// that decides the verdict.
func TestOffAgreesWithVerdict(t *testing.T) {
	cats := []Category{{Name: "a", Weight: 10}, {Name: "b", Weight: 10}, {Name: "c", Weight: 80}}
	tests := []struct {
		name     string
		counts   map[string]int64
		outcome  Outcome
		off      []string
		inside   []bool
		failure  string
		wantNote bool
	}{
		// p = 0.00102 >= alpha, yet a's simultaneous interval excludes 0.1;
		// its certification interval reaches below 0.05, so no PASS either.
		{"no rejection with an interval excluding its weight", map[string]int64{"a": 65, "b": 100, "c": 835}, OutcomeInconclusive, nil, []bool{false, true, true}, "", true},
		// p = 0.00050 < alpha, yet every interval contains its weight.
		{"joint deviation", map[string]int64{"a": 68, "b": 122, "c": 810}, OutcomeFail, nil, []bool{true, true, true}, "joint deviation", false},
		{"categories off", map[string]int64{"a": 150, "b": 100, "c": 750}, OutcomeFail, []string{"a", "c"}, []bool{false, true, false}, "; off: a, c", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := MustVerify(t, CountsFile{Categories: cats, Counts: tt.counts})
			var off []string
			for i, r := range v.Categories {
				if r.Status == StatusOff {
					off = append(off, r.Name)
				}
				if r.Inside != tt.inside[i] {
					t.Errorf("%s inside = %v", r.Name, r.Inside)
				}
			}
			if v.Outcome != tt.outcome || strings.Join(off, ",") != strings.Join(tt.off, ",") {
				t.Fatalf("outcome %s, off %v; want %s, %v (p = %v)", v.Outcome, off, tt.outcome, tt.off, v.Test.PValue)
			}
			if tt.failure != "" && !strings.Contains(strings.Join(v.Failures, ";"), tt.failure) {
				t.Fatalf("failures %q lack %q", v.Failures, tt.failure)
			}
			var table bytes.Buffer
			if err := v.WriteTable(&table); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(table.String(), "so no category is off"); got != tt.wantNote {
				t.Fatalf("note shown %v, want %v:\n%s", got, tt.wantNote, table.String())
			}
			// An inconclusive verdict marks nothing off either.
			v.ClearRejection()
			v.MarkInconclusive("cap", 0, "")
			for _, r := range v.Categories {
				if r.Status == StatusOff {
					t.Fatalf("%s off under INCONCLUSIVE", r.Name)
				}
			}
		})
	}
}
