package fakeopenai

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// toolDef is a function tool a request offers.
type toolDef struct {
	Name       string
	Parameters json.RawMessage
}

// toolCall is a generated call of a function tool.
type toolCall struct {
	id, name, args string
}

// functionTool reads both spellings of a function tool: chat nests it
// ({"type":"function","function":{"name":…}}), the Responses API does not
// ({"type":"function","name":…}).
type functionTool struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Parameters json.RawMessage `json:"parameters"`
	Function   *struct {
		Name       string          `json:"name"`
		Parameters json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// parseTools returns the function tools of a request. Tools of other types
// (web_search, file_search…) are accepted and never called: the fake has
// nothing to run them with.
func parseTools(raw []json.RawMessage) ([]toolDef, *apiError) {
	var out []toolDef
	for i, rt := range raw {
		path := fmt.Sprintf("tools.[%d]", i)
		var ft functionTool
		if err := decodeJSON(rt, path, &ft); err != nil {
			return nil, err
		}
		if ft.Type != "function" {
			continue
		}
		name, params := ft.Name, ft.Parameters
		if ft.Function != nil {
			name, params = ft.Function.Name, ft.Function.Parameters
		}
		if name == "" {
			return nil, badRequest(path+".name", "Missing required parameter: '%s.name'.", path)
		}
		out = append(out, toolDef{Name: name, Parameters: params})
	}
	return out, nil
}

// pickTool decides whether the answer is a tool call, and of which tool.
// The rule is deterministic, so that a test can ask for either answer:
//
//   - tool_choice "none", or no function tools: a text answer;
//   - tool_choice "required": the first function tool;
//   - tool_choice naming a function: that function (400 if not offered);
//   - tool_choice "auto" or absent: the first function tool whose name
//     appears in the last message, if a user sent it (not after a tool's
//     result), else a text answer.
func pickTool(tools []toolDef, choice json.RawMessage, lastUser string) (*toolDef, *apiError) {
	trimmed := strings.TrimSpace(string(choice))
	mode := "auto"
	var named string
	switch {
	case trimmed == "" || trimmed == "null":
	case trimmed[0] == '"':
		if err := decodeJSON(choice, "tool_choice", &mode); err != nil {
			return nil, err
		}
		if !slices.Contains([]string{"none", "auto", "required"}, mode) {
			return nil, badRequest("tool_choice", "Invalid value: '%s'. Supported values are: 'none', 'auto' and 'required'.", mode)
		}
	default:
		var ft functionTool
		if err := decodeJSON(choice, "tool_choice", &ft); err != nil {
			return nil, err
		}
		named = ft.Name
		if ft.Function != nil {
			named = ft.Function.Name
		}
		if ft.Type != "function" || named == "" {
			return nil, badRequest("tool_choice", "Invalid 'tool_choice': expected a string or a function naming a tool.")
		}
		mode = "named"
	}
	if mode != "none" && mode != "auto" && len(tools) == 0 {
		return nil, badRequest("tool_choice", "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.")
	}
	switch mode {
	case "required":
		return &tools[0], nil
	case "named":
		for i := range tools {
			if tools[i].Name == named {
				return &tools[i], nil
			}
		}
		return nil, badRequest("tool_choice", "Tool choice '%s' not found in 'tools' parameter.", named)
	case "auto":
		for i := range tools {
			if strings.Contains(lastUser, tools[i].Name) {
				return &tools[i], nil
			}
		}
	}
	return nil, nil
}

// schemaProperty is the part of a JSON schema property the arguments are
// generated from.
type schemaProperty struct {
	Type any   `json:"type"`
	Enum []any `json:"enum"`
}

// toolArguments generates the JSON arguments of a call from the tool's
// parameter schema: one value per declared property, of its type (an enum's
// member when it has one), drawn from r. encoding/json sorts the keys, so the
// text depends on r and the schema only.
func toolArguments(r rng, params json.RawMessage) string {
	var schema struct {
		Properties map[string]schemaProperty `json:"properties"`
	}
	_ = json.Unmarshal(params, &schema) // an unreadable schema gets "{}"
	args := make(map[string]any, len(schema.Properties))
	for _, name := range slices.Sorted(maps.Keys(schema.Properties)) {
		p := schema.Properties[name]
		if len(p.Enum) > 0 {
			args[name] = p.Enum[r.intn(len(p.Enum))]
			continue
		}
		typ, _ := p.Type.(string)
		if list, ok := p.Type.([]any); ok && len(list) > 0 {
			typ, _ = list[0].(string)
		}
		switch typ {
		case "integer":
			args[name] = r.intn(100)
		case "number":
			args[name] = float64(r.intn(1000)) / 10
		case "boolean":
			args[name] = r.intn(2) == 1
		case "array":
			args[name] = []any{}
		case "object":
			args[name] = map[string]any{}
		case "null":
			args[name] = nil
		default:
			args[name] = vocabulary[r.intn(len(vocabulary))] + " " + vocabulary[r.intn(len(vocabulary))]
		}
	}
	b, err := json.Marshal(args)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// argumentFragment is how many bytes of arguments one streamed delta
// carries at most; OpenAI sends a few characters per delta.
const argumentFragment = 7

// fragments splits s into streamed pieces of at most argumentFragment bytes,
// never inside a UTF-8 sequence.
func fragments(s string) []string {
	var out []string
	for len(s) > 0 {
		n := min(argumentFragment, len(s))
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n++
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

// call generates a call of t: its id and arguments depend only on the
// server's seed, the endpoint, the snapshot, the prompt and the choice index.
func (s *Server) call(g generation, prompt string, j int, t *toolDef) toolCall {
	h := newHasher(s.cfg.Seed).str("tool").str(g.endpoint).str(g.model.ID).str(prompt).str(t.Name).u64(uint64(j))
	r := h.rng()
	id := make([]byte, 0, 29)
	id = append(id, "call_"...)
	for range 24 {
		id = append(id, idAlphabet[r.intn(len(idAlphabet))])
	}
	return toolCall{id: string(id), name: t.Name, args: toolArguments(r, t.Parameters)}
}

// lastUserText is the text of the last message of a chat request when a
// user sent it, which the "auto" tool rule reads: after a tool's result the
// answer is text, as a model's would be. Messages were validated already.
func lastUserText(raw []json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var msg chatMessage
	if json.Unmarshal(raw[len(raw)-1], &msg) != nil || msg.Role != "user" {
		return ""
	}
	text, _, err := messageText(msg.Content, "")
	if err != nil {
		return ""
	}
	return text
}
