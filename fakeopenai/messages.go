package fakeopenai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// EndpointMessages is Anthropic's Messages API, POST /v1/messages. It is
// served beside the OpenAI endpoints because AI gateways route to both
// providers; it authenticates with x-api-key, requires anthropic-version
// and answers errors in Anthropic's shape.
const EndpointMessages = "messages"

// AnthropicVersionHeader must be present on a Messages request; any value is
// accepted, since the fake has one behaviour.
const AnthropicVersionHeader = "anthropic-version"

type messagesRequest struct {
	Model         string            `json:"model"`
	MaxTokens     *int              `json:"max_tokens"`
	Messages      []json.RawMessage `json:"messages"`
	System        json.RawMessage   `json:"system"`
	Stream        bool              `json:"stream"`
	Temperature   *float64          `json:"temperature"`
	TopP          *float64          `json:"top_p"`
	TopK          *int              `json:"top_k"`
	StopSequences []string          `json:"stop_sequences"`
}

type anthropicMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// anthropicBlock is a content block of a request; only text is read, other
// blocks (images, documents, tool results) cost a fixed number of tokens.
type anthropicBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// anthropicText reads a string or an array of content blocks.
func anthropicText(raw json.RawMessage, path string) (string, int, *apiError) {
	if text, ok, err := plainText(raw, path); ok || err != nil {
		return text, 0, err
	}
	var blocks []anthropicBlock
	if err := decodeJSON(raw, path, &blocks); err != nil {
		return "", 0, err
	}
	var texts []string
	attachments := 0
	for i, b := range blocks {
		switch b.Type {
		case "text":
			texts = append(texts, b.Text)
		case "":
			return "", 0, badRequest("", "%s.%d.type: Field required", path, i)
		default:
			attachments++
		}
	}
	return strings.Join(texts, "\n"), attachments, nil
}

type anthropicReply struct {
	ID           string                  `json:"id"`
	Type         string                  `json:"type"`
	Role         string                  `json:"role"`
	Model        string                  `json:"model"`
	Content      []anthropicContentBlock `json:"content"`
	StopReason   *string                 `json:"stop_reason"`
	StopSequence *string                 `json:"stop_sequence"`
	Usage        anthropicUsage          `json:"usage"`
}

type anthropicContentBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type anthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// maxAnthropicTemperature is the top of Anthropic's temperature range,
// narrower than OpenAI's.
const maxAnthropicTemperature = 1

func (s *Server) messages(w *answer, r *http.Request, rec *Request) *apiError {
	start := time.Now()
	if r.Header.Get(AnthropicVersionHeader) == "" {
		return badRequest("", "anthropic-version: header is required")
	}
	var req messagesRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Model == "" {
		return badRequest("model", "model: Field required")
	}
	m, err := s.resolve(rec, req.Model, TypeChat, "v1/messages")
	if err != nil {
		return err
	}
	rec.Stream = req.Stream
	if req.MaxTokens == nil {
		return badRequest("max_tokens", "max_tokens: Field required")
	}
	if *req.MaxTokens < 1 || *req.MaxTokens > maxCompletionTokens {
		return badRequest("max_tokens", "max_tokens: must be between 1 and %d, got %d", maxCompletionTokens, *req.MaxTokens)
	}
	if len(req.Messages) == 0 {
		return badRequest("messages", "messages: at least one message is required")
	}
	if t := req.Temperature; t != nil && (*t < 0 || *t > maxAnthropicTemperature) {
		return badRequest("temperature", "temperature: range: 0..1")
	}
	if p := req.TopP; p != nil && (*p < 0 || *p > 1) {
		return badRequest("top_p", "top_p: range: 0..1")
	}
	var key strings.Builder
	tokens := 0
	system, attachments, err := anthropicText(req.System, "system")
	if err != nil {
		return err
	}
	if system != "" {
		tokens += CountTokens(system) + attachments*tokensPerAttachment
		fmt.Fprintf(&key, "system\x00%s\x01", system)
	}
	for i, rm := range req.Messages {
		path := fmt.Sprintf("messages.%d", i)
		var msg anthropicMessage
		if err := decodeJSON(rm, path, &msg); err != nil {
			return err
		}
		if msg.Role != "user" && msg.Role != "assistant" {
			return badRequest(path+".role", "%s.role: Input should be 'user' or 'assistant'", path)
		}
		text, attachments, err := anthropicText(msg.Content, path+".content")
		if err != nil {
			return err
		}
		tokens += tokensPerMessage + CountTokens(text) + attachments*tokensPerAttachment
		fmt.Fprintf(&key, "%s\x00%d\x00%s\x01", msg.Role, attachments, text)
	}
	g := generation{endpoint: EndpointMessages, model: m, prompts: []string{key.String()}, promptTokens: tokens,
		n: 1, limit: *req.MaxTokens, stream: req.Stream}
	if err := s.chooseFault(r, rec); err != nil {
		return err
	}
	if stop, err := s.applyFault(w, r, rec); stop {
		return err
	}
	c := s.choices(g)[0]
	rec.PromptTokens, rec.CompletionTokens = g.promptTokens, c.tokens()
	reason := "end_turn"
	if !c.finished {
		reason = "max_tokens"
	}
	reply := anthropicReply{
		ID: s.completionID("msg_01", rec), Type: "message", Role: "assistant", Model: m.ID,
		Content:    []anthropicContentBlock{{Type: "text", Text: c.text()}},
		StopReason: &reason,
		Usage:      anthropicUsage{InputTokens: g.promptTokens, OutputTokens: c.tokens()},
	}
	p := s.pacer(rec)
	if g.stream {
		return s.sendEvents(w, r, rec, p, start, messageEvents(reply, c), false)
	}
	if !s.waitAnswer(r, p, len(c.pieces)) {
		return s.interrupted(r)
	}
	s.respond(w, rec, start, reply)
	return nil
}

// messageEvents lays out an Anthropic stream: message_start with the
// message empty and the input usage, one text block (start, a text_delta
// per token, stop), message_delta with the stop reason and output usage,
// message_stop.
func messageEvents(final anthropicReply, c choice) []event {
	var events []event
	add := func(name string, delay bool, fields map[string]any) {
		fields["type"] = name
		events = append(events, event{name: name, data: fields, delay: delay})
	}
	started := final
	started.Content, started.StopReason = []anthropicContentBlock{}, nil
	started.Usage.OutputTokens = 1 // Anthropic reports one token at the start
	add("message_start", false, map[string]any{"message": started})
	add("content_block_start", false, map[string]any{"index": 0, "content_block": anthropicContentBlock{Type: "text"}})
	for i, piece := range c.pieces {
		add("content_block_delta", i > 0, map[string]any{"index": 0, "delta": map[string]string{"type": "text_delta", "text": piece}})
	}
	add("content_block_stop", false, map[string]any{"index": 0})
	add("message_delta", false, map[string]any{
		"delta": map[string]any{"stop_reason": final.StopReason, "stop_sequence": nil},
		"usage": map[string]int{"output_tokens": final.Usage.OutputTokens},
	})
	add("message_stop", false, map[string]any{})
	return events
}
