package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/filemode"
	"github.com/splitproof/splitproof/refproxy/listen"
	"github.com/splitproof/splitproof/refproxy/loader"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/route"
	"github.com/splitproof/splitproof/refproxy/runtime"
	"github.com/splitproof/splitproof/refproxy/translate"
)

// configYAML is a Gateway on port 80 whose one route sends / to Service
// "be", whose one endpoint is 127.0.0.1:%d.
const configYAML = `apiVersion: gateway.networking.k8s.io/v1
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
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: be, namespace: default}
spec:
  ports: [{name: http, port: 5000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: be-1, namespace: default, labels: {kubernetes.io/service-name: be}}
addressType: IPv4
ports: [{name: http, port: %d}]
endpoints:
- addresses: [127.0.0.1]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: be, port: 5000}]
`

// MustBackend is a loopback server answering with name; it returns the
// manifests that route port 80 to it.
func MustBackend(t *testing.T, name string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, name) }))
	t.Cleanup(srv.Close)
	return fmt.Sprintf(configYAML, srv.Listener.Addr().(*net.TCPAddr).Port)
}

func MustTable(t *testing.T, manifests string) *route.Table {
	t.Helper()
	set, err := loader.Decode("test.yaml", []byte(manifests))
	if err != nil {
		t.Fatal(err)
	}
	res, err := translate.Translate(set, translate.Options{PickMode: picker.Random, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return res.Table
}

// lockedBuffer collects logs written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newRuntime(t *testing.T, admin string, logs io.Writer) *runtime.Runtime {
	t.Helper()
	rt, err := runtime.New(runtime.Options{
		Listen:       listen.Listener("127.0.0.1", map[int32]string{80: "127.0.0.1:0"}),
		DrainTimeout: 5 * time.Second,
		AdminAddress: admin,
		Logger:       slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func get(url string) (int, string, error) {
	res, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

func MustGet(t *testing.T, url string) (int, string) {
	t.Helper()
	code, body, err := get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return code, body
}

func refused(addr net.Addr) bool {
	c, err := net.DialTimeout("tcp", addr.String(), time.Second)
	if err == nil {
		c.Close()
	}
	return err != nil
}

// TestFilesLifecycle runs file mode as `splitproof proxy --config` does:
// served, reloaded on request, ready on the admin listener, then drained
// and closed, gateway and admin ports alike, when the context ends.
func TestFilesLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(MustBackend(t, "a")), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	rt := newRuntime(t, "127.0.0.1:0", &logs)
	files := &runtime.Files{Options: filemode.Options{
		Paths:        []string{path},
		Compile:      filemode.Compiler(loader.Loader{}, translate.Options{Seed: 1}, nil),
		PollInterval: -1,
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := rt.Start(ctx, files); err != nil {
		t.Fatal(err)
	}
	gw, adm := rt.Addr(80), rt.AdminAddr()
	if gw == nil || adm == nil {
		t.Fatalf("gateway port 80 at %v, admin at %v: want both listening", gw, adm)
	}
	if _, body := MustGet(t, "http://"+gw.String()+"/"); body != "a" {
		t.Fatalf("gateway answered %q, want a", body)
	}
	if code, body := MustGet(t, "http://"+adm.String()+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d %q, want 200", code, body)
	}
	ran := make(chan error, 1)
	go func() { ran <- rt.Run(ctx) }()

	if err := os.WriteFile(path, []byte(MustBackend(t, "b")), 0o644); err != nil {
		t.Fatal(err)
	}
	files.RequestReload()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, body := MustGet(t, "http://"+gw.String()+"/"); body == "b" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the requested reload was not served within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}

	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !rt.Proxy().Status().Draining {
		t.Error("the proxy is not marked draining after Run")
	}
	if !refused(gw) || !refused(adm) {
		t.Errorf("after Run: gateway refused %v, admin refused %v; want both closed", refused(gw), refused(adm))
	}
	for _, want := range []string{"admin listening", "shutting down: draining requests in flight"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
	if err := rt.Shutdown(); err != nil {
		t.Errorf("a second Shutdown: %v, want the first one's nil", err)
	}
}

// TestStartFailures: a source that does not start and an admin address
// that cannot be bound both fail Start, leaving nothing listening and
// announcing no drain, since nothing was served.
func TestStartFailures(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("kind: HTTPRoute\napiVersion: gateway.networking.k8s.io/v1\nspec: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, admin string
		src         runtime.Source
		wantErr     string
	}{
		{"broken manifest", "127.0.0.1:0", &runtime.Files{Options: filemode.Options{
			Paths: []string{broken}, Compile: filemode.Compiler(loader.Loader{}, translate.Options{}, nil)}}, "broken.yaml"},
		{"no first table", "", &runtime.Tables{}, "no first routing table"},
		{"admin address in use", busy.Addr().String(), &runtime.Tables{First: MustTable(t, MustBackend(t, "a"))}, "admin listener: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			rt := newRuntime(t, tc.admin, &logs)
			err := rt.Start(context.Background(), tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Start: %v, want an error containing %q", err, tc.wantErr)
			}
			if rt.Addr(80) != nil || rt.AdminAddr() != nil {
				t.Errorf("after a failed start: gateway %v, admin %v, want neither", rt.Addr(80), rt.AdminAddr())
			}
			if strings.Contains(logs.String(), "shutting down") {
				t.Errorf("a failed start announced a drain:\n%s", logs.String())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := rt.Run(ctx); err == nil || ctx.Err() != nil {
				t.Error("Run after a failed Start succeeded")
			}
		})
	}
}

// failing is a source whose Run fails at once, as a controller that lost
// its cluster does.
type failing struct{ runtime.Tables }

var errLost = errors.New("lost the source")

func (failing) Run(context.Context) error { return errLost }

// TestTablesAndSourceFailure pushes tables in memory, as the embedded target
// does, then checks that a source that fails ends Run with its error and the
// ports drained.
func TestTablesAndSourceFailure(t *testing.T) {
	rt := newRuntime(t, "", io.Discard)
	if err := rt.Start(context.Background(), &failing{runtime.Tables{First: MustTable(t, MustBackend(t, "a"))}}); err != nil {
		t.Fatal(err)
	}
	gw := rt.Addr(80)
	if _, body := MustGet(t, "http://"+gw.String()+"/"); body != "a" {
		t.Fatalf("first table answered %q, want a", body)
	}
	if err := rt.Apply(MustTable(t, MustBackend(t, "b"))); err != nil {
		t.Fatal(err)
	}
	if _, body := MustGet(t, "http://"+gw.String()+"/"); body != "b" {
		t.Fatalf("pushed table answered %q, want b", body)
	}
	if err := rt.Run(context.Background()); !errors.Is(err, errLost) {
		t.Fatalf("Run: %v, want the source's error", err)
	}
	if !refused(gw) {
		t.Error("gateway port still open after the source failed")
	}
	if err := rt.Apply(MustTable(t, MustBackend(t, "c"))); err == nil {
		t.Error("Apply after shutdown succeeded")
	}
}
