package weights

import (
	"context"
	"testing"

	"github.com/splitproof/splitproof/sim"
	"github.com/splitproof/splitproof/sim/sched"
)

// TestConnCases: refproxy passes over every connection policy with an
// independent order; the per-connection double is caught over one
// keep-alive connection and over h2c (a per-connection order, not PASS)
// and passes over new connections.
func TestConnCases(t *testing.T) {
	rs := RunConnCases(context.Background(), ConnOptions{Seed: 1})
	if len(rs) != 6 {
		t.Fatalf("%d results, want 6: %+v", len(rs), rs)
	}
	for _, r := range rs {
		t.Logf("%s / %s: %s, order %s, %d requests %v, %s", r.Scenario, r.Mode, r.Observed, r.Scheduler, r.Requests, r.Counts, r.Wall)
		if r.Err != "" {
			t.Fatalf("%s / %s: %s", r.Scenario, r.Mode, r.Err)
		}
		if !r.AsExpected {
			t.Errorf("%s / %s: not as expected: %s, order %s, failures %v", r.Scenario, r.Mode, r.Observed, r.Scheduler, r.Failures)
		}
		double := r.Scenario == "per-connection double"
		switch {
		case !double:
			if r.Observed != string(sim.OutcomePass) || r.Scheduler != string(sched.Independent) {
				t.Errorf("refproxy over %s: %s with order %s, want pass and independent", r.Mode, r.Observed, r.Scheduler)
			}
		case r.Mode == string(NewConn):
			if r.Observed != string(sim.OutcomePass) {
				t.Errorf("double over new connections: %s, want pass (one draw per request)", r.Observed)
			}
		default:
			if r.Observed == string(sim.OutcomePass) || r.Scheduler != string(sched.PerConnection) {
				t.Errorf("double over %s: %s with order %s, want not pass and per-connection", r.Mode, r.Observed, r.Scheduler)
			}
		}
	}
}
