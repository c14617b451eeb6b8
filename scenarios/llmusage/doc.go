// Package llmusage owns reading token usage out of one LLM provider
// response body: OpenAI chat/completions (usage.prompt_tokens and
// completion_tokens), the Responses API and Anthropic Messages
// (usage.input_tokens and output_tokens), as JSON or as a server-sent
// event stream (the chat stream's final usage chunk, the Responses
// stream's response.completed event, Anthropic's message_start and
// message_delta events).
//
// A body that carries no usage — a stream asked without
// stream_options.include_usage, an error page, a body cut short — is
// unknown, never zero tokens: [Parse] says so with its second result, so
// that a caller counting tokens per backend can count the unknowns apart
// instead of biasing its totals towards them.
//
// The package knows nothing of HTTP, of scenarios or of replays: it reads
// bytes.
package llmusage
