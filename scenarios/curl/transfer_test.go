package curl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// dnsFailClient fails to resolve any host under .invalid without asking a
// resolver, and dials everything else normally.
func dnsFailClient() *http.Client {
	d := &net.Dialer{}
	t := &http.Transport{DisableCompression: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		if strings.HasSuffix(host, ".invalid") {
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
		}
		return d.DialContext(ctx, network, addr)
	}}
	return &http.Client{Transport: t}
}

func TestExitCodes(t *testing.T) {
	srv := newTestServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := l.Addr().String()
	l.Close()

	r := NewRunner(dnsFailClient(), "")
	tests := []struct {
		name    string
		args    []string
		exit    int
		message string
	}{
		{"ok", []string{"SERVER/hello"}, ExitOK, ""},
		{"connection refused", []string{"http://" + closedAddr + "/"}, ExitConnect, "Failed to connect"},
		{"cannot resolve", []string{"gateway.invalid/hello"}, ExitResolve, "Could not resolve host: gateway.invalid"},
		{"fail on 500", []string{"-f", "SERVER/status/500"}, ExitHTTPError, "returned error: 500"},
		{"404 without -f is fine", []string{"SERVER/status/404"}, ExitOK, ""},
		{"max time", []string{"-m", "0.2", "SERVER/slow"}, ExitTimeout, "timed out"},
		{"empty reply", []string{"SERVER/hangup"}, ExitEmptyReply, "Empty reply"},
		{"bad url", []string{"http://"}, ExitBadURL, "URL rejected"},
		{"unsupported protocol", []string{"ftp://SERVER/x"}, ExitUnsupported, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustRun(t, r, srv, tt.args...)
			if got.out.Exit != tt.exit {
				t.Fatalf("exit %d (%s), want %d", got.out.Exit, got.out.Message, tt.exit)
			}
			if !strings.Contains(got.out.Message, tt.message) {
				t.Fatalf("message %q, want it to contain %q", got.out.Message, tt.message)
			}
			if tt.exit != 0 && !strings.HasPrefix(got.stderr, fmt.Sprintf("curl: (%d) ", tt.exit)) {
				t.Fatalf("stderr %q, want curl's error line", got.stderr)
			}
		})
	}
}

func TestCallerContextIsNotACurlFailure(t *testing.T) {
	srv := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := NewRunner(nil, "").Run(ctx, []string{srv.URL + "/slow"}, Stdio{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the caller's deadline", err)
	}
}

func TestExchangesRecorded(t *testing.T) {
	srv := newTestServer(t)
	got := MustRun(t, NewRunner(nil, ""), srv, "-sL", "SERVER/redirect")
	if len(got.out.Exchanges) != 2 {
		t.Fatalf("%d exchanges, want the redirect and the final answer", len(got.out.Exchanges))
	}
	first, last := got.out.Exchanges[0], got.out.Exchanges[1]
	if !first.Redirect || first.Status != http.StatusFound {
		t.Errorf("first exchange %+v, want the followed 302", first)
	}
	if last.Redirect || last.Status != http.StatusOK || !bytes.HasPrefix(last.Body, []byte("Hello version: v3")) {
		t.Errorf("last exchange status %d body %q", last.Status, last.Body)
	}
}

func BenchmarkIncludeRequest(b *testing.B) {
	srv := newTestServer(b)
	r := NewRunner(nil, "")
	args := []string{"-i", srv.URL + "/hello", "-H", "host: traffic.split.example"}
	for b.Loop() {
		out, err := r.Run(context.Background(), args, Stdio{Stdout: io.Discard})
		if err != nil || out.Exit != 0 {
			b.Fatalf("%v %+v", err, out)
		}
	}
}

// TestSeveralURLs: as in curl, a failed URL does not stop the next one, its
// error is printed when it happens, and the exit code is the last URL's.
// -w is expanded after every transfer, with 000 when no response came.
func TestSeveralURLs(t *testing.T) {
	srv := newTestServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	r := NewRunner(nil, "")
	tests := []struct {
		name           string
		args           []string
		exit           int
		stdout, stderr string
	}{
		{"failure first", []string{"-f", "SERVER/status/500", "SERVER/hello"}, ExitOK,
			"Hello version: v3, instance: helloworld-v3-55bfdf76cf-nv545\n", "curl: (22) The requested URL returned error: 500\n"},
		{"failure last", []string{"-f", "SERVER/hello", "SERVER/status/500"}, ExitHTTPError,
			"Hello version: v3, instance: helloworld-v3-55bfdf76cf-nv545\n", "curl: (22) The requested URL returned error: 500\n"},
		{"write-out after refused", []string{"-s", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{scheme};", "http://" + closed + "/", "SERVER/hello"}, ExitOK,
			"000 HTTP;200 HTTP;", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustRun(t, r, srv, tt.args...)
			if got.out.Exit != tt.exit || got.stdout != tt.stdout || got.stderr != tt.stderr {
				t.Fatalf("exit %d stdout %q stderr %q\nwant exit %d stdout %q stderr %q", got.out.Exit, got.stdout, got.stderr, tt.exit, tt.stdout, tt.stderr)
			}
		})
	}
}
