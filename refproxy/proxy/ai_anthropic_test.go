package proxy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/splitproof/splitproof/fakeopenai"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

// Claude models of the fake's catalogue: the backend's model and one a
// client might ask for, each an alias of a dated snapshot.
const (
	claude         = "claude-sonnet-4-5"
	claudeSnapshot = "claude-sonnet-4-5-20250929"
	claudeOther    = "claude-haiku-4-5"
)

// MustFakeWithClaude starts fakeopenai with the default catalogue plus two
// Claude models, accepting only testKey.
func MustFakeWithClaude(t *testing.T, cfg fakeopenai.Config) (*fakeopenai.Server, string, int32) {
	t.Helper()
	models := append(fakeopenai.DefaultCatalog().Models(),
		fakeopenai.Model{ID: claudeSnapshot, Aliases: []string{claude}, Type: fakeopenai.TypeChat, Created: 1759104000},
		fakeopenai.Model{ID: "claude-haiku-4-5-20251001", Aliases: []string{claudeOther}, Type: fakeopenai.TypeChat, Created: 1760486400},
	)
	cat, err := fakeopenai.NewCatalog(models)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Catalog = cat
	return MustFake(t, cfg)
}

func anthropicBackend(name, model, key, host string, port int32) *route.Backend {
	b := aiBackend(name, model, key, host, port)
	b.AI.Provider, b.AI.SecretRef = route.ProviderAnthropic, "default/anthropic-secret"
	return b
}

// anthropicClient talks to refproxy with a key of its own, which refproxy
// must replace with the backend's.
func anthropicClient(url string) anthropic.Client {
	return anthropic.NewClient(aoption.WithBaseURL(url), aoption.WithAPIKey("sk-ant-client-own-key"), aoption.WithMaxRetries(0))
}

func messageParams(model, prompt string, maxTokens int64) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model: anthropic.Model(model), MaxTokens: maxTokens,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(prompt))},
	}
}

// TestAnthropicMessagesSDK sends Anthropic's SDK through refproxy: the
// backend's model and key replace the client's, JSON and stream alike.
func TestAnthropicMessagesSDK(t *testing.T) {
	fake, host, port := MustFakeWithClaude(t, fakeopenai.Config{Seed: 3})
	var logs syncBuffer
	p, front := MustProxy(t, table(entry("default/claude", prefix("/"),
		rule(t, picker.Random, 1, anthropicBackend("default/anthropic", claude, testKey, host, port)))),
		proxy.Options{Logger: debugLogger(&logs)})
	client := anthropicClient(front.URL)
	ctx := context.Background()

	msg, err := client.Messages.New(ctx, messageParams(claudeOther, "What is 2+2?", 256))
	if err != nil {
		t.Fatalf("Messages.New through refproxy: %v", err)
	}
	if string(msg.Model) != claudeSnapshot || len(msg.Content) != 1 || msg.Content[0].Text == "" || msg.StopReason != anthropic.StopReasonEndTurn {
		t.Errorf("message %s, want text from %s", msg.RawJSON(), claudeSnapshot)
	}

	stream := client.Messages.NewStreaming(ctx, messageParams(claudeOther, "What is 2+2?", 256))
	var acc anthropic.Message
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatalf("Accumulate: %v", err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream through refproxy: %v", err)
	}
	if string(acc.Model) != claudeSnapshot || len(acc.Content) != 1 || acc.Content[0].Text != msg.Content[0].Text {
		t.Errorf("streamed %s, want the same text as the JSON answer %q (same seed, same prompt)", acc.RawJSON(), msg.Content[0].Text)
	}

	recs := fake.Requests()
	if len(recs) != 2 {
		t.Fatalf("%d requests at the fake, want 2", len(recs))
	}
	for i, rec := range recs {
		if rec.Path != proxy.DefaultAnthropicPath || rec.Endpoint != fakeopenai.EndpointMessages || rec.Model != claude ||
			rec.Key != testKey || !rec.KeyValid || rec.Stream != (i == 1) {
			t.Errorf("request %d at the fake: %+v; want %s, model %s, the backend's key, stream %v", i, rec, proxy.DefaultAnthropicPath, claude, i == 1)
		}
	}
	MustNotLeak(t, p, &logs)
}

// TestAnthropicStreamUnbuffered checks that the first event arrives while
// the fake is still generating.
func TestAnthropicStreamUnbuffered(t *testing.T) {
	var finished atomic.Bool
	_, host, port := MustFakeWithClaude(t, fakeopenai.Config{
		Seed: 1, TokenDelay: 5 * time.Millisecond,
		OnRequest: func(fakeopenai.Request) { finished.Store(true) },
	})
	_, front := MustProxy(t, table(entry("default/claude", prefix("/"),
		rule(t, picker.Random, 1, anthropicBackend("default/anthropic", claude, testKey, host, port)))), proxy.Options{})
	client := anthropicClient(front.URL)
	stream := client.Messages.NewStreaming(context.Background(), messageParams(claude, "Tell me a story.", 40))
	defer stream.Close()
	if !stream.Next() {
		t.Fatalf("no event: %v", stream.Err())
	}
	if finished.Load() {
		t.Error("the first event arrived only after the provider had finished: the stream was buffered")
	}
	events := 1
	for stream.Next() {
		events++
	}
	if err := stream.Err(); err != nil || events < 6 {
		t.Errorf("%d events, error %v; want a whole stream", events, err)
	}
}

// captured is what a capturing provider saw of one request.
type captured struct {
	path   string
	header http.Header
	body   map[string]json.RawMessage
}

// MustCapture starts a provider that records each request and answers
// with answer; it returns its host and port and the requests it saw.
func MustCapture(t *testing.T, answer string) (string, int32, <-chan captured) {
	t.Helper()
	got := make(chan captured, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]json.RawMessage
		_ = json.NewDecoder(r.Body).Decode(&b)
		got <- captured{r.URL.Path, r.Header.Clone(), b}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return host, int32(p), got
}

// TestAnthropicHeaders checks the credentials and version the provider
// receives, whatever the client sends.
func TestAnthropicHeaders(t *testing.T) {
	const oauthKey = "sk-ant-oat01-splitproof-test"
	host, port, got := MustCapture(t, `{}`)
	tests := []struct {
		name, key, path, override string
		clientHeaders             map[string]string
		wantPath, wantAPIKey      string
		wantAuthorization         string
		wantVersion               string
	}{
		{name: "client credentials replaced, version defaulted", key: testKey, path: "/v1/messages",
			clientHeaders: map[string]string{"Authorization": "Bearer client-token", "X-Api-Key": "client-key"},
			wantPath:      proxy.DefaultAnthropicPath, wantAPIKey: testKey, wantVersion: proxy.DefaultAnthropicVersion},
		{name: "client version kept", key: testKey, path: "/claude/v1/messages",
			clientHeaders: map[string]string{"Anthropic-Version": "2099-01-01"},
			wantPath:      proxy.DefaultAnthropicPath, wantAPIKey: testKey, wantVersion: "2099-01-01"},
		{name: "oauth token as bearer", key: oauthKey, path: "/v1/messages",
			clientHeaders: map[string]string{"X-Api-Key": "client-key"},
			wantPath:      proxy.DefaultAnthropicPath, wantAuthorization: "Bearer " + oauthKey, wantVersion: proxy.DefaultAnthropicVersion},
		{name: "path override", key: testKey, path: "/v1/messages", override: "/anthropic/v1/messages",
			wantPath: "/anthropic/v1/messages", wantAPIKey: testKey, wantVersion: proxy.DefaultAnthropicVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := anthropicBackend("default/anthropic", claude, tc.key, host, port)
			b.AI.Path = tc.override
			_, front := MustProxy(t, table(entry("default/claude", prefix("/"), rule(t, picker.Random, 1, b))), proxy.Options{})
			req, _ := http.NewRequest(http.MethodPost, front.URL+tc.path, strings.NewReader(
				`{"model": "`+claudeOther+`", "max_tokens": 10, "metadata": {"user_id": "u1"}, "messages": [{"role": "user", "content": "hi"}]}`))
			for k, v := range tc.clientHeaders {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			s := <-got
			if res.StatusCode != 200 || s.path != tc.wantPath {
				t.Fatalf("status %d, provider saw path %s; want 200 at %s", res.StatusCode, s.path, tc.wantPath)
			}
			if s.header.Get("X-Api-Key") != tc.wantAPIKey || s.header.Get("Authorization") != tc.wantAuthorization ||
				s.header.Get("Anthropic-Version") != tc.wantVersion {
				t.Errorf("provider saw x-api-key %q, authorization %q, anthropic-version %q; want %q, %q, %q",
					s.header.Get("X-Api-Key"), s.header.Get("Authorization"), s.header.Get("Anthropic-Version"),
					tc.wantAPIKey, tc.wantAuthorization, tc.wantVersion)
			}
			if string(s.body["model"]) != `"`+claude+`"` || string(s.body["metadata"]) != `{"user_id":"u1"}` {
				t.Errorf("provider saw model %s metadata %s: the model must be replaced and the rest kept", s.body["model"], s.body["metadata"])
			}
		})
	}
}

// TestAnthropicFromChat sends OpenAI chat completions to an anthropic
// backend: translated to Messages on the way out and back on the way in,
// errors included.
func TestAnthropicFromChat(t *testing.T) {
	fake, host, port := MustFakeWithClaude(t, fakeopenai.Config{Seed: 5})
	good := anthropicBackend("default/anthropic", claude, testKey, host, port)
	bad := anthropicBackend("default/anthropic-bad-key", claude, "sk-wrong", host, port)
	_, front := MustProxy(t, table(
		entry("default/good", prefix("/good"), rule(t, picker.Random, 1, good)),
		entry("default/bad", prefix("/bad"), rule(t, picker.Random, 1, bad)),
	), proxy.Options{})

	code, body := post(t, front.URL+"/good/v1/chat/completions",
		`{"model": "gpt-4o", "max_tokens": 200, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "What is 2+2?"}]}]}`)
	var res struct {
		Object  string `json:"object"`
		Model   string `json:"model"`
		Created int64  `json:"created"`
		Choices []struct {
			Message struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
	if code != 200 || json.Unmarshal(body, &res) != nil {
		t.Fatalf("%d %s, want a chat completion", code, body)
	}
	if res.Object != "chat.completion" || res.Model != claudeSnapshot || len(res.Choices) != 1 ||
		res.Choices[0].Message.Role != "assistant" || res.Choices[0].Message.Content == "" || res.Choices[0].FinishReason != "stop" || res.Created == 0 {
		t.Errorf("answer %s, want one assistant choice from %s finished with stop", body, claudeSnapshot)
	}
	recs := fake.Requests()
	if len(recs) != 1 || recs[0].Path != proxy.DefaultAnthropicPath || recs[0].Model != claude || recs[0].Key != testKey {
		t.Fatalf("fake saw %+v, want one Messages request with the backend's model and key", recs)
	}
	if res.Usage.PromptTokens != recs[0].PromptTokens || res.Usage.CompletionTokens != recs[0].CompletionTokens ||
		res.Usage.TotalTokens != recs[0].PromptTokens+recs[0].CompletionTokens {
		t.Errorf("usage %+v, the fake counted %d prompt and %d completion tokens", res.Usage, recs[0].PromptTokens, recs[0].CompletionTokens)
	}

	code, body = post(t, front.URL+"/bad/v1/chat/completions", chatBody)
	var e struct {
		Error struct {
			Message, Type string
		} `json:"error"`
	}
	if code != http.StatusUnauthorized || json.Unmarshal(body, &e) != nil || e.Error.Type != "authentication_error" || !strings.Contains(e.Error.Message, "x-api-key") {
		t.Errorf("wrong key: %d %s, want 401 with Anthropic's error in OpenAI's shape", code, body)
	}
}

// TestAnthropicRefused checks what an anthropic backend answers itself:
// 400 in the shape of the client's API, and nothing reaches the provider.
func TestAnthropicRefused(t *testing.T) {
	fake, host, port := MustFakeWithClaude(t, fakeopenai.Config{Seed: 1})
	_, front := MustProxy(t, table(entry("default/claude", prefix("/"),
		rule(t, picker.Random, 1, anthropicBackend("default/anthropic", claude, testKey, host, port)))), proxy.Options{})
	tests := []struct {
		name, path, body string
		anthropicShape   bool
		want             string
	}{
		{"stream_options without stream", "/v1/chat/completions", `{"stream_options": {}, "messages": [{"role": "user", "content": "hi"}]}`, false, "stream_options: only allowed when stream is true"},
		{"responses", "/v1/responses", `{"input": "hi"}`, false, "does not take Responses API requests"},
		{"count tokens", "/v1/messages/count_tokens", `{"messages": [{"role": "user", "content": "hi"}]}`, true, "token counting"},
		{"messages not json", "/v1/messages", `[1]`, true, "must be a JSON object"},
		{"messages stream not bool", "/v1/messages", `{"stream": "yes"}`, true, `"stream" must be a boolean`},
		{"chat tools", "/v1/chat/completions", `{"tools": [], "user": "u", "messages": []}`, false, "tools, user: not translated"},
		{"chat image", "/v1/chat/completions", `{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}`, false, `messages[0].content[0]: "image_url" parts are not translated`},
		{"chat tool result", "/v1/chat/completions", `{"messages": [{"role": "tool", "content": "4"}]}`, false, `messages[0].role: "tool" messages are not translated`},
		{"chat tool calls", "/v1/chat/completions", `{"messages": [{"role": "assistant", "content": null, "tool_calls": []}]}`, false, `messages[0]: json: unknown field "tool_calls"`},
		{"chat n", "/v1/chat/completions", `{"n": 2, "messages": []}`, false, "n: Anthropic answers one choice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, front.URL+tc.path, tc.body)
			var e struct {
				Type  string `json:"type"`
				Error struct {
					Type, Message string
				} `json:"error"`
			}
			if code != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Error.Type != "invalid_request_error" ||
				!strings.Contains(e.Error.Message, tc.want) || (e.Type == "error") != tc.anthropicShape {
				t.Errorf("%d %s; want 400 saying %q in %s error shape", code, body, tc.want, map[bool]string{true: "Anthropic's", false: "OpenAI's"}[tc.anthropicShape])
			}
		})
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d refused requests reached the provider", n)
	}
}

// TestAISplitAcrossProviders is Example 2 with its premium backend on
// Anthropic: the same chat request, 80/20 between an openai and an
// anthropic backend, each answer from its own provider's model.
func TestAISplitAcrossProviders(t *testing.T) {
	fake, host, port := MustFakeWithClaude(t, fakeopenai.Config{Seed: 1})
	mini := aiBackend("default/openai-mini-backend", "gpt-4o-mini", testKey, host, port)
	sonnet := anthropicBackend("default/anthropic-backend", claude, testKey, host, port)
	mini.Weight, sonnet.Weight = 80, 20
	_, front := MustProxy(t, table(entry("default/test", prefix("/test"), rule(t, picker.Smooth, 0, mini, sonnet))), proxy.Options{})
	models := map[string]int{}
	for range 10 {
		code, body := post(t, front.URL+"/test", chatBody)
		var res struct {
			Object string `json:"object"`
			Model  string `json:"model"`
		}
		if code != 200 || json.Unmarshal(body, &res) != nil || res.Object != "chat.completion" {
			t.Fatalf("%d %s, want a chat completion", code, body)
		}
		models[res.Model]++
	}
	if len(models) != 2 || models["gpt-4o-mini-2024-07-18"] != 8 || models[claudeSnapshot] != 2 {
		t.Errorf("models %v, want 8 gpt-4o-mini-2024-07-18 and 2 %s", models, claudeSnapshot)
	}
	paths := map[string]int{}
	for _, rec := range fake.Requests() {
		paths[rec.Path]++
	}
	if paths[proxy.DefaultAIPath] != 8 || paths[proxy.DefaultAnthropicPath] != 2 {
		t.Errorf("fake saw paths %v, want 8 chat completions and 2 Messages", paths)
	}
}

// TestAnthropicUntranslatableAnswer checks that a Messages answer that has
// no chat counterpart becomes a 502 saying so, not a mangled completion.
func TestAnthropicUntranslatableAnswer(t *testing.T) {
	host, port, got := MustCapture(t, `{"type": "message", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}], "stop_reason": "tool_use"}`)
	_, front := MustProxy(t, table(entry("default/claude", prefix("/"),
		rule(t, picker.Random, 1, anthropicBackend("default/anthropic", claude, testKey, host, port)))), proxy.Options{})
	code, body := post(t, front.URL+"/v1/chat/completions", chatBody)
	var e struct {
		Error struct {
			Message, Type string
		} `json:"error"`
	}
	if code != http.StatusBadGateway || json.Unmarshal(body, &e) != nil || e.Error.Type != "api_error" ||
		!strings.Contains(e.Error.Message, `cannot translate the anthropic provider's answer to a chat completion: content[0]: "tool_use" blocks`) {
		t.Errorf("%d %s, want 502 naming the block that cannot be translated", code, body)
	}
	if s := <-got; s.path != proxy.DefaultAnthropicPath || string(s.body["max_tokens"]) != "4096" {
		t.Errorf("provider saw %s with max_tokens %s, want %s with the default 4096", s.path, s.body["max_tokens"], proxy.DefaultAnthropicPath)
	}
}

// TestAnthropicFromChatStream streams a chat completion with OpenAI's SDK
// through an anthropic backend: the chunks come as the provider generates
// them, and they add up to the JSON answer to the same request.
func TestAnthropicFromChatStream(t *testing.T) {
	var finished atomic.Bool
	fake, host, port := MustFakeWithClaude(t, fakeopenai.Config{
		Seed: 4, TokenDelay: 5 * time.Millisecond,
		OnRequest: func(fakeopenai.Request) { finished.Store(true) },
	})
	_, front := MustProxy(t, table(entry("default/claude", prefix("/"),
		rule(t, picker.Random, 1, anthropicBackend("default/anthropic", claude, testKey, host, port)))), proxy.Options{})
	client := openai.NewClient(option.WithBaseURL(front.URL+"/v1/"), option.WithAPIKey("sk-client-own-key"), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{
		Model:     "gpt-4o",
		MaxTokens: openai.Int(40),
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Tell me a story.")},
	}
	ctx := context.Background()

	stream := client.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		if chunks == 0 && finished.Load() {
			t.Error("the first chunk arrived only after the provider had finished: the stream was buffered")
		}
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream through refproxy: %v", err)
	}
	finished.Store(false)
	res, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatalf("JSON answer through refproxy: %v", err)
	}

	got := acc.ChatCompletion
	if len(got.Choices) != 1 || got.Choices[0].Message.Content == "" || got.Choices[0].Message.Content != res.Choices[0].Message.Content ||
		got.Choices[0].FinishReason != res.Choices[0].FinishReason || got.Model != claudeSnapshot {
		t.Errorf("streamed %+v, want the JSON answer's choice %+v from %s", got.Choices, res.Choices, claudeSnapshot)
	}
	if got.Usage.TotalTokens == 0 || got.Usage.PromptTokens != res.Usage.PromptTokens ||
		got.Usage.CompletionTokens != res.Usage.CompletionTokens || got.Usage.TotalTokens != res.Usage.TotalTokens {
		t.Errorf("streamed usage %+v, JSON usage %+v: the usage chunk must be there and agree", got.Usage, res.Usage)
	}
	// The role chunk, a chunk per token, the finish chunk and the usage chunk.
	if want := int(res.Usage.CompletionTokens) + 3; chunks != want {
		t.Errorf("%d chunks, want %d", chunks, want)
	}
	recs := fake.Requests()
	if len(recs) != 2 || !recs[0].Stream || recs[1].Stream || recs[0].Path != proxy.DefaultAnthropicPath || recs[0].Key != testKey {
		t.Errorf("fake saw %+v, want a streamed and a JSON Messages request with the backend's key", recs)
	}
}

// TestAnthropicFromChatStreamClientLeaves checks that a client leaving a
// translated stream cancels the provider's stream and is not logged as a
// translation failure.
func TestAnthropicFromChatStreamClientLeaves(t *testing.T) {
	// An endless stream that reports when its client, refproxy, goes away.
	gone := make(chan struct{})
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\",\"usage\":{\"input_tokens\":1}}}\n\n")
		w.(http.Flusher).Flush()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				close(gone)
				return
			case <-tick.C:
				_, _ = io.WriteString(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"more \"}}\n\n")
				w.(http.Flusher).Flush()
			}
		}
	}))
	t.Cleanup(provider.Close)
	host, portStr, _ := net.SplitHostPort(provider.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	var logs syncBuffer
	_, front := MustProxy(t, table(entry("default/claude", prefix("/"),
		rule(t, picker.Random, 1, anthropicBackend("default/anthropic", claude, testKey, host, int32(port))))),
		proxy.Options{Logger: debugLogger(&logs)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, front.URL+"/v1/chat/completions", strings.NewReader(
		`{"stream": true, "messages": [{"role": "user", "content": "Go on forever."}]}`))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(res.Body)
	for n := 0; n < 3 && sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "data: {") {
			n++
		}
	}
	cancel()
	res.Body.Close()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the provider's stream went on after the client left")
	}
	if strings.Contains(logs.String(), "cannot translate") {
		t.Errorf("a client leaving was logged as a translation failure:\n%s", logs.String())
	}
}
