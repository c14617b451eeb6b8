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
	// maxChoices bounds n, and prompts × n for legacy completions.
	maxChoices = 128
	// maxCompletionTokens bounds max_tokens and max_completion_tokens: the
	// largest completion any OpenAI model produces.
	maxCompletionTokens = 128000
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
	Temperature         *float64          `json:"temperature"`
	TopP                *float64          `json:"top_p"`
	PresencePenalty     *float64          `json:"presence_penalty"`
	FrequencyPenalty    *float64          `json:"frequency_penalty"`
	Stop                json.RawMessage   `json:"stop"`
	User                string            `json:"user"`
	Logprobs            *bool             `json:"logprobs"`
	TopLogprobs         *int              `json:"top_logprobs"`
	Tools               []json.RawMessage `json:"tools"`
	ToolChoice          json.RawMessage   `json:"tool_choice"`
}

func (r *chatRequest) sampling() sampling {
	return sampling{r.Temperature, r.TopP, r.PresencePenalty, r.FrequencyPenalty, r.Stop}
}

// sampling holds the generation parameters the fake does not act on. Their
// types are checked by decoding and their ranges here, as OpenAI checks
// them, so that a client's mistake ("temperature": "hot", or 7) fails
// against the fake as it would against the real API instead of passing
// a test.
type sampling struct {
	temperature, topP, presencePenalty, frequencyPenalty *float64
	stop                                                 json.RawMessage
}

// maxStopSequences is how many stop sequences OpenAI accepts.
const maxStopSequences = 4

func (sp sampling) check() *apiError {
	for _, p := range []struct {
		name     string
		v        *float64
		min, max float64
	}{
		{"temperature", sp.temperature, 0, 2},
		{"top_p", sp.topP, 0, 1},
		{"presence_penalty", sp.presencePenalty, -2, 2},
		{"frequency_penalty", sp.frequencyPenalty, -2, 2},
	} {
		if p.v != nil && (*p.v < p.min || *p.v > p.max) {
			return badRequest(p.name, "Invalid '%s': decimal out of range. Expected a value between %g and %g, but got %g instead.", p.name, p.min, p.max, *p.v)
		}
	}
	trimmed := strings.TrimSpace(string(sp.stop))
	if trimmed == "" || trimmed == "null" {
		return nil
	}
	var one string
	if json.Unmarshal(sp.stop, &one) == nil {
		return nil
	}
	var many []string
	if json.Unmarshal(sp.stop, &many) != nil {
		return badRequest("stop", "Invalid type for 'stop': expected one of a string or an array of strings, but got %s instead.", jsonKindOf(trimmed))
	}
	if len(many) > maxStopSequences {
		return badRequest("stop", "Invalid 'stop': array too long. Expected an array with maximum length %d, but got an array with length %d instead.", maxStopSequences, len(many))
	}
	return nil
}

// jsonKindOf names the JSON type of a trimmed, non-empty value.
func jsonKindOf(trimmed string) string {
	if trimmed[0] == '[' {
		return "an array of other values"
	}
	if trimmed[0] == '"' {
		return "a string"
	}
	return jsonKind(trimmed)
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
	tool         *toolDef // the tool every choice calls; nil for text
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
	if err := req.sampling().check(); err != nil {
		return err
	}
	if req.TopLogprobs != nil {
		if *req.TopLogprobs < 0 || *req.TopLogprobs > maxTopLogprobs {
			return badRequest("top_logprobs", "Invalid 'top_logprobs': integer below minimum value or above maximum value. Expected a value between 0 and %d, but got %d instead.", maxTopLogprobs, *req.TopLogprobs)
		}
		if req.Logprobs == nil || !*req.Logprobs {
			return badRequest("top_logprobs", "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.")
		}
	}
	tools, err := parseTools(req.Tools)
	if err != nil {
		return err
	}
	if g.tool, err = pickTool(tools, req.ToolChoice, lastUserText(req.Messages)); err != nil {
		return err
	}
	return s.generate(w, r, rec, g, start)
}

// maxTopLogprobs is OpenAI's limit on top_logprobs.
const maxTopLogprobs = 20

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
		if *maxTokens > maxCompletionTokens {
			return badRequest(maxName, "Invalid '%s': integer above maximum value. Expected a value <= %d, but got %d instead.", maxName, maxCompletionTokens, *maxTokens)
		}
		g.limit = *maxTokens
	}
	// Every prompt gets n choices: a legacy completion of 2,048 prompts
	// with n=128 would be a quarter of a million answers in one response.
	if total := len(g.prompts) * g.n; total > maxChoices {
		return badRequest("n", "Invalid 'n': %d prompts with n=%d ask for %d choices; this server answers at most %d choices per request.", len(g.prompts), g.n, total, maxChoices)
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
	if text, ok, err := plainText(raw, path); ok || err != nil {
		return text, 0, err
	}
	if trimmed := strings.TrimSpace(string(raw)); trimmed[0] != '[' {
		return "", 0, badRequest(path, "Invalid type for '%s': expected one of a string or array of objects, but got %s instead.", path, jsonKind(trimmed))
	}
	return chatParts.read(raw, path)
}

// plainText reads content that is absent, null or a string; ok is false
// for anything else (an array of parts), which the caller reads itself.
func plainText(raw json.RawMessage, path string) (text string, ok bool, err *apiError) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" {
		return "", true, nil
	}
	if trimmed[0] != '"' {
		return "", false, nil
	}
	if err := decodeJSON(raw, path, &text); err != nil {
		return "", true, err
	}
	return text, true, nil
}

// contentParts says which part types of a content array carry text and
// which count as attachments, as one API names them: chat completions'
// message content and the Responses API's input content differ only there.
type contentParts struct {
	text, attach []string
	// supported lists the types for the error on an unknown one.
	supported string
	// missingType makes an empty type "Missing required parameter" (chat)
	// rather than an invalid value (Responses).
	missingType bool
}

var (
	chatParts = contentParts{
		text: []string{"text"}, attach: []string{"image_url", "input_audio", "file"},
		supported: "'text', 'image_url', 'input_audio' and 'file'", missingType: true,
	}
	responseParts = contentParts{
		text: []string{"input_text", "output_text"}, attach: []string{"input_image", "input_file", "input_audio"},
		supported: "'input_text', 'input_image', 'input_file' and 'input_audio'",
	}
)

// read reads an array of parts: their texts joined by newlines, and how
// many attachments there were.
func (k contentParts) read(raw json.RawMessage, path string) (string, int, *apiError) {
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
		switch {
		case slices.Contains(k.text, part.Type):
			texts = append(texts, part.Text)
		case slices.Contains(k.attach, part.Type):
			attachments++
		case part.Type == "" && k.missingType:
			return "", 0, badRequest(pp+".type", "Missing required parameter: '%s.type'.", pp)
		default:
			return "", 0, badRequest(pp+".type", "Invalid value: '%s'. Supported values are: %s.", part.Type, k.supported)
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
	Model            string          `json:"model"`
	Prompt           json.RawMessage `json:"prompt"`
	Stream           bool            `json:"stream"`
	StreamOptions    *streamOptions  `json:"stream_options"`
	MaxTokens        *int            `json:"max_tokens"`
	N                *int            `json:"n"`
	Seed             *int64          `json:"seed"`
	Temperature      *float64        `json:"temperature"`
	TopP             *float64        `json:"top_p"`
	PresencePenalty  *float64        `json:"presence_penalty"`
	FrequencyPenalty *float64        `json:"frequency_penalty"`
	Stop             json.RawMessage `json:"stop"`
	User             string          `json:"user"`
	Echo             bool            `json:"echo"`
	Suffix           *string         `json:"suffix"`
	Logprobs         *int            `json:"logprobs"`
	BestOf           *int            `json:"best_of"`
}

// maxLegacyLogprobs and maxBestOf are the legacy endpoint's limits.
const (
	maxLegacyLogprobs = 5
	maxBestOf         = 20
)

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
	sp := sampling{req.Temperature, req.TopP, req.PresencePenalty, req.FrequencyPenalty, req.Stop}
	if err := sp.check(); err != nil {
		return err
	}
	if req.Logprobs != nil && (*req.Logprobs < 0 || *req.Logprobs > maxLegacyLogprobs) {
		return badRequest("logprobs", "Invalid 'logprobs': integer below minimum value or above maximum value. Expected a value between 0 and %d, but got %d instead.", maxLegacyLogprobs, *req.Logprobs)
	}
	if req.BestOf != nil && (*req.BestOf < g.n || *req.BestOf > maxBestOf) {
		return badRequest("best_of", "Invalid 'best_of': expected a value between n (%d) and %d, but got %d instead.", g.n, maxBestOf, *req.BestOf)
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

// tokenKeyPrefix marks the canonical text of a token-id input, which no
// ordinary text starts with.
const tokenKeyPrefix = "\x02tokens"

func tokenKey(ids []int64) string {
	var b strings.Builder
	b.WriteString(tokenKeyPrefix)
	for _, id := range ids {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}
