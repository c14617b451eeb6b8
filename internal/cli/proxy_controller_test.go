package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestProxyModeFlags covers the choice between file and controller mode and
// the flags that only one mode takes; every case fails before touching a
// cluster or a socket.
func TestProxyModeFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"nothing to serve", nil, nil, "--config is required"},
		{"files and cluster", []string{"--config", "x.yaml", "--controller"}, nil, "exclude each other"},
		{"files and kubeconfig", []string{"--config", "x.yaml", "--kubeconfig", "k"}, nil, "exclude each other"},
		{"gateway without controller", []string{"--config", "x.yaml", "--gateway", "ns/gw"}, nil, "need controller mode"},
		{"bad gateway", []string{"--kubeconfig", "/nonexistent", "--gateway", "gw"}, nil, "expected NAMESPACE/NAME"},
		{"two address sources", []string{"--kubeconfig", "/nonexistent", "--gateway-address", "1.2.3.4", "--address-service", "ns/svc"}, nil, "exclude each other"},
		{"bad address service", []string{"--kubeconfig", "/nonexistent", "--address-service", "svc"}, nil, "expected NAMESPACE/NAME"},
		{"missing kubeconfig", []string{"--kubeconfig", "/nonexistent/kubeconfig"}, nil, "/nonexistent/kubeconfig"},
	} {
		t.Run(tc.name, func(t *testing.T) { MustRefuse(t, runProxy, tc.args, tc.env, tc.wantErr) })
	}
}

// MustRefuse runs a subcommand with args and a quiet environment holding
// env, and fails unless it returns a bad-input error (exit code 2) whose
// message contains wantErr.
func MustRefuse(t *testing.T, run func(context.Context, *Env, []string) error, args []string, env map[string]string, wantErr string) {
	t.Helper()
	e := &Env{
		Stdout: io.Discard, Stderr: io.Discard, Stdin: strings.NewReader(""),
		Getenv: func(k string) string { return env[k] },
		Logger: slog.New(slog.DiscardHandler),
	}
	err := run(context.Background(), e, args)
	var ee *ExitError
	if err == nil || !errors.As(err, &ee) || ee.Code != ExitBadInput || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("run(%q) = %v, want a bad-input error containing %q", args, err, wantErr)
	}
}
