package replay_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/embedded"
	"github.com/splitproof/splitproof/scenarios/replay"
)

// BenchmarkReplay replays 10,000 iterations of Example 1's port-forward
// snippet (one curl per iteration, a new connection each, as the doc's
// loop makes them) against the embedded target: the cost of the replay
// path — shell interpretation, curl, classification, recording and the
// verdict — plus refproxy and helloworld on the same machine. The goal is
// at most one second per 10,000 requests; req/s is reported beside ns/op.
func BenchmarkReplay(b *testing.B) {
	const n = 10_000
	s, err := scenarios.Find("example1-ab-testing")
	if err != nil {
		b.Fatal(err)
	}
	tg, err := embedded.Start(context.Background(), s, embedded.Options{PickMode: picker.Random, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tg.Close() })
	for _, c := range []struct {
		workers int
		reuse   bool
	}{{1, false}, {8, false}, {1, true}, {8, true}} {
		conns := "new"
		if c.reuse {
			conns = "reuse"
		}
		b.Run(fmt.Sprintf("concurrency=%d/connections=%s", c.workers, conns), func(b *testing.B) {
			opts := replay.Options{Snippet: "port-forward", Requests: n, Concurrency: c.workers, ReuseConnections: c.reuse}
			cpu0 := cpuTime(b)
			for b.Loop() {
				rep, err := replay.Run(context.Background(), s, tg.Endpoint(), opts)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Requests != n || !rep.Pass() {
					b.Fatalf("%d requests, %s", rep.Requests, rep.Outcome())
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "req/s")
			// The CPU the process spent, replayer and embedded target
			// together: what a loaded machine cannot hide.
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(n*b.N), "cpu-µs/req")
		})
	}
}

// BenchmarkReplayLatency replays 2,000 iterations against a gateway that
// takes a millisecond to answer, as one across a network does: one request
// at a time the replay waits out every millisecond, while 8 workers wait
// for 8 at once. req/s is reported beside ns/op.
func BenchmarkReplayLatency(b *testing.B) {
	const n = 2000
	s, err := scenarios.Find("example1-ab-testing")
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	p := picker.MustNew(picker.Random, []int32{10, 10, 80}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		mu.Lock()
		v := p.Pick() + 1
		mu.Unlock()
		fmt.Fprintf(rw, "Hello version: v%d, instance: bench\n", v)
	}))
	b.Cleanup(srv.Close)
	ep, err := replay.AddressEndpoint(srv.URL, "")
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", workers), func(b *testing.B) {
			opts := replay.Options{Snippet: "port-forward", Requests: n, Concurrency: workers, ReuseConnections: true}
			for b.Loop() {
				rep, err := replay.Run(context.Background(), s, ep, opts)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Requests != n {
					b.Fatalf("%d requests, want %d", rep.Requests, n)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// cpuTime is the user and system CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
