package replay

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/sim"
)

// countingGateway is randomGateway (seeded independent draws) that also
// counts the requests it answered and the most it had in flight at once,
// each request held for hold.
type countingGateway struct {
	served, inFlight, maxInFlight atomic.Int64
}

func (g *countingGateway) endpoint(t *testing.T, w []int32, seed uint64, hold time.Duration) *Endpoint {
	t.Helper()
	var mu sync.Mutex // the picker's draws in the order requests arrive
	p := picker.MustNew(picker.Random, w, seed)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		now := g.inFlight.Add(1)
		defer g.inFlight.Add(-1)
		for m := g.maxInFlight.Load(); now > m && !g.maxInFlight.CompareAndSwap(m, now); m = g.maxInFlight.Load() {
		}
		time.Sleep(hold)
		mu.Lock()
		v := p.Pick() + 1
		mu.Unlock()
		g.served.Add(1)
		fmt.Fprintf(rw, "Hello version: v%d, instance: x\n", v)
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	return &Endpoint{Name: "counting gateway", Env: map[string]string{}, Dial: map[string]string{"localhost:8080": addr}}
}

// checkAccounting asserts what every report must hold, whatever the
// number of workers: the counts add up to Requests, the sequence has one
// request per iteration, and no more than planned were made.
func checkAccounting(t *testing.T, rep *Report) {
	t.Helper()
	var sum int64
	for _, c := range rep.Counts {
		sum += c
	}
	if sum != int64(rep.Requests) || rep.Sequence.Len() != rep.Requests || rep.Requests > rep.Planned {
		t.Fatalf("counts add up to %d, sequence holds %d, for %d requests of %d planned", sum, rep.Sequence.Len(), rep.Requests, rep.Planned)
	}
}

// TestConcurrencyFixed: a fixed-n replay with 8 workers makes exactly the
// planned requests — shares of 1001 that are not all equal — and never
// more than 8 at once; with one worker never more than one.
func TestConcurrencyFixed(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	for _, workers := range []int{1, 8} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			var g countingGateway
			ep := g.endpoint(t, []int32{10, 10, 80}, 7, 200*time.Microsecond)
			rep, err := Run(context.Background(), s, ep, Options{Snippet: "port-forward", Requests: 1001, Concurrency: workers})
			if err != nil {
				t.Fatal(err)
			}
			checkAccounting(t, rep)
			if rep.Requests != 1001 || g.served.Load() != 1001 || !rep.Pass() {
				t.Fatalf("%d requests, %d served, %s; want 1001 and PASS", rep.Requests, g.served.Load(), rep.Outcome())
			}
			// One connection per curl command whatever the workers.
			if c := rep.Sequence.Conns(); c != 1001 {
				t.Fatalf("%d connections, want one per request", c)
			}
			if m := g.maxInFlight.Load(); m > int64(workers) || (workers > 1 && m < 2) {
				t.Fatalf("at most %d requests in flight with %d workers", m, workers)
			}
		})
	}
}

// TestConcurrencySequential: the sequential test with 8 workers stops
// every worker when it decides, keeps exactly the requests it decided on
// (answers still arriving are discarded), and holds its cap.
func TestConcurrencySequential(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	t.Run("decides", func(t *testing.T) {
		var g countingGateway
		rep, err := Run(context.Background(), s, g.endpoint(t, []int32{10, 10, 80}, 3, 0), Options{Snippet: "port-forward", Sequential: true, Concurrency: 8})
		if err != nil {
			t.Fatal(err)
		}
		checkAccounting(t, rep)
		if rep.Sequential == nil {
			t.Fatal("no sequential state in a sequential replay")
		}
		if !rep.Pass() || int64(rep.Requests) != rep.Sequential.N {
			t.Fatalf("%s after %d requests (sequential test decided at %d); want PASS on exactly its requests", rep.Outcome(), rep.Requests, rep.Sequential.N)
		}
		// Every worker stopped: beyond the decision at most the 8
		// iterations buffered for delivery and one more per worker
		// (waiting to hand it over, or in flight) were answered.
		if extra := g.served.Load() - int64(rep.Requests); extra > 16 {
			t.Fatalf("%d requests answered after the decision at %d", extra, rep.Requests)
		}
	})
	t.Run("cap", func(t *testing.T) {
		var g countingGateway
		rep, err := Run(context.Background(), s, g.endpoint(t, []int32{10, 10, 80}, 1, 0), Options{Snippet: "port-forward", Sequential: true, Requests: 300, Concurrency: 8})
		if err != nil {
			t.Fatal(err)
		}
		checkAccounting(t, rep)
		if rep.Requests != 300 || g.served.Load() != 300 || rep.Outcome() != sim.OutcomeInconclusive {
			t.Fatalf("%s after %d requests, %d served; want INCONCLUSIVE at the cap of 300", rep.Outcome(), rep.Requests, g.served.Load())
		}
	})
	t.Run("wrong split fails", func(t *testing.T) {
		var g countingGateway
		rep, err := Run(context.Background(), s, g.endpoint(t, []int32{20, 20, 60}, 5, 0), Options{Snippet: "port-forward", Sequential: true, Concurrency: 8})
		if err != nil {
			t.Fatal(err)
		}
		checkAccounting(t, rep)
		if rep.Outcome() != sim.OutcomeFail {
			t.Fatalf("%s after %d requests, want FAIL", rep.Outcome(), rep.Requests)
		}
	})
}

// TestConcurrencyInterrupted: an interrupt keeps every answered iteration.
// The gateway answers the first 200 requests, then holds every later one
// until the replay gives up on it; once every worker waits on a held
// request, all 200 answers have been delivered, and the context ends. The
// report must hold exactly those 200, as INCONCLUSIVE.
func TestConcurrencyInterrupted(t *testing.T) {
	const answered = 200
	s := mustScenario(t, "example1-ab-testing")
	for _, workers := range []int{1, 8} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p := picker.MustNew(picker.Random, []int32{10, 10, 80}, 11)
			var mu sync.Mutex
			var served, held atomic.Int64
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				mu.Lock()
				v := p.Pick() + 1
				mu.Unlock()
				if served.Add(1) > answered {
					if held.Add(1) == int64(workers) {
						cancel() // every worker waits: the signal arrives
					}
					select {
					case <-r.Context().Done():
					case <-release:
					}
					return
				}
				fmt.Fprintf(rw, "Hello version: v%d, instance: x\n", v)
			}))
			defer srv.Close()
			defer close(release)
			addr := strings.TrimPrefix(srv.URL, "http://")
			ep := &Endpoint{Name: "gw", Env: map[string]string{}, Dial: map[string]string{"localhost:8080": addr}}
			rep, err := Run(ctx, s, ep, Options{Snippet: "port-forward", Requests: 100_000, Concurrency: workers})
			if err != nil {
				t.Fatal(err)
			}
			checkAccounting(t, rep)
			if rep.Requests != answered || !rep.Interrupted || rep.Outcome() != sim.OutcomeInconclusive {
				t.Fatalf("%s, interrupted %v, after %d requests; want the %d answered, INCONCLUSIVE", rep.Outcome(), rep.Interrupted, rep.Requests, answered)
			}
			if _, ok := rep.Counts["error"]; ok {
				t.Fatalf("abandoned requests counted as errors: %v", rep.Counts)
			}
		})
	}
}

// TestConcurrencyReuse: with --connections reuse each worker keeps its
// keep-alive connection: 400 requests over about 8 connections. A worker's
// next request can find its connection not yet back in the pool and dial
// another (net/http races a dial against the idle pool), so up to twice
// as many are accepted; one per request is not.
func TestConcurrencyReuse(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	var g countingGateway
	rep, err := Run(context.Background(), s, g.endpoint(t, []int32{10, 10, 80}, 2, 0), Options{Snippet: "port-forward", Requests: 400, Concurrency: 8, ReuseConnections: true})
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, rep)
	if c := rep.Sequence.Conns(); c < 1 || c > 16 || rep.Requests != 400 {
		t.Fatalf("%d requests over %d connections; want 400 over at most 16", rep.Requests, c)
	}
}

// TestConcurrencySetupStop: a gateway not set up for the scenario (every
// answer a 404) is diagnosed as with one worker, and the workers stop
// within the first answers instead of sending the plan.
func TestConcurrencySetupStop(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		served.Add(1)
		http.NotFound(rw, r)
	}))
	defer srv.Close()
	ep := &Endpoint{Name: "gw", Env: map[string]string{}, Dial: map[string]string{"localhost:8080": strings.TrimPrefix(srv.URL, "http://")}}
	_, one := Run(context.Background(), s, ep, Options{Snippet: "port-forward", Requests: 5000})
	before := served.Load()
	_, eight := Run(context.Background(), s, ep, Options{Snippet: "port-forward", Requests: 5000, Concurrency: 8})
	if one == nil || eight == nil || one.Error() != eight.Error() {
		t.Fatalf("one worker: %v\neight workers: %v\nwant the same diagnosis", one, eight)
	}
	// As after a decision: at most 8 buffered and one per worker more.
	if n := served.Load() - before; n > before+16 {
		t.Fatalf("8 workers sent %d requests, one worker %d: the setup stop did not stop them", n, before)
	}
}

func TestConcurrencyInvalid(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	for _, n := range []int{-1, MaxConcurrency + 1} {
		_, err := Run(context.Background(), s, &Endpoint{Name: "unused"}, Options{Concurrency: n})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("concurrency %d", n)) {
			t.Errorf("concurrency %d: err = %v", n, err)
		}
	}
}

// TestConcurrencyDeterministicGateway: a smooth (deterministic) gateway
// replayed by 8 workers. The order it picked in is known only to within
// the requests in flight, so its period may or may not be confirmed from
// the arrival order; either way a correct split PASSes and a
// wrong one FAILs: by the exactness test, or by the counts test when the
// order is only found more regular than independent draws.
func TestConcurrencyDeterministicGateway(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	for _, tt := range []struct {
		weights []int32
		want    sim.Outcome
	}{
		{[]int32{10, 10, 80}, sim.OutcomePass},
		{[]int32{20, 20, 60}, sim.OutcomeFail},
	} {
		t.Run(fmt.Sprint(tt.weights), func(t *testing.T) {
			rep, err := Run(context.Background(), s, fakeGateway(t, tt.weights), Options{Snippet: "port-forward", Requests: 1000, Concurrency: 8})
			if err != nil {
				t.Fatal(err)
			}
			checkAccounting(t, rep)
			test := rep.ModelVerdict.Test
			regular := rep.Verdict.Scheduler == "deterministic" || (rep.Verdict.Scheduler == "undetermined" && test == "counts")
			// 8 requests in flight at most: a window's counts are off by
			// at most 7 at each end.
			if rep.Outcome() != tt.want || !regular || rep.Scheduler.Tolerance < 2 || rep.Scheduler.Tolerance > 14 {
				t.Fatalf("%s, scheduler %q decided by the %s test (tolerance %d); want %s, a regular order within 2 to 14", rep.Outcome(), rep.Verdict.Scheduler, test, rep.Scheduler.Tolerance, tt.want)
			}
		})
	}
}

// TestHoldCheckDue: every 10 requests below 400, then a step that doubles
// and stays a multiple of 10 within n/20; far fewer checks by a
// 6,300-request cap than one every 10.
func TestHoldCheckDue(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want bool
	}{
		{0, false}, {5, false}, {10, true}, {200, true}, {390, true}, {395, false},
		{400, true}, {410, false}, {420, true}, {800, true}, {820, false}, {840, true}, {6240, true}, {6300, false},
	} {
		if got := holdCheckDue(tt.n); got != tt.want {
			t.Errorf("holdCheckDue(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
	checks := 0
	for n := 1; n <= 6300; n++ {
		if holdCheckDue(n) {
			checks++
		}
	}
	if checks > 120 {
		t.Fatalf("%d checks by 6,300 requests (every 10 would be 630)", checks)
	}
}

// TestScheduleOverlapped: with requests in flight together, an order more
// regular than random (a round robin seen through the workers'
// interleaving) is left to the counts test, while a bursty one keeps its
// own test, whose whole periods a partial burst cannot fail; one request
// at a time, the round robin is found exact.
func TestScheduleOverlapped(t *testing.T) {
	cats := []sim.Category{{Name: "v1", Weight: 10}, {Name: "v2", Weight: 10}, {Name: "v3", Weight: 80}}
	exact := func(n int) []string {
		p := picker.MustNew(picker.Smooth, []int32{10, 10, 80}, 0)
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("v%d", p.Pick()+1)
		}
		return out
	}
	// Workers' answers arrive a few places from where they were picked:
	// every third pair swapped, and every eleventh request three late.
	interleaved := func(n int) []string {
		out := exact(n)
		for i := 0; i+1 < n; i += 3 {
			out[i], out[i+1] = out[i+1], out[i]
		}
		for i := 0; i+3 < n; i += 11 {
			out[i], out[i+3] = out[i+3], out[i]
		}
		return out
	}
	blocks := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			switch k := i % 100; {
			case k < 10:
				out[i] = "v1"
			case k < 20:
				out[i] = "v2"
			default:
				out[i] = "v3"
			}
		}
		return out
	}
	record := func(order []string, inFlight int) *sequence.Recording {
		rec := sequence.New(time.Now(), sequence.ConnsNone)
		for i, c := range order {
			sent := time.Duration(i) * time.Millisecond
			rec.Add(sent, sent+time.Duration(inFlight)*time.Millisecond, 0, 200, c)
		}
		return rec
	}
	for _, tt := range []struct {
		name      string
		order     []string
		inFlight  int
		class     string
		test      string
		countsDec bool // the counts test decides (empty outcome)
	}{
		{"round robin, one at a time", exact(1000), 1, "deterministic", "exactness", false},
		{"round robin interleaved by 4 workers", interleaved(1000), 4, "undetermined", "counts", true},
		{"bursty, 4 workers", blocks(1000), 4, "bursty", "whole-periods", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := sequence.Schedule(record(tt.order, tt.inFlight), cats, sequence.ScheduleOptions{Alpha: sim.DefaultAlpha})
			if err != nil {
				t.Fatal(err)
			}
			if string(sc.Result.Scheduler) != tt.class || sc.Verdict.Test != tt.test || (sc.Verdict.Outcome == "") != tt.countsDec {
				t.Fatalf("class %s, test %s, outcome %q (tolerance %d): %s", sc.Result.Scheduler, sc.Verdict.Test, sc.Verdict.Outcome, sc.Result.Tolerance, sc.Verdict.Reason)
			}
			if want := 2 * (tt.inFlight - 1); sc.Result.Tolerance != want {
				t.Errorf("tolerance %d, want %d", sc.Result.Tolerance, want)
			}
		})
	}
}
