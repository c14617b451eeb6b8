package curl

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
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
