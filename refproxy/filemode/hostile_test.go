package filemode_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
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
	"github.com/splitproof/splitproof/refproxy/route"
	"github.com/splitproof/splitproof/refproxy/translate"
)

// guard is how long a step that should take milliseconds may take before
// the test calls it hung. It bounds a wait; it never decides a result.
const guard = 10 * time.Second

// within runs f and fails the test if it has not returned after guard.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatalf("%s did not return: it is blocked", what)
	}
}

// stuckCompiler compiles the first configuration normally, then blocks
// every later compile: until release is closed when ignoreCtx is set (a read
// that cancellation cannot reach), else until its context ends.
type stuckCompiler struct {
	real      filemode.CompileFunc
	ignoreCtx bool
	calls     atomic.Int64
	entered   chan struct{} // receives once per blocked compile
	release   chan struct{}
}

func newStuckCompiler(ignoreCtx bool) *stuckCompiler {
	return &stuckCompiler{
		real:      filemode.Compiler(loader.Loader{}, translate.Options{PickMode: picker.Random, Seed: 1}, nil),
		ignoreCtx: ignoreCtx,
		entered:   make(chan struct{}, 8),
		release:   make(chan struct{}),
	}
}

func (c *stuckCompiler) compile(ctx context.Context, paths []string) (*route.Table, error) {
	if c.calls.Add(1) == 1 {
		return c.real(ctx, paths)
	}
	c.entered <- struct{}{}
	if c.ignoreCtx {
		<-c.release
		return c.real(context.Background(), paths)
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func startWithCompiler(t *testing.T, compile filemode.CompileFunc) (*filemode.Runner, *proxy.Proxy) {
	t.Helper()
	a := newBackend(t, "a")
	path := filepath.Join(t.TempDir(), "config.yaml")
	MustWrite(t, path, config([]int{80}, "a", a))
	p, err := proxy.New(proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := filemode.New(filemode.Options{Paths: []string{path}, Proxy: p, Listen: loopback, PollInterval: -1, Compile: compile})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r, p
}

// TestStuckReloadDoesNotBlockShutdown: a reload stuck where cancellation
// cannot reach (it ignores its context) must leave RequestReload, readiness
// and Shutdown free, which is what lets SIGTERM end the process.
func TestStuckReloadDoesNotBlockShutdown(t *testing.T) {
	c := newStuckCompiler(true)
	t.Cleanup(func() { close(c.release) })
	r, p := startWithCompiler(t, c.compile)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Watch(ctx)

	r.RequestReload()
	<-c.entered
	within(t, "RequestReload during a stuck reload", func() { r.RequestReload(); r.RequestReload() })
	if ready, why := p.Status().Ready(); !ready {
		t.Errorf("not ready while a reload is stuck: %s", why)
	}
	within(t, "Shutdown during a stuck reload", func() {
		sctx, scancel := context.WithTimeout(context.Background(), guard)
		defer scancel()
		if err := r.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	if ready, why := p.Status().Ready(); ready || !strings.Contains(why, "draining") {
		t.Errorf("after shutdown: ready=%v %q, want not ready, draining", ready, why)
	}
}

// TestReloadCancelledWithWatch: ending Watch's context ends the reload it is
// running, and a cancelled reload is not recorded as a refused one.
func TestReloadCancelledWithWatch(t *testing.T) {
	c := newStuckCompiler(false)
	r, p := startWithCompiler(t, c.compile)
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { r.Watch(ctx); close(watched) }()

	r.RequestReload()
	<-c.entered
	cancel()
	within(t, "Watch after its context ended mid-reload", func() { <-watched })
	if st := p.Status(); !st.LastReload.OK || st.Generation != 1 {
		t.Errorf("status after a cancelled reload: %+v, want generation 1 and the last reload OK", st.LastReload)
	}
}

// TestDrainFailsReadiness: once Shutdown begins, /readyz answers 503 while
// the last table still serves the requests in flight.
func TestDrainFailsReadiness(t *testing.T) {
	r, p := startWithCompiler(t, newStuckCompiler(false).compile)
	adm := httptest.NewServer(admin.Handler(p))
	t.Cleanup(adm.Close)
	if code, body := MustGet(t, adm.URL+"/readyz"); code != 200 {
		t.Fatalf("/readyz before shutdown: %d %q", code, body)
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, body := MustGet(t, adm.URL+"/readyz?verbose"); code != 503 || !strings.Contains(body, "[-]draining") {
		t.Errorf("/readyz?verbose during the drain: %d %q, want 503 and the draining check failing", code, body)
	}
}

// TestCompilerSaysWhyARouteIsNotAccepted: the warning about a detached
// route carries the parent's reason, not just the fact.
func TestCompilerSaysWhyARouteIsNotAccepted(t *testing.T) {
	a := newBackend(t, "a")
	path := filepath.Join(t.TempDir(), "config.yaml")
	MustWrite(t, path, strings.Replace(config([]int{80}, "a", a), "parentRefs: [{name: gw}]", "parentRefs: [{name: gw, sectionName: nope}]", 1))
	var logs syncBuffer
	compile := filemode.Compiler(loader.Loader{}, translate.Options{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if _, err := compile(context.Background(), []string{path}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `why="parentRef gw: NoMatchingParent:`) {
		t.Errorf("the warning does not say why the route was not accepted:\n%s", logs.String())
	}
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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
