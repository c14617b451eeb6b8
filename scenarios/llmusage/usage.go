package llmusage

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Format is the kind of answer a body's usage came from.
type Format string

// The formats Parse recognises.
const (
	Chat            Format = "chat"             // chat/completions (and legacy completions) JSON
	ChatStream      Format = "chat-stream"      // their SSE stream's usage chunk
	Responses       Format = "responses"        // Responses API JSON
	ResponsesStream Format = "responses-stream" // its response.completed (or .incomplete, .failed) event
	Messages        Format = "anthropic"        // Anthropic Messages JSON
	MessagesStream  Format = "anthropic-stream" // message_start and message_delta events
)

// Usage is the tokens one answer cost.
type Usage struct {
	// Prompt is the input tokens: prompt_tokens, or input_tokens (for
	// Anthropic plus the cache creation and cache read input tokens,
	// which Anthropic counts apart from input_tokens).
	Prompt int64 `json:"prompt_tokens"`
	// Completion is the output tokens: completion_tokens or output_tokens.
	Completion int64  `json:"completion_tokens"`
	Format     Format `json:"format"`
}

// Total is Prompt + Completion.
func (u Usage) Total() int64 { return u.Prompt + u.Completion }

// maxTokens bounds a count Parse accepts: far above any context window,
// small enough that the sum over a billion requests (the most a replay
// makes) stays within an int64.
const maxTokens = 1 << 30

// usageFields holds every spelling of the usage object; a pointer tells
// an absent field from a zero.
type usageFields struct {
	PromptTokens     *int64 `json:"prompt_tokens"`
	CompletionTokens *int64 `json:"completion_tokens"`
	InputTokens      *int64 `json:"input_tokens"`
	OutputTokens     *int64 `json:"output_tokens"`
	CacheCreation    *int64 `json:"cache_creation_input_tokens"`
	CacheRead        *int64 `json:"cache_read_input_tokens"`
}

// answer is the part of a JSON answer, a chunk or an event Parse reads.
type answer struct {
	Type     string       `json:"type"`
	Object   string       `json:"object"`
	Usage    *usageFields `json:"usage"`
	Response *answer      `json:"response"` // Responses stream events
	Message  *answer      `json:"message"`  // Anthropic message_start
}

// Parse returns the usage one response body reports, and false when it
// reports none (or a count that cannot be one: negative, fractional or
// beyond any context window). A body starting with '{' is read as one
// JSON answer, anything else as a server-sent event stream.
func Parse(body []byte) (Usage, bool) {
	// Every answer or stream that reports usage names the key: a body
	// without it (a helloworld page, most replays' answers) costs one
	// scan and no allocation. A provider escaping the key's letters
	// would be missed; none does.
	if !bytes.Contains(body, usageKey) {
		return Usage{}, false
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return parseJSON(trimmed)
	}
	return parseStream(body)
}

func parseJSON(body []byte) (Usage, bool) {
	var a answer
	if json.Unmarshal(body, &a) != nil || a.Usage == nil {
		return Usage{}, false
	}
	switch {
	case a.Type == "message":
		return a.Usage.anthropic(Messages)
	case a.Usage.PromptTokens != nil || a.Usage.CompletionTokens != nil:
		return a.Usage.openAIChat(Chat)
	default:
		return a.Usage.inputOutput(Responses)
	}
}

// openAIChat reads prompt_tokens and completion_tokens, both required.
func (f *usageFields) openAIChat(format Format) (Usage, bool) {
	if !valid(f.PromptTokens) || !valid(f.CompletionTokens) {
		return Usage{}, false
	}
	return Usage{Prompt: *f.PromptTokens, Completion: *f.CompletionTokens, Format: format}, true
}

// inputOutput reads the Responses API's input_tokens and output_tokens.
func (f *usageFields) inputOutput(format Format) (Usage, bool) {
	if !valid(f.InputTokens) || !valid(f.OutputTokens) {
		return Usage{}, false
	}
	return Usage{Prompt: *f.InputTokens, Completion: *f.OutputTokens, Format: format}, true
}

// anthropic reads input_tokens and output_tokens and adds the cache
// counts: Anthropic's input_tokens are only the tokens after the last
// cache breakpoint, and its documented total input is the sum of the three.
func (f *usageFields) anthropic(format Format) (Usage, bool) {
	u, ok := f.inputOutput(format)
	if !ok {
		return Usage{}, false
	}
	for _, c := range []*int64{f.CacheCreation, f.CacheRead} {
		if c == nil {
			continue
		}
		if !valid(c) {
			return Usage{}, false
		}
		u.Prompt += *c
	}
	if u.Prompt > maxTokens {
		return Usage{}, false
	}
	return u, true
}

func valid(n *int64) bool { return n != nil && *n >= 0 && *n <= maxTokens }

var usageKey = []byte(`"usage"`)

// parseStream reads a server-sent event stream: events are separated by
// blank lines, and an event's data lines are joined with newlines, as
// the HTML living standard's event-stream parsing says. The event's name
// (the event: field) is not needed: every provider repeats it in the
// data's "type", and OpenAI's chat stream names none.
func parseStream(body []byte) (Usage, bool) {
	var st streamState
	var data strings.Builder
	sawData := false
	dispatch := func() {
		if sawData {
			st.event(data.String())
		}
		data.Reset()
		sawData = false
	}
	// The body is in memory already: lines are cut from it in place.
	for rest := body; len(rest) > 0; {
		advance, raw, _ := scanLines(rest, true)
		rest = rest[advance:]
		line := string(raw)
		if line == "" {
			dispatch()
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		if field != "data" {
			continue // event:, id:, retry: and comments (": ping")
		}
		value = strings.TrimPrefix(value, " ")
		if sawData {
			data.WriteByte('\n')
		}
		data.WriteString(value)
		sawData = true
	}
	// An unterminated last event is discarded by a browser; a usage
	// chunk cut before its blank line is still the provider's count,
	// so it is read.
	dispatch()
	return st.result()
}

// scanLines splits at \n, \r\n or a lone \r: the three line ends SSE allows.
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	for i, c := range data {
		switch c {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // a \n may follow
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// streamState accumulates what the events of one stream say.
type streamState struct {
	found bool
	u     Usage
	// Anthropic's counts: message_start's, overridden field by field by
	// message_delta's, which Anthropic documents as cumulative (adding
	// them would count the output twice).
	anthropic *usageFields
	bad       bool
}

func (st *streamState) event(data string) {
	if data == "[DONE]" || !strings.HasPrefix(strings.TrimSpace(data), "{") {
		return
	}
	var a answer
	if json.Unmarshal([]byte(data), &a) != nil {
		return
	}
	switch a.Type {
	case "response.completed", "response.incomplete", "response.failed":
		if a.Response != nil && a.Response.Usage != nil {
			st.set(a.Response.Usage.inputOutput(ResponsesStream))
		}
	case "message_start":
		if a.Message != nil && a.Message.Usage != nil {
			st.anthropic = merge(st.anthropic, a.Message.Usage)
		}
	case "message_delta":
		if a.Usage != nil {
			st.anthropic = merge(st.anthropic, a.Usage)
		}
	default:
		// OpenAI's chat (and legacy completions) chunks carry "usage":
		// null until the last one when include_usage is set.
		if a.Usage != nil && (a.Usage.PromptTokens != nil || a.Usage.CompletionTokens != nil) {
			st.set(a.Usage.openAIChat(ChatStream))
		}
	}
}

// set keeps the last usage a stream reports; one that is present but not
// a count makes the whole stream's usage unknown.
func (st *streamState) set(u Usage, ok bool) {
	if !ok {
		st.bad = true
		return
	}
	st.u, st.found = u, true
}

// merge overrides the fields of acc that f carries.
func merge(acc, f *usageFields) *usageFields {
	if acc == nil {
		acc = &usageFields{}
	}
	for _, p := range []struct{ dst, src **int64 }{
		{&acc.InputTokens, &f.InputTokens}, {&acc.OutputTokens, &f.OutputTokens},
		{&acc.CacheCreation, &f.CacheCreation}, {&acc.CacheRead, &f.CacheRead},
	} {
		if *p.src != nil {
			*p.dst = *p.src
		}
	}
	return acc
}

func (st *streamState) result() (Usage, bool) {
	if st.anthropic != nil {
		st.set(st.anthropic.anthropic(MessagesStream))
	}
	if st.bad || !st.found {
		return Usage{}, false
	}
	return st.u, true
}
