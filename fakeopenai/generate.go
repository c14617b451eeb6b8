package fakeopenai

import (
	"encoding/json"
	"net/http"
	"time"
)

type usageJSON struct {
	PromptTokens            int                `json:"prompt_tokens"`
	CompletionTokens        int                `json:"completion_tokens"`
	TotalTokens             int                `json:"total_tokens"`
	PromptTokensDetails     *promptDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *completionDetails `json:"completion_tokens_details,omitempty"`
}

type promptDetails struct {
	CachedTokens int `json:"cached_tokens"`
	AudioTokens  int `json:"audio_tokens"`
}

type completionDetails struct {
	ReasoningTokens          int `json:"reasoning_tokens"`
	AudioTokens              int `json:"audio_tokens"`
	AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
	RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
}

type chatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []chatChoice `json:"choices"`
	Usage             *usageJSON   `json:"usage"`
	ServiceTier       string       `json:"service_tier"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

type chatChoice struct {
	Index        int       `json:"index"`
	Message      chatReply `json:"message"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason string    `json:"finish_reason"`
}

type chatReply struct {
	Role        string         `json:"role"`
	Content     *string        `json:"content"`
	Refusal     *string        `json:"refusal"`
	Annotations []string       `json:"annotations"`
	ToolCalls   []toolCallJSON `json:"tool_calls,omitempty"`
}

// toolCallJSON is a chat tool call; in a stream chunk Index says which call
// a fragment belongs to, and only the first fragment has ID, Type and Name.
type toolCallJSON struct {
	Index    *int             `json:"index,omitempty"`
	ID       string           `json:"id,omitempty"`
	Type     string           `json:"type,omitempty"`
	Function functionCallJSON `json:"function"`
}

type functionCallJSON struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type chatChunk struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	ServiceTier       string          `json:"service_tier"`
	SystemFingerprint string          `json:"system_fingerprint"`
	Choices           []chunkChoice   `json:"choices"`
	Usage             json.RawMessage `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	Logprobs     *struct{}  `json:"logprobs"`
	FinishReason *string    `json:"finish_reason"`
}

type chunkDelta struct {
	Role      string          `json:"role,omitempty"`
	Content   *string         `json:"content,omitempty"`
	Refusal   json.RawMessage `json:"refusal,omitempty"`
	ToolCalls []toolCallJSON  `json:"tool_calls,omitempty"`
}

type textCompletion struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	SystemFingerprint string          `json:"system_fingerprint"`
	Choices           []textChoice    `json:"choices"`
	Usage             json.RawMessage `json:"usage,omitempty"`
}

type textChoice struct {
	Text         string    `json:"text"`
	Index        int       `json:"index"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

var jsonNull = json.RawMessage("null")

// choice is one generated answer: text, or a tool call whose pieces are
// fragments of its arguments.
type choice struct {
	pieces   []string
	finished bool
	call     *toolCall
}

// tokens is the completion tokens the choice costs.
func (c choice) tokens() int {
	if c.call != nil {
		return CountTokens(c.call.name) + CountTokens(c.call.args)
	}
	return len(c.pieces)
}

func (c choice) text() string {
	n := 0
	for _, p := range c.pieces {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range c.pieces {
		b = append(b, p...)
	}
	return string(b)
}

func (c choice) reason() string {
	if c.call != nil {
		return "tool_calls"
	}
	if c.finished {
		return "stop"
	}
	return "length"
}

// choices generates the answers: prompt i, sample j has index i*n+j, and
// its text depends only on the seed, the endpoint, the snapshot, the prompt,
// the request's own seed and j.
func (s *Server) choices(g generation) []choice {
	out := make([]choice, 0, len(g.prompts)*g.n)
	for _, p := range g.prompts {
		for j := range g.n {
			h := newHasher(s.cfg.Seed).str(g.endpoint).str(g.model.ID).str(p)
			if g.seed != nil {
				h.u64(1).u64(uint64(*g.seed))
			} else {
				h.u64(0)
			}
			if g.tool != nil {
				call := s.call(g, p, j, g.tool)
				out = append(out, choice{pieces: fragments(call.args), finished: true, call: &call})
				continue
			}
			pieces, finished := generate(h.u64(uint64(j)).rng(), g.limit)
			out = append(out, choice{pieces: pieces, finished: finished})
		}
	}
	return out
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// completionID is prefix plus 29 characters, the shape of OpenAI's ids.
func (s *Server) completionID(prefix string, rec *Request) string {
	r := newHasher(s.cfg.Seed).str("id").str(rec.ID).rng()
	b := []byte(prefix)
	for range 29 {
		b = append(b, idAlphabet[r.intn(len(idAlphabet))])
	}
	return string(b)
}

func (s *Server) generate(w *answer, r *http.Request, rec *Request, g generation, start time.Time) *apiError {
	if err := s.chooseFault(r, rec); err != nil {
		return err
	}
	if stop, err := s.applyFault(w, r, rec); stop {
		return err
	}
	cs := s.choices(g)
	completion, longest := 0, 0
	for _, c := range cs {
		completion += c.tokens()
		longest = max(longest, len(c.pieces))
	}
	rec.PromptTokens, rec.CompletionTokens = g.promptTokens, completion
	u := usageJSON{PromptTokens: g.promptTokens, CompletionTokens: completion, TotalTokens: g.promptTokens + completion}
	if g.endpoint == EndpointChat {
		u.PromptTokensDetails = &promptDetails{}
		u.CompletionTokensDetails = &completionDetails{}
	}
	created := s.cfg.Now().Unix()
	p := s.pacer(rec)
	if g.stream {
		return s.stream(w, r, rec, g, cs, u, created, p, start)
	}
	if !s.waitAnswer(r, p, longest) {
		return s.interrupted(r)
	}
	var v any
	if g.endpoint == EndpointChat {
		resp := chatCompletion{
			ID: s.completionID("chatcmpl-", rec), Object: "chat.completion", Created: created,
			Model: g.model.ID, Usage: &u, ServiceTier: "default", SystemFingerprint: s.fp,
		}
		for i, c := range cs {
			msg := chatReply{Role: "assistant", Annotations: []string{}}
			if c.call != nil {
				msg.ToolCalls = []toolCallJSON{{ID: c.call.id, Type: "function",
					Function: functionCallJSON{Name: c.call.name, Arguments: c.call.args}}}
			} else {
				text := c.text()
				msg.Content = &text
			}
			resp.Choices = append(resp.Choices, chatChoice{Index: i, Message: msg, FinishReason: c.reason()})
		}
		v = resp
	} else {
		ub, _ := json.Marshal(u)
		resp := textCompletion{
			ID: s.completionID("cmpl-", rec), Object: "text_completion", Created: created,
			Model: g.model.ID, SystemFingerprint: s.fp, Usage: ub,
		}
		for i, c := range cs {
			reason := c.reason()
			resp.Choices = append(resp.Choices, textChoice{Text: c.text(), Index: i, FinishReason: &reason})
		}
		v = resp
	}
	s.respond(w, rec, start, v)
	return nil
}

// interrupted answers a request whose delay ended early: nothing if the
// client left (recorded as StatusClientGone), 503 if the server closed.
func (s *Server) interrupted(r *http.Request) *apiError {
	if r.Context().Err() != nil {
		return nil
	}
	return errOverloaded()
}

// event is one server-sent event and whether a token delay precedes it.
// name, when set, is sent as the event's "event:" line, as the Responses and
// Anthropic streams name every event; chat streams have data lines only.
type event struct {
	name  string
	data  any
	delay bool
}

func (s *Server) stream(w *answer, r *http.Request, rec *Request, g generation, cs []choice, u usageJSON, created int64, p *pacer, start time.Time) *apiError {
	return s.sendEvents(w, r, rec, p, start, s.events(rec, g, cs, u, created), true)
}

// sendEvents writes events as server-sent events, paced by p and cut when
// the request drew a cut fault; done ends the stream with OpenAI's
// "data: [DONE]" sentinel, which only the chat and completions streams use.
// waitAnswer paces a JSON (not streamed) answer: it arrives when its
// longest choice, pieces tokens, would have finished streaming. False
// means the client went away first.
func (s *Server) waitAnswer(r *http.Request, p *pacer, pieces int) bool {
	return p.wait(r.Context(), s.cfg.TTFT, 1) && p.wait(r.Context(), s.cfg.TokenDelay, pieces-1)
}

func (s *Server) sendEvents(w *answer, r *http.Request, rec *Request, p *pacer, start time.Time, events []event, done bool) *apiError {
	if !p.wait(r.Context(), s.cfg.TTFT, 1) {
		return s.interrupted(r)
	}
	cut := -1
	if rec.Fault == FaultCut {
		// Cut after at least one event and before the last, so the client has
		// started reading and cannot have seen a complete answer.
		cr := newHasher(s.cfg.Seed).str("cut").str(rec.ID).rng()
		cut = 1
		if len(events) > 2 {
			cut += cr.intn(len(events) - 1)
		}
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	processingMS(hdr, start)
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, 0, 512)
	for i, ev := range events {
		if i == cut {
			w.flush()
			panic(http.ErrAbortHandler)
		}
		if ev.delay && !p.wait(r.Context(), s.cfg.TokenDelay, 1) {
			// Headers are out, so no error can be sent: drop the connection
			// rather than end the stream cleanly, which a client could take
			// for a complete answer.
			panic(http.ErrAbortHandler)
		}
		data, err := json.Marshal(ev.data)
		if err != nil {
			return nil
		}
		buf = buf[:0]
		if ev.name != "" {
			buf = append(append(append(buf, "event: "...), ev.name...), '\n')
		}
		buf = append(append(append(buf, "data: "...), data...), "\n\n"...)
		if _, err := w.Write(buf); err != nil {
			return nil
		}
		w.flush()
	}
	if done {
		_, _ = w.Write([]byte("data: [DONE]\n\n"))
		w.flush()
	}
	return nil
}

// events lays out a stream: for chat a role chunk per choice, then one chunk
// per token round (choices interleaved), a finish chunk per choice and, with
// include_usage, a usage chunk with no choices. Legacy completions have no
// role chunk.
func (s *Server) events(rec *Request, g generation, cs []choice, u usageJSON, created int64) []event {
	longest := 0
	for _, c := range cs {
		longest = max(longest, len(c.pieces))
	}
	var usage json.RawMessage
	if g.includeUsage {
		usage = jsonNull
	}
	var events []event
	if g.endpoint == EndpointChat {
		id := s.completionID("chatcmpl-", rec)
		chunk := func(choices []chunkChoice) chatChunk {
			return chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: g.model.ID,
				ServiceTier: "default", SystemFingerprint: s.fp, Choices: choices, Usage: usage}
		}
		empty := ""
		zero := 0
		for i, c := range cs {
			d := chunkDelta{Role: "assistant", Content: &empty, Refusal: jsonNull}
			if c.call != nil {
				// A call opens with its id and name and empty arguments, which
				// the following chunks extend.
				d.Content = nil
				d.ToolCalls = []toolCallJSON{{Index: &zero, ID: c.call.id, Type: "function",
					Function: functionCallJSON{Name: c.call.name}}}
			}
			events = append(events, event{data: chunk([]chunkChoice{{Index: i, Delta: d}})})
		}
		for t := range longest {
			delay := t > 0 // one token delay per round, before its first chunk
			for i, c := range cs {
				if t < len(c.pieces) {
					piece := c.pieces[t]
					d := chunkDelta{Content: &piece}
					if c.call != nil {
						d = chunkDelta{ToolCalls: []toolCallJSON{{Index: &zero, Function: functionCallJSON{Arguments: piece}}}}
					}
					events = append(events, event{data: chunk([]chunkChoice{{Index: i, Delta: d}}), delay: delay})
					delay = false
				}
			}
		}
		for i, c := range cs {
			reason := c.reason()
			events = append(events, event{data: chunk([]chunkChoice{{Index: i, FinishReason: &reason}})})
		}
		if g.includeUsage {
			final := chunk([]chunkChoice{})
			final.Usage, _ = json.Marshal(u)
			events = append(events, event{data: final})
		}
		return events
	}
	id := s.completionID("cmpl-", rec)
	chunk := func(choices []textChoice) textCompletion {
		return textCompletion{ID: id, Object: "text_completion", Created: created, Model: g.model.ID,
			SystemFingerprint: s.fp, Choices: choices, Usage: usage}
	}
	for t := range longest {
		delay := t > 0
		for i, c := range cs {
			if t < len(c.pieces) {
				events = append(events, event{data: chunk([]textChoice{{Text: c.pieces[t], Index: i}}), delay: delay})
				delay = false
			}
		}
	}
	for i, c := range cs {
		reason := c.reason()
		events = append(events, event{data: chunk([]textChoice{{Index: i, FinishReason: &reason}})})
	}
	if g.includeUsage {
		final := chunk([]textChoice{})
		final.Usage, _ = json.Marshal(u)
		events = append(events, event{data: final})
	}
	return events
}
