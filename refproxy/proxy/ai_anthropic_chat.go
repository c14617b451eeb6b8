package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file translates an OpenAI chat completion request to an Anthropic
// Messages request and the JSON answer back (ai_anthropic_stream.go
// translates a streamed one), as agentgateway does for an anthropic
// provider (crates/llm/src/conversion/messages.rs): system and
// developer messages join, one per line, into "system"; max_tokens, which
// Anthropic requires, comes from max_completion_tokens, then max_tokens,
// then defaultChatMaxTokens; stop becomes stop_sequences; the reply's text
// blocks join into the one choice's content and its stop_reason maps to a
// finish_reason.
//
// Only text is translated. A field or a message part that would need more
// (tools, images, n > 1, response formats, …) is refused with 400 naming
// it, rather than dropped: dropping it would answer a different question
// than the client asked.

// defaultChatMaxTokens is the max_tokens of a translated request whose
// client set no limit: agentgateway's default.
const defaultChatMaxTokens = 4096

// translatedChatFields are the chat completion fields chatToMessages reads;
// any other field is refused.
var translatedChatFields = []string{"max_completion_tokens", "max_tokens", "messages", "model", "n", "stop", "stream", "stream_options", "temperature", "top_p"}

// chatRequest is the part of a chat completion request that is translated.
type chatRequest struct {
	Model               string            `json:"model"`
	Messages            []json.RawMessage `json:"messages"`
	MaxTokens           *int64            `json:"max_tokens"`
	MaxCompletionTokens *int64            `json:"max_completion_tokens"`
	Stop                json.RawMessage   `json:"stop"`
	Temperature         *float64          `json:"temperature"`
	TopP                *float64          `json:"top_p"`
	Stream              *bool             `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage *bool `json:"include_usage"`
	} `json:"stream_options"`
	N *int64 `json:"n"`
}

// chatMessage is one translated message; decoding refuses other fields
// (tool_calls, tool_call_id, audio, …).
type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	// Name has no Anthropic counterpart and changes no answer's meaning,
	// so it is accepted and dropped.
	Name string `json:"name"`
}

type chatPart struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
}

type messagesText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type messagesTurn struct {
	Role    string         `json:"role"`
	Content []messagesText `json:"content"`
}

type messagesRequest struct {
	Model         string         `json:"model"`
	MaxTokens     int64          `json:"max_tokens"`
	System        string         `json:"system,omitempty"`
	Messages      []messagesTurn `json:"messages"`
	StopSequences []string       `json:"stop_sequences,omitempty"`
	Temperature   *float64       `json:"temperature,omitempty"`
	TopP          *float64       `json:"top_p,omitempty"`
	Stream        bool           `json:"stream,omitempty"`
}

// chatStream says how to translate the answer to a streamed chat request.
type chatStream struct {
	// includeUsage asks for the final usage chunk. As the openai provider
	// adds include_usage to a streamed request that does not say, so the
	// chunk is sent unless stream_options turns it off.
	includeUsage bool
}

// chatToMessages translates a chat completion request to a Messages
// request for model (the backend's; the request's own when empty). The
// chatStream is nil for a request that does not stream.
func chatToMessages(body []byte, model string) ([]byte, *chatStream, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return nil, nil, errors.New("request body must be a JSON object (an OpenAI chat completion request)")
	}
	var other []string
	for k := range fields {
		if !slices.Contains(translatedChatFields, k) {
			other = append(other, k)
		}
	}
	if len(other) > 0 {
		slices.Sort(other)
		return nil, nil, fmt.Errorf("%s: not translated to Anthropic Messages by refproxy (it translates %s)",
			strings.Join(other, ", "), strings.Join(translatedChatFields, ", "))
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, fmt.Errorf("chat completion request: %w", err)
	}
	var stream *chatStream
	if req.Stream != nil && *req.Stream {
		stream = &chatStream{includeUsage: true}
		if req.StreamOptions != nil {
			stream.includeUsage = req.StreamOptions.IncludeUsage != nil && *req.StreamOptions.IncludeUsage
		}
	} else if req.StreamOptions != nil {
		return nil, nil, errors.New("stream_options: only allowed when stream is true")
	}
	if req.N != nil && *req.N != 1 {
		return nil, nil, fmt.Errorf("n: Anthropic answers one choice, got n=%d", *req.N)
	}
	out := messagesRequest{Model: model, MaxTokens: defaultChatMaxTokens, Messages: []messagesTurn{},
		Temperature: req.Temperature, TopP: req.TopP, Stream: stream != nil}
	if out.Model == "" {
		out.Model = req.Model
	}
	if out.Model == "" {
		return nil, nil, errors.New("model: required, and the backend sets none")
	}
	if req.MaxCompletionTokens != nil {
		out.MaxTokens = *req.MaxCompletionTokens
	} else if req.MaxTokens != nil {
		out.MaxTokens = *req.MaxTokens
	}
	stop, err := stopSequences(req.Stop)
	if err != nil {
		return nil, nil, err
	}
	out.StopSequences = stop
	var system []string
	for i, raw := range req.Messages {
		path := "messages[" + strconv.Itoa(i) + "]"
		var m chatMessage
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return nil, nil, fmt.Errorf("%s: %w (only text messages are translated to Anthropic Messages)", path, err)
		}
		texts, err := chatTexts(m.Content, path)
		if err != nil {
			return nil, nil, err
		}
		switch m.Role {
		case "system", "developer":
			for _, t := range texts {
				system = append(system, t.Text)
			}
		case "user", "assistant":
			out.Messages = append(out.Messages, messagesTurn{Role: m.Role, Content: texts})
		default:
			return nil, nil, fmt.Errorf("%s.role: %q messages are not translated to Anthropic Messages (user, assistant, system and developer are)", path, m.Role)
		}
	}
	out.System = strings.Join(system, "\n")
	b, err := json.Marshal(out)
	return b, stream, err
}

// chatTexts reads a message's content, a string or an array of text parts.
func chatTexts(raw json.RawMessage, path string) ([]messagesText, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []messagesText{{Type: "text", Text: s}}, nil
	}
	var parts []chatPart
	if err := json.Unmarshal(raw, &parts); err != nil || parts == nil {
		return nil, fmt.Errorf("%s.content: must be a string or an array of content parts", path)
	}
	texts := make([]messagesText, 0, len(parts))
	for j, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return nil, fmt.Errorf("%s.content[%d]: %q parts are not translated to Anthropic Messages (text parts are)", path, j, p.Type)
		}
		texts = append(texts, messagesText{Type: "text", Text: *p.Text})
	}
	return texts, nil
}

// stopSequences reads chat's stop: absent, null, a string or strings.
func stopSequences(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errors.New("stop: must be a string or an array of strings")
	}
	return many, nil
}

type messagesReply struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Model   string `json:"model"`
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StopReason *string `json:"stop_reason"`
	Usage      struct {
		InputTokens  int64 `json:"input_tokens"`
		OutputTokens int64 `json:"output_tokens"`
	} `json:"usage"`
}

type chatReplyMessage struct {
	Role    string  `json:"role"`
	Content *string `json:"content"`
	Refusal *string `json:"refusal"`
}

type chatChoice struct {
	Index        int              `json:"index"`
	Message      chatReplyMessage `json:"message"`
	FinishReason *string          `json:"finish_reason"`
	Logprobs     *struct{}        `json:"logprobs"`
}

type chatUsage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

type chatReply struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   chatUsage    `json:"usage"`
}

// finishReasons maps Anthropic's stop_reason to chat's finish_reason, as
// agentgateway maps them.
var finishReasons = map[string]string{
	"end_turn":                      "stop",
	"stop_sequence":                 "stop",
	"pause_turn":                    "stop",
	"max_tokens":                    "length",
	"model_context_window_exceeded": "length",
	"tool_use":                      "tool_calls",
	"refusal":                       "content_filter",
}

// messagesToChat translates a Messages answer to a chat completion created
// at the given Unix time (Anthropic's answer carries none).
func messagesToChat(body []byte, created int64) ([]byte, error) {
	var m messagesReply
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("the provider's answer is not JSON: %w", err)
	}
	if m.Type != "message" {
		return nil, fmt.Errorf("the provider's answer has type %q, want \"message\"", m.Type)
	}
	var text *string
	for i, b := range m.Content {
		if b.Type != "text" {
			return nil, fmt.Errorf("content[%d]: %q blocks are not translated to chat completions (text blocks are)", i, b.Type)
		}
		if text == nil {
			text = new(string)
		}
		*text += b.Text
	}
	var finish *string
	if m.StopReason != nil {
		f, ok := finishReasons[*m.StopReason]
		if !ok {
			return nil, fmt.Errorf("stop_reason %q has no chat finish_reason", *m.StopReason)
		}
		finish = &f
	}
	return json.Marshal(chatReply{
		ID: m.ID, Object: "chat.completion", Created: created, Model: m.Model,
		Choices: []chatChoice{{Message: chatReplyMessage{Role: "assistant", Content: text}, FinishReason: finish}},
		Usage: chatUsage{PromptTokens: m.Usage.InputTokens, CompletionTokens: m.Usage.OutputTokens,
			TotalTokens: m.Usage.InputTokens + m.Usage.OutputTokens},
	})
}

// maxErrorText bounds how much of an unreadable error answer is quoted.
const maxErrorText = 512

// chatErrorFromMessages translates Anthropic's error object to OpenAI's,
// keeping Anthropic's error type (authentication_error, rate_limit_error,
// …) and message. An answer that is not one is quoted, shortened.
func chatErrorFromMessages(body []byte) []byte {
	var e struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return openAIErrorJSON(e.Error.Message, e.Error.Type)
	}
	text := strings.TrimSpace(string(body))
	if len(text) > maxErrorText {
		text = text[:maxErrorText] + "…"
	}
	return openAIErrorJSON("the provider answered: "+text, "api_error")
}

// chatFromMessages is the ModifyResponse of requests translated from chat:
// it counts the answer as every forwarder does, then replaces the Messages
// answer with a chat completion, or Anthropic's error with OpenAI's. An
// answer it cannot translate becomes a 502 saying why.
func (a *aiForwarder) chatFromMessages(res *http.Response) error {
	if err := a.p.modifyResponse(res); err != nil {
		return err
	}
	stream, _ := res.Request.Context().Value(chatStreamKey{}).(*chatStream)
	if stream != nil && res.StatusCode >= 200 && res.StatusCode < 300 {
		if ct := res.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/event-stream") {
			res.Body = newChatStreamBody(res.Request.Context(), res.Body, stream, time.Now().Unix(), a.streamFailed(res))
			res.Header.Del("Content-Encoding")
			res.Header.Del("Content-Length")
			res.ContentLength = -1
			return nil
		}
	}
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAIBody+1))
	_ = res.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the anthropic provider's answer: %w", err)
	}
	var out []byte
	switch {
	case len(raw) > maxAIBody:
		err = fmt.Errorf("the provider's answer exceeds %d bytes", maxAIBody)
	case stream != nil && res.StatusCode >= 200 && res.StatusCode < 300:
		err = fmt.Errorf("a streamed request was answered with Content-Type %q, not an event stream", res.Header.Get("Content-Type"))
	case res.StatusCode >= 200 && res.StatusCode < 300:
		out, err = messagesToChat(raw, time.Now().Unix())
		out = append(out, '\n')
	default:
		out = chatErrorFromMessages(raw)
	}
	if err != nil {
		if st, ok := res.Request.Context().Value(stateKey{}).(*reqState); ok {
			a.p.logger.Warn("cannot translate an anthropic answer to a chat completion", "backend", st.backend.Name, "status", res.StatusCode, "error", err)
		}
		res.StatusCode, res.Status = http.StatusBadGateway, ""
		out = openAIErrorJSON("refproxy: cannot translate the anthropic provider's answer to a chat completion: "+err.Error(), "api_error")
	}
	res.Header.Del("Content-Encoding")
	res.Header.Set("Content-Type", "application/json")
	res.Header.Set("Content-Length", strconv.Itoa(len(out)))
	res.ContentLength = int64(len(out))
	res.Body = io.NopCloser(bytes.NewReader(out))
	return nil
}
