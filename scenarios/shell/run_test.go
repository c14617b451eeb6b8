package shell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/splitproof/splitproof/scenarios/curl"
)

// The documentation's snippets exactly as the flattened page gives them.
const (
	docExample1Gateway = `for i in {1..20}; do curl -i http://$INGRESS_GW_ADDRESS:80/hello \ -H "host: traffic.split.example:8080"; done`
	docExample1Local   = `for i in {1..20}; do curl -i localhost:8080/hello \ -H "host: traffic.split.example"; done`
	docExample2Gateway = `for i in {1..10}; do curl -s "$INGRESS_GW_ADDRESS/test" \ -H "Content-Type: application/json" \ -d '{"messages": [{"role": "user", "content": "What is 2+2?"}]}' | \ jq -r '.model' done`
	docExample2Local   = `for i in {1..10}; do curl -s "localhost:8080/test" \ -H "Content-Type: application/json" \ -d '{"messages": [{"role": "user", "content": "What is 2+2?"}]}' | \ jq -r '.model' done`
)

// weighted is a fake backend set: each request picks a name with the given
// weights from a seeded generator and tallies it, so a test can compare
// what the replayer classified with what was really served.
type weighted struct {
	mu     sync.Mutex
	rng    *rand.Rand
	names  []string
	cum    []int
	served map[string]int
	hosts  map[string]int
}

func newWeighted(seed uint64, names []string, weights []int) *weighted {
	w := &weighted{rng: rand.New(rand.NewPCG(seed, 0)), names: names, served: map[string]int{}, hosts: map[string]int{}}
	sum := 0
	for _, x := range weights {
		sum += x
		w.cum = append(w.cum, sum)
	}
	return w
}

func (w *weighted) pick(host string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.rng.IntN(w.cum[len(w.cum)-1])
	i := 0
	for n >= w.cum[i] {
		i++
	}
	w.served[w.names[i]]++
	w.hosts[host]++
	return w.names[i]
}

// newHelloworld fakes the three helloworld versions behind a 10/10/80 route.
func newHelloworld(t testing.TB, seed uint64) (*httptest.Server, *weighted) {
	t.Helper()
	w := newWeighted(seed, []string{"v1", "v2", "v3"}, []int{10, 10, 80})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/hello" {
			http.NotFound(rw, r)
			return
		}
		v := w.pick(r.Host)
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, "Hello version: %s, instance: helloworld-%s-55bfdf76cf-x\n", v, v)
	}))
	t.Cleanup(srv.Close)
	return srv, w
}

// newChat fakes the AI route: 80% gpt-4o-mini, 20% gpt-4o, answering the
// model that served, as the provider does.
func newChat(t testing.TB, seed uint64) (*httptest.Server, *weighted) {
	t.Helper()
	w := newWeighted(seed, []string{"gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06"}, []int{80, 20})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct{ Role, Content string }
		}
		if r.URL.Path != "/test" || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(rw, "unexpected request", http.StatusBadRequest)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) != 1 || req.Messages[0].Content != "What is 2+2?" {
			http.Error(rw, "bad body", http.StatusBadRequest)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "model": w.pick(r.Host)})
	}))
	t.Cleanup(srv.Close)
	return srv, w
}

// routedClient sends every connection to target, whatever address the
// snippet names: the way an embedded target routes a snippet's
// $INGRESS_GW_ADDRESS:80 or localhost:8080 to an in-process server.
func routedClient(target string) *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{
		DisableCompression: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, target)
		},
	}}
}

func hostport(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

// MustClassifier returns a function that unwraps a classifier constructor's
// result or fails the test.
func MustClassifier(t testing.TB) func(*Classifier, error) *Classifier {
	return func(c *Classifier, err error) *Classifier {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func TestDocSnippets(t *testing.T) {
	hello, helloServed := newHelloworld(t, 1)
	chat, chatServed := newChat(t, 2)
	byVersion := MustClassifier(t)(ByRegexp(`Hello version: (v\d+)`, SourceAuto))
	byModel := MustClassifier(t)(ByJQ(`.model`, SourceBody))
	byStdout := MustClassifier(t)(ByRegexp(`^(\S+)\n$`, SourceStdout))

	tests := []struct {
		name       string
		snippet    string
		env        map[string]string
		client     *http.Client
		classifier *Classifier
		served     *weighted
		wantHost   string
		count      int
	}{
		{
			name: "example 1 gateway address", snippet: docExample1Gateway,
			// The page hard-codes port 80: the address is the gateway's host
			// and the client routes port 80 to the fake.
			env: map[string]string{"INGRESS_GW_ADDRESS": "127.0.0.1"}, client: routedClient(hostport(hello)),
			classifier: byVersion, served: helloServed, wantHost: "traffic.split.example:8080", count: 20,
		},
		{
			name: "example 1 port-forward", snippet: docExample1Local, client: routedClient(hostport(hello)),
			classifier: byVersion, served: helloServed, wantHost: "traffic.split.example", count: 20,
		},
		{
			name: "example 2 gateway address", snippet: docExample2Gateway,
			env:        map[string]string{"INGRESS_GW_ADDRESS": hostport(chat)},
			classifier: byModel, served: chatServed, wantHost: hostport(chat), count: 10,
		},
		{
			name: "example 2 port-forward, classified from jq's output", snippet: docExample2Local, client: routedClient(hostport(chat)),
			classifier: byStdout, served: chatServed, wantHost: "localhost:8080", count: 10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := copyCounts(tt.served)
			res, err := Run(context.Background(), tt.snippet, Options{
				Env: tt.env, Client: tt.client, Flattened: true, Classifier: tt.classifier,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != 0 || len(res.Iterations) != tt.count || res.Loop == nil || res.Loop.Count() != tt.count {
				t.Fatalf("exit %d, %d iterations (loop %+v), want exit 0 and %d", res.ExitCode, len(res.Iterations), res.Loop, tt.count)
			}
			MustMatchServed(t, res, tt.served, before)
			tt.served.mu.Lock()
			hosts := tt.served.hosts[tt.wantHost]
			tt.served.mu.Unlock()
			if hosts < tt.count {
				t.Errorf("server saw Host %q %d times, want at least %d", tt.wantHost, hosts, tt.count)
			}
			for _, it := range res.Iterations {
				if it.Status != http.StatusOK || it.Err != nil || len(it.Exchanges) != 1 {
					t.Fatalf("iteration %d: status %d err %v exchanges %d", it.Index, it.Status, it.Err, len(it.Exchanges))
				}
				if it.Value != fmt.Sprint(it.Index+1) {
					t.Fatalf("iteration %d has loop value %q", it.Index, it.Value)
				}
			}
		})
	}
}

func copyCounts(w *weighted) map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{}
	for k, v := range w.served {
		out[k] = v
	}
	return out
}

// MustMatchServed checks that the replay's category counts are exactly what
// the fake served since before.
func MustMatchServed(t testing.TB, res *Result, w *weighted, before map[string]int) {
	t.Helper()
	after := copyCounts(w)
	for name, n := range after {
		if got, want := res.Counts[name], n-before[name]; got != want {
			t.Errorf("category %s counted %d times, served %d times (counts %v)", name, got, want, res.Counts)
		}
	}
	for cat := range res.Counts {
		if _, ok := after[cat]; !ok {
			t.Errorf("category %q was never served (counts %v)", cat, res.Counts)
		}
	}
}

func TestIncludeOutputPerIteration(t *testing.T) {
	hello, _ := newHelloworld(t, 3)
	res, err := Run(context.Background(), docExample1Local, Options{Flattened: true, Client: routedClient(hostport(hello)), Iterations: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range res.Iterations {
		out := string(it.Stdout)
		head, body, ok := strings.Cut(out, "\r\n\r\n")
		if !ok || !strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n") || !strings.Contains(head, "Content-Type: text/html; charset=utf-8") {
			t.Fatalf("iteration %d stdout %q, want curl -i's status line and headers", it.Index, out)
		}
		if body != string(it.Exchanges[0].Body) {
			t.Fatalf("iteration %d printed body %q, recorded %q", it.Index, body, it.Exchanges[0].Body)
		}
	}
}

func TestScaledIterations(t *testing.T) {
	hello, served := newHelloworld(t, 4)
	before := copyCounts(served)
	seen := 0
	res, err := Run(context.Background(), docExample1Local, Options{
		Flattened: true, Client: routedClient(hostport(hello)), Iterations: 500,
		Classifier:  MustClassifier(t)(ByRegexp(`Hello version: (v\d+)`, SourceBody)),
		OnIteration: func(it Iteration) { seen++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Iterations) != 500 || seen != 500 || res.Loop.To != 500 {
		t.Fatalf("%d iterations, %d callbacks, loop %+v; want 500", len(res.Iterations), seen, res.Loop)
	}
	MustMatchServed(t, res, served, before)
}

// TestIterationTimes: each iteration says when its curl ran, and its
// exchange falls inside that window; with the default client (nil) the
// loop's curl commands share one keep-alive connection.
func TestIterationTimes(t *testing.T) {
	hello, _ := newHelloworld(t, 5)
	env := map[string]string{"ADDR": hostport(hello)}
	res, err := Run(context.Background(), `for i in {1..3}; do curl -s "$ADDR/hello" -H "host: traffic.split.example"; done`, Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	var prevEnd time.Time
	for i, it := range res.Iterations {
		ex := it.LastExchange()
		if it.Curls != 1 || ex == nil || ex.Conn != 1 {
			t.Fatalf("iteration %d: %d curls, exchange %+v; want one curl on connection 1", i, it.Curls, ex)
		}
		if ex.Sent.Before(it.CurlStart) || ex.Received.After(it.CurlEnd) || it.CurlStart.Before(prevEnd) {
			t.Errorf("iteration %d: curl ran %v..%v, request %v..%v, previous curl ended %v", i, it.CurlStart, it.CurlEnd, ex.Sent, ex.Received, prevEnd)
		}
		prevEnd = it.CurlEnd
	}
}

func TestStopEarly(t *testing.T) {
	hello, _ := newHelloworld(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Run(ctx, docExample1Local, Options{
		Flattened: true, Client: routedClient(hostport(hello)), Iterations: 1000,
		OnIteration: func(it Iteration) {
			if it.Index == 6 {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if res == nil || len(res.Iterations) != 7 {
		t.Fatalf("result %+v, want the 7 iterations before the stop", res)
	}
}

func TestFailuresAreCounted(t *testing.T) {
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		switch k % 3 {
		case 0:
			http.Error(w, "no healthy upstream", http.StatusServiceUnavailable)
		case 1:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"model":"gpt-4o-2024-08-06"}`)
		default:
			http.Error(w, "backend not found", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	byModel := MustClassifier(t)(ByJQ(".model", SourceBody))
	res, err := Run(context.Background(), docExample2Local, Options{
		Flattened: true, Client: routedClient(hostport(srv)), Iterations: 6, Classifier: byModel,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"gpt-4o-2024-08-06": 2, "500": 2, "503": 2}
	if fmt.Sprint(res.Counts) != fmt.Sprint(want) {
		t.Fatalf("counts %v, want %v", res.Counts, want)
	}
	for _, it := range res.Iterations {
		if it.Status >= 400 && it.ExitCode == 0 {
			t.Errorf("iteration %d: jq on an error page should fail the pipeline, exit %d", it.Index, it.ExitCode)
		}
	}

	// Nothing listening: every request fails and each one is counted.
	res, err = Run(context.Background(), `for i in {1..4}; do curl -s -m 2 "http://`+closed+`/test"; done`, Options{Classifier: byModel})
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts[CategoryError] != 4 || len(res.Iterations) != 4 {
		t.Fatalf("counts %v, want 4 errors", res.Counts)
	}
	var ce *CurlError
	if it := res.Iterations[0]; !errors.As(it.Err, &ce) || ce.Exit != curl.ExitConnect || it.ExitCode != curl.ExitConnect {
		t.Fatalf("iteration error %v exit %d, want curl exit 7", it.Err, it.ExitCode)
	}
}

func TestUnsupported(t *testing.T) {
	tests := []struct {
		name    string
		snippet string
		opts    Options
		check   func(t *testing.T, err error)
	}{
		{
			name: "other command", snippet: "for i in {1..3}; do\n  wget -q localhost:8080/hello\ndone",
			check: func(t *testing.T, err error) {
				var uc *UnsupportedCommandError
				if !errors.As(err, &uc) || uc.Name != "wget" || uc.Line != 2 {
					t.Fatalf("error %v, want wget unsupported at line 2", err)
				}
				if !strings.Contains(err.Error(), `command "wget" is not supported`) || !strings.Contains(err.Error(), "--system-tools") {
					t.Fatalf("message %q does not teach the way out", err)
				}
			},
		},
		{
			name: "curl flag", snippet: "curl --compressed localhost:8080/hello",
			check: func(t *testing.T, err error) {
				var uf *curl.UnsupportedFlagError
				if !errors.As(err, &uf) || uf.Flag != "--compressed" {
					t.Fatalf("error %v, want unsupported --compressed", err)
				}
			},
		},
		{
			name: "redirection to a file", snippet: "curl -s localhost:8080/hello > out.txt",
			check: func(t *testing.T, err error) {
				if !errors.Is(err, ErrFilesystem) {
					t.Fatalf("error %v, want %v", err, ErrFilesystem)
				}
			},
		},
		{
			name: "scaling without a loop", snippet: "curl localhost:8080/hello", opts: Options{Iterations: 5},
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "no `for VAR in {A..B}` loop") {
					t.Fatalf("error %v", err)
				}
			},
		},
		{
			name: "two loops", snippet: "for i in {1..2}; do :; done\nfor j in {1..3}; do :; done",
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "2 loops") {
					t.Fatalf("error %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.snippet, tt.opts)
			tt.check(t, err)
		})
	}
}

func TestShellFeatures(t *testing.T) {
	hello, _ := newHelloworld(t, 6)
	var out strings.Builder
	snippet := `N=2
for i in {1..2}; do
  echo "try $i of $N"
  curl -s -o /dev/null -w '%{http_code}\n' "$ADDR/hello" 2>/dev/null
done
echo done > /dev/null`
	res, err := Run(context.Background(), snippet, Options{
		Env: map[string]string{"ADDR": hostport(hello)}, Stdout: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "try 1 of 2\n200\ntry 2 of 2\n200\n" {
		t.Fatalf("stdout %q", out.String())
	}
	if string(res.Iterations[1].Stdout) != "try 2 of 2\n200\n" {
		t.Fatalf("second iteration stdout %q", res.Iterations[1].Stdout)
	}
}

func TestSystemTools(t *testing.T) {
	if _, err := os.Stat("/bin/cat"); err != nil {
		t.Skip("no /bin/cat on this machine")
	}
	hello, _ := newHelloworld(t, 7)
	snippet := `for i in {1..2}; do curl -s "$ADDR/hello" | cat; done`
	env := map[string]string{"ADDR": hostport(hello)}
	if _, err := Run(context.Background(), snippet, Options{Env: env}); err == nil {
		t.Fatal("cat ran without SystemTools")
	}
	res, err := Run(context.Background(), snippet, Options{Env: env, SystemTools: true,
		Classifier: MustClassifier(t)(ByRegexp(`version: (v\d)`, SourceStdout))})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Iterations) != 2 || !strings.HasPrefix(string(res.Iterations[0].Stdout), "Hello version: v") || res.Iterations[0].Category == CategoryUnmatched {
		t.Fatalf("iterations %+v", res.Iterations)
	}
	// The real curl is only seen from outside: when it ran, not on which
	// connection.
	if it := res.Iterations[1]; it.Curls != 1 || it.CurlStart.IsZero() || it.CurlEnd.Before(it.CurlStart) || len(it.Exchanges) != 0 {
		t.Fatalf("second iteration: %d curls from %v to %v, %d exchanges", it.Curls, it.CurlStart, it.CurlEnd, len(it.Exchanges))
	}
}

func TestOutputFileUnderDir(t *testing.T) {
	hello, _ := newHelloworld(t, 8)
	dir := t.TempDir()
	_, err := Run(context.Background(), `curl -s -o "page.txt" "$ADDR/hello"`, Options{Env: map[string]string{"ADDR": hostport(hello)}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "page.txt"))
	if err != nil || !strings.HasPrefix(string(b), "Hello version: v") {
		t.Fatalf("page.txt %q %v", b, err)
	}
}

func BenchmarkExample1(b *testing.B) {
	hello, _ := newHelloworld(b, 9)
	classifier := MustClassifier(b)(ByRegexp(`Hello version: (v\d+)`, SourceBody))
	opts := Options{Flattened: true, Client: routedClient(hostport(hello)), Iterations: 10000, Classifier: classifier}
	for b.Loop() {
		res, err := Run(context.Background(), docExample1Local, opts)
		if err != nil || len(res.Iterations) != 10000 {
			b.Fatalf("%v", err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e4, "ns/request")
}
