package proxy

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// anthropicStream is an Anthropic event stream as the API sends it, ping
// and all, ending after the given events.
func anthropicStream(tail ...string) string {
	events := []string{
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n",
		"event: ping\ndata: {\"type\": \"ping\"}\n\n",
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
		"event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Four\"}}\r\n\r\n",
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\".\"}}\n\n",
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
	}
	return strings.Join(append(events, tail...), "")
}

const (
	messageDelta = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n"
	messageStop  = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	// chunksBefore are the chat chunks of anthropicStream's events.
	chunksBefore = `data: {"id":"msg_01","object":"chat.completion.chunk","created":1760000000,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null,"logprobs":null}]}

data: {"id":"msg_01","object":"chat.completion.chunk","created":1760000000,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"content":"Four"},"finish_reason":null,"logprobs":null}]}

data: {"id":"msg_01","object":"chat.completion.chunk","created":1760000000,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"content":"."},"finish_reason":null,"logprobs":null}]}

`
	finishChunk = `data: {"id":"msg_01","object":"chat.completion.chunk","created":1760000000,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{},"finish_reason":"stop","logprobs":null}]}

`
)

func TestTranslateChatStream(t *testing.T) {
	tests := []struct {
		name, in     string
		includeUsage bool
		want         string
		wantErr      string
	}{
		{name: "with usage", in: anthropicStream(messageDelta, messageStop), includeUsage: true,
			want: chunksBefore + finishChunk +
				`data: {"id":"msg_01","object":"chat.completion.chunk","created":1760000000,"model":"claude-sonnet-4-5-20250929","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}` + "\n\n" +
				"data: [DONE]\n\n"},
		{name: "without usage", in: anthropicStream(messageDelta, messageStop),
			want: chunksBefore + finishChunk + "data: [DONE]\n\n"},
		{name: "provider error mid-stream", in: anthropicStream("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"),
			want: chunksBefore + `data: {"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":null}}` + "\n\n"},
		{name: "cut short", in: anthropicStream(messageDelta),
			want:    chunksBefore + finishChunk + `data: {"error":{"message":"refproxy: cannot translate the anthropic provider's stream to chat chunks: the stream ended before message_stop","type":"api_error","param":null,"code":null}}` + "\n\n",
			wantErr: "the stream ended before message_stop"},
		{name: "tool use", in: anthropicStream("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}\n\n"),
			want:    chunksBefore + `data: {"error":{"message":"refproxy: cannot translate the anthropic provider's stream to chat chunks: \"tool_use\" blocks are not translated to chat chunks (text blocks are)","type":"api_error","param":null,"code":null}}` + "\n\n",
			wantErr: `"tool_use" blocks are not translated`},
		{name: "unknown stop reason", in: anthropicStream("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"new\"},\"usage\":{\"output_tokens\":2}}\n\n"),
			want:    chunksBefore + `data: {"error":{"message":"refproxy: cannot translate the anthropic provider's stream to chat chunks: stop_reason \"new\" has no chat finish_reason","type":"api_error","param":null,"code":null}}` + "\n\n",
			wantErr: `stop_reason "new" has no chat finish_reason`},
		{name: "not JSON", in: "data: {oops\n\n",
			want:    `data: {"error":{"message":"refproxy: cannot translate the anthropic provider's stream to chat chunks: event data is not JSON: invalid character 'o' looking for beginning of object key string","type":"api_error","param":null,"code":null}}` + "\n\n",
			wantErr: "event data is not JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := translateChatStream(&out, strings.NewReader(tc.in), &chatStream{includeUsage: tc.includeUsage}, 1760000000)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			if out.String() != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", out.String(), tc.want)
			}
		})
	}
}

func TestReadStreamLine(t *testing.T) {
	long := strings.Repeat("x", maxStreamLine+1)
	r := bufio.NewReaderSize(strings.NewReader("a\r\nb\n"+strings.Repeat("y", 100<<10)+"\nlast"), 16)
	for _, want := range []string{"a", "b", strings.Repeat("y", 100<<10), "last"} {
		got, err := readStreamLine(r)
		if err != nil || got != want {
			t.Fatalf("read %d bytes, %v; want %d bytes", len(got), err, len(want))
		}
	}
	if _, err := readStreamLine(r); err == nil {
		t.Error("no error at the end")
	}
	if _, err := readStreamLine(bufio.NewReader(strings.NewReader(long + "\n"))); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("a line over the limit: %v, want an error", err)
	}
}
