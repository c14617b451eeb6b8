package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"

	"github.com/splitproof/splitproof/refproxy/route"
)

// DefaultAIPath is where an OpenAI-compatible provider takes chat completions.
const DefaultAIPath = "/v1/chat/completions"

// DefaultAIResponsesPath is where it takes Responses API requests: a client
// path ending in /responses is forwarded there instead of DefaultAIPath.
const DefaultAIResponsesPath = "/v1/responses"

// isResponsesPath tells a Responses API request from a chat request by the
// client's path, the only thing that tells them apart before the body is
// read; both carry "model", which the backend replaces the same way.
func isResponsesPath(p string) bool { return strings.HasSuffix(p, "/responses") }

// maxAIBody bounds the request body read into memory to rewrite its JSON.
const maxAIBody = 32 << 20

// aiForwarder serves backendRefs of kind AI (route.AIBackend): it rewrites
// the JSON body (model, stream_options), authenticates with the backend's key
// and passes the provider's answer back unchanged, streaming included.
//
// An anthropic backend (ai_anthropic.go) takes Anthropic Messages, passed
// through the same way, and OpenAI chat completions, which it translates to
// Messages and back, streaming included. It answers 400 itself, in the
// client's API's error shape, for what it does not forward: Responses API
// requests, /v1/messages/count_tokens, and chat requests that need more
// than text (tools, images, n > 1, …; see ai_anthropic_chat.go).
type aiForwarder struct {
	p  *Proxy
	rp *httputil.ReverseProxy
	// fromChat forwards chat completions translated to Anthropic Messages;
	// it differs from rp only in translating the answer back.
	fromChat *httputil.ReverseProxy
}

func newAIForwarder(p *Proxy) *aiForwarder {
	a := &aiForwarder{p: p}
	a.rp = &httputil.ReverseProxy{
		Rewrite:        a.rewrite,
		Transport:      backendTransport{def: p.transport, h2c: p.transport}, // for the silence timer; AI providers speak HTTP/1.1 or h2 over TLS
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		ErrorLog:       p.rp.ErrorLog,
		BufferPool:     bufferPool{},
	}
	fromChat := *a.rp
	fromChat.ModifyResponse = a.chatFromMessages
	a.fromChat = &fromChat
	return a
}

func (a *aiForwarder) serve(w http.ResponseWriter, r *http.Request, st *reqState) {
	ai := st.backend.AI
	if ai == nil {
		a.p.local(w, http.StatusInternalServerError, "backendRef "+st.backend.Name+" has no AI provider")
		return
	}
	// Errors go back in the shape the client's SDK parses.
	fail := openAIError
	if ai.Provider == route.ProviderAnthropic && speaksAnthropic(r.URL.Path) {
		fail = anthropicError
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAIBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, "request body exceeds "+strconv.Itoa(maxAIBody)+" bytes")
			return
		}
		if reason, aborted := st.body.failure(); aborted {
			a.p.clientAbort(w, r, st.backend.Name, reason, err)
			return
		}
		fail(w, http.StatusBadRequest, "cannot read request body: "+err.Error())
		return
	}
	if ai.Provider == route.ProviderAnthropic {
		a.serveAnthropic(w, r, st, body)
		return
	}
	body, err = rewriteAIBody(body, ai.Model, !isResponsesPath(r.URL.Path))
	if err != nil {
		openAIError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.send(w, r, st, body, a.rp)
}

// send forwards the rewritten body to the backend's provider through rp.
func (a *aiForwarder) send(w http.ResponseWriter, r *http.Request, st *reqState, body []byte, rp *httputil.ReverseProxy) {
	ai := st.backend.AI
	st.endpoint = net.JoinHostPort(ai.Host, strconv.Itoa(int(ai.Port)))
	out := r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.GetBody = nil
	rp.ServeHTTP(w, out)
}

// rewriteAIBody sets the model and, for streaming chat requests that do not
// say, asks for the usage chunk (chat is false for the Responses API, which
// has no include_usage: its stream always ends with the usage). Fields it
// does not touch keep their raw JSON.
func rewriteAIBody(body []byte, model string, chat bool) ([]byte, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		return nil, errors.New("request body must be a JSON object (an OpenAI chat completion request)")
	}
	if model != "" {
		m, err := json.Marshal(model)
		if err != nil {
			return nil, err
		}
		req["model"] = m
	}
	if raw, ok := req["stream"]; ok {
		var stream bool
		if err := json.Unmarshal(raw, &stream); err != nil {
			return nil, errors.New(`"stream" must be a boolean`)
		}
		if _, has := req["stream_options"]; chat && stream && !has {
			req["stream_options"] = json.RawMessage(`{"include_usage":true}`)
		}
	}
	return json.Marshal(req)
}

func (a *aiForwarder) rewrite(pr *httputil.ProxyRequest) {
	st := pr.Out.Context().Value(stateKey{}).(*reqState)
	ai := st.backend.AI
	out := pr.Out
	out.URL.Scheme = ai.Scheme
	if out.URL.Scheme == "" {
		out.URL.Scheme = "https"
	}
	out.URL.Host = st.endpoint
	// The provider virtual-hosts on its own name and checks TLS against it.
	out.Host = st.endpoint
	if (out.URL.Scheme == "https" && ai.Port == 443) || (out.URL.Scheme == "http" && ai.Port == 80) {
		out.Host = ai.Host
	}
	out.URL.RawPath = ""
	switch {
	case ai.Path != "":
		out.URL.Path = ai.Path
	case ai.Provider == route.ProviderAnthropic:
		out.URL.Path = DefaultAnthropicPath
	case isResponsesPath(pr.In.URL.Path):
		out.URL.Path = DefaultAIResponsesPath
	default:
		out.URL.Path = DefaultAIPath
	}
	out.Header.Set("Content-Type", "application/json")
	st.plan.applyRequestHeaders(out.Header)
	// Last, so that no filter or client header can replace the key.
	if ai.Provider == route.ProviderAnthropic {
		anthropicHeaders(out.Header, ai.APIKey.Reveal(), !speaksAnthropic(pr.In.URL.Path))
		return
	}
	out.Header.Set("Authorization", "Bearer "+ai.APIKey.Reveal())
}

// openAIError answers in the error shape OpenAI clients parse.
func openAIError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(openAIErrorJSON("refproxy: "+msg, "invalid_request_error"))
}

// openAIErrorJSON is an error object in OpenAI's shape, newline-terminated.
func openAIErrorJSON(msg, typ string) []byte {
	type apiError struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	b, _ := json.Marshal(struct {
		Error apiError `json:"error"`
	}{apiError{Message: msg, Type: typ}})
	return append(b, '\n')
}
