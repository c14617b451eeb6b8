package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.RequestBodyTimeout and Options.UpstreamTimeout.
const (
	// DefaultRequestBodyTimeout is how long a client may pause mid-upload.
	// A client that sends nothing for this long would otherwise hold a
	// connection, a goroutine and an upstream connection forever (slow loris).
	DefaultRequestBodyTimeout = time.Minute
	// DefaultUpstreamTimeout is how long a backend may stay silent, with
	// nothing left to read from the client and no response header sent,
	// before the request is answered 504. It is generous because a
	// non-streamed LLM answer arrives whole, after the whole generation.
	DefaultUpstreamTimeout = 5 * time.Minute
)

// Reasons of MetricClientAborts.
const (
	ClientClosed  = "client_closed"  // the client went away (upload cut, connection closed, stream reset)
	ClientTimeout = "client_timeout" // the client paused its upload past RequestBodyTimeout
)

// StatusClientClosed is the status recorded for a request whose client went
// away before the answer, nginx's 499; nobody receives it.
const StatusClientClosed = 499

// clientBody wraps a forwarded request's body so that a failure to read it
// is known to be the client's, not the backend's, and so that a client
// pausing its upload for longer than idle is cut off. Reads happen in the
// transport's goroutine, the verdict is read in the handler's: err is
// guarded.
type clientBody struct {
	rc   io.ReadCloser
	ctl  *http.ResponseController
	idle time.Duration
	// progress is called after every read that returned data.
	progress func()

	mu  sync.Mutex
	err error // first read error other than io.EOF
}

func newClientBody(w http.ResponseWriter, r *http.Request, idle time.Duration, progress func()) *clientBody {
	return &clientBody{rc: r.Body, ctl: http.NewResponseController(w), idle: idle, progress: progress}
}

func (b *clientBody) Read(p []byte) (int, error) {
	if b.idle > 0 {
		// Per read, not per body: a large upload at a steady pace is fine,
		// a client that stops sending is not. Unsupported writers (tests'
		// recorders) simply go without.
		_ = b.ctl.SetReadDeadline(time.Now().Add(b.idle))
	}
	n, err := b.rc.Read(p)
	if n > 0 && b.progress != nil {
		b.progress()
	}
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		// The connection goes on (the answer, keep-alive): the server's
		// own read that watches for the client going away must not inherit
		// the upload's deadline.
		if b.idle > 0 {
			_ = b.ctl.SetReadDeadline(time.Time{})
		}
	default:
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

func (b *clientBody) Close() error { return b.rc.Close() }

// failure says whether reading the body failed and, if so, which client
// abort it was.
func (b *clientBody) failure() (reason string, failed bool) {
	if b == nil {
		return "", false
	}
	b.mu.Lock()
	err := b.err
	b.mu.Unlock()
	if err == nil {
		return "", false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ClientTimeout, true
	}
	return ClientClosed, true
}

// errUpstreamSilent cancels an upstream round trip whose backend said
// nothing for Options.UpstreamTimeout.
var errUpstreamSilent = errors.New("upstream sent no response header in time")

// silenceTimer cancels a round trip when the backend stays silent too long.
// The countdown restarts whenever the client sends more of the body, so a
// long upload is not mistaken for a stuck backend, and it stops for good
// once the response header has arrived: streamed answers may pause.
type silenceTimer struct {
	d time.Duration
	// cancel cancels the context of the forwarded request, which forward
	// derives once for the whole exchange (rather than a second context and
	// request copy for the round trip alone).
	cancel   context.CancelCauseFunc
	timer    *time.Timer
	answered atomic.Bool
}

// roundTrip runs rt under the timer; it returns a timeout error when the
// timer fired. r's context must be the one s.cancel cancels.
func (s *silenceTimer) roundTrip(rt http.RoundTripper, r *http.Request) (*http.Response, error) {
	s.timer = time.AfterFunc(s.d, s.fire)
	res, err := rt.RoundTrip(r)
	s.answered.Store(true)
	s.timer.Stop()
	if err != nil && errors.Is(context.Cause(r.Context()), errUpstreamSilent) {
		return nil, fmt.Errorf("%w within %s: %w", errUpstreamSilent, s.d, context.DeadlineExceeded)
	}
	return res, err
}

// fire cancels the round trip unless the answer has begun.
func (s *silenceTimer) fire() {
	if !s.answered.Load() {
		s.cancel(errUpstreamSilent)
	}
}

// restart re-arms the countdown after progress on the upload.
func (s *silenceTimer) restart() {
	if s == nil || s.timer == nil || s.answered.Load() {
		return
	}
	s.timer.Reset(s.d)
}
