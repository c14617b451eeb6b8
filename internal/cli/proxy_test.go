package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// validConfig is a served Gateway on port 80 with a Service backend.
const validConfig = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: splitproof}
spec: {controllerName: splitproof.dev/refproxy}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: splitproof
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {ports: [{port: 80}]}
`

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestProxyRefusesBadFiles: configurations that file mode used to serve as
// 404s, or to read without bound, are refused at start-up with exit code 2
// and a message naming file, line and field.
func TestProxyRefusesBadFiles(t *testing.T) {
	route := validConfig + `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs:
    - {name: a, port: 80, weight: -1}
`
	routePath := writeConfig(t, route)
	validPath := writeConfig(t, validConfig)
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"weight -1", []string{"--config", routePath}, "config.yaml:25: HTTPRoute default/r (document at line 18): spec.rules[0].backendRefs[0].weight: Invalid value: -1"},
		{"file over the size limit", []string{"--config", validPath, "--max-manifest-bytes", "100"}, "over the limit of 100 bytes"},
		{"size limit zero", []string{"--config", validPath, "--max-manifest-bytes", "0"}, "--max-manifest-bytes 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			MustRefuse(t, runProxy, append(tc.args, "--admin", "", "--port-map", "80=127.0.0.1:0"), nil, tc.wantErr)
		})
	}
}

// cancelOn is a log handler that calls cancel when a record with message
// msg is logged: a signal arriving at a known point of start-up.
type cancelOn struct {
	slog.Handler
	msg    string
	cancel context.CancelFunc
}

func (h cancelOn) Enabled(context.Context, slog.Level) bool { return true }

func (h cancelOn) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.cancel()
	}
	return h.Handler.Handle(ctx, r)
}

// TestProxyStopsDuringStartup: SIGTERM (ctx ending) while the configuration
// loads ends the command promptly with no error.
func TestProxyStopsDuringStartup(t *testing.T) {
	path := writeConfig(t, validConfig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := &Env{
		Stdout: io.Discard, Stderr: io.Discard, Stdin: strings.NewReader(""),
		Getenv: func(string) string { return "" },
		Logger: slog.New(cancelOn{Handler: slog.DiscardHandler, msg: "refproxy starting", cancel: cancel}),
	}
	done := make(chan error, 1)
	go func() {
		done <- runProxy(ctx, e, []string{"--config", path, "--admin", "", "--port-map", "80=127.0.0.1:0"})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("runProxy after a stop during start-up: %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runProxy did not return after its context ended during start-up")
	}
}
