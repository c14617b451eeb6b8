package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// These cases fail before any docker or kind call, so they run anywhere.
func TestKindBadInput(t *testing.T) {
	tests := [][]string{
		{"kind"},
		{"kind", "bogus"},
		{"kind", "load"},
		{"kind", "create", "extra"},
		{"kind", "delete", "extra"},
		{"kind", "create", "--no-such-flag"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			e := &Env{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" },
				Logger: slog.New(slog.NewTextHandler(&stderr, nil))}
			if code := exitCode(io.Discard, Run(context.Background(), e, args)); code != ExitBadInput {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, ExitBadInput, stderr.String())
			}
		})
	}
}

func TestKindHelp(t *testing.T) {
	var stdout bytes.Buffer
	e := &Env{Stdout: &stdout, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if code := exitCode(io.Discard, Run(context.Background(), e, []string{"kind", "create", "--help"})); code != ExitOK {
		t.Fatalf("exit code %d, want %d", code, ExitOK)
	}
	for _, want := range []string{"Usage: splitproof kind", "-image", "-kubeconfig", "-reuse", "Examples:", "splitproof kind load"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("kind create --help lacks %q:\n%s", want, stdout.String())
		}
	}
}
