package filemode_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/admin"
	"github.com/splitproof/splitproof/refproxy/filemode"
	"github.com/splitproof/splitproof/refproxy/loader"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/translate"
)

const gatewayYAML = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: splitproof}
spec: {controllerName: splitproof.dev/refproxy}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: splitproof
  listeners:
%s`

const listenerYAML = `  - {name: l%d, port: %d, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
`

// serviceYAML is a Service on port 5000 whose one endpoint is a loopback backend.
const serviceYAML = `---
apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: default}
spec:
  ports: [{name: http, port: 5000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %[1]s-1, namespace: default, labels: {kubernetes.io/service-name: %[1]s}}
addressType: IPv4
ports: [{name: http, port: %[2]d}]
endpoints:
- addresses: [127.0.0.1]
`

// backend is a loopback server answering with its name.
type backend struct {
	name string
	port int
}

func newBackend(t *testing.T, name string) backend {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return backend{name: name, port: srv.Listener.Addr().(*net.TCPAddr).Port}
}

// config renders a Gateway with the given ports, the backends' Services and
// an HTTPRoute on every port sending all traffic of / to backendRef.
func config(ports []int, backendRef string, backends ...backend) string {
	var ls strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&ls, listenerYAML, p, p)
	}
	var b strings.Builder
	fmt.Fprintf(&b, gatewayYAML, ls.String())
	for _, be := range backends {
		fmt.Fprintf(&b, serviceYAML, be.name, be.port)
	}
	fmt.Fprintf(&b, `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: %s, port: 5000}]
`, backendRef)
	return b.String()
}

func MustWrite(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loopback listens on an ephemeral loopback port for every gateway port.
func loopback(int32) (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// MustRunner starts a runner over path with a polling interval of poll.
func MustRunner(t testing.TB, path string, poll time.Duration) (*filemode.Runner, *proxy.Proxy) {
	t.Helper()
	p, err := proxy.New(proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := filemode.New(filemode.Options{
		Paths:        []string{path},
		Compile:      filemode.Compiler(loader.Loader{}, translate.Options{PickMode: picker.Random, Seed: 1}, nil),
		Proxy:        p,
		Listen:       loopback,
		PollInterval: poll,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return r, p
}

func get(c *http.Client, url string) (int, string, error) {
	res, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

func MustGet(t testing.TB, url string) (int, string) {
	t.Helper()
	code, body, err := get(http.DefaultClient, url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return code, body
}

func url(r *filemode.Runner, port int32) string {
	return "http://" + r.Addr(port).String() + "/"
}

// TestReloadOnFileChange covers the watcher: a good edit is picked up, a bad
// one is refused while the last good table keeps serving, readiness and the
// failure metric report it, and fixing the file recovers.
func TestReloadOnFileChange(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	path := filepath.Join(t.TempDir(), "config.yaml")
	MustWrite(t, path, config([]int{80}, "a", a, b))
	r, p := MustRunner(t, path, 10*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { r.Watch(ctx); close(watched) }()
	t.Cleanup(func() { cancel(); <-watched })
	adm := httptest.NewServer(admin.Handler(p))
	t.Cleanup(adm.Close)

	if code, body := MustGet(t, url(r, 80)); code != 200 || body != "a" {
		t.Fatalf("before reload: %d %q", code, body)
	}
	MustWrite(t, path, config([]int{80}, "b", a, b))
	waitFor(t, "the edit to be served", func() bool { _, body := MustGet(t, url(r, 80)); return body == "b" })

	MustWrite(t, path, "apiVersion: v1\nkind: Service\nmetadata: {name: x\n")
	waitFor(t, "the bad edit to be refused", func() bool { return !p.Status().LastReload.OK })
	if e := p.Status().LastReload.Error; !strings.Contains(e, "config.yaml") {
		t.Errorf("reload error %q does not name the file", e)
	}
	if code, body := MustGet(t, url(r, 80)); code != 200 || body != "b" {
		t.Errorf("after a bad edit: %d %q, want the last good table (b)", code, body)
	}
	// The last good table serves every request: readiness must hold, or a
	// readiness probe would empty the Service over an edit that never went
	// live. The refusal shows in the verbose detail.
	if code, body := MustGet(t, adm.URL+"/readyz"); code != 200 || !strings.Contains(body, "last reload was refused") {
		t.Errorf("/readyz after bad edit: %d %q, want 200 naming the refusal", code, body)
	}
	if code, body := MustGet(t, adm.URL+"/readyz?verbose"); code != 200 || !strings.Contains(body, "[-]last-reload refused") || !strings.Contains(body, "config.yaml") {
		t.Errorf("/readyz?verbose after bad edit: %d %q", code, body)
	}
	if _, body := MustGet(t, adm.URL+"/debug/routes"); !strings.Contains(body, `"ok": false`) || !strings.Contains(body, "config.yaml") {
		t.Errorf("/debug/routes does not show the refused reload:\n%s", body)
	}
	if _, body := MustGet(t, adm.URL+"/metrics"); !strings.Contains(body, proxy.MetricReloads+`{result="failure"} 1`) ||
		!strings.Contains(body, proxy.MetricLastReloadOK+" 0") {
		t.Errorf("metrics do not show the failed reload:\n%s", grepLines(body, "refproxy_config"))
	}

	MustWrite(t, path, config([]int{80}, "a", a, b))
	waitFor(t, "the fix to be served", func() bool { _, body := MustGet(t, url(r, 80)); return body == "a" })
	if code, _ := MustGet(t, adm.URL+"/readyz"); code != 200 {
		t.Errorf("/readyz after fix: %d", code)
	}
}

// TestReloadUnderLoad reloads 20 times while 4 clients send 1000 requests
// each: not one request may fail.
func TestReloadUnderLoad(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	path := filepath.Join(t.TempDir(), "config.yaml")
	cfgA, cfgB := config([]int{80}, "a", a, b), config([]int{80}, "b", a, b)
	MustWrite(t, path, cfgA)
	r, p := MustRunner(t, path, -1)
	target := url(r, 80)

	const workers, perWorker, reloads = 4, 1000, 20
	var done, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			for range perWorker {
				code, body, err := get(c, target)
				if err != nil || code != 200 || (body != "a" && body != "b") {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %q %v", code, body, err))
				}
				done.Add(1)
			}
		})
	}
	for i := range reloads {
		// Spread the reloads over the run.
		for done.Load() < int64((i+1)*workers*perWorker/(reloads+2)) {
			time.Sleep(time.Millisecond)
		}
		cfg := cfgA
		if i%2 == 0 {
			cfg = cfgB
		}
		MustWrite(t, path, cfg)
		if err := r.Reload(context.Background()); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed during %d reloads; first: %v", n, workers*perWorker, reloads, firstErr.Load())
	}
	if g := p.Status().Generation; g != reloads+1 {
		t.Errorf("generation %d, want %d", g, reloads+1)
	}
}

// TestPortsFollowConfig starts and stops listeners as ports come and go.
func TestPortsFollowConfig(t *testing.T) {
	a := newBackend(t, "a")
	path := filepath.Join(t.TempDir(), "config.yaml")
	MustWrite(t, path, config([]int{80, 81}, "a", a))
	r, _ := MustRunner(t, path, -1)
	addr81 := r.Addr(81)
	if addr81 == nil {
		t.Fatal("no listener for port 81")
	}
	if _, body := MustGet(t, url(r, 81)); body != "a" {
		t.Fatalf("port 81 answered %q", body)
	}
	MustWrite(t, path, config([]int{80}, "a", a))
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.Addr(81) != nil {
		t.Error("port 81 still has a listener after it left the configuration")
	}
	waitFor(t, "port 81 to close", func() bool {
		c, err := net.DialTimeout("tcp", addr81.String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	MustWrite(t, path, config([]int{80, 82}, "a", a))
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, body := MustGet(t, url(r, 82)); body != "a" {
		t.Errorf("new port 82 answered %q", body)
	}
	if _, body := MustGet(t, url(r, 80)); body != "a" {
		t.Errorf("port 80 answered %q after reloads", body)
	}
}

func TestBadConfigAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.yaml")
	MustWrite(t, path, "kind: HTTPRoute\napiVersion: gateway.networking.k8s.io/v1\nspec: [\n")
	p, err := proxy.New(proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := filemode.New(filemode.Options{
		Paths: []string{path}, Proxy: p, Listen: loopback,
		Compile: filemode.Compiler(loader.Loader{}, translate.Options{}, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Fatalf("start with a broken file: %v, want an error naming broken.yaml", err)
	}
	if ready, _ := p.Status().Ready(); ready {
		t.Error("proxy ready without a table")
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestShutdownDrains starts a slow request, shuts down, and checks that the
// request completes with 200 and that Shutdown waited for it.
func TestShutdownDrains(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "slow")
	}))
	t.Cleanup(slow.Close)
	path := filepath.Join(t.TempDir(), "config.yaml")
	MustWrite(t, path, config([]int{80}, "slow", backend{"slow", slow.Listener.Addr().(*net.TCPAddr).Port}))
	p, err := proxy.New(proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := filemode.New(filemode.Options{
		Paths: []string{path}, Proxy: p, Listen: loopback, PollInterval: -1,
		Compile: filemode.Compiler(loader.Loader{}, translate.Options{}, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	target := url(r, 80)

	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		code, body, err := get(http.DefaultClient, target)
		res <- result{code, body, err}
	}()
	<-entered
	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdown <- r.Shutdown(ctx)
	}()
	// Shutdown closes the listener first; then it must wait for the request.
	waitFor(t, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(strings.TrimSuffix(target, "/"), "http://"), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
	default:
	}
	close(release)
	got := <-res
	if got.err != nil || got.code != 200 || got.body != "slow" {
		t.Errorf("in-flight request: %d %q %v, want 200 slow", got.code, got.body, got.err)
	}
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestWatchReadsWhatTheLoaderReads: the change detection lists files with
// the loader's own walker, so an edit the loader would not read (a dot
// file, another extension) reloads nothing, and a manifest added deep in a
// directory reloads at once.
func TestWatchReadsWhatTheLoaderReads(t *testing.T) {
	a := newBackend(t, "a")
	dir := t.TempDir()
	MustWrite(t, filepath.Join(dir, "config.yaml"), config([]int{80}, "a", a))
	const poll = 10 * time.Millisecond
	r, p := MustRunner(t, dir, poll)
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { r.Watch(ctx); close(watched) }()
	t.Cleanup(func() { cancel(); <-watched })

	if err := os.MkdirAll(filepath.Join(dir, "sub", ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"notes.txt", ".hidden.yaml", filepath.Join("sub", ".git", "x.yaml")} {
		MustWrite(t, filepath.Join(dir, name), "not: a manifest")
	}
	// Twenty polls: a change would be loaded after two.
	time.Sleep(20 * poll)
	if g := p.Status().Generation; g != 1 {
		t.Fatalf("generation %d after edits the loader does not read, want 1", g)
	}
	MustWrite(t, filepath.Join(dir, "sub", "extra.yml"), "apiVersion: v1\nkind: Service\nmetadata: {name: extra, namespace: default}\nspec:\n  ports: [{port: 80}]\n")
	waitFor(t, "the new manifest to be loaded", func() bool { return p.Status().Generation == 2 })
	if st := p.Status(); !st.LastReload.OK {
		t.Errorf("reload after a new manifest refused: %s", st.LastReload.Error)
	}
}
