package fakeopenai_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/splitproof/splitproof/fakeopenai"
)

func responseParams(model, prompt string) responses.ResponseNewParams {
	return responses.ResponseNewParams{
		Model: model,
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(prompt)},
	}
}

// weatherTool has one property of each type the argument generator knows.
func weatherTool() responses.ToolUnionParam {
	return responses.ToolUnionParam{OfFunction: &responses.FunctionToolParam{
		Name: "get_weather",
		Parameters: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"city":  map[string]any{"type": "string"},
				"days":  map[string]any{"type": "integer"},
				"unit":  map[string]any{"type": "string", "enum": []string{"celsius", "fahrenheit"}},
				"alert": map[string]any{"type": "boolean"},
			},
		},
	}}
}

func TestResponsesJSON(t *testing.T) {
	srv, _, client := MustServe(t, fakeopenai.Config{Keys: []string{testKey}, Seed: 5})
	ctx := context.Background()
	res, err := client.Responses.New(ctx, responseParams("gpt-4o-mini", "What is 2+2?"))
	if err != nil {
		t.Fatalf("Responses.New: %v", err)
	}
	if !strings.HasPrefix(res.ID, "resp_") || res.Object != "response" || res.Status != responses.ResponseStatusCompleted {
		t.Errorf("id %q object %q status %q", res.ID, res.Object, res.Status)
	}
	if res.Model != "gpt-4o-mini-2024-07-18" {
		t.Errorf("model = %q, want the snapshot", res.Model)
	}
	if len(res.Output) != 1 || res.Output[0].Type != "message" {
		t.Fatalf("output = %+v, want one message", res.Output)
	}
	msg := res.Output[0].AsMessage()
	if msg.Role != "assistant" || len(msg.Content) != 1 || msg.Content[0].Type != "output_text" {
		t.Fatalf("message = %+v", msg)
	}
	text := res.OutputText()
	if text == "" || text != msg.Content[0].Text {
		t.Errorf("OutputText %q, content %q", text, msg.Content[0].Text)
	}
	// 6 prompt tokens, 3 for the message and 3 to prime the reply, as chat.
	if res.Usage.InputTokens != 12 || res.Usage.OutputTokens != int64(fakeopenai.CountTokens(text)) ||
		res.Usage.TotalTokens != res.Usage.InputTokens+res.Usage.OutputTokens {
		t.Errorf("usage %+v for %d-token text", res.Usage, fakeopenai.CountTokens(text))
	}
	again, err := client.Responses.New(ctx, responseParams("gpt-4o-mini", "What is 2+2?"))
	if err != nil {
		t.Fatal(err)
	}
	if again.OutputText() != text || again.ID == res.ID {
		t.Errorf("second answer %q (id %s), want the same text %q under a new id", again.OutputText(), again.ID, text)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Endpoint != fakeopenai.EndpointResponses || reqs[0].ResolvedModel != res.Model ||
		reqs[0].CompletionTokens != int(res.Usage.OutputTokens) {
		t.Errorf("recorded %+v", reqs)
	}

	p := responseParams("gpt-4o", "Tell me a story")
	p.MaxOutputTokens = openai.Int(4)
	short, err := client.Responses.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if short.Status != responses.ResponseStatusIncomplete || short.IncompleteDetails.Reason != "max_output_tokens" ||
		short.Usage.OutputTokens != 4 || fakeopenai.CountTokens(short.OutputText()) != 4 {
		t.Errorf("max_output_tokens 4: status %q reason %q usage %d text %q", short.Status,
			short.IncompleteDetails.Reason, short.Usage.OutputTokens, short.OutputText())
	}
}

func TestResponsesStream(t *testing.T) {
	_, _, client := MustServe(t, fakeopenai.Config{Seed: 9})
	ctx := context.Background()
	want, err := client.Responses.New(ctx, responseParams("gpt-4o", "Stream me"))
	if err != nil {
		t.Fatal(err)
	}
	stream := client.Responses.NewStreaming(ctx, responseParams("gpt-4o", "Stream me"))
	var compact []string // the event types, a run of deltas as one
	n := 0
	var deltas strings.Builder
	var done string
	var completed responses.Response
	for stream.Next() {
		ev := stream.Current()
		if ev.SequenceNumber != int64(n) {
			t.Errorf("event %d (%s) has sequence_number %d", n, ev.Type, ev.SequenceNumber)
		}
		n++
		if len(compact) == 0 || compact[len(compact)-1] != ev.Type {
			compact = append(compact, ev.Type)
		}
		switch ev.Type {
		case "response.output_text.delta":
			deltas.WriteString(ev.Delta)
		case "response.output_text.done":
			done = ev.Text
		case "response.completed":
			completed = ev.AsResponseCompleted().Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	wantTypes := []string{
		"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "response.output_text.done", "response.content_part.done",
		"response.output_item.done", "response.completed",
	}
	if strings.Join(compact, " ") != strings.Join(wantTypes, " ") {
		t.Errorf("events\n got %v\nwant %v", compact, wantTypes)
	}
	if deltas.Len() == 0 || deltas.String() != done || done != want.OutputText() || completed.OutputText() != done {
		t.Errorf("deltas %q, done %q, completed %q, JSON answer %q", deltas.String(), done, completed.OutputText(), want.OutputText())
	}
	if completed.Usage.OutputTokens != want.Usage.OutputTokens || completed.Usage.InputTokens != want.Usage.InputTokens ||
		completed.Status != responses.ResponseStatusCompleted || completed.Model != "gpt-4o-2024-08-06" {
		t.Errorf("completed %+v, JSON usage %+v", completed.Usage, want.Usage)
	}
}

func TestResponsesFunctionCall(t *testing.T) {
	_, _, client := MustServe(t, fakeopenai.Config{Seed: 2})
	ctx := context.Background()
	required := responses.ResponseNewParamsToolChoiceUnion{OfToolChoiceMode: openai.Opt(responses.ToolChoiceOptionsRequired)}
	named := responses.ResponseNewParamsToolChoiceUnion{OfFunctionTool: &responses.ToolChoiceFunctionParam{Name: "get_weather"}}
	tests := []struct {
		name     string
		prompt   string
		choice   responses.ResponseNewParamsToolChoiceUnion
		wantCall bool
	}{
		{"required", "Hello there", required, true},
		{"named", "Hello there", named, true},
		{"auto, prompt names the tool", "Please call get_weather for Oslo", responses.ResponseNewParamsToolChoiceUnion{}, true},
		{"auto, prompt does not", "Hello there", responses.ResponseNewParamsToolChoiceUnion{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := responseParams("gpt-4o", tt.prompt)
			p.Tools = []responses.ToolUnionParam{weatherTool()}
			p.ToolChoice = tt.choice
			res, err := client.Responses.New(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Output) != 1 {
				t.Fatalf("output has %d items", len(res.Output))
			}
			if !tt.wantCall {
				if res.Output[0].Type != "message" || res.OutputText() == "" {
					t.Errorf("want a text answer, got %s", res.Output[0].RawJSON())
				}
				return
			}
			if res.Output[0].Type != "function_call" {
				t.Fatalf("want a function call, got %s", res.Output[0].RawJSON())
			}
			call := res.Output[0].AsFunctionCall()
			if call.Name != "get_weather" || !strings.HasPrefix(call.CallID, "call_") || !strings.HasPrefix(call.ID, "fc_") {
				t.Errorf("call %+v", call)
			}
			checkWeatherArgs(t, call.Arguments)
			if res.Usage.OutputTokens == 0 {
				t.Errorf("a call costs no output tokens: %+v", res.Usage)
			}

			stream := client.Responses.NewStreaming(ctx, p)
			var args strings.Builder
			var deltas int
			var doneArgs string
			for stream.Next() {
				switch ev := stream.Current(); ev.Type {
				case "response.function_call_arguments.delta":
					args.WriteString(ev.Delta)
					deltas++
				case "response.function_call_arguments.done":
					doneArgs = ev.Arguments
				case "response.output_text.delta":
					t.Errorf("text delta in a function-call stream")
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if deltas < 2 || args.String() != call.Arguments || doneArgs != call.Arguments {
				t.Errorf("%d deltas joined to %q, done %q, JSON %q", deltas, args.String(), doneArgs, call.Arguments)
			}
		})
	}

	// The second turn, with the call and its output in the input, gets text
	// though the user's message still names the tool.
	p := responseParams("gpt-4o", "")
	p.Tools = []responses.ToolUnionParam{weatherTool()}
	res, err := client.Responses.New(ctx, p, option.WithJSONSet("input", []any{
		map[string]any{"role": "user", "content": []any{map[string]any{"type": "input_text", "text": "Please call get_weather for Oslo"}}},
		map[string]any{"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
		map[string]any{"type": "function_call_output", "call_id": "call_1", "output": `{"temp": 21}`},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Output[0].Type != "message" || res.OutputText() == "" {
		t.Errorf("second turn: %s, want text", res.Output[0].RawJSON())
	}

	p.ToolChoice = responses.ResponseNewParamsToolChoiceUnion{OfFunctionTool: &responses.ToolChoiceFunctionParam{Name: "nope"}}
	_, err = client.Responses.New(ctx, p)
	MustAPIError(t, err, 400, "", "tool_choice")
}

// checkWeatherArgs checks arguments follow weatherTool's schema.
func checkWeatherArgs(t *testing.T, raw string) {
	t.Helper()
	var args struct {
		City  *string  `json:"city"`
		Days  *float64 `json:"days"`
		Unit  *string  `json:"unit"`
		Alert *bool    `json:"alert"`
	}
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatalf("arguments %q: %v", raw, err)
	}
	if args.City == nil || *args.City == "" || args.Days == nil || *args.Days != float64(int(*args.Days)) ||
		args.Unit == nil || (*args.Unit != "celsius" && *args.Unit != "fahrenheit") || args.Alert == nil {
		t.Errorf("arguments %s do not follow the schema", raw)
	}
}

// TestResponsesCutAndSeed checks that a cut stream never reaches
// response.completed, and that the server's seed decides the text.
func TestResponsesCutAndSeed(t *testing.T) {
	_, _, client := MustServe(t, fakeopenai.Config{Seed: 9})
	ctx := context.Background()
	stream := client.Responses.NewStreaming(ctx, responseParams("gpt-4o", "Stream me"),
		option.WithHeader(fakeopenai.FaultHeader, "cut"))
	events := 0
	for stream.Next() {
		events++
		if stream.Current().Type == "response.completed" {
			t.Errorf("a cut stream completed")
		}
	}
	if stream.Err() == nil && events == 0 {
		t.Errorf("cut stream: no events and no error")
	}

	a, err := client.Responses.New(ctx, responseParams("gpt-4o", "Stream me"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, other := MustServe(t, fakeopenai.Config{Seed: 10})
	b, err := other.Responses.New(ctx, responseParams("gpt-4o", "Stream me"))
	if err != nil {
		t.Fatal(err)
	}
	if a.OutputText() == b.OutputText() {
		t.Errorf("seeds 9 and 10 gave the same text %q", a.OutputText())
	}
}
