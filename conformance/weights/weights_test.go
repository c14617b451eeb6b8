package weights

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/sim/sched"
)

// MustDefault returns the default suite or fails the test.
func MustDefault(t *testing.T) Suite {
	t.Helper()
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEmbeddedSuite runs the whole suite on refproxy, both pick modes:
// every case is as expected, smooth mode is decided by the exactness test,
// and the weight-0 bound and the all-zero status are reported.
func TestEmbeddedSuite(t *testing.T) {
	for _, c := range MustDefault(t) {
		t.Run(c.Name, func(t *testing.T) {
			// Each case has its own targets: the cases may run side by side.
			t.Parallel()
			rs := Run(context.Background(), Embedded{Seed: 7}, Suite{c})
			if len(rs) != 2 {
				t.Fatalf("got %d results, want one per mode", len(rs))
			}
			checkEmbedded(t, rs)
		})
	}
}

func checkEmbedded(t *testing.T, rs []Result) {
	t.Helper()
	defer func() {
		if t.Failed() {
			var table strings.Builder
			_ = WriteTable(&table, rs)
			t.Log("\n" + table.String())
		}
	}()
	for _, r := range rs {
		if !r.AsExpected {
			t.Errorf("%s (%s): observed %s, expected %s: %v %s", r.Case, r.Mode, r.Observed, r.Expect, r.Failures, r.Err)
		}
		if r.Mode == "smooth" && r.Case != "all-zero" && (r.Scheduler != string(sched.Deterministic) || r.Test != sched.TestExactness) {
			t.Errorf("%s (smooth): order %s decided by %s, want deterministic by exactness", r.Case, r.Scheduler, r.Test)
		}
		switch r.Case {
		case "weight-zero":
			if !hasNote(r, "weight-0 share (v3) < ") || !hasNote(r, "at 95 % after") {
				t.Errorf("weight-zero (%s): no upper bound in %q", r.Mode, r.Notes)
			}
		case "all-zero":
			if r.Observed != "statuses" || r.Counts["HTTP 500"] != ProbeRequests {
				t.Errorf("all-zero (%s): %s %v, want every request answered 500 (refproxy's default)", r.Mode, r.Observed, r.Counts)
			}
		case "invalid-backendref":
			if r.Counts["500"] == 0 {
				t.Errorf("invalid-backendref (%s): no 500 in %v", r.Mode, r.Counts)
			}
		case "no-endpoints":
			if r.Counts["503"] == 0 {
				t.Errorf("no-endpoints (%s): no 503 in %v", r.Mode, r.Counts)
			}
		}
	}
}

// TestAllZeroStatusReported: refproxy configured to answer 503 is
// reported as 503, still spec-ambiguous and as expected.
func TestAllZeroStatusReported(t *testing.T) {
	az, err := AllZero()
	if err != nil {
		t.Fatal(err)
	}
	rs := Run(context.Background(), Embedded{AllZeroStatus: 503}, Suite{{Name: "all-zero", Scenario: az, Expect: ExpectAmbiguous}})
	for _, r := range rs {
		if !r.AsExpected || r.Counts["HTTP 503"] != ProbeRequests || !hasNote(r, "answered HTTP 503 ×50") {
			t.Errorf("%s: %v %v %q", r.Mode, r.AsExpected, r.Counts, r.Notes)
		}
	}
}

func hasNote(r Result, sub string) bool {
	for _, n := range r.Notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

// TestZeroShareBound: with no hit the bound is 1 − 0.05^(1/k), about 3/k
// for large k (−ln 0.05 = 3.0).
func TestZeroShareBound(t *testing.T) {
	for _, k := range []int64{100, 795, 5000} {
		got := ZeroShareBound(0, k)
		want := 1 - math.Pow(0.05, 1/float64(k))
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("k=%d: bound %v, want %v", k, got, want)
		}
		if r := got * float64(k); r < 2.9 || r > 3.1 {
			t.Errorf("k=%d: bound×k = %v, want about 3", k, r)
		}
	}
	if ZeroShareBound(3, 100) <= ZeroShareBound(0, 100) {
		t.Error("hits on the weight-0 backend must raise the bound")
	}
}

// brokenTarget cannot open any gateway.
type brokenTarget struct{}

func (brokenTarget) Modes() []Mode { return []Mode{{Name: "broken"}} }
func (brokenTarget) Open(context.Context, *scenarios.Scenario, Mode) (*replay.Endpoint, func() error, error) {
	return nil, nil, errors.New("no gateway here")
}

// TestRunReportsErrors: a case that cannot run is an error result, not as
// expected, and the next case still runs.
func TestRunReportsErrors(t *testing.T) {
	suite := MustDefault(t)[:2]
	rs := Run(context.Background(), brokenTarget{}, suite)
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2", len(rs))
	}
	for _, r := range rs {
		if r.AsExpected || r.Observed != "error" || !strings.Contains(r.Err, "no gateway here") || !strings.Contains(r.Err, r.Case) {
			t.Errorf("%+v", r)
		}
	}
	if got := len(Failed(rs)); got != 2 {
		t.Errorf("Failed: %d, want 2", got)
	}
}
