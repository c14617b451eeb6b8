package proxy

import (
	"encoding/json"
	"strings"
	"testing"
)

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("not JSON: %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("not JSON: %s: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}

func TestChatToMessages(t *testing.T) {
	tests := []struct {
		name, model, in, want, wantErr string
		wantStream                     *chatStream
	}{
		{name: "system and developer join, default max_tokens, backend model wins", model: "claude-sonnet-4-5",
			in: `{"model": "gpt-4o", "messages": [
				{"role": "system", "content": "Be brief."},
				{"role": "developer", "content": [{"type": "text", "text": "Use French."}]},
				{"role": "user", "content": "What is 2+2?", "name": "alice"},
				{"role": "assistant", "content": "4"},
				{"role": "user", "content": [{"type": "text", "text": "And "}, {"type": "text", "text": "3+3?"}]}]}`,
			want: `{"model": "claude-sonnet-4-5", "max_tokens": 4096, "system": "Be brief.\nUse French.", "messages": [
				{"role": "user", "content": [{"type": "text", "text": "What is 2+2?"}]},
				{"role": "assistant", "content": [{"type": "text", "text": "4"}]},
				{"role": "user", "content": [{"type": "text", "text": "And "}, {"type": "text", "text": "3+3?"}]}]}`},
		{name: "request model, max_completion_tokens over max_tokens, sampling and stop",
			in: `{"model": "claude-haiku-4-5", "max_tokens": 10, "max_completion_tokens": 20, "temperature": 0.5, "top_p": 0.9,
				"stop": "END", "stream": false, "n": 1, "messages": [{"role": "user", "content": "hi"}]}`,
			want: `{"model": "claude-haiku-4-5", "max_tokens": 20, "temperature": 0.5, "top_p": 0.9, "stop_sequences": ["END"],
				"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}`},
		{name: "max_tokens and stop list", model: "m",
			in:   `{"max_tokens": 7, "stop": ["a", "b"], "messages": []}`,
			want: `{"model": "m", "max_tokens": 7, "stop_sequences": ["a", "b"], "messages": []}`},
		{name: "no model anywhere", in: `{"messages": []}`, wantErr: "model: required"},
		{name: "not an object", model: "m", in: `"hi"`, wantErr: "must be a JSON object"},
		{name: "unknown fields listed", model: "m", in: `{"tools": [], "response_format": {}, "messages": []}`, wantErr: "response_format, tools: not translated"},
		{name: "stream gets usage unless told otherwise", model: "m", in: `{"stream": true, "messages": []}`,
			want: `{"model": "m", "max_tokens": 4096, "stream": true, "messages": []}`, wantStream: &chatStream{includeUsage: true}},
		{name: "stream without usage", model: "m", in: `{"stream": true, "stream_options": {"include_usage": false}, "messages": []}`,
			want: `{"model": "m", "max_tokens": 4096, "stream": true, "messages": []}`, wantStream: &chatStream{}},
		{name: "stream_options without stream", model: "m", in: `{"stream_options": {"include_usage": true}, "messages": []}`, wantErr: "stream_options: only allowed when stream is true"},
		{name: "n", model: "m", in: `{"n": 3, "messages": []}`, wantErr: "n: Anthropic answers one choice, got n=3"},
		{name: "bad stop", model: "m", in: `{"stop": 3, "messages": []}`, wantErr: "stop: must be a string or an array of strings"},
		{name: "wrong type", model: "m", in: `{"max_tokens": "ten", "messages": []}`, wantErr: "chat completion request: json: cannot unmarshal"},
		{name: "content missing", model: "m", in: `{"messages": [{"role": "user"}]}`, wantErr: "messages[0].content: must be a string or an array"},
		{name: "audio part", model: "m", in: `{"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}`, wantErr: `messages[0].content[0]: "input_audio" parts`},
		{name: "function role", model: "m", in: `{"messages": [{"role": "function", "content": "x"}]}`, wantErr: `messages[0].role: "function" messages`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, stream, err := chatToMessages([]byte(tc.in), tc.model)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got, []byte(tc.want)) {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if (stream == nil) != (tc.wantStream == nil) || stream != nil && *stream != *tc.wantStream {
				t.Errorf("stream %+v, want %+v", stream, tc.wantStream)
			}
		})
	}
}

func TestMessagesToChat(t *testing.T) {
	const created = 1760000000
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "text blocks join",
			in: `{"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
				"content": [{"type": "text", "text": "2+2 "}, {"type": "text", "text": "is 4."}],
				"stop_reason": "end_turn", "usage": {"input_tokens": 9, "output_tokens": 5}}`,
			want: `{"id": "msg_01", "object": "chat.completion", "created": 1760000000, "model": "claude-sonnet-4-5-20250929",
				"choices": [{"index": 0, "message": {"role": "assistant", "content": "2+2 is 4.", "refusal": null}, "finish_reason": "stop", "logprobs": null}],
				"usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}}`},
		{name: "cut short, no content",
			in: `{"id": "msg_02", "type": "message", "model": "m", "content": [], "stop_reason": "max_tokens", "usage": {"input_tokens": 3, "output_tokens": 1}}`,
			want: `{"id": "msg_02", "object": "chat.completion", "created": 1760000000, "model": "m",
				"choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": null}, "finish_reason": "length", "logprobs": null}],
				"usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}`},
		{name: "refusal maps to content_filter",
			in: `{"id": "msg_03", "type": "message", "model": "m", "content": [{"type": "text", "text": "No."}], "stop_reason": "refusal", "usage": {}}`,
			want: `{"id": "msg_03", "object": "chat.completion", "created": 1760000000, "model": "m",
				"choices": [{"index": 0, "message": {"role": "assistant", "content": "No.", "refusal": null}, "finish_reason": "content_filter", "logprobs": null}],
				"usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}`},
		{name: "tool use block", in: `{"type": "message", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]}`, wantErr: `content[0]: "tool_use" blocks are not translated`},
		{name: "unknown stop reason", in: `{"type": "message", "content": [], "stop_reason": "new_reason"}`, wantErr: `stop_reason "new_reason" has no chat finish_reason`},
		{name: "not a message", in: `{"type": "error", "error": {}}`, wantErr: `has type "error"`},
		{name: "not JSON", in: `<html>`, wantErr: "not JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := messagesToChat([]byte(tc.in), created)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got, []byte(tc.want)) {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestChatErrorFromMessages(t *testing.T) {
	long := strings.Repeat("x", 600)
	tests := []struct{ name, in, want string }{
		{"anthropic error", `{"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}`,
			`{"error": {"message": "slow down", "type": "rate_limit_error", "param": null, "code": null}}`},
		{"plain text", "upstream broke\n",
			`{"error": {"message": "the provider answered: upstream broke", "type": "api_error", "param": null, "code": null}}`},
		{"long text shortened", long,
			`{"error": {"message": "the provider answered: ` + long[:maxErrorText] + `…", "type": "api_error", "param": null, "code": null}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := chatErrorFromMessages([]byte(tc.in)); !sameJSON(t, got, []byte(tc.want)) {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
