package fakeopenai_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/splitproof/splitproof/fakeopenai"
)

const claude = "claude-sonnet-4-5"

// serveAnthropic starts a server whose catalogue has a Claude model behind
// an alias, and an Anthropic client for it that never retries.
func serveAnthropic(t *testing.T, cfg fakeopenai.Config, key string) (*fakeopenai.Server, string, anthropic.Client) {
	t.Helper()
	cat, err := fakeopenai.NewCatalog([]fakeopenai.Model{
		{ID: "claude-sonnet-4-5-20250929", Aliases: []string{claude}, Type: fakeopenai.TypeChat, Created: 1759104000},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Catalog = cat
	srv, ts, _ := MustServe(t, cfg)
	client := anthropic.NewClient(
		aoption.WithBaseURL(ts.URL),
		aoption.WithAPIKey(key),
		aoption.WithMaxRetries(0),
		aoption.WithHTTPClient(ts.Client()),
	)
	return srv, ts.URL, client
}

func messageParams(prompt string, maxTokens int64) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     claude,
		MaxTokens: maxTokens,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(prompt))},
	}
}

func TestMessagesJSONAndStream(t *testing.T) {
	srv, _, client := serveAnthropic(t, fakeopenai.Config{Keys: []string{testKey}, Seed: 8}, testKey)
	ctx := context.Background()
	msg, err := client.Messages.New(ctx, messageParams("What is 2+2?", 1024))
	if err != nil {
		t.Fatalf("Messages.New: %v", err)
	}
	if msg.Type != "message" || msg.Role != "assistant" || string(msg.Model) != "claude-sonnet-4-5-20250929" ||
		!strings.HasPrefix(msg.ID, "msg_") || msg.StopReason != anthropic.StopReasonEndTurn {
		t.Errorf("message %s", msg.RawJSON())
	}
	if len(msg.Content) != 1 || msg.Content[0].Type != "text" || msg.Content[0].Text == "" {
		t.Fatalf("content %+v", msg.Content)
	}
	text := msg.Content[0].Text
	// 6 tokens and 3 for the message; Anthropic primes no reply.
	if msg.Usage.InputTokens != 9 || msg.Usage.OutputTokens != int64(fakeopenai.CountTokens(text)) {
		t.Errorf("usage %+v for %d-token text", msg.Usage, fakeopenai.CountTokens(text))
	}
	rec := srv.Requests()[0]
	if rec.Endpoint != fakeopenai.EndpointMessages || rec.Key != testKey || !rec.KeyValid || rec.ResolvedModel != string(msg.Model) {
		t.Errorf("recorded %+v", rec)
	}

	stream := client.Messages.NewStreaming(ctx, messageParams("What is 2+2?", 1024))
	var acc anthropic.Message
	var types []string
	for stream.Next() {
		ev := stream.Current()
		if len(types) == 0 || types[len(types)-1] != ev.Type {
			types = append(types, ev.Type)
		}
		if err := acc.Accumulate(ev); err != nil {
			t.Fatalf("Accumulate: %v", err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	want := "message_start content_block_start content_block_delta content_block_stop message_delta message_stop"
	if strings.Join(types, " ") != want {
		t.Errorf("events %v, want %s", types, want)
	}
	if len(acc.Content) != 1 || acc.Content[0].Text != text || acc.StopReason != anthropic.StopReasonEndTurn ||
		acc.Usage.OutputTokens != msg.Usage.OutputTokens || acc.Usage.InputTokens != msg.Usage.InputTokens {
		t.Errorf("accumulated %s, JSON answer %s", acc.RawJSON(), msg.RawJSON())
	}

	short, err := client.Messages.New(ctx, messageParams("Tell me a story", 3))
	if err != nil {
		t.Fatal(err)
	}
	if short.StopReason != anthropic.StopReasonMaxTokens || short.Usage.OutputTokens != 3 ||
		fakeopenai.CountTokens(short.Content[0].Text) != 3 {
		t.Errorf("max_tokens 3: %s", short.RawJSON())
	}
}

func TestMessagesErrors(t *testing.T) {
	_, url, client := serveAnthropic(t, fakeopenai.Config{Keys: []string{testKey}, RetryAfter: 4e9}, testKey)
	_, _, wrongKey := serveAnthropic(t, fakeopenai.Config{Keys: []string{testKey}}, "sk-ant-wrong-key")
	ctx := context.Background()
	tests := []struct {
		name       string
		err        error
		status     int
		typ        string
		retryAfter string
	}{
		{"wrong key", func() error { _, err := wrongKey.Messages.New(ctx, messageParams("hi", 10)); return err }(),
			401, "authentication_error", ""},
		{"unknown model", func() error {
			p := messageParams("hi", 10)
			p.Model = "claude-nope"
			_, err := client.Messages.New(ctx, p)
			return err
		}(), 404, "not_found_error", ""},
		{"429", func() error {
			_, err := client.Messages.New(ctx, messageParams("hi", 10), aoption.WithHeader(fakeopenai.FaultHeader, "429"))
			return err
		}(), 429, "rate_limit_error", "4"},
		{"429 bare, streamed", func() error {
			s := client.Messages.NewStreaming(ctx, messageParams("hi", 10), aoption.WithHeader(fakeopenai.FaultHeader, "429-bare"))
			for s.Next() {
			}
			return s.Err()
		}(), 429, "rate_limit_error", ""},
		{"503", func() error {
			_, err := client.Messages.New(ctx, messageParams("hi", 10), aoption.WithHeader(fakeopenai.FaultHeader, "503"))
			return err
		}(), 503, "overloaded_error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var apiErr *anthropic.Error
			if !errors.As(tt.err, &apiErr) {
				t.Fatalf("err = %v, want *anthropic.Error", tt.err)
			}
			if apiErr.StatusCode != tt.status || string(apiErr.Type()) != tt.typ || apiErr.Message == "" {
				t.Errorf("status %d type %q message %q, want %d %q", apiErr.StatusCode, apiErr.Type(), apiErr.Message, tt.status, tt.typ)
			}
			if got := apiErr.Response.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if apiErr.RequestID == "" {
				t.Errorf("no request id")
			}
		})
	}

	// Raw HTTP: the error body's exact shape, the version header that the
	// SDK always sends, and x-api-key, which the SDK replaces with a bearer
	// token (the cases past authentication show the key was accepted).
	for _, tt := range []struct {
		name, key, version string
		status             int
		typ, message       string
	}{
		{"no key", "", "2023-06-01", 401, "authentication_error", "x-api-key header is required"},
		{"wrong key", "sk-ant-wrong", "2023-06-01", 401, "authentication_error", "invalid x-api-key"},
		{"no version", testKey, "", 400, "invalid_request_error", "anthropic-version: header is required"},
		{"no max_tokens", testKey, "2023-06-01", 400, "invalid_request_error", "max_tokens: Field required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"model":"` + claude + `","messages":[{"role":"user","content":"hi"}]}`
			if tt.name != "no max_tokens" {
				body = `{"model":"` + claude + `","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
			}
			req, _ := http.NewRequest(http.MethodPost, url+"/v1/messages", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if tt.key != "" {
				req.Header.Set("x-api-key", tt.key)
			}
			if tt.version != "" {
				req.Header.Set("anthropic-version", tt.version)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			var got struct {
				Type  string `json:"type"`
				Error struct {
					Type    string `json:"type"`
					Message string `json:"message"`
				} `json:"error"`
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("body %s: %v", raw, err)
			}
			if res.StatusCode != tt.status || got.Type != "error" || got.Error.Type != tt.typ ||
				got.Error.Message != tt.message || got.RequestID != res.Header.Get("request-id") {
				t.Errorf("%d %s", res.StatusCode, raw)
			}
		})
	}
}
