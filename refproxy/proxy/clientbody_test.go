package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/splitproof/splitproof/internal/poll"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
)

// guard bounds waits for something that should happen in milliseconds; it
// never decides a result.
const guard = 10 * time.Second

// waitCounter waits until the counter series reaches want.
func waitCounter(t *testing.T, p *proxy.Proxy, name string, labels map[string]string, want float64) {
	t.Helper()
	poll.Must(t, fmt.Sprintf("%s%v to reach %v", name, labels, want), 5*time.Millisecond, guard, func() (bool, string) {
		got := counterValue(t, p, name, labels)
		return got >= want, fmt.Sprint(got)
	})
}

// dialFront opens a raw connection to the proxy's front server.
func dialFront(t *testing.T, front *httptest.Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(guard))
	return c
}

// TestClientAbortIsNotABackendFailure: a client that closes its connection
// half-way through an upload is the client's doing. It used to be answered
// (to nobody) with 502 and counted and logged as the backend's failure.
func TestClientAbortIsNotABackendFailure(t *testing.T) {
	var logs syncBuffer
	be := newNamed(t, "a")
	p, front := MustProxy(t, table(entry("default/a", prefix("/"), rule(t, picker.Smooth, 1, service("default/a", 1, be.endpoint())))),
		proxy.Options{Logger: debugLogger(&logs)})
	c := dialFront(t, front)
	fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n%s", strings.Repeat("x", 1000))
	// Let the proxy start forwarding, then go away mid-body.
	waitCounter(t, p, proxy.MetricPicks, map[string]string{"backend": "default/a"}, 1)
	_ = c.Close()

	waitCounter(t, p, proxy.MetricRequests, map[string]string{"backend": "default/a"}, 1)
	if n := counterValue(t, p, proxy.MetricRequests, map[string]string{"backend": "default/a", "code": "499"}); n != 1 {
		t.Errorf("requests with code 499 = %v, want 1", n)
	}
	if n := counterValue(t, p, proxy.MetricClientAborts, map[string]string{"backend": "default/a", "reason": proxy.ClientClosed}); n != 1 {
		t.Errorf("%s{reason=%s} = %v, want 1", proxy.MetricClientAborts, proxy.ClientClosed, n)
	}
	if n := counterValue(t, p, proxy.MetricUpstreamFailures, map[string]string{"backend": "default/a"}); n != 0 {
		t.Errorf("%s = %v, want 0: the backend did nothing wrong", proxy.MetricUpstreamFailures, n)
	}
	if strings.Contains(logs.String(), "upstream request failed") {
		t.Errorf("client abort logged as an upstream failure:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "client aborted the request") {
		t.Errorf("client abort not logged:\n%s", logs.String())
	}
}

// TestStalledUploadTimesOut: a client that stops sending mid-body is cut
// off after RequestBodyTimeout with 408, counted as a client timeout; it
// used to hold the connection (and the upstream one) for ever.
func TestStalledUploadTimesOut(t *testing.T) {
	be := newNamed(t, "a")
	p, front := MustProxy(t, table(entry("default/a", prefix("/"), rule(t, picker.Smooth, 1, service("default/a", 1, be.endpoint())))),
		proxy.Options{RequestBodyTimeout: 100 * time.Millisecond})
	c := dialFront(t, front)
	fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n%s", strings.Repeat("x", 1000))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled upload: %v", err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stalled upload: status %d, want 408", res.StatusCode)
	}
	waitCounter(t, p, proxy.MetricClientAborts, map[string]string{"backend": "default/a", "reason": proxy.ClientTimeout}, 1)
	if n := counterValue(t, p, proxy.MetricUpstreamFailures, map[string]string{"backend": "default/a"}); n != 0 {
		t.Errorf("%s = %v, want 0", proxy.MetricUpstreamFailures, n)
	}
}

// TestSilentBackendTimesOut: a backend that accepts a request and never
// answers gets 504 after UpstreamTimeout, where the proxy used to wait for
// ever; a slow but steady upload longer than that timeout is not cut, the
// countdown starting again with every piece of body.
func TestSilentBackendTimesOut(t *testing.T) {
	release := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/stuck" {
			<-release
		}
		_, _ = io.WriteString(w, "done")
	}))
	t.Cleanup(stuck.Close)
	t.Cleanup(func() { close(release) })
	ep := stuck.Listener.Addr().String()
	const timeout = 500 * time.Millisecond
	p, front := MustProxy(t, table(entry("default/a", prefix("/"), rule(t, picker.Smooth, 1, service("default/a", 1, ep)))),
		proxy.Options{UpstreamTimeout: timeout})
	client := &http.Client{Timeout: guard}

	res, err := client.Get(front.URL + "/stuck")
	if err != nil {
		t.Fatalf("GET /stuck: %v (the proxy never answered)", err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("silent backend: status %d, want 504", res.StatusCode)
	}
	if n := counterValue(t, p, proxy.MetricUpstreamFailures, map[string]string{"backend": "default/a", "code": "504"}); n != 1 {
		t.Errorf("%s{code=504} = %v, want 1", proxy.MetricUpstreamFailures, n)
	}

	// An upload paced at a fifth of the timeout, lasting four timeouts.
	pr, pw := io.Pipe()
	go func() {
		for range 20 {
			time.Sleep(timeout / 5)
			if _, err := pw.Write([]byte("chunk")); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	res, err = client.Post(front.URL+"/slow-upload", "text/plain", pr)
	if err != nil {
		t.Fatalf("slow upload: %v", err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("slow but steady upload: status %d, want 200", res.StatusCode)
	}
}

// TestRetiredPortServesFromItsTable: a listener port that a reload removes
// still has connections while it drains; a request arriving on one between
// the swap and the drain's start used to get 404 (the new table has no such
// port). A retired handler serves it from the table it was opened under and
// closes the connection, so the client reconnects to the new configuration.
func TestRetiredPortServesFromItsTable(t *testing.T) {
	be := newNamed(t, "a")
	p, _ := MustProxy(t, table(entry("default/a", prefix("/"), rule(t, picker.Smooth, 1, service("default/a", 1, be.endpoint())))), proxy.Options{})
	h := p.NewPortHandler(testPort)
	front := httptest.NewServer(h)
	t.Cleanup(front.Close)
	if code, body, _ := MustGet(t, http.DefaultClient, front.URL+"/", nil); code != http.StatusOK || body != "a" {
		t.Fatalf("before the reload: %d %q", code, body)
	}

	h.Retire()
	other := table(entry("default/a", prefix("/"), rule(t, picker.Smooth, 1, service("default/a", 1, be.endpoint()))))
	other.Ports[0].Port = testPort + 1
	if _, err := p.Install(other); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(front.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "a" {
		t.Errorf("retired port after the swap: %d %q, want 200 %q", res.StatusCode, body, "a")
	}
	if !res.Close {
		t.Error("retired port's answer does not close the connection")
	}
	// A handler that was not retired follows the new table.
	fresh := httptest.NewServer(p.Handler(testPort))
	t.Cleanup(fresh.Close)
	if code, _, _ := MustGet(t, http.DefaultClient, fresh.URL+"/", nil); code != http.StatusNotFound {
		t.Errorf("port absent from the table: %d, want 404", code)
	}
}
