package fakeopenai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits OpenAI applies to the shared generation parameters.
const (
	maxChoices = 128
	// tokensPerAttachment is what a non-text content part (an image, audio,
	// a file) costs in the prompt: the price of a low-detail image.
	tokensPerAttachment = 85
)

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatRequest struct {
	Model               string            `json:"model"`
	Messages            []json.RawMessage `json:"messages"`
	Stream              bool              `json:"stream"`
	StreamOptions       *streamOptions    `json:"stream_options"`
	MaxTokens           *int              `json:"max_tokens"`
	MaxCompletionTokens *int              `json:"max_completion_tokens"`
	N                   *int              `json:"n"`
	Seed                *int64            `json:"seed"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	Name    string          `json:"name"`
}

type contentPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

var chatRoles = []string{"system", "developer", "user", "assistant", "tool", "function"}

// generation is what chat and legacy completions share once the request is
// parsed: who asks, for what, and how the answer is delivered.
type generation struct {
	endpoint     string
	model        Model
	prompts      []string // canonical prompt text, one per prompt
	promptTokens int
	n            int
	limit        int // max completion tokens per choice; 0 = none
	stream       bool
	includeUsage bool
	seed         *int64
}

func (s *Server) chat(w *answer, r *http.Request, rec *Request) *apiError {
	start := time.Now()
	var req chatRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	m, err := s.resolve(rec, req.Model, TypeChat, "v1/chat/completions")
	if err != nil {
		return err
	}
	g := generation{endpoint: EndpointChat, model: m, stream: req.Stream, seed: req.Seed}
	rec.Stream = req.Stream
	if req.Messages == nil {
		return badRequest("messages", "Missing required parameter: 'messages'.")
	}
	if len(req.Messages) == 0 {
		return badRequest("messages", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.")
	}
	prompt, tokens, err := parseMessages(req.Messages)
	if err != nil {
		return err
	}
	g.prompts, g.promptTokens = []string{prompt}, tokens
	// max_completion_tokens replaced max_tokens; a request may use either.
	maxName, maxTokens := "max_completion_tokens", req.MaxCompletionTokens
	if maxTokens == nil {
		maxName, maxTokens = "max_tokens", req.MaxTokens
	}
	if err := g.options(req.N, req.StreamOptions, maxName, maxTokens); err != nil {
		return err
	}
	return s.generate(w, r, rec, g, start)
}

// options validates n, stream_options and a max-tokens parameter.
func (g *generation) options(n *int, so *streamOptions, maxName string, maxTokens *int) *apiError {
	g.n = 1
	if n != nil {
		if *n < 1 || *n > maxChoices {
			return badRequest("n", "Invalid 'n': integer below minimum value or above maximum value. Expected a value between 1 and %d, but got %d instead.", maxChoices, *n)
		}
		g.n = *n
	}
	if so != nil {
		if !g.stream {
			return badRequest("stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
		}
		g.includeUsage = so.IncludeUsage
	}
	if maxTokens != nil {
		if *maxTokens < 1 {
			return badRequest(maxName, "Invalid '%s': integer below minimum value. Expected a value >= 1, but got %d instead.", maxName, *maxTokens)
		}
		g.limit = *maxTokens
	}
	return nil
}

// parseMessages validates the messages and returns their canonical text
// (the part of the request that decides the answer) and prompt tokens.
func parseMessages(raw []json.RawMessage) (string, int, *apiError) {
	var key strings.Builder
	tokens := tokensReplyPrime
	for i, rm := range raw {
		path := fmt.Sprintf("messages.[%d]", i)
		var msg chatMessage
		if err := decodeJSON(rm, path, &msg); err != nil {
			return "", 0, err
		}
		if msg.Role == "" {
			return "", 0, badRequest(path+".role", "Missing required parameter: '%s.role'.", path)
		}
		if !slices.Contains(chatRoles, msg.Role) {
			return "", 0, badRequest(path+".role", "Invalid value: '%s'. Supported values are: %s.", msg.Role, strings.Join(chatRoles, ", "))
		}
		text, attachments, err := messageText(msg.Content, path+".content")
		if err != nil {
			return "", 0, err
		}
		tokens += tokensPerMessage + CountTokens(text) + attachments*tokensPerAttachment
		if msg.Name != "" {
			tokens += tokensPerName
		}
		fmt.Fprintf(&key, "%s\x00%s\x00%d\x00%s\x01", msg.Role, msg.Name, attachments, text)
	}
	return key.String(), tokens, nil
}

// messageText accepts a string, null, or an array of content parts.
func messageText(raw json.RawMessage, path string) (string, int, *apiError) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" {
		return "", 0, nil
	}
	if trimmed[0] == '"' {
		var s string
		if err := decodeJSON(raw, path, &s); err != nil {
			return "", 0, err
		}
		return s, 0, nil
	}
	if trimmed[0] != '[' {
		return "", 0, badRequest(path, "Invalid type for '%s': expected one of a string or array of objects, but got %s instead.", path, jsonKind(trimmed))
	}
	var parts []json.RawMessage
	if err := decodeJSON(raw, path, &parts); err != nil {
		return "", 0, err
	}
	var texts []string
	attachments := 0
	for j, pr := range parts {
		pp := fmt.Sprintf("%s.[%d]", path, j)
		var part contentPart
		if err := decodeJSON(pr, pp, &part); err != nil {
			return "", 0, err
		}
		switch part.Type {
		case "text":
			texts = append(texts, part.Text)
		case "image_url", "input_audio", "file":
			attachments++
		case "":
			return "", 0, badRequest(pp+".type", "Missing required parameter: '%s.type'.", pp)
		default:
			return "", 0, badRequest(pp+".type", "Invalid value: '%s'. Supported values are: 'text', 'image_url', 'input_audio' and 'file'.", part.Type)
		}
	}
	return strings.Join(texts, "\n"), attachments, nil
}

func jsonKind(trimmed string) string {
	switch trimmed[0] {
	case '{':
		return "an object"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

type completionRequest struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	Stream        bool            `json:"stream"`
	StreamOptions *streamOptions  `json:"stream_options"`
	MaxTokens     *int            `json:"max_tokens"`
	N             *int            `json:"n"`
	Seed          *int64          `json:"seed"`
}

// defaultCompletionMaxTokens is the legacy endpoint's default max_tokens.
const defaultCompletionMaxTokens = 16

func (s *Server) completions(w *answer, r *http.Request, rec *Request) *apiError {
	start := time.Now()
	var req completionRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	m, err := s.resolve(rec, req.Model, TypeCompletion, "v1/completions")
	if err != nil {
		return err
	}
	rec.Stream = req.Stream
	g := generation{endpoint: EndpointCompletions, model: m, stream: req.Stream, seed: req.Seed, limit: defaultCompletionMaxTokens}
	prompts, tokens, err := parseInputs(req.Prompt, "prompt")
	if err != nil {
		return err
	}
	g.prompts, g.promptTokens = prompts, tokens
	if err := g.options(req.N, req.StreamOptions, "max_tokens", req.MaxTokens); err != nil {
		return err
	}
	return s.generate(w, r, rec, g, start)
}

// parseInputs reads the polymorphic prompt/input parameter: a string, an
// array of strings, an array of token ids, or an array of such arrays. It
// returns one canonical text per input and their token count. A missing
// value is an error.
func parseInputs(raw json.RawMessage, param string) ([]string, int, *apiError) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" {
		return nil, 0, badRequest(param, "Missing required parameter: '%s'.", param)
	}
	invalid := func() *apiError {
		return badRequest(param, "Invalid type for '%s': expected a string, an array of strings, an array of integers or an array of arrays of integers.", param)
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, CountTokens(one), nil
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		if len(strs) == 0 {
			return nil, 0, badRequest(param, "Invalid '%s': empty array.", param)
		}
		n := 0
		for _, s := range strs {
			n += CountTokens(s)
		}
		return strs, n, nil
	}
	var ids []int64
	if json.Unmarshal(raw, &ids) == nil {
		if len(ids) == 0 {
			return nil, 0, badRequest(param, "Invalid '%s': empty array.", param)
		}
		return []string{tokenKey(ids)}, len(ids), nil
	}
	var lists [][]int64
	if json.Unmarshal(raw, &lists) == nil && len(lists) > 0 {
		out := make([]string, len(lists))
		n := 0
		for i, l := range lists {
			if len(l) == 0 {
				return nil, 0, badRequest(fmt.Sprintf("%s.[%d]", param, i), "Invalid '%s.[%d]': empty array.", param, i)
			}
			out[i] = tokenKey(l)
			n += len(l)
		}
		return out, n, nil
	}
	return nil, 0, invalid()
}

func tokenKey(ids []int64) string {
	var b strings.Builder
	b.WriteString("\x02tokens")
	for _, id := range ids {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}
