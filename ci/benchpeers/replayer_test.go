package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/splitproof/splitproof/conformance/peers"
	"github.com/splitproof/splitproof/refproxy/picker"
)

// TestReplayOnce replays against a seeded 10/10/80 gateway on loopback:
// the timed replay makes exactly the requests asked for, with at most one
// keep-alive connection per worker (give or take a few), and its time and CPU are measured.
func TestReplayOnce(t *testing.T) {
	var mu sync.Mutex
	p := picker.MustNew(picker.Random, []int32{10, 10, 80}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Host != peers.Host {
			http.NotFound(rw, r)
			return
		}
		mu.Lock()
		v := p.Pick() + 1
		mu.Unlock()
		fmt.Fprintf(rw, "Hello version: v%d, instance: bench\n", v)
	}))
	defer srv.Close()
	rep, cpu, err := ReplayOnce(context.Background(), strings.TrimPrefix(srv.URL, "http://"), []int{10, 10, 80}, 4, 1500)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 1500 || rep.Sequence.Len() != 1500 || rep.Counts["v3"] == 0 {
		t.Fatalf("%d requests (%d recorded), counts %v", rep.Requests, rep.Sequence.Len(), rep.Counts)
	}
	// A worker's next request can find its connection not yet back in
	// the pool and dial another (net/http races a dial against the idle
	// pool), so a few extra are normal; one per request is not.
	if c := rep.Sequence.Conns(); c > 8 {
		t.Errorf("%d connections for 4 keep-alive workers", c)
	}
	if s := replaySeconds(rep); s <= 0 || s > rep.Duration.Seconds() {
		t.Errorf("replay took %gs of a %s run", s, rep.Duration)
	}
	if cpu < 0 {
		t.Errorf("CPU time %s", cpu)
	}
}

// TestWriteReplayer: the line states the figures and whether the goal
// was met.
func TestWriteReplayer(t *testing.T) {
	for _, tc := range []struct {
		ratio float64
		want  string
	}{
		{0.85, "0.85× the load generator's 10000 req/s at 32 connections (median of 2 rounds; goal ≥ 0.8×: goal met; verdicts pass, pass)"},
		{0.5, "0.50× the load generator's 10000 req/s at 32 connections (median of 2 rounds; goal ≥ 0.8×: goal missed; verdicts pass, pass)"},
	} {
		r := &ReplayerResult{Target: "nginx", Concurrency: 32, Connections: "reuse", ReqPerS: 10000 * tc.ratio, LoadGenReqPerS: 10000, Ratio: tc.ratio,
			Rounds: []ReplayerRound{{Outcome: "pass"}, {Outcome: "pass"}}}
		var b bytes.Buffer
		if err := writeReplayer(&b, r); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), fmt.Sprintf("replayer on nginx: %.0f req/s with --concurrency 32 --connections reuse, ", 10000*tc.ratio)) || !strings.Contains(b.String(), tc.want) {
			t.Errorf("line %q, want it to contain %q", b.String(), tc.want)
		}
	}
}
