package proxy_test

import (
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
)

// TestFailedRequestLogRateLimited sends requests to two backends that are
// down: each backend's first failure is logged, the next ones are counted in
// the metrics but not logged until the interval has passed, and the line
// that follows says how many went unlogged.
func TestFailedRequestLogRateLimited(t *testing.T) {
	var logs syncBuffer
	down1, down2 := closedAddr(t), closedAddr(t)
	tbl := table(
		entry("default/one", prefix("/one"), rule(t, picker.Smooth, 1, service("default/one", 1, down1))),
		entry("default/two", prefix("/two"), rule(t, picker.Smooth, 1, service("default/two", 1, down2))),
	)
	p, front := MustProxy(t, tbl, proxy.Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	proxy.SetFailureLogClock(p, func() time.Time { return time.Unix(0, now.Load()) })

	send := func(path string, n int) {
		t.Helper()
		for range n {
			if code, _, _ := MustGet(t, http.DefaultClient, front.URL+path, nil); code != http.StatusBadGateway {
				t.Fatalf("GET %s: %d, want 502", path, code)
			}
		}
	}
	lines := func() []string {
		var out []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "upstream request failed") {
				out = append(out, l)
			}
		}
		return out
	}

	send("/one", 50)
	send("/two", 5)
	if got := lines(); len(got) != 2 || !strings.Contains(got[0], "backend=default/one") || !strings.Contains(got[1], "backend=default/two") {
		t.Fatalf("after 55 failures on two backends, logged %d lines, want one per backend:\n%s", len(got), strings.Join(got, "\n"))
	}
	if n := counterValue(t, p, proxy.MetricUpstreamFailures, map[string]string{"backend": "default/one", "code": "502"}); n != 50 {
		t.Errorf("%s for default/one = %v, want every failure (50)", proxy.MetricUpstreamFailures, n)
	}

	now.Add(int64(proxy.DefaultFailureLogInterval - time.Second))
	send("/one", 1)
	if got := lines(); len(got) != 2 {
		t.Errorf("a failure inside the interval was logged:\n%s", strings.Join(got, "\n"))
	}
	now.Add(int64(time.Second))
	send("/one", 1)
	got := lines()
	if len(got) != 3 || !strings.Contains(got[2], "not_logged_since_last=50") {
		t.Errorf("after the interval, want a third line counting the 50 failures not logged:\n%s", strings.Join(got, "\n"))
	}
}
