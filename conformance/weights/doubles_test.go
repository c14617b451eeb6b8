package weights

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/splitproof/splitproof/helloworld"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/sim/sched"
)

// A fault is one way a test-double gateway gets weights wrong: it rewrites
// the weights of a rule, or the status an invalid backendRef is answered
// with.
type fault struct {
	name    string
	weights func([]int32) []int32
	// invalidStatus answers the category "500" (an invalid backendRef);
	// 0 keeps 500.
	invalidStatus int
}

// truncatePercent turns weights into whole percentages by truncation and
// gives the remainder to the last backendRef so that they add up to 100,
// as a data plane configured in integer percent might be filled.
func truncatePercent(ws []int32) []int32 {
	var total int64
	for _, w := range ws {
		total += int64(w)
	}
	out := make([]int32, len(ws))
	left := int32(100)
	for i, w := range ws[:len(ws)-1] {
		out[i] = int32(100 * int64(w) / total)
		left -= out[i]
	}
	out[len(ws)-1] = left
	return out
}

// dropSmall drops every backendRef whose share is at most 1 %, as a
// gateway with a minimum share would.
func dropSmall(ws []int32) []int32 {
	var total int64
	for _, w := range ws {
		total += int64(w)
	}
	out := make([]int32, len(ws))
	for i, w := range ws {
		if 100*int64(w) > total {
			out[i] = w
		}
	}
	return out
}

var (
	correct      = fault{name: "correct"}
	truncating   = fault{name: "truncates to whole percent", weights: truncatePercent}
	dropping     = fault{name: "drops a 1 % backend", weights: dropSmall}
	invalidAs503 = fault{name: "answers 503 for an invalid backendRef", invalidStatus: http.StatusServiceUnavailable}
)

// double is a Target whose gateway is an http.Handler in front of
// helloworld handlers: it picks a backendRef of the scenario's rule by
// seeded independent draws over the fault's weights, and answers a status
// category ("500", "503") itself.
type double struct {
	f    fault
	seed uint64
}

func (d double) Modes() []Mode {
	return []Mode{{Name: "double", Scheduler: sched.Independent}}
}

func (d double) Open(_ context.Context, s *scenarios.Scenario, _ Mode) (*replay.Endpoint, func() error, error) {
	cats, err := s.Expected()
	if err != nil {
		return nil, nil, err
	}
	weights := make([]int32, len(cats))
	handlers := make([]http.Handler, len(cats))
	for i, c := range cats {
		weights[i] = c.Weight
		handlers[i] = helloworld.Handler(c.Name, c.Backend+"-double")
		if code, err := strconv.Atoi(c.Name); err == nil {
			if code == http.StatusInternalServerError && d.f.invalidStatus != 0 {
				code = d.f.invalidStatus
			}
			handlers[i] = statusHandler(code)
		}
	}
	if d.f.weights != nil {
		weights = d.f.weights(weights)
	}
	var total int64
	for _, w := range weights {
		total += int64(w)
	}
	if total == 0 {
		return nil, nil, errors.New("the double's weights are all zero")
	}
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(d.seed, uint64(len(cats))))
	gw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		x := rng.Int64N(total)
		mu.Unlock()
		for i, wt := range weights {
			if x < int64(wt) {
				handlers[i].ServeHTTP(w, r)
				return
			}
			x -= int64(wt)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	ep := &replay.Endpoint{
		Name: "double (" + d.f.name + ")",
		Env:  map[string]string{"INGRESS_GW_ADDRESS": "127.0.0.1"},
		Dial: map[string]string{"127.0.0.1:80": ln.Addr().String(), "localhost:8080": ln.Addr().String()},
	}
	return ep, srv.Close, nil
}

func statusHandler(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, http.StatusText(code), code)
	})
}

// TestFaultWeights pins what the faults do to the suite's weights: the
// sixteen-backends weights lose 11.63 pp to truncation, all of it landing
// on the last backendRef (20 % instead of 21/251 = 8.37 %), and 1:99 loses
// its 1 % backend.
func TestFaultWeights(t *testing.T) {
	sixteen := []int32{4, 5, 7, 9, 10, 12, 14, 15, 17, 19, 20, 22, 24, 25, 27, 21}
	got := truncatePercent(sixteen)
	if got[15] != 20 {
		t.Errorf("truncated sixteen: last %d %%, want 20", got[15])
	}
	if shift := 20 - 100*21.0/251; shift <= 100*0.05 {
		t.Errorf("truncation shifts the last share by %.2f pp, not more than δ", shift)
	}
	if got := dropSmall([]int32{1, 99}); got[0] != 0 || got[1] != 99 {
		t.Errorf("dropSmall(1, 99) = %v", got)
	}
	if got := truncatePercent([]int32{1, 99}); got[0] != 1 {
		t.Errorf("truncation must keep 1:99 (so only the dropping double breaks it): %v", got)
	}
}

// served is the split a double with fault f serves for c, as shares of
// each category, and whether its invalid backendRef gets another status.
func served(t *testing.T, f fault, c Case) ([]float64, bool) {
	t.Helper()
	cats, err := c.Scenario.Expected()
	if err != nil {
		t.Fatal(err)
	}
	ws := make([]int32, len(cats))
	invalid := false
	for i, cat := range cats {
		ws[i] = cat.Weight
		invalid = invalid || (cat.Name == "500" && f.invalidStatus != 0)
	}
	if f.weights != nil {
		ws = f.weights(ws)
	}
	return shares(ws), invalid
}

func shares(ws []int32) []float64 {
	var total float64
	for _, w := range ws {
		total += float64(w)
	}
	out := make([]float64, len(ws))
	for i, w := range ws {
		out[i] = float64(w) / total
	}
	return out
}

// faults are the wrong doubles: which split cases each must fail (the
// only ones whose served split or statuses it changes, see
// TestFaultsChangeExactlyTheseCases), the category a failure must name,
// and a case on the edge of the fault that must still pass.
var faults = []struct {
	f        fault
	failing  string
	mentions string
	control  string
}{
	// 1/1/2 truncates to 25/25/50 exactly: the same split.
	{truncating, "sixteen-backends", "v16", "default-weight"},
	// 4/251 = 1.59 % is above the 1 % floor: kept.
	{dropping, "skewed-1-99", "v1", "sixteen-backends"},
	// no-endpoints expects 503 for its own share: unchanged.
	{invalidAs503, "invalid-backendref", "503", "no-endpoints"},
}

// TestFaultsChangeExactlyTheseCases: over every split case of the suite, a
// fault changes the served split (or the invalid backendRef's status) of
// its failing case and of no other. With TestDoublesFail this asserts that
// exactly those cases fail: a case whose served split is unchanged is the
// correct gateway's case, which TestEmbeddedSuite and the controls pass.
func TestFaultsChangeExactlyTheseCases(t *testing.T) {
	suite := MustDefault(t)
	for _, tt := range faults {
		for _, c := range suite {
			if c.Expect != ExpectPass {
				continue
			}
			orig, _ := served(t, correct, c)
			got, invalid := served(t, tt.f, c)
			changed := invalid
			for i := range orig {
				changed = changed || math.Abs(orig[i]-got[i]) > 1e-12
			}
			if want := c.Name == tt.failing; changed != want {
				t.Errorf("%s on %s: served split changed = %v, want %v (%v → %v)", tt.f.name, c.Name, changed, want, orig, got)
			}
		}
	}
}

// TestDoublesFail runs each wrong double on the case it breaks and on a
// control at the fault's edge: the first fails naming the category at
// fault, the control passes, so the FAIL is the fault's doing.
func TestDoublesFail(t *testing.T) {
	byName := map[string]Case{}
	for _, c := range MustDefault(t) {
		byName[c.Name] = c
	}
	for i, tt := range faults {
		t.Run(tt.f.name, func(t *testing.T) {
			t.Parallel()
			bad, control := byName[tt.failing], byName[tt.control]
			bad.Expect = ExpectFail
			rs := Run(context.Background(), double{f: tt.f, seed: uint64(i + 1)}, Suite{bad, control})
			if len(rs) != 2 {
				t.Fatalf("%d results for 2 cases", len(rs))
			}
			for _, r := range rs {
				if !r.AsExpected {
					t.Errorf("%s: observed %s, expected %s (%v %s)", r.Case, r.Observed, r.Expect, r.Failures, r.Err)
				}
			}
			if f := strings.Join(rs[0].Failures, "\n"); !strings.Contains(f, tt.mentions) {
				t.Errorf("%s: failures do not name %s: %q", rs[0].Case, tt.mentions, f)
			}
			if t.Failed() {
				var b strings.Builder
				_ = WriteTable(&b, rs)
				t.Log("\n" + b.String())
			}
		})
	}
}
