package llmusage

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseCaptured reads bodies fakeopenai sent (testdata/captured, kept
// current by TestCapturedStillCurrent); the expected counts were read off
// each body's usage object by hand.
func TestParseCaptured(t *testing.T) {
	tests := []struct {
		file string
		want Usage
		ok   bool
	}{
		{"chat.json", Usage{Prompt: 12, Completion: 10, Format: Chat}, true},
		{"chat-stream-usage.sse", Usage{Prompt: 12, Completion: 10, Format: ChatStream}, true},
		// Without stream_options.include_usage every chunk says nothing:
		// unknown, not zero.
		{"chat-stream-no-usage.sse", Usage{}, false},
		{"completions-stream-usage.sse", Usage{Prompt: 2, Completion: 16, Format: ChatStream}, true},
		{"responses.json", Usage{Prompt: 11, Completion: 64, Format: Responses}, true},
		{"responses-stream.sse", Usage{Prompt: 12, Completion: 61, Format: ResponsesStream}, true},
		{"messages.json", Usage{Prompt: 9, Completion: 63, Format: Messages}, true},
		// message_start says output_tokens 1, message_delta 5: cumulative,
		// so 5 in all, not 6.
		{"messages-stream.sse", Usage{Prompt: 8, Completion: 5, Format: MessagesStream}, true},
		{"error-unknown-model.json", Usage{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "captured", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := Parse(body)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Parse = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	// Every captured file is in the table, and every capture is a file.
	if len(tests) != len(captures) {
		t.Fatalf("%d table rows for %d captures", len(tests), len(captures))
	}
}

// TestParse covers what fakeopenai does not send: cache counts, other
// line ends, data split over lines, counts that are not counts.
func TestParse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Usage
		ok   bool
	}{
		{"empty", "", Usage{}, false},
		{"usage null", `{"object":"chat.completion","usage":null}`, Usage{}, false},
		{"zero is a known zero", `{"usage":{"prompt_tokens":0,"completion_tokens":0}}`, Usage{Format: Chat}, true},
		{"chat missing completion", `{"usage":{"prompt_tokens":3}}`, Usage{}, false},
		{"negative", `{"usage":{"prompt_tokens":-1,"completion_tokens":2}}`, Usage{}, false},
		{"fractional", `{"usage":{"prompt_tokens":1.5,"completion_tokens":2}}`, Usage{}, false},
		{"beyond any context window", `{"usage":{"prompt_tokens":2000000000,"completion_tokens":2}}`, Usage{}, false},
		{"string count", `{"usage":{"prompt_tokens":"3","completion_tokens":2}}`, Usage{}, false},
		{"leading whitespace", " \n{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}", Usage{Prompt: 3, Completion: 4, Format: Chat}, true},
		{"anthropic cache counts add to input",
			`{"type":"message","usage":{"input_tokens":5,"output_tokens":7,"cache_creation_input_tokens":100,"cache_read_input_tokens":20}}`,
			Usage{Prompt: 125, Completion: 7, Format: Messages}, true},
		{"anthropic stream: delta overrides start, cache from start",
			"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":1,\"cache_read_input_tokens\":10}}}\n\n" +
				"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"input_tokens\":6,\"output_tokens\":9}}\n\n",
			Usage{Prompt: 16, Completion: 9, Format: MessagesStream}, true},
		{"anthropic stream without message_delta",
			"data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
			Usage{Prompt: 5, Completion: 1, Format: MessagesStream}, true},
		{"CRLF and comments",
			": keep-alive\r\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\r\n\r\ndata: [DONE]\r\n\r\n",
			Usage{Prompt: 3, Completion: 4, Format: ChatStream}, true},
		{"lone CR line ends",
			"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\r\rdata: [DONE]\r\r",
			Usage{Prompt: 3, Completion: 4, Format: ChatStream}, true},
		{"data over two lines", "data: {\"usage\":\ndata: {\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n", Usage{Prompt: 3, Completion: 4, Format: ChatStream}, true},
		{"no space after data:", "data:{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n", Usage{Prompt: 3, Completion: 4, Format: ChatStream}, true},
		{"last usage chunk wins", "data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\ndata: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n", Usage{Prompt: 3, Completion: 4, Format: ChatStream}, true},
		{"a bad usage chunk spoils the stream", "data: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\ndata: {\"usage\":{\"prompt_tokens\":-3,\"completion_tokens\":4}}\n\n", Usage{}, false},
		{"stream cut before the usage chunk", "data: {\"choices\":[{\"delta\":{\"content\":\"4\"}}],\"usage\":null}\n\n", Usage{}, false},
		{"responses incomplete", "event: response.incomplete\ndata: {\"type\":\"response.incomplete\",\"response\":{\"usage\":{\"input_tokens\":8,\"output_tokens\":16}}}\n\n", Usage{Prompt: 8, Completion: 16, Format: ResponsesStream}, true},
		{"responses created has no usage yet", "data: {\"type\":\"response.created\",\"response\":{\"usage\":null}}\n\n", Usage{}, false},
		{"html error page", "<html><body>502 Bad Gateway</body></html>", Usage{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse([]byte(tt.body))
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v, %v", tt.body, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// FuzzParse: any body gives either unknown (a zero Usage) or counts in
// range, the same for the same bytes, and the usage of a JSON chat answer
// survives being sent as one SSE event.
func FuzzParse(f *testing.F) {
	for _, c := range captures {
		if body, err := os.ReadFile(filepath.Join("testdata", "captured", c.name)); err == nil {
			f.Add(body)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		u, ok := Parse(body)
		if !ok {
			if u != (Usage{}) {
				t.Fatalf("unknown usage with counts %+v", u)
			}
			return
		}
		if u.Prompt < 0 || u.Completion < 0 || u.Prompt > maxTokens || u.Completion > maxTokens || u.Format == "" {
			t.Fatalf("usage out of range: %+v", u)
		}
		if again, ok2 := Parse(body); again != u || !ok2 {
			t.Fatalf("Parse is not deterministic: %+v then %+v", u, again)
		}
		var typed struct {
			Type string `json:"type"`
		}
		if u.Format == Chat && body[0] == '{' && !strings.ContainsAny(string(body), "\r\n") &&
			json.Unmarshal(body, &typed) == nil && typed.Type == "" {
			ev, ok := Parse([]byte("data: " + string(body) + "\n\n"))
			if !ok || ev.Prompt != u.Prompt || ev.Completion != u.Completion {
				t.Fatalf("as an SSE event: %+v, %v; as JSON: %+v", ev, ok, u)
			}
		}
	})
}
