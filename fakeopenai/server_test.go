package fakeopenai_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/splitproof/splitproof/fakeopenai"
)

const testKey = "sk-test-0123456789abcdef"

// MustServe starts cfg's server on 127.0.0.1:0 and returns it with an SDK
// client that uses testKey and never retries.
func MustServe(t testing.TB, cfg fakeopenai.Config, opts ...option.RequestOption) (*fakeopenai.Server, *httptest.Server, openai.Client) {
	t.Helper()
	srv, err := fakeopenai.New(cfg, nil)
	if err != nil {
		t.Fatalf("fakeopenai.New: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close() // release hangs first, or ts.Close would wait for them
		ts.Close()
	})
	base := []option.RequestOption{
		option.WithBaseURL(ts.URL + "/v1/"),
		option.WithAPIKey(testKey),
		option.WithMaxRetries(0),
		option.WithHTTPClient(ts.Client()),
	}
	return srv, ts, openai.NewClient(append(base, opts...)...)
}

func chatParams(model, prompt string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
	}
}

func TestChatCompletion(t *testing.T) {
	srv, _, client := MustServe(t, fakeopenai.Config{Keys: []string{testKey}, Seed: 7})
	tests := []struct {
		name, model, want string
	}{
		{"alias resolves to snapshot", "gpt-4o-mini", "gpt-4o-mini-2024-07-18"},
		{"other alias", "gpt-4o", "gpt-4o-2024-08-06"},
		{"snapshot by name", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"},
		{"gpt-4.1", "gpt-4.1", "gpt-4.1-2025-04-14"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			res, err := client.Chat.Completions.New(context.Background(), chatParams(tt.model, "What is 2+2?"))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if res.Model != tt.want {
				t.Errorf("model = %q, want %q", res.Model, tt.want)
			}
			if !strings.HasPrefix(res.ID, "chatcmpl-") || len(res.ID) != len("chatcmpl-")+29 {
				t.Errorf("id = %q, want chatcmpl- and 29 characters", res.ID)
			}
			// The client marks system_fingerprint deprecated, so it is read
			// raw: the fake still sends it, as the API does.
			fp := res.JSON.SystemFingerprint
			if res.Object != "chat.completion" || res.Created == 0 || !fp.Valid() || fp.Raw() == `""` {
				t.Errorf("object=%q created=%d fingerprint=%s", res.Object, res.Created, fp.Raw())
			}
			if len(res.Choices) != 1 {
				t.Fatalf("choices = %d, want 1", len(res.Choices))
			}
			c := res.Choices[0]
			if c.Message.Role != "assistant" || c.Message.Content == "" || c.FinishReason != "stop" {
				t.Errorf("choice = role %q content %q finish %q", c.Message.Role, c.Message.Content, c.FinishReason)
			}
			// "What is 2+2?" is What, is, 2, +, 2, ? = 6 tokens, plus 3 per
			// message and 3 to prime the reply.
			if res.Usage.PromptTokens != 12 {
				t.Errorf("prompt_tokens = %d, want 12", res.Usage.PromptTokens)
			}
			if got := int64(fakeopenai.CountTokens(c.Message.Content)); got != res.Usage.CompletionTokens {
				t.Errorf("completion_tokens = %d, CountTokens(content) = %d", res.Usage.CompletionTokens, got)
			}
			if res.Usage.TotalTokens != res.Usage.PromptTokens+res.Usage.CompletionTokens {
				t.Errorf("usage does not add up: %+v", res.Usage)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("recorded %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Model != tt.model || r.ResolvedModel != tt.want || !r.KeyValid || r.Key != testKey || r.Status != 200 || r.Endpoint != fakeopenai.EndpointChat {
				t.Errorf("recorded %+v", r)
			}
		})
	}
}

func TestChatMaxTokensAndChoices(t *testing.T) {
	_, _, client := MustServe(t, fakeopenai.Config{Seed: 3})
	p := chatParams("gpt-4o-mini", "Tell me a story")
	p.MaxCompletionTokens = openai.Int(5)
	p.N = openai.Int(3)
	res, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Choices) != 3 {
		t.Fatalf("choices = %d, want 3", len(res.Choices))
	}
	for i, c := range res.Choices {
		// Generated texts are at least 8 tokens long, so 5 always truncates.
		if c.FinishReason != "length" || fakeopenai.CountTokens(c.Message.Content) != 5 || c.Index != int64(i) {
			t.Errorf("choice %d: finish %q, %d tokens, index %d", i, c.FinishReason, fakeopenai.CountTokens(c.Message.Content), c.Index)
		}
	}
	if res.Usage.CompletionTokens != 15 {
		t.Errorf("completion_tokens = %d, want 15", res.Usage.CompletionTokens)
	}
	if res.Choices[0].Message.Content == res.Choices[1].Message.Content && res.Choices[1].Message.Content == res.Choices[2].Message.Content {
		t.Errorf("all three choices are equal: %q", res.Choices[0].Message.Content)
	}
}

func TestChatStreamWithUsage(t *testing.T) {
	srv, _, client := MustServe(t, fakeopenai.Config{Seed: 11})
	p := chatParams("gpt-4o-mini", "Stream please")
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	var acc openai.ChatCompletionAccumulator
	chunks, usageChunks := 0, 0
	for stream.Next() {
		chunk := stream.Current()
		acc.AddChunk(chunk)
		chunks++
		if chunk.Object != "chat.completion.chunk" || chunk.Model != "gpt-4o-mini-2024-07-18" {
			t.Errorf("chunk object %q model %q", chunk.Object, chunk.Model)
		}
		if chunk.Usage.TotalTokens > 0 {
			usageChunks++
			if len(chunk.Choices) != 0 {
				t.Errorf("usage chunk has %d choices, want 0", len(chunk.Choices))
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if usageChunks != 1 {
		t.Errorf("usage chunks = %d, want 1", usageChunks)
	}
	got := acc.ChatCompletion
	if len(got.Choices) != 1 || got.Choices[0].FinishReason != "stop" {
		t.Fatalf("accumulated choices: %+v", got.Choices)
	}
	content := got.Choices[0].Message.Content
	if int64(fakeopenai.CountTokens(content)) != got.Usage.CompletionTokens {
		t.Errorf("completion_tokens = %d, content has %d", got.Usage.CompletionTokens, fakeopenai.CountTokens(content))
	}
	// One chunk per token, plus the role chunk, the finish chunk and usage.
	if want := int(got.Usage.CompletionTokens) + 3; chunks != want {
		t.Errorf("chunks = %d, want %d", chunks, want)
	}
	// The stream and the JSON answer to the same request agree.
	res, err := client.Chat.Completions.New(context.Background(), chatParams("gpt-4o-mini", "Stream please"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Choices[0].Message.Content != content {
		t.Errorf("streamed %q, JSON %q", content, res.Choices[0].Message.Content)
	}
	if reqs := srv.Requests(); len(reqs) != 2 || !reqs[0].Stream || reqs[1].Stream {
		t.Errorf("recorded stream flags wrong: %+v", reqs)
	}
}

func TestLegacyCompletion(t *testing.T) {
	_, _, client := MustServe(t, fakeopenai.Config{})
	res, err := client.Completions.New(context.Background(), openai.CompletionNewParams{
		Model:  "gpt-3.5-turbo-instruct",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hello")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != "gpt-3.5-turbo-instruct-0914" || res.Object != "text_completion" || !strings.HasPrefix(res.ID, "cmpl-") {
		t.Errorf("model %q object %q id %q", res.Model, res.Object, res.ID)
	}
	// The default max_tokens is 16; "Say hello" is Say + hel|lo = 3 tokens.
	if len(res.Choices) != 1 || res.Usage.CompletionTokens > 16 || res.Usage.PromptTokens != 3 {
		t.Errorf("choices %d usage %+v", len(res.Choices), res.Usage)
	}
}

func TestModels(t *testing.T) {
	_, _, client := MustServe(t, fakeopenai.Config{})
	page, err := client.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, m := range page.Data {
		ids[m.ID] = true
		if m.Object != "model" || m.Created == 0 || m.OwnedBy == "" {
			t.Errorf("model %+v", m)
		}
	}
	for _, want := range []string{"gpt-4o-mini", "gpt-4o-mini-2024-07-18", "gpt-4o", "gpt-4o-2024-08-06", "text-embedding-3-small"} {
		if !ids[want] {
			t.Errorf("list lacks %s", want)
		}
	}
	m, err := client.Models.Get(context.Background(), "gpt-4o-mini")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "gpt-4o-mini" || m.Created != 1721172717 || m.OwnedBy != "system" {
		t.Errorf("retrieved %+v", m)
	}
}

func TestEmbeddings(t *testing.T) {
	_, _, client := MustServe(t, fakeopenai.Config{Seed: 5})
	for _, format := range []openai.EmbeddingNewParamsEncodingFormat{openai.EmbeddingNewParamsEncodingFormatFloat, openai.EmbeddingNewParamsEncodingFormatBase64} {
		t.Run(string(format), func(t *testing.T) {
			res, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
				Model:          openai.EmbeddingModelTextEmbedding3Small,
				Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"hello world", "second input", "hello world"}},
				Dimensions:     openai.Int(256),
				EncodingFormat: format,
			})
			if err != nil {
				t.Fatal(err)
			}
			// Each input is two words of five or six letters: 4 tokens.
			if res.Model != "text-embedding-3-small" || len(res.Data) != 3 || res.Usage.PromptTokens != 12 || res.Usage.TotalTokens != 12 {
				t.Fatalf("model %q, %d items, usage %+v", res.Model, len(res.Data), res.Usage)
			}
			for i, d := range res.Data {
				if len(d.Embedding) != 256 || d.Index != int64(i) {
					t.Fatalf("item %d: %d dims, index %d", i, len(d.Embedding), d.Index)
				}
				var norm float64
				for _, x := range d.Embedding {
					norm += x * x
				}
				if norm < 0.999 || norm > 1.001 {
					t.Errorf("item %d: squared norm %v, want 1", i, norm)
				}
			}
			if !equal(res.Data[0].Embedding, res.Data[2].Embedding) || equal(res.Data[0].Embedding, res.Data[1].Embedding) {
				t.Errorf("equal inputs must embed equally and different ones differently")
			}
		})
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// MustAPIError asserts err is the SDK's own *openai.Error with the given
// status, code and param.
func MustAPIError(t *testing.T, err error, status int, code, param string) *openai.Error {
	t.Helper()
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not an *openai.Error", err, err)
	}
	if apiErr.StatusCode != status || apiErr.Code != code || apiErr.Param != param {
		t.Fatalf("got status %d code %q param %q, want %d %q %q (body %s)", apiErr.StatusCode, apiErr.Code, apiErr.Param, status, code, param, apiErr.RawJSON())
	}
	if apiErr.Message == "" || apiErr.Type == "" {
		t.Fatalf("error without message or type: %s", apiErr.RawJSON())
	}
	return apiErr
}

func TestErrors(t *testing.T) {
	srv, ts, client := MustServe(t, fakeopenai.Config{Keys: []string{testKey}, RetryAfter: 3 * time.Second})
	ctx := context.Background()
	tests := []struct {
		name       string
		call       func() error
		status     int
		code       string
		param      string
		typ        string
		retryAfter string
	}{
		{
			name: "wrong key",
			call: func() error {
				_, err := client.Chat.Completions.New(ctx, chatParams("gpt-4o", "hi"), option.WithAPIKey("sk-wrong-key-000000"))
				return err
			},
			status: 401, code: "invalid_api_key", typ: "invalid_request_error",
		},
		{
			name: "missing key",
			call: func() error {
				_, err := client.Models.List(ctx, option.WithHeaderDel("Authorization"))
				return err
			},
			status: 401, code: "invalid_api_key", typ: "invalid_request_error",
		},
		{
			name: "unknown model",
			call: func() error {
				_, err := client.Chat.Completions.New(ctx, chatParams("gpt-9", "hi"))
				return err
			},
			status: 404, code: "model_not_found", param: "model", typ: "invalid_request_error",
		},
		{
			name: "retrieve unknown model",
			call: func() error {
				_, err := client.Models.Get(ctx, "gpt-9")
				return err
			},
			status: 404, code: "model_not_found", param: "model", typ: "invalid_request_error",
		},
		{
			name: "no model",
			call: func() error {
				_, err := client.Chat.Completions.New(ctx, chatParams("", "hi"))
				return err
			},
			status: 400, code: "missing_required_parameter", param: "model", typ: "invalid_request_error",
		},
		{
			name: "chat model on embeddings",
			call: func() error {
				_, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "gpt-4o", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}})
				return err
			},
			status: 404, param: "model", typ: "invalid_request_error",
		},
		{
			name: "wrong type",
			call: func() error {
				_, err := client.Chat.Completions.New(ctx, chatParams("gpt-4o", "hi"), option.WithJSONSet("n", "three"))
				return err
			},
			status: 400, param: "n", typ: "invalid_request_error",
		},
		{
			name: "wrong type in a message",
			call: func() error {
				_, err := client.Chat.Completions.New(ctx, chatParams("gpt-4o", "hi"), option.WithJSONSet("messages.0.content", 42))
				return err
			},
			status: 400, param: "messages.[0].content", typ: "invalid_request_error",
		},
		{
			name: "bad role",
			call: func() error {
				_, err := client.Chat.Completions.New(ctx, chatParams("gpt-4o", "hi"), option.WithJSONSet("messages.0.role", "robot"))
				return err
			},
			status: 400, param: "messages.[0].role", typ: "invalid_request_error",
		},
		{
			name: "fault 429",
			call: func() error {
				_, err := client.Chat.Completions.New(ctx, chatParams("gpt-4o", "hi"), option.WithHeader(fakeopenai.FaultHeader, "429"))
				return err
			},
			status: 429, code: "rate_limit_exceeded", typ: "requests", retryAfter: "3",
		},
		{
			name: "fault 500",
			call: func() error {
				_, err := client.Chat.Completions.New(ctx, chatParams("gpt-4o", "hi"), option.WithHeader(fakeopenai.FaultHeader, "500"))
				return err
			},
			status: 500, typ: "server_error",
		},
		{
			name: "fault 503 on embeddings",
			call: func() error {
				_, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-3-small", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}}, option.WithHeader(fakeopenai.FaultHeader, "503"))
				return err
			},
			status: 503, typ: "server_error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apiErr := MustAPIError(t, tt.call(), tt.status, tt.code, tt.param)
			if apiErr.Type != tt.typ {
				t.Errorf("type = %q, want %q", apiErr.Type, tt.typ)
			}
			if got := apiErr.Response.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if apiErr.Response.Header.Get("x-request-id") == "" {
				t.Errorf("no x-request-id")
			}
		})
	}

	t.Run("malformed JSON", func(t *testing.T) {
		res := mustPost(t, ts.URL+"/v1/chat/completions", testKey, `{"model": "gpt-4o",`)
		if res.StatusCode != 400 || !strings.Contains(res.body, `"type":"invalid_request_error"`) {
			t.Errorf("status %d body %s", res.StatusCode, res.body)
		}
	})
	t.Run("body too large", func(t *testing.T) {
		big := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("x", fakeopenai.DefaultMaxBodyBytes) + `"}]}`
		res := mustPost(t, ts.URL+"/v1/chat/completions", testKey, big)
		if res.StatusCode != 413 || !strings.Contains(res.body, `"code":"request_too_large"`) {
			t.Errorf("status %d body %s", res.StatusCode, res.body)
		}
	})
	t.Run("recorded key validity", func(t *testing.T) {
		var sawInvalid bool
		for _, r := range srv.Requests() {
			if r.Status == 401 {
				sawInvalid = true
				if r.KeyValid {
					t.Errorf("401 recorded with a valid key: %+v", r)
				}
			}
		}
		if !sawInvalid {
			t.Errorf("no 401 recorded")
		}
	})
}

type response struct {
	*http.Response
	body string
}

func mustPost(t *testing.T, url, key, body string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res, string(b)}
}

func TestAuthDisabledAcceptsAnyKey(t *testing.T) {
	srv, _, client := MustServe(t, fakeopenai.Config{}, option.WithAPIKey("anything"))
	if _, err := client.Models.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := srv.Requests(); len(r) != 1 || !r[0].KeyValid || r[0].Key != "anything" {
		t.Errorf("recorded %+v", r)
	}
}

func TestHang(t *testing.T) {
	srv, _, client := MustServe(t, fakeopenai.Config{})
	start := time.Now()
	_, err := client.Chat.Completions.New(context.Background(), chatParams("gpt-4o", "hi"),
		option.WithHeader(fakeopenai.FaultHeader, "hang"), option.WithRequestTimeout(100*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline exceeded", err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Errorf("returned before the client timeout")
	}
	// The handler notices the client left and records it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		reqs := srv.Requests()
		if len(reqs) == 1 {
			if reqs[0].Status != fakeopenai.StatusClientGone || reqs[0].Fault != fakeopenai.FaultHang {
				t.Errorf("recorded %+v", reqs[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("hang was never recorded")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStreamCut(t *testing.T) {
	srv, _, client := MustServe(t, fakeopenai.Config{Seed: 2})
	stream := client.Chat.Completions.NewStreaming(context.Background(), chatParams("gpt-4o", "hi"),
		option.WithHeader(fakeopenai.FaultHeader, "cut"))
	chunks := 0
	for stream.Next() {
		chunks++
	}
	if stream.Err() == nil {
		t.Fatalf("stream ended cleanly after %d chunks; want an error", chunks)
	}
	if chunks == 0 {
		t.Errorf("cut before the first chunk")
	}
	if r := srv.Requests(); len(r) != 1 || r[0].Fault != fakeopenai.FaultCut || r[0].Status != 200 {
		t.Errorf("recorded %+v", r)
	}
}

func TestJSONCut(t *testing.T) {
	_, _, client := MustServe(t, fakeopenai.Config{})
	_, err := client.Chat.Completions.New(context.Background(), chatParams("gpt-4o", "hi"), option.WithHeader(fakeopenai.FaultHeader, "cut"))
	if err == nil {
		t.Fatal("a cut answer decoded without error")
	}
}

func TestDeterminism(t *testing.T) {
	content := func(seed uint64, prompt string) string {
		t.Helper()
		_, _, client := MustServe(t, fakeopenai.Config{Seed: seed})
		res, err := client.Chat.Completions.New(context.Background(), chatParams("gpt-4o-mini", prompt))
		if err != nil {
			t.Fatal(err)
		}
		return res.Choices[0].Message.Content
	}
	a, b := content(42, "hello"), content(42, "hello")
	if a != b {
		t.Errorf("same seed and request differ:\n%q\n%q", a, b)
	}
	// Different seeds or prompts collide only if 64-bit hashes and then the
	// whole word sequence coincide: a false failure has negligible odds.
	if c := content(43, "hello"); c == a {
		t.Errorf("seeds 42 and 43 give the same text %q", a)
	}
	if d := content(42, "hello!"); d == a {
		t.Errorf("different prompts give the same text %q", a)
	}
}

func TestFaultRates(t *testing.T) {
	// With rate 1 for 500 every request fails, whatever the draw.
	_, _, client := MustServe(t, fakeopenai.Config{Faults: fakeopenai.FaultRates{fakeopenai.Fault500: 1}})
	for range 3 {
		_, err := client.Models.List(context.Background())
		MustAPIError(t, err, 500, "", "")
	}
}

func TestLatencyStream(t *testing.T) {
	_, _, client := MustServe(t, fakeopenai.Config{TTFT: 30 * time.Millisecond, TokenDelay: time.Millisecond, Jitter: 0.5})
	p := chatParams("gpt-4o", "hi")
	p.MaxCompletionTokens = openai.Int(10)
	start := time.Now()
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	if !stream.Next() {
		t.Fatalf("no first chunk: %v", stream.Err())
	}
	// With jitter 0.5 the time to first token is at least 15ms.
	if ttft := time.Since(start); ttft < 15*time.Millisecond {
		t.Errorf("time to first chunk %v, want >= 15ms", ttft)
	}
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	_, ts, client := MustServe(t, fakeopenai.Config{})
	if _, err := client.Chat.Completions.New(context.Background(), chatParams("gpt-4o-mini", "hi")); err != nil {
		t.Fatal(err)
	}
	res, err := ts.Client().Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`splitproof_fakeopenai_requests_total{endpoint="chat.completions",model="gpt-4o-mini-2024-07-18",status="200"} 1`,
		`splitproof_fakeopenai_tokens_total{kind="prompt",model="gpt-4o-mini-2024-07-18"} 7`,
		`splitproof_fakeopenai_request_duration_seconds_count{endpoint="chat.completions"} 1`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	_, ts2, _ := MustServe(t, fakeopenai.Config{DisableMetricsEndpoint: true})
	res2, err := ts2.Client().Get(ts2.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != 404 {
		t.Errorf("disabled /metrics answered %d", res2.StatusCode)
	}
}

func TestOnRequestAndRateLimitHeaders(t *testing.T) {
	got := make(chan fakeopenai.Request, 4)
	// A fixed clock keeps all requests in one rate-limit minute.
	now := time.Date(2025, 1, 2, 3, 4, 30, 0, time.UTC)
	_, _, client := MustServe(t, fakeopenai.Config{
		RequestsPerMinute: 2,
		OnRequest:         func(r fakeopenai.Request) { got <- r },
		Now:               func() time.Time { return now },
	})
	var hdr *http.Response
	for i := range 2 {
		if _, err := client.Models.List(context.Background(), option.WithResponseInto(&hdr)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if hdr.Header.Get("x-ratelimit-limit-requests") != "2" || hdr.Header.Get("x-ratelimit-remaining-requests") != "0" {
		t.Errorf("headers %v", hdr.Header)
	}
	_, err := client.Models.List(context.Background())
	apiErr := MustAPIError(t, err, 429, "rate_limit_exceeded", "")
	if got := apiErr.Response.Header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After = %q, want 30 (seconds to the end of the minute)", got)
	}
	for range 3 {
		r := <-got
		if r.Endpoint != fakeopenai.EndpointModels {
			t.Errorf("hook saw %+v", r)
		}
	}
}
