package proxy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

// recorder is a mirror target: it keeps every request's method, path,
// X-Rule header and body, and can answer slowly or with errors (a mirror's
// answer must never reach the client).
type recorder struct {
	mu   sync.Mutex
	seen []string
	srv  *httptest.Server
}

func newRecorder(t *testing.T, status int) *recorder {
	t.Helper()
	rc := &recorder{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.seen = append(rc.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Rule")+" "+string(b))
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// waitFor polls until the recorder has n requests (mirrors are sent in the
// background) or within has passed, and returns them: the callers check the
// count, so running out of time is not an error here.
func (rc *recorder) waitFor(t *testing.T, n int, within time.Duration) []string {
	t.Helper()
	var seen []string
	_ = wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, within, true, func(context.Context) (bool, error) {
		rc.mu.Lock()
		seen = append([]string(nil), rc.seen...)
		rc.mu.Unlock()
		return len(seen) >= n, nil
	})
	return seen
}

func TestRequestMirror(t *testing.T) {
	primary := newNamed(t, "primary")
	shadow := newRecorder(t, http.StatusInternalServerError)
	never := newRecorder(t, http.StatusOK)
	r := rule(t, picker.Random, 1, service("default/primary:80", 1, primary.endpoint()))
	r.Filters = []gatewayv1.HTTPRouteFilter{{
		Type:                  gatewayv1.HTTPRouteFilterRequestHeaderModifier,
		RequestHeaderModifier: headerFilter(map[string]string{"X-Rule": "applied"}, nil),
	}}
	r.Mirrors = []*route.Mirror{
		{Backend: service("default/shadow:80", 1, shadow.srv.Listener.Addr().String()), Percent: 100},
		// Present but drawn for no request: 0 < percent is the translator's
		// rule; a tiny share stands for "almost never" here.
		{Backend: service("default/never:80", 1, never.srv.Listener.Addr().String()), Percent: 1e-12},
	}
	_, front := MustProxy(t, table(entry("default/r", prefix("/"), r)), proxy.Options{})

	const n = 20
	for i := range n {
		body := strings.Repeat("x", i*1000)
		res, err := front.Client().Post(front.URL+"/mirrored", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		// The client gets the primary's answer, whatever the mirror says.
		if res.StatusCode != 200 || string(got) != "primary" {
			t.Fatalf("request %d: %d %q, want 200 from the primary", i, res.StatusCode, got)
		}
		// The primary still receives the whole body.
		if got := primary.lastBodyLen(); got != len(body) {
			t.Fatalf("request %d: primary read a body of %d bytes, want %d", i, got, len(body))
		}
	}
	seen := shadow.waitFor(t, n, 10*time.Second)
	if len(seen) != n {
		t.Fatalf("shadow got %d mirrored requests, want %d", len(seen), n)
	}
	for _, s := range seen {
		method, rest, _ := strings.Cut(s, " ")
		path, rest, _ := strings.Cut(rest, " ")
		hdr, body, _ := strings.Cut(rest, " ")
		if method != "POST" || path != "/mirrored" || hdr != "applied" || strings.Trim(body, "x") != "" {
			t.Errorf("mirrored request %q: want POST /mirrored with the rule's header and the body", s[:min(len(s), 60)])
		}
	}
	// The shadow has all of them by now; a stray copy to "never" would have
	// been sent at the same time.
	if got := never.waitFor(t, 1, 200*time.Millisecond); len(got) != 0 {
		t.Errorf("a mirror with a vanishing share got %d requests", len(got))
	}
}

// TestRequestMirrorLargeBody: a body over MaxMirrorBody is not copied, and
// the real request still gets all of it.
func TestRequestMirrorLargeBody(t *testing.T) {
	primary := newNamed(t, "primary")
	shadow := newRecorder(t, http.StatusOK)
	r := rule(t, picker.Random, 1, service("default/primary:80", 1, primary.endpoint()))
	r.Mirrors = []*route.Mirror{{Backend: service("default/shadow:80", 1, shadow.srv.Listener.Addr().String()), Percent: 100}}
	_, front := MustProxy(t, table(entry("default/r", prefix("/"), r)), proxy.Options{})
	body := strings.Repeat("y", proxy.MaxMirrorBody+10)
	// Without a Content-Length the proxy must read past the limit to know.
	req, err := http.NewRequest(http.MethodPost, front.URL+"/big", io.NopCloser(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || primary.lastBodyLen() != len(body) {
		t.Fatalf("status %d, primary read %d bytes, want 200 and %d", res.StatusCode, primary.lastBodyLen(), len(body))
	}
	if got := shadow.waitFor(t, 1, 500*time.Millisecond); len(got) != 0 {
		t.Errorf("a body over the limit was mirrored")
	}
}
