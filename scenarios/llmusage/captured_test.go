package llmusage

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/fakeopenai"
)

var update = flag.Bool("update", false, "rewrite testdata/captured from a fresh fakeopenai")

// captures are the requests whose answers testdata/captured holds: each
// API fakeopenai serves, as JSON and as a stream, and the answers that
// carry no usage.
var captures = []struct {
	name, path, body string
	anthropic        bool
}{
	{name: "chat.json", path: "/v1/chat/completions", body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is 2+2?"}]}`},
	{name: "chat-stream-usage.sse", path: "/v1/chat/completions", body: `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"What is 2+2?"}]}`},
	{name: "chat-stream-no-usage.sse", path: "/v1/chat/completions", body: `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"What is 2+2?"}]}`},
	{name: "completions-stream-usage.sse", path: "/v1/completions", body: `{"model":"gpt-3.5-turbo-instruct","prompt":"Say hi","stream":true,"stream_options":{"include_usage":true}}`},
	{name: "responses.json", path: "/v1/responses", body: `{"model":"gpt-4o","input":"Tell me a story"}`},
	{name: "responses-stream.sse", path: "/v1/responses", body: `{"model":"gpt-4o-mini","input":"What is 2+2?","stream":true}`},
	{name: "messages.json", path: "/v1/messages", anthropic: true, body: `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"What is 2+2?"}]}`},
	{name: "messages-stream.sse", path: "/v1/messages", anthropic: true, body: `{"model":"claude-sonnet-4-5","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"Tell me a story"}]}`},
	{name: "error-unknown-model.json", path: "/v1/chat/completions", body: `{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}`},
}

// mustFakeOpenAI serves fakeopenai's default models and one Claude model.
func mustFakeOpenAI(t *testing.T) string {
	t.Helper()
	cat, err := fakeopenai.NewCatalog([]fakeopenai.Model{
		{ID: "gpt-4o-mini-2024-07-18", Aliases: []string{"gpt-4o-mini"}, Type: fakeopenai.TypeChat, Created: 1721172717},
		{ID: "gpt-4o-2024-08-06", Aliases: []string{"gpt-4o"}, Type: fakeopenai.TypeChat, Created: 1722814719},
		{ID: "gpt-3.5-turbo-instruct-0914", Aliases: []string{"gpt-3.5-turbo-instruct"}, Type: fakeopenai.TypeCompletion, Created: 1694122472},
		{ID: "claude-sonnet-4-5-20250929", Aliases: []string{"claude-sonnet-4-5"}, Type: fakeopenai.TypeChat, Created: 1759104000},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fakeopenai.New(fakeopenai.Config{Catalog: cat, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}

func mustPost(t *testing.T, base, path, body string, anthropic bool) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if anthropic {
		req.Header.Set("anthropic-version", "2023-06-01")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading the body: %v", path, err)
	}
	return b
}

// TestCapturedStillCurrent: the captured bodies are what fakeopenai
// answers today, as far as usage goes (ids and timestamps change), so the
// table in TestParseCaptured tests the provider the replays talk to.
func TestCapturedStillCurrent(t *testing.T) {
	base := mustFakeOpenAI(t)
	for _, c := range captures {
		t.Run(c.name, func(t *testing.T) {
			live := mustPost(t, base, c.path, c.body, c.anthropic)
			file := filepath.Join("testdata", "captured", c.name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, live, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			golden, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -run TestCapturedStillCurrent -update to capture)", err)
			}
			gu, gok := Parse(golden)
			lu, lok := Parse(live)
			if gu != lu || gok != lok {
				t.Fatalf("fakeopenai's answer now parses to %+v (%v), the captured %s to %+v (%v): recapture with -update\n%s", lu, lok, file, gu, gok, live)
			}
			if bytes.Contains(golden, []byte("\r")) {
				t.Fatalf("%s has a carriage return: was it edited by hand?", file)
			}
		})
	}
}
