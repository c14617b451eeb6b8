package proxy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
)

// benchSetup starts a tiny backend and refproxy in front of it (a 10/10/80
// split over three endpoints of that backend, so the picker is exercised).
//
// The backend and the proxy are started under the profiler labels
// side=backend and side=proxy, which every goroutine they start inherits
// (connections, the transport's read and write loops); the benchmarks run
// their client under side=client. `go tool pprof -tagfocus side=proxy`
// then shows what the proxy alone costs, without the client and backend
// that share its process here.
func benchSetup(b *testing.B) (direct, proxied string, client *http.Client) {
	b.Helper()
	var backend, front *httptest.Server
	pprof.Do(context.Background(), pprof.Labels("side", "backend"), func(context.Context) {
		backend = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "hello")
		}))
	})
	b.Cleanup(backend.Close)
	ep := backend.Listener.Addr().String()
	rl := rule(b, picker.Random, 1,
		service("default/v1:80", 10, ep), service("default/v2:80", 10, ep), service("default/v3:80", 80, ep))
	pprof.Do(context.Background(), pprof.Labels("side", "proxy"), func(context.Context) {
		_, front = MustProxy(b, table(entry("default/bench", prefix("/"), rl)), proxy.Options{})
	})
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("side", "client")))
	client = &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	b.Cleanup(client.CloseIdleConnections)
	return backend.URL + "/hello", front.URL + "/hello", client
}

func doGet(b *testing.B, c *http.Client, url string) {
	res, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("status %d", res.StatusCode)
	}
}

// BenchmarkProxy is one request through refproxy over loopback, client and
// backend included.
func BenchmarkProxy(b *testing.B) {
	_, proxied, c := benchSetup(b)
	b.Run("serial", func(b *testing.B) {
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("side", "client")))
		b.ReportAllocs()
		for b.Loop() {
			doGet(b, c, proxied)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("side", "client")))
			for pb.Next() {
				doGet(b, c, proxied)
			}
		})
	})
}

// BenchmarkThroughput measures requests per second straight to the backend
// and through refproxy in the same run (b.N requests each, interleaved in
// batches so that machine noise hits both alike), and reports their ratio.
// ns/op covers one direct plus one proxied request.
func BenchmarkThroughput(b *testing.B) {
	direct, proxied, c := benchSetup(b)
	doGet(b, c, direct)
	doGet(b, c, proxied)
	var dTime, pTime time.Duration
	const batch = 100
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		n := min(batch, b.N-done)
		start := time.Now()
		for range n {
			doGet(b, c, direct)
		}
		mid := time.Now()
		for range n {
			doGet(b, c, proxied)
		}
		dTime, pTime = dTime+mid.Sub(start), pTime+time.Since(mid)
	}
	d, p := float64(b.N)/dTime.Seconds(), float64(b.N)/pTime.Seconds()
	b.ReportMetric(d, "direct_req/s")
	b.ReportMetric(p, "proxied_req/s")
	b.ReportMetric(p/d, "ratio")
}

// BenchmarkProxyAllocs counts heap allocations per request straight to the
// backend and through refproxy in the same run, and reports their
// difference: what one proxied request costs beyond the client and the
// backend, which the proxy cannot avoid and the other benchmarks include.
// The counts are process-wide (runtime.MemStats), so they take in the
// server and transport goroutines that serve each request too.
func BenchmarkProxyAllocs(b *testing.B) {
	direct, proxied, c := benchSetup(b)
	doGet(b, c, direct)
	doGet(b, c, proxied)
	var ms runtime.MemStats
	measure := func(url string, n int) (allocs, bytes uint64) {
		runtime.ReadMemStats(&ms)
		a0, b0 := ms.Mallocs, ms.TotalAlloc
		for range n {
			doGet(b, c, url)
		}
		runtime.ReadMemStats(&ms)
		return ms.Mallocs - a0, ms.TotalAlloc - b0
	}
	var dA, dB, pA, pB uint64
	const batch = 100
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		n := min(batch, b.N-done)
		a, by := measure(direct, n)
		dA, dB = dA+a, dB+by
		a, by = measure(proxied, n)
		pA, pB = pA+a, pB+by
	}
	n := float64(b.N)
	b.ReportMetric(float64(dA)/n, "direct_allocs/req")
	b.ReportMetric(float64(pA)/n, "proxied_allocs/req")
	b.ReportMetric(float64(pA-min(pA, dA))/n, "proxy_allocs/req")
	b.ReportMetric(float64(pB-min(pB, dB))/n, "proxy_B/req")
}
