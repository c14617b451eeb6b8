// Package fakeopenai owns splitproof's stand-in for the OpenAI HTTP API: an
// http.Handler that answers the endpoints an AI gateway forwards to
// (/v1/chat/completions, /v1/responses, /v1/completions, /v1/embeddings,
// /v1/models) with the same JSON and server-sent-event shapes, status codes,
// error bodies and headers as the real service, so that the official SDK, and
// a gateway in front of it, cannot tell the difference. It also answers
// Anthropic's POST /v1/messages (JSON and its named-event stream), which
// authenticates with x-api-key (or a bearer token), requires the
// anthropic-version header and reports errors in Anthropic's
// {"type":"error","error":{…}} shape; its models come from the same catalogue.
//
// Chat completions and the Responses API answer with a function call instead
// of text when the request offers function tools and tool_choice is
// "required" or names one, or tool_choice is "auto" (or absent) and the last
// message is a user's that contains a tool's name (so that after a tool's
// result the answer is text). The call's arguments are generated
// from the tool's parameter schema and, streamed, arrive in fragments.
//
// What it adds over a recorded response is control:
//
//   - A model catalogue (DefaultCatalog, or a YAML/JSON file read by
//     LoadCatalog) resolves aliases to dated snapshots, so the response's
//     "model" tells a test which backend a weighted split chose
//     (gpt-4o-mini → gpt-4o-mini-2024-07-18).
//   - Content is deterministic: the same seed and the same request give the
//     same text, and token counts follow CountTokens, a documented
//     approximation of a BPE tokenizer.
//   - Latency (time to first token, per-token delay, seeded jitter) and faults
//     (429 with Retry-After, 429-bare without it or x-ratelimit-reset-*, 500,
//     503, a hang until the client gives up, a stream cut before its end) are
//     configured by rate, for every request or per model (Config.ModelFaults:
//     one arm of a split between models fails, the others do not), or forced
//     per request with the X-Fake-Fault header, on every endpoint.
//   - Every request is recorded (Server.Requests, Config.OnRequest) with the
//     model it named, the snapshot it resolved to and whether its API key was
//     valid, and counted in Prometheus metrics served at /metrics.
//
// A request cannot make the server do much more work than its size: bodies
// are bounded (Config.MaxBodyBytes, and a minute to arrive), and so are
// what they ask for — n and prompts × n at 128 choices, max_tokens at
// 128,000, embedding inputs at OpenAI's 2,048, 8,192 tokens each and
// 300,000 together, and an embeddings answer at Config.MaxEmbeddingValues
// numbers (inputs × dimensions). Beyond a limit, and for a parameter of the
// wrong type or out of range (temperature, top_p, penalties, stop, user,
// logprobs, best_of and the rest it reads), the answer is OpenAI's 400
// invalid_request_error naming the parameter in "param".
//
// The package never writes to stdout; it logs through the *slog.Logger given
// to New. It knows nothing of Kubernetes or of the reference proxy.
package fakeopenai
