package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

// TestSplit sends requests through a 10/10/80 rule plus a weight-0 backend.
// Random mode with seed 7: the counter-based picker makes the k-th pick the
// same whichever goroutine makes it, so the counts are a fixed function of the
// seed; the ±0.025 tolerance (about 3.7 standard deviations of a 10% share
// over 2000 requests, false-failure rate < 0.1% for an unseen seed) only
// guards against a picker change. Smooth mode must be exact.
func TestSplit(t *testing.T) {
	v1, v2, v3, v0 := newNamed(t, "v1"), newNamed(t, "v2"), newNamed(t, "v3"), newNamed(t, "v0")
	const n = 2000
	for _, tc := range []struct {
		mode  picker.Mode
		exact bool
	}{{picker.Random, false}, {picker.Smooth, true}} {
		t.Run(string(tc.mode), func(t *testing.T) {
			r := rule(t, tc.mode, 7,
				service("default/v1:80", 10, v1.endpoint()),
				service("default/v2:80", 10, v2.endpoint()),
				service("default/v3:80", 80, v3.endpoint()),
				service("default/v0:80", 0, v0.endpoint()))
			p, front := MustProxy(t, table(entry("default/split", prefix("/"), r)), proxy.Options{})
			counts := map[string]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for range n / 4 {
						code, body, _ := MustGet(t, front.Client(), front.URL+"/hello", nil)
						if code != http.StatusOK {
							t.Errorf("worker %d: status %d body %q", w, code, body)
							return
						}
						mu.Lock()
						counts[body]++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if counts["v0"] != 0 {
				t.Errorf("weight-0 backend got %d requests", counts["v0"])
			}
			want := map[string]float64{"v1": 0.1, "v2": 0.1, "v3": 0.8}
			for name, share := range want {
				got := float64(counts[name]) / n
				if tc.exact && counts[name] != int(share*n) {
					t.Errorf("%s: %d requests, want exactly %d", name, counts[name], int(share*n))
				}
				if diff := got - share; diff > 0.025 || diff < -0.025 {
					t.Errorf("%s: share %.4f, want %.2f±0.025 (counts %v)", name, got, share, counts)
				}
				picks := counterValue(t, p, proxy.MetricPicks, map[string]string{"backend": "default/" + name + ":80"})
				if int(picks) != counts[name] {
					t.Errorf("%s: picks metric %v, responses %d", name, picks, counts[name])
				}
			}
			if got := counterValue(t, p, proxy.MetricRequests, map[string]string{
				"route": "default/split", "rule": "0", "backend": "default/v3:80", "code": "200",
			}); int(got) != counts["v3"] {
				t.Errorf("requests metric for v3/200 = %v, want %d", got, counts["v3"])
			}
		})
	}
}

// TestLocalAnswers covers the answers refproxy gives without a healthy backend.
func TestLocalAnswers(t *testing.T) {
	ok := newNamed(t, "ok")
	down := closedAddr(t)
	for _, tc := range []struct {
		name      string
		rule      func(t *testing.T) *route.Rule
		opts      proxy.Options
		wantCodes map[int]int // status -> count out of 100 requests
	}{
		{
			name: "invalid backendRef keeps its share as 500",
			rule: func(t *testing.T) *route.Rule {
				return rule(t, picker.Smooth, 0, service("default/ok:80", 3, ok.endpoint()), invalid("default/missing:80", 1))
			},
			wantCodes: map[int]int{200: 75, 500: 25},
		},
		{
			name: "all invalid is all 500",
			rule: func(t *testing.T) *route.Rule {
				return rule(t, picker.Random, 1, invalid("default/a:80", 1), invalid("default/b:80", 5))
			},
			wantCodes: map[int]int{500: 100},
		},
		{
			name: "service without endpoints is 503",
			rule: func(t *testing.T) *route.Rule {
				return rule(t, picker.Smooth, 0, service("default/ok:80", 1, ok.endpoint()), service("default/empty:80", 1))
			},
			wantCodes: map[int]int{200: 50, 503: 50},
		},
		{
			name: "all weights zero default 500",
			rule: func(t *testing.T) *route.Rule {
				return rule(t, picker.Random, 1, service("default/ok:80", 0, ok.endpoint()))
			},
			wantCodes: map[int]int{500: 100},
		},
		{
			name: "all weights zero configured 503",
			rule: func(t *testing.T) *route.Rule {
				return rule(t, picker.Random, 1, service("default/ok:80", 0, ok.endpoint()))
			},
			opts:      proxy.Options{AllZeroStatus: 503},
			wantCodes: map[int]int{503: 100},
		},
		{
			name:      "rule without backendRefs is 500",
			rule:      func(t *testing.T) *route.Rule { return rule(t, picker.Random, 1) },
			wantCodes: map[int]int{500: 100},
		},
		{
			name: "upstream down is 502",
			rule: func(t *testing.T) *route.Rule {
				return rule(t, picker.Random, 1, service("default/down:80", 1, down))
			},
			wantCodes: map[int]int{502: 100},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, front := MustProxy(t, table(entry("default/r", prefix("/"), tc.rule(t))), tc.opts)
			got := map[int]int{}
			for range 100 {
				code, body, _ := MustGet(t, front.Client(), front.URL+"/", nil)
				got[code]++
				if code != 200 && !strings.HasPrefix(body, "refproxy: ") {
					t.Errorf("status %d body %q does not explain itself", code, body)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantCodes) {
				t.Errorf("status counts %v, want %v", got, tc.wantCodes)
			}
		})
	}
}

func TestAllZeroStatusValidated(t *testing.T) {
	if _, err := proxy.New(proxy.Options{AllZeroStatus: 404}); err == nil {
		t.Fatal("AllZeroStatus 404 accepted, want an error")
	}
}

func TestNoMatchIs404(t *testing.T) {
	b := newNamed(t, "b")
	tbl := &route.Table{Ports: []*route.Port{{
		Port: testPort,
		Hosts: []*route.VirtualHost{{Hostname: "app.example", Entries: []*route.Entry{
			entry("default/r", prefix("/api"), rule(t, picker.Random, 1, service("default/b:80", 1, b.endpoint()))),
		}}},
	}}}
	_, front := MustProxy(t, tbl, proxy.Options{})
	_, empty := MustProxy(t, nil, proxy.Options{})
	for _, tc := range []struct {
		name, url, host string
		want            int
	}{
		{"match", front.URL + "/api/x", "app.example", 200},
		{"other path", front.URL + "/apix", "app.example", 404},
		{"other host", front.URL + "/api/x", "other.example", 404},
		{"no table yet", empty.URL + "/api/x", "app.example", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, _ := MustGet(t, front.Client(), tc.url, http.Header{"Host": {tc.host}})
			if code != tc.want {
				t.Errorf("status %d, want %d", code, tc.want)
			}
		})
	}
}

// TestForwardedHeaders checks Host passthrough, X-Forwarded-* and hop-by-hop
// removal in both directions.
func TestForwardedHeaders(t *testing.T) {
	var seen http.Header
	var seenHost string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, seenHost = r.Header.Clone(), r.Host
		w.Header().Set("Connection", "X-Upstream-Private")
		w.Header().Set("X-Upstream-Private", "secret")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-Kept", "yes")
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(backend.Close)
	_, front := MustProxy(t, table(entry("default/r", prefix("/"),
		rule(t, picker.Random, 1, service("default/b:80", 1, backend.Listener.Addr().String())))), proxy.Options{})

	code, _, hdr := MustGet(t, front.Client(), front.URL+"/x", http.Header{
		"Host":             {"app.example:8080"},
		"Connection":       {"X-Client-Private"},
		"X-Client-Private": {"1"},
		"Proxy-Connection": {"keep-alive"},
		"Te":               {"gzip"},
		"Upgrade":          {"h2c"},
		"X-Forwarded-For":  {"203.0.113.9"},
		"X-Other":          {"passes"},
	})
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if seenHost != "app.example:8080" {
		t.Errorf("backend saw Host %q, want the client's app.example:8080", seenHost)
	}
	for _, h := range []string{"X-Client-Private", "Proxy-Connection", "Te", "Upgrade"} {
		if v := seen.Get(h); v != "" {
			t.Errorf("hop-by-hop request header %s=%q reached the backend", h, v)
		}
	}
	if seen.Get("X-Other") != "passes" {
		t.Errorf("end-to-end header X-Other lost: %v", seen)
	}
	if got := seen.Get("X-Forwarded-For"); got != "203.0.113.9, 127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q, want the client chain with 127.0.0.1 appended", got)
	}
	if got := seen.Get("X-Forwarded-Host"); got != "app.example:8080" {
		t.Errorf("X-Forwarded-Host = %q", got)
	}
	if got := seen.Get("X-Forwarded-Proto"); got != "http" {
		t.Errorf("X-Forwarded-Proto = %q", got)
	}
	if hdr.Get("X-Upstream-Private") != "" || hdr.Get("Keep-Alive") != "" {
		t.Errorf("hop-by-hop response headers reached the client: %v", hdr)
	}
	if hdr.Get("X-Kept") != "yes" {
		t.Errorf("end-to-end response header lost: %v", hdr)
	}
}

// TestSSEStreams checks that each event reaches the client while the
// backend is still running: the backend waits for the client to confirm the
// first event before sending the second.
func TestSSEStreams(t *testing.T) {
	gotFirst := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-gotFirst:
		case <-time.After(5 * time.Second):
			_, _ = io.WriteString(w, "data: timeout\n\n")
			return
		}
		_, _ = io.WriteString(w, "data: two\n\n")
	}))
	t.Cleanup(backend.Close)
	_, front := MustProxy(t, table(entry("default/r", prefix("/"),
		rule(t, picker.Random, 1, service("default/b:80", 1, backend.Listener.Addr().String())))), proxy.Options{})

	res, err := front.Client().Get(front.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(gotFirst)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if string(rest) != "\ndata: two\n\n" {
		t.Errorf("rest of stream %q: the first event was held back until the backend finished", rest)
	}
}

func TestTimeoutIs504(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(backend.Close)
	for _, tc := range []struct {
		name     string
		timeouts gatewayv1.HTTPRouteTimeouts
	}{
		{"request", gatewayv1.HTTPRouteTimeouts{Request: ptr(gatewayv1.Duration("50ms"))}},
		{"backendRequest", gatewayv1.HTTPRouteTimeouts{Request: ptr(gatewayv1.Duration("0s")), BackendRequest: ptr(gatewayv1.Duration("50ms"))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rule(t, picker.Random, 1, service("default/slow:80", 1, backend.Listener.Addr().String()))
			r.Timeouts = &tc.timeouts
			_, front := MustProxy(t, table(entry("default/r", prefix("/"), r)), proxy.Options{})
			code, body, _ := MustGet(t, front.Client(), front.URL+"/", nil)
			if code != http.StatusGatewayTimeout {
				t.Errorf("status %d body %q, want 504", code, body)
			}
		})
	}
}

// TestInstallUnderLoad swaps tables 20 times while 4 clients send requests:
// no request may fail, and each is answered by one of the two tables.
func TestInstallUnderLoad(t *testing.T) {
	a, b := newNamed(t, "a"), newNamed(t, "b")
	mk := func(e string, name string) *route.Table {
		return table(entry("default/r", prefix("/"), rule(t, picker.Random, 1, service(name, 1, e))))
	}
	ta, tb := mk(a.endpoint(), "default/a:80"), mk(b.endpoint(), "default/b:80")
	p, front := MustProxy(t, ta, proxy.Options{})
	var stop atomic.Bool
	var failed, total atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				res, err := front.Client().Get(front.URL + "/")
				total.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || (string(body) != "a" && string(body) != "b") {
					failed.Add(1)
				}
			}
		})
	}
	for i := range 20 {
		time.Sleep(5 * time.Millisecond)
		next := ta
		if i%2 == 0 {
			next = tb
		}
		if _, err := p.Install(next); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed during reloads", failed.Load(), total.Load())
	}
	if g := p.Status().Generation; g != 21 {
		t.Errorf("generation %d, want 21", g)
	}
}

func TestDebugLogging(t *testing.T) {
	b := newNamed(t, "b")
	var logs syncBuffer
	_, front := MustProxy(t, table(entry("default/r", prefix("/"),
		rule(t, picker.Random, 1, service("default/b:80", 1, b.endpoint())))), proxy.Options{Logger: debugLogger(&logs)})
	MustGet(t, front.Client(), front.URL+"/logged", nil)
	if s := logs.String(); !strings.Contains(s, "path=/logged") || !strings.Contains(s, "backend=default/b:80") {
		t.Errorf("debug log lacks the request: %s", s)
	}
}

func ptr[T any](v T) *T { return &v }
