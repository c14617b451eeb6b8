package cli

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// fakeopenaiOutput is a buffer the server goroutine writes while the test reads.
type fakeopenaiOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *fakeopenaiOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *fakeopenaiOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

func mustWriteFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFakeOpenAICommandServes(t *testing.T) {
	models := mustWriteFile(t, "models.yaml", `apiVersion: fakeopenai.splitproof.dev/v1alpha1
kind: ModelCatalog
models:
- id: tiny-2025-01-01
  aliases: [tiny]
  type: chat
`)
	keys := mustWriteFile(t, "keys.txt", "# test key\nsk-cli-test-key\n")
	stdout, stderr := &fakeopenaiOutput{}, &fakeopenaiOutput{}
	env := &Env{Stdout: stdout, Stderr: stderr, Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, env, []string{"fakeopenai", "--listen", "127.0.0.1:0", "--models-file", models, "--keys-file", keys, "--seed", "9"})
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if s := stdout.String(); strings.HasSuffix(s, "\n") {
			base = strings.TrimSpace(s)
		}
		select {
		case err := <-done:
			t.Fatalf("command ended early: %v\n%s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed; stderr:\n%s", stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	client := openai.NewClient(option.WithBaseURL(base+"/"), option.WithAPIKey("sk-cli-test-key"), option.WithMaxRetries(0))
	res, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "tiny",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != "tiny-2025-01-01" {
		t.Errorf("model = %q, want the snapshot from the models file", res.Model)
	}
	_, err = client.Models.List(ctx, option.WithAPIKey("sk-other"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Errorf("wrong key: err = %v, want a 401", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("command returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("command did not stop after cancel")
	}
}

func TestFakeOpenAICommandBadInput(t *testing.T) {
	bad := mustWriteFile(t, "models.yaml", "apiVersion: fakeopenai.splitproof.dev/v1alpha1\nkind: ModelCatalog\nmodels:\n- id: a\n  type: chat\n  colour: red\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"models file unknown field", []string{"--models-file", bad}, bad + `:6: models[0]: unknown field "colour"`},
		{"missing models file", []string{"--models-file", bad + ".nope"}, "--models-file: read model catalogue"},
		{"bad fault rate", []string{"--fault-rate", "418=0.1"}, "--fault-rate"},
		{"bad jitter", []string{"--jitter", "2"}, "jitter must be in [0, 1]"},
		{"bad flag", []string{"--nope"}, "flag provided but not defined"},
		{"bad listen address", []string{"--listen", "127.0.0.1:notaport"}, "--listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := &Env{Stdout: &stdout, Stderr: &stderr}
			err := Run(context.Background(), env, append([]string{"fakeopenai", "--listen", "127.0.0.1:0"}, tt.args...))
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Code != ExitBadInput {
				t.Fatalf("err = %v, want exit code %d", err, ExitBadInput)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestFakeOpenAIHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), &Env{Stdout: &stdout, Stderr: &stderr}, []string{"fakeopenai", "--help"})
	if exitCode(&stderr, err) != ExitOK {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"AUTHENTICATION IS DISABLED", "--fault-rate", "--models-file", "--keys-file", "X-Fake-Fault", "Examples:"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
