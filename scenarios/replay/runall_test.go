package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/sim"
)

// countingFactory opens ep for every scenario and counts opens and closes.
type countingFactory struct {
	ep             *Endpoint
	applier        Applier
	opened, closed atomic.Int32
	// failOn makes Open fail for the scenario of that name.
	failOn string
	// beforeOpen runs first in Open (to cancel the run during start-up).
	beforeOpen func()
}

func (f *countingFactory) factory() TargetFactory {
	return TargetFactory{Kind: "test", Open: func(_ context.Context, s *scenarios.Scenario) (*Target, error) {
		if f.beforeOpen != nil {
			f.beforeOpen()
		}
		if s.Name == f.failOn {
			return nil, errors.New("port already in use")
		}
		f.opened.Add(1)
		return &Target{Endpoint: f.ep, Applier: f.applier, Closer: closerFunc(func() error { f.closed.Add(1); return nil })}, nil
	}}
}

type closerFunc func() error

func (c closerFunc) Close() error { return c() }

// TestRunAllErrors: a run that cannot go on returns an error naming why,
// keeps the reports made before it, and closes every target it opened.
func TestRunAllErrors(t *testing.T) {
	ex1, llm, ramp := mustScenario(t, "example1-ab-testing"), mustScenario(t, "example2-llm"), mustScenario(t, "canary-ramp")
	tests := []struct {
		name      string
		scenarios []*scenarios.Scenario
		snippet   string
		failOn    string
		reports   int
		want      string
		wantIs    error
	}{
		{"target does not start", []*scenarios.Scenario{ex1, llm}, "port-forward", "example2-llm", 1,
			"start the test target for example2-llm: port already in use", nil},
		{"snippet missing", []*scenarios.Scenario{ex1}, "nope", "", 0, `scenario example1-ab-testing has no snippet "nope": expected one of external-address, port-forward`, nil},
		{"stepped scenario on a target that cannot apply", []*scenarios.Scenario{ex1, ramp}, "port-forward", "", 1,
			"scenario canary-ramp changes its route between steps; only the embedded target can apply manifests", ErrCannotApply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &countingFactory{ep: fakeGateway(t, []int32{10, 10, 80}), failOn: tt.failOn}
			res, err := RunAll(context.Background(), Config{
				Scenarios: tt.scenarios, Snippet: tt.snippet, Target: f.factory(), Options: Options{Requests: 200},
			})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("error %v does not wrap %v", err, tt.wantIs)
			}
			if res == nil || len(res.Reports) != tt.reports {
				t.Fatalf("result %+v, want %d reports", res, tt.reports)
			}
			if f.opened.Load() != f.closed.Load() {
				t.Fatalf("%d targets opened, %d closed", f.opened.Load(), f.closed.Load())
			}
		})
	}
}

// TestRunAllInterrupted: a signal between replays or during a target's
// start-up ends the run without an error, INCONCLUSIVE even when everything
// that ran passed, and no later target is opened.
func TestRunAllInterrupted(t *testing.T) {
	ex1, ramp := mustScenario(t, "example1-ab-testing"), mustScenario(t, "canary-ramp")
	tests := []struct {
		name    string
		snippet string
		// cancelAfterReport cancels once a report was made; cancelOnOpen
		// cancels inside the nth Open (from 1), which then fails as a
		// start-up the signal broke would.
		cancelAfterReport bool
		cancelOnOpen      int
		opened, reports   int
	}{
		{"between scenarios", "port-forward", true, 0, 1, 1},
		{"between snippets", "", true, 0, 1, 1},
		{"during a later start-up", "port-forward", false, 2, 1, 1},
		{"during the first start-up", "", false, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := &countingFactory{ep: fakeGateway(t, []int32{10, 10, 80})}
			opens := 0
			f.beforeOpen = func() {
				if opens++; opens == tt.cancelOnOpen {
					cancel()
					f.failOn = ex1.Name
				}
			}
			cfg := Config{Scenarios: []*scenarios.Scenario{ex1, ex1, ramp}, Snippet: tt.snippet, Target: f.factory(), Options: Options{Requests: 200}}
			cfg.OnReport = func(*Report) error {
				if tt.cancelAfterReport {
					cancel()
				}
				return nil
			}
			res, err := RunAll(ctx, cfg)
			if err != nil {
				t.Fatalf("error %v, want none", err)
			}
			if !res.StoppedEarly || res.Outcome != sim.OutcomeInconclusive || len(res.Reports) != tt.reports || int(f.opened.Load()) != tt.opened {
				t.Fatalf("stopped early %v, outcome %s, %d reports, %d targets opened; want true, inconclusive, %d, %d",
					res.StoppedEarly, res.Outcome, len(res.Reports), f.opened.Load(), tt.reports, tt.opened)
			}
			// The run's rate covers the verdicts planned, of which fewer were made.
			if line := fmt.Sprintf("run: %d of %d planned verdicts, false-failure rate of the run ≤ 0.001", tt.reports, countVerdicts(cfg)); res.Run.Made != tt.reports || !strings.HasPrefix(res.Run.Line, line) {
				t.Fatalf("run line %q, want it to start with %q", res.Run.Line, line)
			}
			want := fmt.Sprintf("interrupted: %d replays ran, the rest did not start", tt.reports)
			if reason := res.Reason(); reason == nil || reason.Error() != want {
				t.Fatalf("reason %v, want %q", reason, want)
			}
			if f.opened.Load() != f.closed.Load() {
				t.Fatalf("%d targets opened, %d closed", f.opened.Load(), f.closed.Load())
			}
		})
	}
}

// rampGateway serves canary-ramp's v3/v4 with the split of the last step
// applied; its Apply is what the embedded target's reload does.
type rampGateway struct {
	p       atomic.Pointer[picker.Picker]
	applied []int
}

func (g *rampGateway) Apply(_ context.Context, step int) error {
	// route-10, route-50, route-100: the canary's share after each step.
	canary := []int32{10, 50, 100}[step]
	// Independent draws (seeded): a smooth picker's regular order, mixed
	// with the background loop's, fits no scheduler model, and such a
	// verdict is INCONCLUSIVE.
	p := picker.MustNew(picker.Random, []int32{100 - canary, canary}, uint64(step)+1)
	g.p.Store(&p)
	g.applied = append(g.applied, step)
	return nil
}

// TestRunAllSteps: a stepped scenario runs step by step on a target that
// can apply manifests, one report a step, each verified against its step's
// weights.
func TestRunAllSteps(t *testing.T) {
	g := &rampGateway{}
	p := picker.MustNew(picker.Smooth, []int32{100, 0}, 0)
	g.p.Store(&p)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(rw, "Hello version: v%d, instance: x\n", (*g.p.Load()).Pick()+3)
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	f := &countingFactory{ep: &Endpoint{Name: "ramp", Env: map[string]string{}, Dial: map[string]string{"localhost:8080": addr}}, applier: g}
	res, err := RunAll(context.Background(), Config{
		Scenarios: []*scenarios.Scenario{mustScenario(t, "canary-ramp")}, Target: f.factory(),
		// A wide Delta: 300 requests then verify each step within ±20
		// points; power 0.8 makes the false-pass rate 0.2.
		Options: Options{Requests: 300, Delta: 0.2, PowerTarget: 0.8}, Fixed: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(g.applied) != "[0 1 2]" {
		t.Fatalf("steps applied %v, want [0 1 2]", g.applied)
	}
	var steps []string
	for _, r := range res.Reports {
		steps = append(steps, r.Step+"="+string(r.Outcome())+" "+fmt.Sprint(r.Counts))
	}
	if got := strings.Join(steps, "; "); !strings.Contains(got, "canary-10=pass") || !strings.Contains(got, "canary-50=pass") || !strings.Contains(got, "canary-100=pass") || len(steps) != 3 || res.Outcome != sim.OutcomePass || res.Passed != 3 {
		t.Fatalf("steps %s, outcome %s, %d passed", got, res.Outcome, res.Passed)
	}
	// The run's Delta and power target reach every verdict: each PASS
	// verifies within ±20 points, at confidence 1 - (1 - 0.8).
	for _, r := range res.Reports {
		var text strings.Builder
		if err := r.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if r.Verdict.Delta != 0.2 || math.Abs(r.Verdict.Beta-0.2) > 1e-12 || !strings.Contains(text.String(), "verdict: PASS (verified within ±20.0 percentage points: every share within ±0.2 of its weight, confidence ≥ 0.8)") {
			t.Fatalf("step %s: delta %g, beta %g:\n%s", r.Step, r.Verdict.Delta, r.Verdict.Beta, text.String())
		}
	}
}

// TestRunAllRunLevel: one false-failure rate for the run. RunAll counts
// the verdicts it will make (scenarios × snippets × steps), plans and
// decides each at alpha over their number, and ends with Holm over the
// fixed-n verdicts of independent draws or Bonferroni for sequential ones.
func TestRunAllRunLevel(t *testing.T) {
	ex1, ramp := mustScenario(t, "example1-ab-testing"), mustScenario(t, "canary-ramp")
	if n := countVerdicts(Config{Scenarios: []*scenarios.Scenario{ex1, ramp}}); n != 2+len(ramp.Snippets)*3 {
		t.Fatalf("%d verdicts counted for example1 and the ramp, want 2 + %d×3", n, len(ramp.Snippets))
	}
	if n := countVerdicts(Config{Scenarios: []*scenarios.Scenario{ex1, ramp}, Snippet: "port-forward"}); n != 1+3 {
		t.Fatalf("%d verdicts counted with one snippet, want 4", n)
	}
	// At alpha 0.005 and n = 2000 Pearson's chi-square is within 10% of its
	// level, so it decides, and the bound is nominal.
	const nominal = "nominal: a Pearson chi-square decided a fixed-n verdict, its exact rate checked to lie within 10% of its level"
	tests := []struct {
		name    string
		fixed   bool
		weights []int32
		outcome sim.Outcome
		holm    int
		line    string
	}{
		{"fixed-n: Holm", true, []int32{10, 10, 80}, sim.OutcomePass, 2,
			"run: 2 verdicts, false-failure rate of the run ≤ 0.01 (each verdict at 0.005; Holm over the 2 fixed-n ones; " + nominal + ")"},
		{"fixed-n wrong split: Holm fails both", true, []int32{20, 20, 60}, sim.OutcomeFail, 2,
			"run: 2 verdicts, false-failure rate of the run ≤ 0.01 (each verdict at 0.005; Holm over the 2 fixed-n ones; " + nominal + ")"},
		{"sequential: Bonferroni", false, []int32{10, 10, 80}, sim.OutcomePass, 0,
			"run: 2 verdicts, false-failure rate of the run ≤ 0.01 (each verdict at 0.005; Bonferroni for the 2 sequential ones, whose final p-value is not valid under optional stopping)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &countingFactory{ep: randomGateway(t, tt.weights, 3)}
			res, err := RunAll(context.Background(), Config{
				Scenarios: []*scenarios.Scenario{ex1}, Target: f.factory(), Fixed: tt.fixed,
				Options: Options{Requests: 2000, Alpha: 0.01},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.outcome || res.Run.Holm != tt.holm || res.Run.Line != tt.line {
				t.Fatalf("outcome %s, Holm over %d, line %q; want %s, %d, %q", res.Outcome, res.Run.Holm, res.Run.Line, tt.outcome, tt.holm, tt.line)
			}
			for _, r := range res.Reports {
				if r.Verdict.Alpha != 0.005 || (r.Sequential != nil) == tt.fixed || r.Run == nil || r.Run.Share != 0.005 {
					t.Fatalf("%s: verdict alpha %g, sequential %v, run %+v; want 0.005 and sequential %v", r.label(), r.Verdict.Alpha, r.Sequential != nil, r.Run, !tt.fixed)
				}
				if tt.fixed && (r.Verdict.Run == nil || r.Verdict.Run.Verdicts != 2 || r.Run.Correction != CorrectionHolm) {
					t.Fatalf("%s: a fixed-n verdict of independent draws without Holm: %+v, %+v", r.label(), r.Verdict.Run, r.Run)
				}
				if !tt.fixed && (r.Verdict.Run != nil || r.Run.Correction != CorrectionBonferroni) {
					t.Fatalf("%s: a sequential verdict went through Holm: %+v, %+v", r.label(), r.Verdict.Run, r.Run)
				}
			}
		})
	}
}

// TestHolmTurnsAVerdictIntoFail: a p-value between the verdict's own
// alpha/m and its Holm threshold fails only at the end of the run, which is
// why reports are final only after finish.
func TestHolmTurnsAVerdictIntoFail(t *testing.T) {
	verdict := func(p float64) *Report {
		return &Report{Scenario: "s", Snippet: "x", Verdict: sim.Verdict{Outcome: sim.OutcomePass, Pass: true, Alpha: 0.0005, Test: sim.GOF{PValue: p}, Failures: []string{}}}
	}
	// Holm at 0.001 over two: 0.0001 < 0.0005 rejects, then 0.0008 < 0.001.
	res := &Result{Reports: []*Report{verdict(0.0001), verdict(0.0008)}, Run: &RunSummary{Alpha: 0.001, Planned: 2, VerdictAlpha: 0.0005}}
	if err := finish(res); err != nil {
		t.Fatal(err)
	}
	if res.Failed != 2 || res.Outcome != sim.OutcomeFail || !strings.Contains(strings.Join(res.Reports[1].Verdict.Failures, ""), "its Holm threshold") {
		t.Fatalf("%d failed, outcome %s, failures %v", res.Failed, res.Outcome, res.Reports[1].Verdict.Failures)
	}
	// A sequential verdict with the same p-value stays as its test decided.
	seq := verdict(0.0008)
	seq.Sequential = &sim.SequentialState{Decision: sim.Pass}
	res = &Result{Reports: []*Report{verdict(0.0001), seq}, Run: &RunSummary{Alpha: 0.001, Planned: 2, VerdictAlpha: 0.0005}}
	if err := finish(res); err != nil {
		t.Fatal(err)
	}
	if res.Failed != 1 || res.Passed != 1 || seq.Run.Correction != CorrectionBonferroni || res.Run.Holm != 1 {
		t.Fatalf("%d failed, %d passed, sequential %+v, Holm over %d", res.Failed, res.Passed, seq.Run, res.Run.Holm)
	}
}

// TestRunAllOnReportError: OnReport's error ends the run and comes back as
// it is, so the caller can tell its own write errors from the run's.
func TestRunAllOnReportError(t *testing.T) {
	f := &countingFactory{ep: fakeGateway(t, []int32{10, 10, 80})}
	stdout := errors.New("stdout closed")
	res, err := RunAll(context.Background(), Config{
		Scenarios: []*scenarios.Scenario{mustScenario(t, "example1-ab-testing")}, Target: f.factory(), Options: Options{Requests: 200},
		OnReport: func(*Report) error { return stdout },
	})
	if err != stdout || len(res.Reports) != 1 || f.closed.Load() != 1 {
		t.Fatalf("error %v, %d reports, %d closed; want the OnReport error after 1 report, target closed", err, len(res.Reports), f.closed.Load())
	}
}

// TestOutcomePrecedence: FAIL beats INCONCLUSIVE beats PASS, and a run cut
// short is never a PASS.
func TestOutcomePrecedence(t *testing.T) {
	rep := func(o sim.Outcome) *Report {
		return &Report{Scenario: "s", Snippet: "x", Requests: 7, Verdict: sim.Verdict{Outcome: o}}
	}
	pass, fail, undecided := rep(sim.OutcomePass), rep(sim.OutcomeFail), rep(sim.OutcomeInconclusive)
	cut := rep(sim.OutcomeInconclusive)
	cut.Interrupted = true
	interrupted := fmt.Errorf("%w: s/x: interrupted before any response", ErrInterrupted)
	tests := []struct {
		name         string
		reports      []*Report
		interrupted  error
		stoppedEarly bool
		want         sim.Outcome
		counts       [3]int
		reason       string
	}{
		{"nothing ran", nil, nil, false, sim.OutcomePass, [3]int{0, 0, 0}, ""},
		{"all pass", []*Report{pass, pass}, nil, false, sim.OutcomePass, [3]int{2, 0, 0}, ""},
		{"inconclusive beats pass", []*Report{pass, undecided}, nil, false, sim.OutcomeInconclusive, [3]int{1, 0, 1},
			"1 of 2 replays could not decide (INCONCLUSIVE): neither a pass nor a wrong split"},
		{"fail beats inconclusive", []*Report{undecided, fail, pass}, nil, false, sim.OutcomeFail, [3]int{1, 1, 1},
			"1 of 3 replays found a split that differs from the weights"},
		{"fail beats an interruption", []*Report{fail}, interrupted, true, sim.OutcomeFail, [3]int{0, 1, 1},
			"1 of 2 replays found a split that differs from the weights"},
		{"interrupted before any response", []*Report{pass}, interrupted, false, sim.OutcomeInconclusive, [3]int{1, 0, 1},
			interrupted.Error()},
		{"stopped between replays", []*Report{pass}, nil, true, sim.OutcomeInconclusive, [3]int{1, 0, 0},
			"interrupted: 1 replays ran, the rest did not start"},
		{"interrupted mid-replay", []*Report{pass, cut}, nil, false, sim.OutcomeInconclusive, [3]int{1, 0, 1},
			"interrupted after 7 requests of s/x: INCONCLUSIVE, a partial run is neither a pass nor a fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &Result{Reports: tt.reports, Interrupted: tt.interrupted, StoppedEarly: tt.stoppedEarly}
			if err := finish(res); err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.want || [3]int{res.Passed, res.Failed, res.Inconclusive} != tt.counts {
				t.Fatalf("outcome %s, counts %d/%d/%d; want %s, %v", res.Outcome, res.Passed, res.Failed, res.Inconclusive, tt.want, tt.counts)
			}
			reason := ""
			if err := res.Reason(); err != nil {
				reason = err.Error()
			}
			if reason != tt.reason {
				t.Fatalf("reason %q, want %q", reason, tt.reason)
			}
		})
	}
}

// TestWriteFiles: JUnit, one plot per replay named after it, and counts
// files that read back.
func TestWriteFiles(t *testing.T) {
	f := &countingFactory{ep: fakeGateway(t, []int32{10, 10, 80})}
	res, err := RunAll(context.Background(), Config{
		Scenarios: []*scenarios.Scenario{mustScenario(t, "example1-ab-testing")}, Target: f.factory(), Options: Options{Requests: 200},
	})
	if err != nil || len(res.Reports) != 2 {
		t.Fatalf("run: %v, %d reports", err, len(res.Reports))
	}
	dir := t.TempDir()
	files := Files{JUnit: filepath.Join(dir, "j", "junit.xml"), Plot: filepath.Join(dir, "p", "split.png"), CountsDir: filepath.Join(dir, "c")}
	if err := WriteFiles(res, files); err != nil {
		t.Fatal(err)
	}
	junit, err := os.ReadFile(files.JUnit)
	if err != nil || !bytes.Contains(junit, []byte(`tests="2" failures="0"`)) {
		t.Fatalf("junit: %v\n%s", err, junit)
	}
	for _, r := range res.Reports {
		png, err := os.ReadFile(filepath.Join(dir, "p", "split-example1-ab-testing-"+r.Snippet+".png"))
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Fatalf("plot of %s: %v", r.Snippet, err)
		}
		counts, err := os.ReadFile(filepath.Join(files.CountsDir, "example1-ab-testing-"+r.Snippet+".json"))
		if err != nil || !bytes.Contains(counts, []byte(`"sequence"`)) {
			t.Fatalf("counts of %s: %v\n%s", r.Snippet, err, counts)
		}
	}
	// A path that cannot be created names the file.
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(res, Files{JUnit: filepath.Join(blocker, "junit.xml")}); err == nil || !strings.Contains(err.Error(), blocker) {
		t.Fatalf("junit under a file: %v, want an error naming %s", err, blocker)
	}
}
