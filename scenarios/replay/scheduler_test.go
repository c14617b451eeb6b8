package replay

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/sim"
)

// scheduledReport is a finished report of the categories in order, its
// verdict sim.Verify's, as run leaves it before applyScheduler; a
// sequential report carries an undecided sequential test (INCONCLUSIVE at
// its cap), an interrupted one the INCONCLUSIVE verdict run gives it.
func scheduledReport(t *testing.T, order []string, weights []int32, sequential, interrupted bool) *Report {
	t.Helper()
	r := &Report{Scenario: "s", Snippet: "x", Counts: map[string]int64{}, Requests: len(order), Interrupted: interrupted,
		Sequence: sequence.New(time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC), sequence.ConnsTraced)}
	for i, w := range weights {
		r.Expected = append(r.Expected, scenarios.Category{Name: fmt.Sprintf("v%d", i+1), Weight: w})
	}
	for i, c := range order {
		r.Counts[c]++
		r.Sequence.Add(time.Duration(i)*time.Millisecond, time.Duration(i)*time.Millisecond+time.Microsecond, uint64(i+1), 200, c)
	}
	v, err := sim.Verify(r.CountsFile(), sim.Options{Alpha: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	r.Verdict = v
	switch {
	case interrupted:
		r.Verdict.ClearRejection()
		r.Verdict.MarkInconclusive("interrupted", 10, "the rest")
	case sequential:
		r.Sequential = &sim.SequentialState{Decision: sim.Continue}
		r.Verdict.ClearRejection()
		r.Verdict.MarkInconclusive("sequential test undecided at its cap", 100, "an estimate")
	}
	return r
}

// pickOrder is n picks of a refproxy picker, as v1, v2, ...
func pickOrder(mode picker.Mode, w []int32, n int) []string {
	p := picker.MustNew(mode, w, 1)
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("v%d", p.Pick()+1)
	}
	return out
}

// caddyOrder is a Caddy-like weighted round robin's order for 10/10/80.
func caddyOrder(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = []string{"v1", "v2", "v3"}[min((i%100)/10, 2)]
	}
	return out
}

// TestApplyScheduler: the arrival order decides which test a report's
// verdict comes from, for fixed-n, sequential and interrupted replays.
func TestApplyScheduler(t *testing.T) {
	w := []int32{10, 10, 80}
	smooth := pickOrder(picker.Smooth, []int32{10, 10, 80}, 1000)
	random := pickOrder(picker.Random, []int32{10, 10, 80}, 1000)
	tests := []struct {
		name                    string
		order                   []string
		sequential, interrupted bool
		scheduler               string
		outcome                 sim.Outcome
		text                    []string
	}{
		{"smooth: exact", smooth, false, false, "deterministic", sim.OutcomePass,
			[]string{"scheduler: deterministic (period 10, every window holds 1/1/8 (v1/v2/v3)", "the exactness test decides, not the counts test above: exact"}},
		{"random: the counts test stands", random, false, false, "independent", sim.OutcomePass,
			[]string{"scheduler: independent (runs p = ", "1000 connections of one request each", "the counts test decides (independent draws, as it assumes)"}},
		{"20/20/60 smooth: not exact", pickOrder(picker.Smooth, []int32{20, 20, 60}, 1000), false, false, "deterministic", sim.OutcomeFail,
			[]string{"not exact", "- v1: 1 per window of 5, expected 0.5", "- v2: 1 per window of 5", "- v3: 3 per window of 5, expected 4"}},
		{"Caddy blocks, 3 periods", caddyOrder(300), false, false, "bursty", sim.OutcomePass,
			[]string{"scheduler: bursty (", "each of the 3 whole periods of 100 requests holds 10/10/80"}},
		{"Caddy blocks, 1.5 periods", caddyOrder(150), false, false, "bursty", sim.OutcomeInconclusive,
			[]string{"the whole-periods test decides"}},
		// The sequential test assumes independent draws: for another
		// class the model decides from the fixed-n counts verdict.
		{"sequential, smooth: the model decides", smooth[:300], true, false, "deterministic", sim.OutcomePass,
			[]string{"exact: every window of 10 requests holds 1/1/8", "(the sequential test assumes independent draws too)"}},
		{"sequential, random: the sequential test stands", random[:300], true, false, "independent", sim.OutcomeInconclusive,
			[]string{"sequential test undecided at its cap"}},
		{"interrupted, smooth: a partial run decides nothing", smooth[:300], false, true, "deterministic", sim.OutcomeInconclusive,
			[]string{"not applied: the replay was interrupted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := scheduledReport(t, tt.order, w, tt.sequential, tt.interrupted)
			if err := applyScheduler(r); err != nil {
				t.Fatal(err)
			}
			if r.Scheduler == nil || string(r.Scheduler.Scheduler) != tt.scheduler || r.Verdict.Scheduler != tt.scheduler || r.Outcome() != tt.outcome {
				t.Fatalf("scheduler %+v (verdict's %q), outcome %s; want %s, %s; failures %v", r.Scheduler, r.Verdict.Scheduler, r.Outcome(), tt.scheduler, tt.outcome, r.Verdict.Failures)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range append(tt.text, "verdict: "+strings.ToUpper(string(tt.outcome))) {
				if !strings.Contains(text.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, text.String())
				}
			}
		})
	}
}

// TestSchedulerProperties: JUnit carries the class as a property and the
// JSON report the classification and the model's verdict.
func TestSchedulerProperties(t *testing.T) {
	r := scheduledReport(t, pickOrder(picker.Smooth, []int32{10, 10, 80}, 500), []int32{10, 10, 80}, false, false)
	if err := applyScheduler(r); err != nil {
		t.Fatal(err)
	}
	res := &Result{Reports: []*Report{r}}
	var junit, js bytes.Buffer
	if err := WriteJUnit(&junit, res); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<property name="splitproof.scheduler" value="deterministic"></property>`, `<property name="splitproof.scheduler.test" value="exactness"></property>`} {
		if !strings.Contains(junit.String(), want) {
			t.Errorf("JUnit lacks %s:\n%s", want, junit.String())
		}
	}
	for _, want := range []string{`"scheduler": {`, `"scheduler": "deterministic"`, `"model_verdict": {`, `"test": "exactness"`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("JSON lacks %s:\n%s", want, js.String())
		}
	}
}

// perConnectionGateway answers like helloworld behind a gateway that picks
// a backend (seeded random 10/10/80) once per connection and keeps it for
// every request on that connection.
func perConnectionGateway(t *testing.T) *Endpoint {
	t.Helper()
	type backendKey struct{}
	p := picker.MustNew(picker.Random, []int32{10, 10, 80}, 2)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		v := r.Context().Value(backendKey{}).(int)
		fmt.Fprintf(rw, "Hello version: v%d, instance: helloworld-v%d-abc\n", v, v)
	}))
	// The server accepts connections one at a time, so the picks follow
	// the order the replay opens them and the test stays deterministic.
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, backendKey{}, p.Pick()+1)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	return &Endpoint{Name: "per-connection gateway", Env: map[string]string{"INGRESS_GW_ADDRESS": "gw.test"},
		Dial: map[string]string{"gw.test:80": addr, "localhost:8080": addr}}
}

// TestConnectionsPolicy: against a gateway that picks per connection, the
// default (a connection per curl command, like real curl) makes every
// request a draw of its own and the split is verified; reusing one
// keep-alive connection makes the whole run one draw, which the
// per-connection class recognises and leaves INCONCLUSIVE instead of
// failing a correct gateway.
func TestConnectionsPolicy(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	for _, tt := range []struct {
		reuse     bool
		conns     uint32
		scheduler string
		outcome   sim.Outcome
	}{
		{false, 1000, "independent", sim.OutcomePass},
		{true, 1, "per-connection", sim.OutcomeInconclusive},
	} {
		t.Run(fmt.Sprintf("reuse=%v", tt.reuse), func(t *testing.T) {
			rep, err := Run(context.Background(), s, perConnectionGateway(t), Options{Snippet: "port-forward", Requests: 1000, ReuseConnections: tt.reuse})
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Sequence.Conns(); got != tt.conns {
				t.Fatalf("%d connections, want %d", got, tt.conns)
			}
			if rep.Verdict.Scheduler != tt.scheduler || rep.Outcome() != tt.outcome {
				t.Fatalf("scheduler %s, outcome %s (%s %v); want %s, %s", rep.Verdict.Scheduler, rep.Outcome(), rep.Verdict.Inconclusive, rep.Verdict.Failures, tt.scheduler, tt.outcome)
			}
		})
	}
}
