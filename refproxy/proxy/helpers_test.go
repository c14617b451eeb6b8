package proxy_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

const testPort = 80

// named starts a loopback backend that answers with its name and records the
// last request it saw.
type named struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	last *http.Request
	// lastBody is the length of the last request's body as read.
	lastBody int
}

func newNamed(t *testing.T, name string) *named {
	t.Helper()
	n := &named{name: name}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n.mu.Lock()
		n.last = r.Clone(r.Context())
		n.lastBody = len(body)
		n.mu.Unlock()
		w.Header().Set("X-Backend", name)
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *named) endpoint() string { return n.srv.Listener.Addr().String() }

func (n *named) lastBodyLen() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lastBody
}

func (n *named) lastRequest() *http.Request {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.last
}

// service is a KindService backend with the given endpoints.
func service(name string, weight int32, endpoints ...string) *route.Backend {
	return &route.Backend{Name: name, Kind: route.KindService, Weight: weight, Endpoints: endpoints}
}

func invalid(name string, weight int32) *route.Backend {
	return &route.Backend{Name: name, Kind: route.KindInvalid, Weight: weight, Reason: "BackendNotFound"}
}

// rule builds a rule whose picker uses mode and seed over the backends' weights.
func rule(t testing.TB, mode picker.Mode, seed uint64, backends ...*route.Backend) *route.Rule {
	t.Helper()
	r := &route.Rule{ID: "default/r/0", Backends: backends}
	if len(backends) > 0 {
		w := make([]int32, len(backends))
		for i, b := range backends {
			w[i] = b.Weight
		}
		p, err := picker.New(mode, w, seed)
		if err != nil {
			t.Fatalf("picker: %v", err)
		}
		r.Picker = p
	}
	return r
}

func prefix(p string) route.Match {
	return route.Match{PathType: gatewayv1.PathMatchPathPrefix, PathValue: p}
}

func entry(routeName string, m route.Match, r *route.Rule) *route.Entry {
	return &route.Entry{Route: routeName, Match: m, Rule: r}
}

// table serves entries for any host on testPort.
func table(entries ...*route.Entry) *route.Table {
	return &route.Table{Ports: []*route.Port{{
		Port: testPort, Protocol: "HTTP",
		Hosts: []*route.VirtualHost{{Hostname: "*", Entries: entries}},
	}}}
}

// MustProxy builds a proxy serving t on testPort behind a loopback server.
func MustProxy(t testing.TB, tbl *route.Table, opts proxy.Options) (*proxy.Proxy, *httptest.Server) {
	t.Helper()
	p, err := proxy.New(opts)
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	if tbl != nil {
		if _, err := p.Install(tbl); err != nil {
			t.Fatalf("install: %v", err)
		}
	}
	front := httptest.NewServer(p.Handler(testPort))
	t.Cleanup(front.Close)
	t.Cleanup(p.CloseIdleConnections)
	return p, front
}

// MustGet sends a GET and returns status and body.
func MustGet(t testing.TB, c *http.Client, url string, hdr http.Header) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if h := hdr.Get("Host"); h != "" {
		req.Host = h
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body of %s: %v", url, err)
	}
	return res.StatusCode, string(b), res.Header
}

// noRedirect is a client that reports redirects instead of following them.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// counterValue reads one series of a counter vector from the proxy registry.
func counterValue(t *testing.T, p *proxy.Proxy, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := p.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metric
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
