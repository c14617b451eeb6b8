package curl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// newTestServer serves fixed answers on 127.0.0.1 with no Date header, so
// that curl's output is byte-for-byte reproducible.
func newTestServer(t testing.TB) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "Hello version: v3, instance: helloworld-v3-55bfdf76cf-nv545\n")
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		var code int
		fmt.Sscan(r.PathValue("code"), &code)
		w.WriteHeader(code)
		fmt.Fprintf(w, "status %d\n", code)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "host": r.Host, "query": r.URL.RawQuery, "body": string(body),
			"content_type": r.Header.Get("Content-Type"), "user_agent": r.Header.Values("User-Agent"),
			"accept": r.Header.Values("Accept"), "x_empty": r.Header.Values("X-Empty"),
		})
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		http.Redirect(w, r, "/hello", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/hangup", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type run struct {
	out    *Outcome
	stdout string
	stderr string
}

// MustRun runs curl with args against srv (the token SERVER in an argument
// is replaced by the server's host:port) and fails the test on replay errors.
func MustRun(t testing.TB, r *Runner, srv *httptest.Server, args ...string) run {
	t.Helper()
	host := strings.TrimPrefix(srv.URL, "http://")
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "SERVER", host)
	}
	var stdout, stderr bytes.Buffer
	out, err := r.Run(context.Background(), args, Stdio{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatalf("curl %q: %v", args, err)
	}
	return run{out: out, stdout: strings.ReplaceAll(stdout.String(), host, "SERVER"), stderr: strings.ReplaceAll(stderr.String(), host, "SERVER")}
}

func TestGoldenOutput(t *testing.T) {
	srv := newTestServer(t)
	r := NewRunner(nil, "")
	tests := []struct {
		name string
		args []string
	}{
		{"include", []string{"-i", "SERVER/hello", "-H", "host: traffic.split.example"}},
		{"plain", []string{"SERVER/hello"}},
		{"head", []string{"-I", "SERVER/hello"}},
		{"include-500", []string{"-i", "SERVER/status/500"}},
		{"fail-500", []string{"-f", "-i", "SERVER/status/500"}},
		{"fail-500-silent", []string{"-sf", "SERVER/status/503"}},
		{"fail-500-show-error", []string{"-sSf", "SERVER/status/503"}},
		{"redirect-not-followed", []string{"-i", "SERVER/redirect"}},
		{"redirect-followed", []string{"-iL", "SERVER/redirect"}},
		{"write-out", []string{"-s", "-o", "/dev/null", "-w", `%{http_code} %{size_download} %{url_effective} %{num_redirects} %{method} %header{content-type} %%\n`, "-L", "SERVER/redirect"}},
		{"write-out-unknown", []string{"-s", "-o", "/dev/null", "-w", `%{nope}|%{response_code}`, "SERVER/hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustRun(t, r, srv, tt.args...)
			text := fmt.Sprintf("exit: %d\n--- stdout ---\n%s--- stderr ---\n%s", got.out.Exit, got.stdout, got.stderr)
			MustMatchGolden(t, filepath.Join("testdata", tt.name+".golden"), text)
		})
	}
}

// MustMatchGolden compares got with the golden file, rewriting it under -update.
func MustMatchGolden(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Fatalf("%s differs (run go test -update after checking):\n got %q\nwant %q", path, got, want)
	}
}

func TestRequestShape(t *testing.T) {
	srv := newTestServer(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.txt"), []byte("a=1\r\nb=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := NewRunner(nil, dir)
	tests := []struct {
		name string
		args []string
		want map[string]any
	}{
		{"data implies POST and form type", []string{"-s", "SERVER/echo", "-d", `{"x":1}`},
			map[string]any{"method": "POST", "content_type": "application/x-www-form-urlencoded", "body": `{"x":1}`}},
		{"given content type wins", []string{"-s", "SERVER/echo", "-H", "Content-Type: application/json", "-d", `{}`},
			map[string]any{"method": "POST", "content_type": "application/json", "body": `{}`}},
		{"several data joined with &", []string{"-s", "SERVER/echo", "-d", "a=1", "--data-raw", "@b"},
			map[string]any{"body": "a=1&@b"}},
		{"data file strips newlines", []string{"-s", "SERVER/echo", "-d", "@body.txt"},
			map[string]any{"body": "a=1b=2"}},
		{"binary file kept", []string{"-s", "SERVER/echo", "--data-binary", "@body.txt"},
			map[string]any{"body": "a=1\r\nb=2\n"}},
		{"urlencode forms", []string{"-s", "SERVER/echo", "--data-urlencode", "q=a b&c", "--data-urlencode", "=x y", "--data-urlencode", "z"},
			map[string]any{"body": "q=a+b%26c&x+y&z"}},
		{"get moves data to the query", []string{"-s", "-G", "SERVER/echo?k=v", "-d", "a=1"},
			map[string]any{"method": "GET", "query": "k=v&a=1", "body": ""}},
		{"request overrides", []string{"-s", "-X", "PUT", "SERVER/echo"},
			map[string]any{"method": "PUT"}},
		{"host header", []string{"-s", "SERVER/echo", "-H", "host: traffic.split.example:8080"},
			map[string]any{"host": "traffic.split.example:8080"}},
		{"defaults replaced and removed", []string{"-s", "SERVER/echo", "-A", "probe/1", "-H", "Accept:", "-H", "X-Empty;"},
			map[string]any{"user_agent": []any{"probe/1"}, "accept": nil, "x_empty": []any{""}}},
		{"default user agent", []string{"-s", "SERVER/echo"},
			map[string]any{"user_agent": []any{UserAgent}, "accept": []any{"*/*"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustRun(t, r, srv, tt.args...)
			if got.out.Exit != 0 {
				t.Fatalf("exit %d: %s", got.out.Exit, got.out.Message)
			}
			var seen map[string]any
			if err := json.Unmarshal([]byte(got.stdout), &seen); err != nil {
				t.Fatalf("echo answer %q: %v", got.stdout, err)
			}
			for k, v := range tt.want {
				if fmt.Sprint(seen[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v", k, seen[k], v)
				}
			}
		})
	}
}

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

func TestDataFiles(t *testing.T) {
	srv := newTestServer(t)
	// Without a directory, reading a file is a replay error, not a curl failure.
	if _, err := NewRunner(nil, "").Run(context.Background(), []string{"-d", "@body", srv.URL + "/echo"}, Stdio{}); !errors.Is(err, errNoDir) {
		t.Fatalf("error %v, want %v", err, errNoDir)
	}
	// With one, a missing file is curl's exit 26.
	got := MustRun(t, NewRunner(nil, t.TempDir()), srv, "-d", "@missing", "SERVER/echo")
	if got.out.Exit != ExitRead || !strings.HasPrefix(got.stderr, "curl: (26)") {
		t.Fatalf("exit %d stderr %q, want 26", got.out.Exit, got.stderr)
	}
}

func TestOutputFile(t *testing.T) {
	srv := newTestServer(t)
	dir := t.TempDir()
	r := NewRunner(nil, dir)
	got := MustRun(t, r, srv, "-s", "-o", "out.txt", "-w", "%{http_code}", "SERVER/hello")
	if got.stdout != "200" {
		t.Fatalf("stdout %q, want only the write-out", got.stdout)
	}
	b, err := os.ReadFile(filepath.Join(dir, "out.txt"))
	if err != nil || !strings.HasPrefix(string(b), "Hello version: v3") {
		t.Fatalf("out.txt = %q, %v", b, err)
	}
	for _, escape := range []string{"../escape.txt", "/etc/passwd-splitproof"} {
		if _, err := r.Run(context.Background(), []string{"-o", escape, srv.URL + "/hello"}, Stdio{}); err == nil {
			t.Fatalf("curl -o %s was allowed outside %s", escape, dir)
		}
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

// TestConnectionsNumbered: every exchange names the connection that carried
// it. One Runner keeps its transport across invocations, so a loop of curl
// commands reuses one keep-alive connection (unlike real curl, which opens
// one per process); with keep-alive off, each request gets the next number.
func TestConnectionsNumbered(t *testing.T) {
	srv := newTestServer(t)
	reusing := NewRunner(nil, "")
	fresh := DefaultClient()
	fresh.Transport.(*http.Transport).DisableKeepAlives = true
	perRequest := NewRunner(fresh, "")
	for _, tt := range []struct {
		name   string
		runner *Runner
		want   []uint64
		reused []bool
	}{
		{"keep-alive", reusing, []uint64{1, 1, 1}, []bool{false, true, true}},
		{"one connection per request", perRequest, []uint64{1, 2, 3}, []bool{false, false, false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.want {
				got := MustRun(t, tt.runner, srv, "-s", "SERVER/hello")
				ex := got.out.Exchanges[0]
				if ex.Conn != want || ex.Reused != tt.reused[i] {
					t.Errorf("request %d: connection %d (reused %v), want %d (reused %v)", i+1, ex.Conn, ex.Reused, want, tt.reused[i])
				}
				if ex.Sent.IsZero() || ex.Received.Before(ex.Sent) {
					t.Errorf("request %d: sent %v, received %v", i+1, ex.Sent, ex.Received)
				}
			}
		})
	}
	// A followed redirect is two requests; the same connection carries both.
	got := MustRun(t, NewRunner(nil, ""), srv, "-sL", "SERVER/redirect")
	first, last := got.out.Exchanges[0], got.out.Exchanges[1]
	if first.Conn != 1 || last.Conn != 1 || !last.Reused {
		t.Errorf("redirect on connection %d, answer on %d (reused %v), want both on 1", first.Conn, last.Conn, last.Reused)
	}
	if first.Received.After(last.Sent) || last.Received.Before(last.Sent) {
		t.Errorf("redirect received %v, answer sent %v and received %v: out of order", first.Received, last.Sent, last.Received)
	}
}

// TestConnNumberUnknown: a connection no ConnCounter dialled has number 0.
func TestConnNumberUnknown(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if n := ConnNumber(a); n != 0 {
		t.Fatalf("ConnNumber of a plain connection = %d, want 0", n)
	}
	var c ConnCounter
	conn, err := c.Dial(func(context.Context, string, string) (net.Conn, error) { return a, nil })(context.Background(), "tcp", "x:1")
	if err != nil || ConnNumber(conn) != 1 || c.Dialled() != 1 {
		t.Fatalf("dialled %v: number %d, count %d, want 1 and 1", err, ConnNumber(conn), c.Dialled())
	}
}
