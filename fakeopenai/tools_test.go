package fakeopenai_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/splitproof/splitproof/fakeopenai"
)

func chatWeatherTool() openai.ChatCompletionToolUnionParam {
	return openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:       "get_weather",
		Parameters: weatherTool().OfFunction.Parameters,
	})
}

func TestChatToolCalls(t *testing.T) {
	_, _, client := MustServe(t, fakeopenai.Config{Seed: 4})
	ctx := context.Background()
	tests := []struct {
		name     string
		prompt   string
		choice   openai.ChatCompletionToolChoiceOptionUnionParam
		wantCall bool
	}{
		{"required", "Hello", openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}, true},
		{"named", "Hello", openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: "get_weather"}), true},
		{"auto, prompt names the tool", "Use get_weather please", openai.ChatCompletionToolChoiceOptionUnionParam{}, true},
		{"auto, prompt does not", "Hello", openai.ChatCompletionToolChoiceOptionUnionParam{}, false},
		{"none", "Use get_weather please", openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("none")}, false},
		// After the tool's result the answer is text, though the user's
		// message still names the tool.
		{"auto, after the result", "Use get_weather please", openai.ChatCompletionToolChoiceOptionUnionParam{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := chatParams("gpt-4o-mini", tt.prompt)
			p.Tools = []openai.ChatCompletionToolUnionParam{chatWeatherTool()}
			p.ToolChoice = tt.choice
			if tt.name == "auto, after the result" {
				p.Messages = append(p.Messages, openai.ToolMessage(`{"temp": 21}`, "call_1"))
			}
			res, err := client.Chat.Completions.New(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			c := res.Choices[0]
			if !tt.wantCall {
				if c.FinishReason != "stop" || c.Message.Content == "" || len(c.Message.ToolCalls) != 0 {
					t.Errorf("want text, got finish %q content %q calls %d", c.FinishReason, c.Message.Content, len(c.Message.ToolCalls))
				}
				return
			}
			if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 || c.Message.Content != "" {
				t.Fatalf("want one call, got finish %q content %q calls %+v", c.FinishReason, c.Message.Content, c.Message.ToolCalls)
			}
			call := c.Message.ToolCalls[0]
			if call.Type != "function" || call.Function.Name != "get_weather" || len(call.ID) != len("call_")+24 {
				t.Errorf("call %+v", call)
			}
			checkWeatherArgs(t, call.Function.Arguments)
			if want := int64(fakeopenai.CountTokens("get_weather") + fakeopenai.CountTokens(call.Function.Arguments)); res.Usage.CompletionTokens != want {
				t.Errorf("completion_tokens = %d, want %d", res.Usage.CompletionTokens, want)
			}

			// Streamed, the arguments come in fragments the accumulator joins
			// back into the same call.
			stream := client.Chat.Completions.NewStreaming(ctx, p)
			var acc openai.ChatCompletionAccumulator
			chunks, finished := 0, 0
			for stream.Next() {
				acc.AddChunk(stream.Current())
				chunks++
				if tc, ok := acc.JustFinishedToolCall(); ok {
					finished++
					if tc.Name != call.Function.Name || tc.Arguments != call.Function.Arguments || tc.ID != call.ID {
						t.Errorf("finished call %+v, JSON call %+v", tc, call)
					}
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if finished != 1 || chunks < 4 {
				t.Errorf("%d finished calls in %d chunks", finished, chunks)
			}
			got := acc.Choices[0]
			if got.FinishReason != "tool_calls" || len(got.Message.ToolCalls) != 1 ||
				got.Message.ToolCalls[0].Function.Arguments != call.Function.Arguments {
				t.Errorf("accumulated %+v", got)
			}
		})
	}

	p := chatParams("gpt-4o-mini", "hi")
	p.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}
	_, err := client.Chat.Completions.New(ctx, p)
	MustAPIError(t, err, 400, "", "tool_choice")
}

// Test429RetryHeaders checks both kinds of injected 429 on every endpoint:
// "429" tells the client when to retry, "429-bare" leaves it to guess.
func Test429RetryHeaders(t *testing.T) {
	_, _, client := MustServe(t, fakeopenai.Config{RetryAfter: 2e9})
	ctx := context.Background()
	calls := map[string]func(...option.RequestOption) error{
		"chat": func(o ...option.RequestOption) error {
			_, err := client.Chat.Completions.New(ctx, chatParams("gpt-4o", "hi"), o...)
			return err
		},
		"completions": func(o ...option.RequestOption) error {
			_, err := client.Completions.New(ctx, openai.CompletionNewParams{Model: "gpt-3.5-turbo-instruct",
				Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("hi")}}, o...)
			return err
		},
		"embeddings": func(o ...option.RequestOption) error {
			_, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-3-small",
				Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}}, o...)
			return err
		},
		"models": func(o ...option.RequestOption) error {
			_, err := client.Models.List(ctx, o...)
			return err
		},
		"responses": func(o ...option.RequestOption) error {
			_, err := client.Responses.New(ctx, responseParams("gpt-4o", "hi"), o...)
			return err
		},
		"responses stream": func(o ...option.RequestOption) error {
			s := client.Responses.NewStreaming(ctx, responseParams("gpt-4o", "hi"), o...)
			for s.Next() {
			}
			return s.Err()
		},
	}
	for name, call := range calls {
		for _, tt := range []struct {
			fault, retryAfter string
			reset             bool
		}{
			{"429", "2", true},
			{"429-bare", "", false},
		} {
			t.Run(name+"/"+tt.fault, func(t *testing.T) {
				err := call(option.WithHeader(fakeopenai.FaultHeader, tt.fault))
				var apiErr *openai.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
					t.Fatalf("err = %v, want a 429", err)
				}
				h := apiErr.Response.Header
				if got := h.Get("Retry-After"); got != tt.retryAfter {
					t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
				}
				if got := h.Get("x-ratelimit-reset-requests") != ""; got != tt.reset {
					t.Errorf("x-ratelimit-reset-requests present = %v, want %v", got, tt.reset)
				}
			})
		}
	}
}
