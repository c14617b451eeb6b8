package fakeopenai_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/fakeopenai"
)

// words returns n one-letter inputs as a JSON array: about 4 bytes each, so
// that a small body asks for a large answer.
func words(n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(`"a",`, n), ",") + "]"
}

// TestRequestLimitsAndTypes: parameters of the wrong type or out of range,
// and requests whose answer would be out of proportion to their size, are
// refused with OpenAI's 400 shape naming the parameter. Before, a 10 KB
// embeddings request was answered with 39 MB, and "temperature": "hot" was
// accepted.
func TestRequestLimitsAndTypes(t *testing.T) {
	// A larger body limit lets the token limits, not the size limit, answer.
	_, ts, _ := MustServe(t, fakeopenai.Config{Keys: []string{testKey}, MaxBodyBytes: 4 << 20})
	chat := func(extra string) string {
		return `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]` + extra + `}`
	}
	completion := func(extra string) string {
		return `{"model":"gpt-3.5-turbo-instruct","prompt":"hi"` + extra + `}`
	}
	embed := func(input, extra string) string {
		return `{"model":"text-embedding-3-small","input":` + input + extra + `}`
	}
	long := `"` + strings.Repeat("word ", 9000) + `"`
	tests := []struct {
		name, path, body string
		status           int
		param            string // "" with status 200
		message          string
	}{
		{"chat temperature hot", "chat/completions", chat(`,"temperature":"hot"`), 400, "temperature", "expected a number, but got a string"},
		{"chat temperature 3", "chat/completions", chat(`,"temperature":3`), 400, "temperature", "between 0 and 2, but got 3"},
		{"chat temperature 0.7", "chat/completions", chat(`,"temperature":0.7`), 200, "", ""},
		{"chat top_p above 1", "chat/completions", chat(`,"top_p":1.5`), 400, "top_p", "between 0 and 1"},
		{"chat presence_penalty type", "chat/completions", chat(`,"presence_penalty":"x"`), 400, "presence_penalty", "expected a number"},
		{"chat frequency_penalty range", "chat/completions", chat(`,"frequency_penalty":-3`), 400, "frequency_penalty", "between -2 and 2"},
		{"chat stop number", "chat/completions", chat(`,"stop":5`), 400, "stop", "expected one of a string or an array of strings, but got a number"},
		{"chat stop five", "chat/completions", chat(`,"stop":["a","b","c","d","e"]`), 400, "stop", "maximum length 4"},
		{"chat stop two", "chat/completions", chat(`,"stop":["a","b"]`), 200, "", ""},
		{"chat user number", "chat/completions", chat(`,"user":5`), 400, "user", "expected a string"},
		{"chat stream string", "chat/completions", chat(`,"stream":"yes"`), 400, "stream", "expected a boolean"},
		{"chat max_tokens huge", "chat/completions", chat(`,"max_tokens":1000000000`), 400, "max_tokens", "Expected a value <= 128000"},
		{"chat max_completion_tokens huge", "chat/completions", chat(`,"max_completion_tokens":200000`), 400, "max_completion_tokens", "<= 128000"},
		{"chat n too many", "chat/completions", chat(`,"n":129`), 400, "n", "between 1 and 128"},
		{"chat top_logprobs range", "chat/completions", chat(`,"logprobs":true,"top_logprobs":21`), 400, "top_logprobs", "between 0 and 20"},
		{"chat top_logprobs without logprobs", "chat/completions", chat(`,"top_logprobs":2`), 400, "top_logprobs", "'logprobs' must be set"},
		{"completion temperature type", "completions", completion(`,"temperature":[1]`), 400, "temperature", "expected a number, but got an array"},
		{"completion prompts times n", "completions", `{"model":"gpt-3.5-turbo-instruct","prompt":` + words(100) + `,"n":2}`, 400, "n", "100 prompts with n=2 ask for 200 choices"},
		{"completion 128 choices", "completions", `{"model":"gpt-3.5-turbo-instruct","prompt":` + words(64) + `,"n":2}`, 200, "", ""},
		{"completion logprobs range", "completions", completion(`,"logprobs":6`), 400, "logprobs", "between 0 and 5"},
		{"completion best_of below n", "completions", completion(`,"n":3,"best_of":2`), 400, "best_of", "between n (3) and 20"},
		{"completion echo type", "completions", completion(`,"echo":"no"`), 400, "echo", "expected a boolean"},
		{"embeddings 2048 inputs", "embeddings", embed(words(2048), ""), 400, "input", "2048 inputs of 1536 dimensions are 3145728 numbers, over this server's limit of 262144"},
		{"embeddings dimensions over budget", "embeddings", embed(words(200), `,"dimensions":1536`), 400, "dimensions", "over this server's limit"},
		{"embeddings 2048 inputs at 128 dimensions", "embeddings", embed(words(2048), `,"dimensions":128`), 200, "", ""},
		{"embeddings input too long", "embeddings", embed(long, ""), 400, "input", "over this model's maximum input length of 8192 tokens"},
		{"embeddings too many tokens together", "embeddings", embed("["+strings.Repeat(`"`+strings.Repeat("word ", 8000)+`",`, 40)+`"a"]`, `,"dimensions":8`), 400, "input", "the maximum per request is 300000"},
		{"embeddings dimensions type", "embeddings", embed(`"hi"`, `,"dimensions":"big"`), 400, "dimensions", "expected an integer"},
		{"embeddings user type", "embeddings", embed(`"hi"`, `,"user":{}`), 400, "user", "expected a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, ts.URL+"/v1/"+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("Content-Type", "application/json")
			res, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				Error *struct {
					Message string  `json:"message"`
					Type    string  `json:"type"`
					Param   *string `json:"param"`
				} `json:"error"`
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatalf("status %d, body not JSON: %v", res.StatusCode, err)
			}
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (error %+v)", res.StatusCode, tc.status, body.Error)
			}
			if tc.status == http.StatusOK {
				return
			}
			e := body.Error
			if e == nil || e.Param == nil {
				t.Fatalf("error body %+v: want an error with param %q", e, tc.param)
			}
			if *e.Param != tc.param || e.Type != fakeopenai.TypeInvalidRequest || !strings.Contains(e.Message, tc.message) {
				t.Errorf("error param %q type %q message %q; want param %q, type %q, message containing %q",
					*e.Param, e.Type, e.Message, tc.param, fakeopenai.TypeInvalidRequest, tc.message)
			}
		})
	}
}

// TestEmbeddingValuesLimitConfigurable: the answer bound follows
// Config.MaxEmbeddingValues, and a negative one is refused.
func TestEmbeddingValuesLimitConfigurable(t *testing.T) {
	if _, err := fakeopenai.New(fakeopenai.Config{MaxEmbeddingValues: -1}, nil); err == nil {
		t.Error("New with MaxEmbeddingValues -1: no error")
	}
	_, ts, _ := MustServe(t, fakeopenai.Config{MaxEmbeddingValues: 16})
	for _, tc := range []struct {
		dims int
		want int
	}{{16, http.StatusOK}, {17, http.StatusBadRequest}} {
		body := fmt.Sprintf(`{"model":"text-embedding-3-small","input":"hi","dimensions":%d}`, tc.dims)
		res, err := ts.Client().Post(ts.URL+"/v1/embeddings", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("dimensions %d with a limit of 16 values: status %d, want %d", tc.dims, res.StatusCode, tc.want)
		}
	}
}
