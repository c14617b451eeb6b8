package fakeopenai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// EndpointResponses is the Responses API, POST /v1/responses.
const EndpointResponses = "responses"

type responsesRequest struct {
	Model           string            `json:"model"`
	Input           json.RawMessage   `json:"input"`
	Instructions    *string           `json:"instructions"`
	Stream          bool              `json:"stream"`
	MaxOutputTokens *int              `json:"max_output_tokens"`
	Temperature     *float64          `json:"temperature"`
	TopP            *float64          `json:"top_p"`
	Tools           []json.RawMessage `json:"tools"`
	ToolChoice      json.RawMessage   `json:"tool_choice"`
	User            string            `json:"user"`
	Metadata        map[string]string `json:"metadata"`
}

// inputItem is one item of a Responses input array: a message (with or
// without "type":"message") or another item, such as a function call's
// output, which the fake keeps as raw text.
type inputItem struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

var inputRoles = []string{"user", "assistant", "system", "developer"}

// parseInput reads the Responses input: a string (one user message) or an
// array of items. It returns the canonical text, the prompt tokens and the
// text of the last item when it is a user message.
func parseInput(raw json.RawMessage, instructions *string) (key string, tokens int, lastUser string, err *apiError) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" {
		return "", 0, "", badRequest("input", "Missing required parameter: 'input'.")
	}
	var b strings.Builder
	tokens = tokensReplyPrime
	if instructions != nil {
		tokens += tokensPerMessage + CountTokens(*instructions)
		fmt.Fprintf(&b, "instructions\x00%s\x01", *instructions)
	}
	if trimmed[0] == '"' {
		var text string
		if err := decodeJSON(raw, "input", &text); err != nil {
			return "", 0, "", err
		}
		fmt.Fprintf(&b, "user\x00%s\x01", text)
		return b.String(), tokens + tokensPerMessage + CountTokens(text), text, nil
	}
	var items []json.RawMessage
	if err := decodeJSON(raw, "input", &items); err != nil {
		return "", 0, "", err
	}
	for i, ri := range items {
		path := fmt.Sprintf("input.[%d]", i)
		var it inputItem
		if err := decodeJSON(ri, path, &it); err != nil {
			return "", 0, "", err
		}
		// lastUser is the last item's text only if a user sent it.
		lastUser = ""
		if it.Type != "" && it.Type != "message" {
			// Tool outputs and earlier calls count as their JSON text.
			tokens += tokensPerMessage + CountTokens(string(ri))
			fmt.Fprintf(&b, "%s\x00%s\x01", it.Type, ri)
			continue
		}
		if !slices.Contains(inputRoles, it.Role) {
			return "", 0, "", badRequest(path+".role", "Invalid value: '%s'. Supported values are: %s.", it.Role, strings.Join(inputRoles, ", "))
		}
		text, attachments, err := inputContent(it.Content, path+".content")
		if err != nil {
			return "", 0, "", err
		}
		tokens += tokensPerMessage + CountTokens(text) + attachments*tokensPerAttachment
		fmt.Fprintf(&b, "%s\x00%d\x00%s\x01", it.Role, attachments, text)
		if it.Role == "user" {
			lastUser = text
		}
	}
	return b.String(), tokens, lastUser, nil
}

// inputContent reads a message's content: a string or an array of parts.
func inputContent(raw json.RawMessage, path string) (string, int, *apiError) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed[0] != '[' {
		return messageText(raw, path)
	}
	return responseParts.read(raw, path)
}

// responseJSON is a Responses API response object.
type responseJSON struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	CreatedAt          int64             `json:"created_at"`
	Status             string            `json:"status"`
	Error              *struct{}         `json:"error"`
	IncompleteDetails  *incompleteJSON   `json:"incomplete_details"`
	Instructions       *string           `json:"instructions"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Model              string            `json:"model"`
	Output             []outputItem      `json:"output"`
	ParallelToolCalls  bool              `json:"parallel_tool_calls"`
	PreviousResponseID *string           `json:"previous_response_id"`
	Temperature        float64           `json:"temperature"`
	TopP               float64           `json:"top_p"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	Tools              []json.RawMessage `json:"tools"`
	Text               json.RawMessage   `json:"text"`
	Truncation         string            `json:"truncation"`
	Usage              *responseUsage    `json:"usage"`
	User               *string           `json:"user"`
	Metadata           map[string]string `json:"metadata"`
}

type incompleteJSON struct {
	Reason string `json:"reason"`
}

type responseUsage struct {
	InputTokens         int            `json:"input_tokens"`
	InputTokensDetails  map[string]int `json:"input_tokens_details"`
	OutputTokens        int            `json:"output_tokens"`
	OutputTokensDetails map[string]int `json:"output_tokens_details"`
	TotalTokens         int            `json:"total_tokens"`
}

// outputItem is a message or a function call; the fields of the other kind
// are left out.
type outputItem struct {
	Type      string       `json:"type"`
	ID        string       `json:"id"`
	Status    string       `json:"status"`
	Role      string       `json:"role,omitempty"`
	Content   []outputPart `json:"content,omitempty"`
	CallID    string       `json:"call_id,omitempty"`
	Name      string       `json:"name,omitempty"`
	Arguments *string      `json:"arguments,omitempty"`
	emptyMsg  bool         // a message with no content yet, sent as []
}

func (o outputItem) MarshalJSON() ([]byte, error) {
	type plain outputItem
	if o.emptyMsg {
		// omitempty would drop an empty content array, which a message item
		// always has.
		return json.Marshal(struct {
			plain
			Content []outputPart `json:"content"`
		}{plain(o), []outputPart{}})
	}
	return json.Marshal(plain(o))
}

type outputPart struct {
	Type        string   `json:"type"`
	Text        string   `json:"text"`
	Annotations []string `json:"annotations"`
	Logprobs    []string `json:"logprobs"`
}

func (s *Server) responses(w *answer, r *http.Request, rec *Request) *apiError {
	start := time.Now()
	var req responsesRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	m, err := s.resolve(rec, req.Model, TypeChat, "v1/responses")
	if err != nil {
		return err
	}
	rec.Stream = req.Stream
	key, tokens, lastUser, err := parseInput(req.Input, req.Instructions)
	if err != nil {
		return err
	}
	g := generation{endpoint: EndpointResponses, model: m, prompts: []string{key}, promptTokens: tokens, stream: req.Stream}
	if err := g.options(nil, nil, "max_output_tokens", req.MaxOutputTokens); err != nil {
		return err
	}
	if err := (sampling{temperature: req.Temperature, topP: req.TopP}).check(); err != nil {
		return err
	}
	tools, err := parseTools(req.Tools)
	if err != nil {
		return err
	}
	if g.tool, err = pickTool(tools, req.ToolChoice, lastUser); err != nil {
		return err
	}
	if err := s.chooseFault(r, rec); err != nil {
		return err
	}
	if stop, err := s.applyFault(w, r, rec); stop {
		return err
	}
	c := s.choices(g)[0]
	rec.PromptTokens, rec.CompletionTokens = g.promptTokens, c.tokens()
	resp := s.responseObject(rec, &req, g, c)
	p := s.pacer(rec)
	if g.stream {
		return s.sendEvents(w, r, rec, p, start, responseEvents(resp, c), false)
	}
	if !s.waitAnswer(r, p, len(c.pieces)) {
		return s.interrupted(r)
	}
	s.respond(w, rec, start, resp)
	return nil
}

// responseObject is the finished response for choice c.
func (s *Server) responseObject(rec *Request, req *responsesRequest, g generation, c choice) responseJSON {
	resp := responseJSON{
		ID: s.completionID("resp_", rec), Object: "response", CreatedAt: s.cfg.Now().Unix(),
		Status: "completed", Instructions: req.Instructions, MaxOutputTokens: req.MaxOutputTokens,
		Model: g.model.ID, ParallelToolCalls: true, Temperature: 1, TopP: 1,
		ToolChoice: json.RawMessage(`"auto"`), Tools: req.Tools, Text: json.RawMessage(`{"format":{"type":"text"}}`),
		Truncation: "disabled", Metadata: req.Metadata,
		Usage: &responseUsage{
			InputTokens: g.promptTokens, InputTokensDetails: map[string]int{"cached_tokens": 0},
			OutputTokens: c.tokens(), OutputTokensDetails: map[string]int{"reasoning_tokens": 0},
			TotalTokens: g.promptTokens + c.tokens(),
		},
	}
	if req.Temperature != nil {
		resp.Temperature = *req.Temperature
	}
	if req.TopP != nil {
		resp.TopP = *req.TopP
	}
	if len(req.ToolChoice) > 0 {
		resp.ToolChoice = req.ToolChoice
	}
	if resp.Tools == nil {
		resp.Tools = []json.RawMessage{}
	}
	if resp.Metadata == nil {
		resp.Metadata = map[string]string{}
	}
	if req.User != "" {
		resp.User = &req.User
	}
	suffix := strings.TrimPrefix(resp.ID, "resp_")
	if c.call != nil {
		args := c.call.args
		resp.Output = []outputItem{{Type: "function_call", ID: "fc_" + suffix, Status: "completed",
			CallID: c.call.id, Name: c.call.name, Arguments: &args}}
		return resp
	}
	resp.Output = []outputItem{{Type: "message", ID: "msg_" + suffix, Status: "completed", Role: "assistant",
		Content: []outputPart{{Type: "output_text", Text: c.text(), Annotations: []string{}, Logprobs: []string{}}}}}
	if !c.finished {
		resp.Status = "incomplete"
		resp.IncompleteDetails = &incompleteJSON{Reason: "max_output_tokens"}
		resp.Output[0].Status = "incomplete"
	}
	return resp
}

// responseEvents lays out the stream of a finished response: created and
// in_progress with an empty output, the item added, its content (text
// deltas, or function-call argument deltas) and done events, and
// completed (or incomplete) carrying the whole response with usage. Every
// event carries its sequence_number.
func responseEvents(final responseJSON, c choice) []event {
	var events []event
	seq := 0
	add := func(name string, delay bool, fields map[string]any) {
		fields["type"] = name
		fields["sequence_number"] = seq
		seq++
		events = append(events, event{name: name, data: fields, delay: delay})
	}
	pending := final
	pending.Status, pending.Output, pending.Usage, pending.IncompleteDetails = "in_progress", []outputItem{}, nil, nil
	add("response.created", false, map[string]any{"response": pending})
	add("response.in_progress", false, map[string]any{"response": pending})
	item := final.Output[0]
	opened := item
	opened.Status = "in_progress"
	if c.call != nil {
		empty := ""
		opened.Arguments = &empty
		add("response.output_item.added", false, map[string]any{"output_index": 0, "item": opened})
		for i, piece := range c.pieces {
			add("response.function_call_arguments.delta", i > 0, map[string]any{"item_id": item.ID, "output_index": 0, "delta": piece})
		}
		add("response.function_call_arguments.done", false, map[string]any{"item_id": item.ID, "output_index": 0, "name": c.call.name, "arguments": c.call.args})
	} else {
		opened.Content, opened.emptyMsg = nil, true
		add("response.output_item.added", false, map[string]any{"output_index": 0, "item": opened})
		at := map[string]any{"item_id": item.ID, "output_index": 0, "content_index": 0}
		with := func(k string, v any) map[string]any {
			m := map[string]any{k: v}
			for key, val := range at {
				m[key] = val
			}
			return m
		}
		add("response.content_part.added", false, with("part", outputPart{Type: "output_text", Annotations: []string{}, Logprobs: []string{}}))
		for i, piece := range c.pieces {
			m := with("delta", piece)
			m["logprobs"] = []string{}
			add("response.output_text.delta", i > 0, m)
		}
		m := with("text", c.text())
		m["logprobs"] = []string{}
		add("response.output_text.done", false, m)
		add("response.content_part.done", false, with("part", item.Content[0]))
	}
	add("response.output_item.done", false, map[string]any{"output_index": 0, "item": item})
	last := "response.completed"
	if final.Status == "incomplete" {
		last = "response.incomplete"
	}
	add(last, false, map[string]any{"response": final})
	return events
}
