package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// DefaultAnthropicPath is where Anthropic takes Messages requests: native
// ones and chat completions translated to Messages alike.
const DefaultAnthropicPath = "/v1/messages"

// DefaultAnthropicVersion is the anthropic-version header sent when the
// client sends none. Anthropic requires the header; agentgateway sends
// this value on every request, refproxy only when the client names none, so
// that an Anthropic SDK's own choice reaches the provider.
const DefaultAnthropicVersion = "2023-06-01"

// anthropicOAuthPrefix marks an Anthropic OAuth token, which goes in
// Authorization: Bearer rather than x-api-key, as agentgateway sends it.
const anthropicOAuthPrefix = "sk-ant-oat"

// Client paths an anthropic backend tells apart by suffix, the same way the
// openai provider tells /responses from chat. agentgateway itself treats
// every path as chat completions unless spec.policies.ai.routes maps a
// suffix to Messages; refproxy does not model that policy (the loader
// refuses it), so the suffix decides.
const (
	messagesSuffix    = "/messages"
	countTokensSuffix = "/messages/count_tokens"
)

// speaksAnthropic reports whether a client path is one of Anthropic's own
// API, whose clients expect Anthropic's error shape.
func speaksAnthropic(p string) bool {
	return strings.HasSuffix(p, messagesSuffix) || strings.HasSuffix(p, countTokensSuffix)
}

// serveAnthropic forwards a request read in full to an anthropic backend:
//
//   - a path ending in /messages is an Anthropic Messages request: only its
//     model is replaced (when the backend sets one), and the answer, a stream
//     included, passes back unchanged;
//   - a path ending in /messages/count_tokens is refused (400, Anthropic's
//     error shape): refproxy does not forward token counting;
//   - a path ending in /responses is refused (400, OpenAI's error shape):
//     agentgateway does not translate the Responses API to Messages either;
//   - any other path is an OpenAI chat completion, translated to Messages
//     and its answer back: JSON (chatToMessages, messagesToChat) or, for a
//     streaming request, Anthropic's event stream to chat chunks, one chunk
//     per event as it arrives (chatStreamBody).
func (a *aiForwarder) serveAnthropic(w http.ResponseWriter, r *http.Request, st *reqState, body []byte) {
	ai := st.backend.AI
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, countTokensSuffix):
		anthropicError(w, http.StatusBadRequest, "token counting ("+countTokensSuffix+") is not forwarded to anthropic backends")
	case strings.HasSuffix(p, messagesSuffix):
		out, err := rewriteMessagesBody(body, ai.Model)
		if err != nil {
			anthropicError(w, http.StatusBadRequest, err.Error())
			return
		}
		a.send(w, r, st, out, a.rp)
	case isResponsesPath(p):
		openAIError(w, http.StatusBadRequest, "an anthropic backend does not take Responses API requests; send chat completions or Anthropic Messages ("+DefaultAnthropicPath+")")
	default:
		out, stream, err := chatToMessages(body, ai.Model)
		if err != nil {
			openAIError(w, http.StatusBadRequest, err.Error())
			return
		}
		if stream != nil {
			r = r.WithContext(context.WithValue(r.Context(), chatStreamKey{}, stream))
		}
		a.send(w, r, st, out, a.fromChat)
	}
}

// rewriteMessagesBody sets the model of a Messages request, keeping every
// other field's raw JSON. Anthropic has no stream_options: its stream
// always reports usage.
func rewriteMessagesBody(body []byte, model string) ([]byte, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		return nil, errors.New("request body must be a JSON object (an Anthropic Messages request)")
	}
	if raw, ok := req["stream"]; ok {
		var stream bool
		if err := json.Unmarshal(raw, &stream); err != nil {
			return nil, errors.New(`"stream" must be a boolean`)
		}
	}
	if model == "" {
		return body, nil
	}
	m, err := json.Marshal(model)
	if err != nil {
		return nil, err
	}
	req["model"] = m
	return json.Marshal(req)
}

// anthropicHeaders authenticates a request to Anthropic with the backend's
// key and names the API version when the client did not. The client's own
// credentials, in either header, never reach the provider. A request
// translated from chat also drops the client's Accept-Encoding, so that
// the transport decompresses the answer the translation must read.
func anthropicHeaders(h http.Header, key string, translated bool) {
	h.Del("Authorization")
	h.Del("X-Api-Key")
	if strings.HasPrefix(key, anthropicOAuthPrefix) {
		h.Set("Authorization", "Bearer "+key)
	} else {
		h.Set("X-Api-Key", key)
	}
	if translated {
		h.Del("Accept-Encoding")
	}
	if h.Get("Anthropic-Version") == "" {
		h.Set("Anthropic-Version", DefaultAnthropicVersion)
	}
}

// anthropicError answers in the error shape Anthropic clients parse.
func anthropicError(w http.ResponseWriter, code int, msg string) {
	typ := "invalid_request_error"
	if code == http.StatusRequestEntityTooLarge {
		typ = "request_too_large"
	}
	type apiError struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(struct {
		Type  string   `json:"type"`
		Error apiError `json:"error"`
	}{"error", apiError{Type: typ, Message: "refproxy: " + msg}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
