package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
)

// benchSetup starts a tiny backend and refproxy in front of it (a 10/10/80
// split over three endpoints of that backend, so the picker is exercised).
func benchSetup(b *testing.B) (direct, proxied string, client *http.Client) {
	b.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	b.Cleanup(backend.Close)
	ep := backend.Listener.Addr().String()
	rl := rule(b, picker.Random, 1,
		service("default/v1:80", 10, ep), service("default/v2:80", 10, ep), service("default/v3:80", 80, ep))
	_, front := MustProxy(b, table(entry("default/bench", prefix("/"), rl)), proxy.Options{})
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
		b.ReportAllocs()
		for b.Loop() {
			doGet(b, c, proxied)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
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
