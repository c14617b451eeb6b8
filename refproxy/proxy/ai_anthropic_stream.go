package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// chatStreamKey carries a streamed chat request's *chatStream from
// serveAnthropic to chatFromMessages, through the outgoing request's context.
type chatStreamKey struct{}

// maxStreamLine bounds one line of Anthropic's event stream.
const maxStreamLine = 1 << 20

// streamEvent is the part of an Anthropic stream event the translation
// reads; every event's data carries its type.
type streamEvent struct {
	Type    string `json:"type"`
	Message struct {
		ID    string `json:"id"`
		Model string `json:"model"`
		Usage struct {
			InputTokens int64 `json:"input_tokens"`
		} `json:"usage"`
	} `json:"message"`
	ContentBlock struct {
		Type string `json:"type"`
	} `json:"content_block"`
	Delta struct {
		Type       string  `json:"type"`
		Text       string  `json:"text"`
		StopReason *string `json:"stop_reason"`
	} `json:"delta"`
	Usage struct {
		OutputTokens int64 `json:"output_tokens"`
	} `json:"usage"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type chunkDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	FinishReason *string    `json:"finish_reason"`
	Logprobs     *struct{}  `json:"logprobs"`
}

type chatChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	Usage   *chatUsage    `json:"usage,omitempty"`
}

// errStreamClosed ends a translation whose reader went away.
var errStreamClosed = errors.New("the client stopped reading")

// chatStreamBody is the body of a translated stream: a goroutine reads
// Anthropic's events from upstream and writes each chat chunk into a pipe
// as soon as its event arrives, so the stream stays unbuffered. Closing it
// (ReverseProxy does when the copy ends or the client leaves) closes both
// ends, which ends the goroutine.
type chatStreamBody struct {
	pr       *io.PipeReader
	upstream io.Closer
	// closed is set before Close closes upstream: the read error that
	// follows is the client's doing, not the provider's.
	closed atomic.Bool
}

// newChatStreamBody starts translating upstream; failed is called with the
// reason when the provider's stream cannot be translated to the end. A
// stream that ends because ctx, the outgoing request's, did (the client
// left, a route timeout) is not a translation failure and is not reported.
func newChatStreamBody(ctx context.Context, upstream io.ReadCloser, opts *chatStream, created int64, failed func(error)) io.ReadCloser {
	pr, pw := io.Pipe()
	b := &chatStreamBody{pr: pr, upstream: upstream}
	go func() {
		err := translateChatStream(pw, upstream, opts, created)
		if err != nil && !errors.Is(err, errStreamClosed) && !b.closed.Load() && ctx.Err() == nil {
			failed(err)
		}
		_ = upstream.Close()
		_ = pw.Close()
	}()
	return b
}

func (b *chatStreamBody) Read(p []byte) (int, error) { return b.pr.Read(p) }

func (b *chatStreamBody) Close() error {
	b.closed.Store(true)
	_ = b.pr.Close()
	return b.upstream.Close()
}

// translateChatStream reads Anthropic's event stream from src and writes
// chat chunks to dst: the role chunk at message_start, a content chunk per
// text_delta, the finish chunk at message_delta, then at message_stop the
// usage chunk (when asked for) and [DONE]. An error event becomes OpenAI's
// in-stream error object. What cannot be translated ends the stream with
// such an error object saying why, since the 200 has already been sent.
func translateChatStream(dst io.Writer, src io.Reader, opts *chatStream, created int64) error {
	in := bufio.NewReaderSize(src, 64<<10)
	chunk := chatChunk{Object: "chat.completion.chunk", Created: created}
	var input, output int64
	write := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := dst.Write(append(append([]byte("data: "), b...), '\n', '\n')); err != nil {
			return errStreamClosed
		}
		return nil
	}
	choice := func(d chunkDelta, finish *string) error {
		chunk.Choices = []chunkChoice{{Delta: d, FinishReason: finish}}
		return write(chunk)
	}
	// An error object in the stream, as OpenAI sends one.
	writeError := func(msg, typ string) {
		_ = write(json.RawMessage(bytes.TrimSpace(openAIErrorJSON(msg, typ))))
	}
	fail := func(err error) error {
		writeError("refproxy: cannot translate the anthropic provider's stream to chat chunks: "+err.Error(), "api_error")
		return err
	}
	for {
		line, err := readStreamLine(in)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the stream ended before message_stop")
			}
			return fail(err)
		}
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue // event names, comments and blank lines: data names its type
		}
		var ev streamEvent
		if err := json.Unmarshal([]byte(strings.TrimSpace(data)), &ev); err != nil {
			return fail(fmt.Errorf("event data is not JSON: %w", err))
		}
		switch ev.Type {
		case "message_start":
			chunk.ID, chunk.Model, input = ev.Message.ID, ev.Message.Model, ev.Message.Usage.InputTokens
			empty := ""
			err = choice(chunkDelta{Role: "assistant", Content: &empty}, nil)
		case "content_block_start":
			if ev.ContentBlock.Type != "text" {
				return fail(fmt.Errorf("%q blocks are not translated to chat chunks (text blocks are)", ev.ContentBlock.Type))
			}
		case "content_block_delta":
			if ev.Delta.Type != "text_delta" {
				return fail(fmt.Errorf("%q deltas are not translated to chat chunks (text_delta is)", ev.Delta.Type))
			}
			text := ev.Delta.Text
			err = choice(chunkDelta{Content: &text}, nil)
		case "message_delta":
			output = ev.Usage.OutputTokens
			if ev.Delta.StopReason != nil {
				f, known := finishReasons[*ev.Delta.StopReason]
				if !known {
					return fail(fmt.Errorf("stop_reason %q has no chat finish_reason", *ev.Delta.StopReason))
				}
				err = choice(chunkDelta{}, &f)
			}
		case "message_stop":
			if opts.includeUsage {
				chunk.Choices = []chunkChoice{}
				chunk.Usage = &chatUsage{PromptTokens: input, CompletionTokens: output, TotalTokens: input + output}
				if err := write(chunk); err != nil {
					return err
				}
			}
			_, err := io.WriteString(dst, "data: [DONE]\n\n")
			if err != nil {
				return errStreamClosed
			}
			return nil
		case "error":
			// The provider's own failure, passed on as OpenAI streams one.
			writeError(ev.Error.Message, ev.Error.Type)
			return nil
		}
		// ping, content_block_stop and event types added later carry
		// nothing a chat chunk has.
		if err != nil {
			return err
		}
	}
}

// readStreamLine reads one line without its line ending, refusing lines
// longer than maxStreamLine.
func readStreamLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		part, err := r.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > maxStreamLine {
			return "", fmt.Errorf("a line of the stream exceeds %d bytes", maxStreamLine)
		}
		switch {
		case err == nil:
			return string(bytes.TrimRight(line, "\r\n")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return string(bytes.TrimRight(line, "\r\n")), nil
		default:
			return "", err
		}
	}
}

// streamFailed logs a translated stream that ended early; the client has
// already been told in the stream itself.
func (a *aiForwarder) streamFailed(res *http.Response) func(error) {
	backend := ""
	if st, ok := res.Request.Context().Value(stateKey{}).(*reqState); ok {
		backend = st.backend.Name
	}
	return func(err error) {
		a.p.logger.Warn("cannot translate an anthropic stream to chat chunks", "backend", backend, "error", err)
	}
}
