package proxy_test

import (
	"bufio"
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

	"github.com/splitproof/splitproof/fakeopenai"
	"github.com/splitproof/splitproof/refproxy/admin"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

const testKey = "sk-splitproof-test-5f1c0ffee"

// MustFake starts fakeopenai on loopback, accepting only testKey.
func MustFake(t *testing.T, cfg fakeopenai.Config) (*fakeopenai.Server, string, int32) {
	t.Helper()
	cfg.Keys = []string{testKey}
	f, err := fakeopenai.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Cleanup(f.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return f, host, int32(p)
}

func aiBackend(name, model, key, host string, port int32) *route.Backend {
	return &route.Backend{Name: name, Kind: route.KindAI, Weight: 1, AI: &route.AIBackend{
		Provider: "openai", Model: model, Scheme: "http", Host: host, Port: port,
		SecretRef: "default/openai-secret", APIKey: route.Secret(key),
	}}
}

func post(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

const chatBody = `{"messages": [{"role": "user", "content": "What is 2+2?"}]}`

// TestAISplit replays the doc's Example 2: 80/20 across two model backends,
// the client names no model, the provider's dated snapshot comes back.
func TestAISplit(t *testing.T) {
	fake, host, port := MustFake(t, fakeopenai.Config{Seed: 1})
	mini := aiBackend("default/openai-mini-backend", "gpt-4o-mini", testKey, host, port)
	premium := aiBackend("default/openai-premium-backend", "gpt-4o", testKey, host, port)
	mini.Weight, premium.Weight = 80, 20
	r := rule(t, picker.Smooth, 0, mini, premium)
	var logs syncBuffer
	p, front := MustProxy(t, table(entry("default/test", prefix("/test"), r)), proxy.Options{Logger: debugLogger(&logs)})

	models := map[string]int{}
	for range 10 {
		code, body := post(t, front.URL+"/test", chatBody)
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		var res struct {
			Model string `json:"model"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		models[res.Model]++
	}
	if len(models) != 2 || models["gpt-4o-mini-2024-07-18"] != 8 || models["gpt-4o-2024-08-06"] != 2 {
		t.Errorf("models %v, want 8 gpt-4o-mini-2024-07-18 and 2 gpt-4o-2024-08-06", models)
	}
	for _, rec := range fake.Requests() {
		if rec.Path != proxy.DefaultAIPath || rec.Key != testKey || !rec.KeyValid {
			t.Errorf("fake saw path %q key-valid %v, want %s with the backend's key", rec.Path, rec.KeyValid, proxy.DefaultAIPath)
		}
	}
	MustNotLeak(t, p, &logs)
}

func TestAIOverridesClientModelAndKey(t *testing.T) {
	fake, host, port := MustFake(t, fakeopenai.Config{Seed: 1})
	good := aiBackend("default/good", "gpt-4o-mini", testKey, host, port)
	_, front := MustProxy(t, table(entry("default/test", prefix("/"), rule(t, picker.Random, 1, good))), proxy.Options{})
	req, _ := http.NewRequest(http.MethodPost, front.URL+"/anything", strings.NewReader(
		`{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-client-own-key")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	recs := fake.Requests()
	if res.StatusCode != 200 || len(recs) != 1 {
		t.Fatalf("status %d, %d requests at the fake", res.StatusCode, len(recs))
	}
	if recs[0].Model != "gpt-4o-mini" || recs[0].Key != testKey {
		t.Errorf("fake saw model %q key-valid %v: the backend's model and key must replace the client's", recs[0].Model, recs[0].KeyValid)
	}
}

func TestAIWrongKeyRefused(t *testing.T) {
	_, host, port := MustFake(t, fakeopenai.Config{Seed: 1})
	bad := aiBackend("default/bad", "gpt-4o-mini", "sk-wrong", host, port)
	_, front := MustProxy(t, table(entry("default/test", prefix("/"), rule(t, picker.Random, 1, bad))), proxy.Options{})
	code, body := post(t, front.URL+"/test", chatBody)
	if code != http.StatusUnauthorized || !strings.Contains(string(body), "invalid_api_key") {
		t.Errorf("wrong key: %d %s, want the provider's 401 passed through", code, body)
	}
}

func TestAINotJSON(t *testing.T) {
	fake, host, port := MustFake(t, fakeopenai.Config{Seed: 1})
	_, front := MustProxy(t, table(entry("default/test", prefix("/"),
		rule(t, picker.Random, 1, aiBackend("default/ai", "gpt-4o-mini", testKey, host, port)))), proxy.Options{})
	for _, body := range []string{"not json", "[1,2]", `{"stream": "yes"}`} {
		code, out := post(t, front.URL+"/test", body)
		var e struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"error"`
		}
		if code != 400 || json.Unmarshal(out, &e) != nil || e.Error.Type != "invalid_request_error" || e.Error.Message == "" {
			t.Errorf("body %q: %d %s, want 400 with an OpenAI error object", body, code, out)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d bad requests reached the provider", n)
	}
}

// TestAIStream checks that the first chunk arrives while the fake is still
// generating, and that include_usage was added (a usage chunk arrives).
func TestAIStream(t *testing.T) {
	var finished atomic.Bool
	_, host, port := MustFake(t, fakeopenai.Config{
		Seed: 1, TokenDelay: 5 * time.Millisecond,
		OnRequest: func(fakeopenai.Request) { finished.Store(true) },
	})
	_, front := MustProxy(t, table(entry("default/test", prefix("/"),
		rule(t, picker.Random, 1, aiBackend("default/ai", "gpt-4o-mini", testKey, host, port)))), proxy.Options{})
	res, err := http.Post(front.URL+"/test", "application/json", strings.NewReader(
		`{"stream": true, "max_tokens": 40, "messages": [{"role": "user", "content": "Tell me a story."}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(res.Body)
	var first string
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			first = sc.Text()
			break
		}
	}
	if first == "" {
		t.Fatal("no chunk")
	}
	if finished.Load() {
		t.Error("the first chunk arrived only after the provider had finished: the stream was buffered")
	}
	sawUsage, sawDone := false, false
	for sc.Scan() {
		line := sc.Text()
		if line == "data: [DONE]" {
			sawDone = true
		}
		if strings.HasPrefix(line, "data: {") {
			var chunk struct {
				Usage *struct {
					TotalTokens int `json:"total_tokens"`
				} `json:"usage"`
			}
			if json.Unmarshal([]byte(line[len("data: "):]), &chunk) == nil && chunk.Usage != nil && chunk.Usage.TotalTokens > 0 {
				sawUsage = true
			}
		}
	}
	if !sawDone || !sawUsage {
		t.Errorf("stream end: [DONE] %v, usage chunk %v; want both (include_usage added)", sawDone, sawUsage)
	}
}

// MustNotLeak fails if the API key shows in the logs, the metrics or the
// admin listener's routing dump.
func MustNotLeak(t *testing.T, p *proxy.Proxy, logs *syncBuffer) {
	t.Helper()
	adm := httptest.NewServer(admin.Handler(p))
	defer adm.Close()
	outputs := map[string]string{"logs": logs.String()}
	for _, path := range []string{"/debug/routes", "/metrics", "/readyz"} {
		res, err := http.Get(adm.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		outputs[path] = string(b)
	}
	if !strings.Contains(outputs["/debug/routes"], `"api_key": "[redacted]"`) {
		t.Errorf("/debug/routes does not show the key as redacted:\n%s", outputs["/debug/routes"])
	}
	if !strings.Contains(outputs["logs"], "msg=request") || !strings.Contains(outputs["logs"], "backend=default/") {
		t.Errorf("debug logs are missing, the scan would prove nothing:\n%s", outputs["logs"])
	}
	for name, out := range outputs {
		if strings.Contains(out, testKey) {
			t.Errorf("API key leaked in %s", name)
		}
	}
}

// TestAIResponses checks that a Responses API request gets the backend's
// model and key like a chat request, is forwarded to /v1/responses, and
// that a streamed one is not given chat's stream_options, which the
// Responses API does not take.
func TestAIResponses(t *testing.T) {
	fake, host, port := MustFake(t, fakeopenai.Config{Seed: 1})
	_, front := MustProxy(t, table(entry("default/test", prefix("/"),
		rule(t, picker.Random, 1, aiBackend("default/ai", "gpt-4o-mini", testKey, host, port)))), proxy.Options{})
	code, body := post(t, front.URL+"/v1/responses", `{"model": "gpt-4o", "input": "What is 2+2?"}`)
	var res struct {
		Object string `json:"object"`
		Model  string `json:"model"`
	}
	if code != 200 || json.Unmarshal(body, &res) != nil || res.Object != "response" || res.Model != "gpt-4o-mini-2024-07-18" {
		t.Fatalf("%d %s, want a response from the backend's model", code, body)
	}
	recs := fake.Requests()
	if len(recs) != 1 || recs[0].Path != proxy.DefaultAIResponsesPath || recs[0].Model != "gpt-4o-mini" || recs[0].Key != testKey {
		t.Errorf("fake saw %+v, want %s with the backend's model and key", recs, proxy.DefaultAIResponsesPath)
	}

	type seen struct {
		path string
		body map[string]json.RawMessage
	}
	got := make(chan seen, 2)
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]json.RawMessage
		_ = json.NewDecoder(r.Body).Decode(&b)
		got <- seen{r.URL.Path, b}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(capture.Close)
	chost, cport, _ := net.SplitHostPort(capture.Listener.Addr().String())
	cp, _ := strconv.Atoi(cport)
	_, front2 := MustProxy(t, table(entry("default/test", prefix("/"),
		rule(t, picker.Random, 1, aiBackend("default/ai", "gpt-4o-mini", testKey, chost, int32(cp))))), proxy.Options{})
	for _, tt := range []struct {
		path, wantPath    string
		wantStreamOptions bool
	}{
		{"/v1/responses", proxy.DefaultAIResponsesPath, false},
		{"/v1/chat/completions", proxy.DefaultAIPath, true},
	} {
		if code, body := post(t, front2.URL+tt.path, `{"model": "x", "stream": true, "input": "hi"}`); code != 200 {
			t.Fatalf("%s: %d %s", tt.path, code, body)
		}
		s := <-got
		_, has := s.body["stream_options"]
		if s.path != tt.wantPath || string(s.body["model"]) != `"gpt-4o-mini"` || has != tt.wantStreamOptions {
			t.Errorf("%s forwarded to %s with model %s, stream_options %v; want %s, stream_options %v",
				tt.path, s.path, s.body["model"], has, tt.wantPath, tt.wantStreamOptions)
		}
	}
}
