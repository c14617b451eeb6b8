package curl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"time"
)

// maxRedirects is curl's default --max-redirs.
const maxRedirects = 50

// Exchange is one HTTP request the native curl made and what came back.
type Exchange struct {
	Method string
	URL    string
	// Host is the Host header sent: the URL's host unless the command set
	// its own (-H "Host: …"), which is what a gateway routes on.
	Host string
	// Status is the HTTP status code, 0 when no response arrived.
	Status int
	Proto  string
	Header http.Header
	// Body is the response body as received (empty for HEAD).
	Body []byte
	// Redirect is true for a response that -L followed; its body is not kept.
	Redirect bool
	// Err is the transport failure, nil when a response arrived.
	Err      error
	Duration time.Duration
	// Sent is when the request's headers were written to the connection,
	// or when curl began the request if it never got that far (a failed
	// dial). It carries a monotonic reading, so offsets between exchanges
	// are immune to wall-clock steps.
	Sent time.Time
	// Received is when the response was read to its end (for a followed
	// redirect: when its headers arrived), or when the failure was seen.
	Received time.Time
	// Conn is the number a [ConnCounter] gave the connection that carried
	// the request; 0 when the transport's dialer numbers no connections or
	// no connection was obtained.
	Conn uint64
	// Reused is set when the connection had carried an earlier request.
	Reused bool
}

var (
	errTooManyRedirects = errors.New("too many redirects")
	errMaxTime          = errors.New("max-time expired")
	errConnectTimeout   = errors.New("connect-timeout expired")
)

// transfer requests one URL, records its exchanges in out and writes what
// curl prints. A curl failure is an *ExitError; the caller's context ending
// is returned as its own error, never as a curl timeout.
func (r *Runner) transfer(ctx context.Context, client *http.Client, cmd *Command, raw string,
	body []byte, hasBody bool, dest string, stdio Stdio, out *Outcome) error {
	parent := ctx
	if cmd.MaxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, seconds(cmd.MaxTime), errMaxTime)
		defer cancel()
	}
	start := time.Now()
	// hop follows each request of the transfer (one per redirect followed):
	// its connection and when its headers went out.
	hop := &hopTrace{begun: start}
	trace := &httptrace.ClientTrace{GotConn: hop.gotConn, WroteHeaders: hop.wroteHeaders}
	if cmd.ConnectTimeout > 0 {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		connected := make(chan struct{})
		var once sync.Once
		trace.GotConn = func(info httptrace.GotConnInfo) {
			hop.gotConn(info)
			once.Do(func() { close(connected) })
		}
		timer := time.AfterFunc(seconds(cmd.ConnectTimeout), func() {
			select {
			case <-connected:
			default:
				cancel(errConnectTimeout)
			}
		})
		defer timer.Stop()
	}
	// A trace already in ctx (the replayer's request counter) still runs:
	// WithClientTrace composes the hooks.
	ctx = httptrace.WithClientTrace(ctx, trace)
	ctx = context.WithValue(ctx, redirectRecorderKey{}, func(resp *http.Response) {
		now := time.Now()
		sent, conn, reused := hop.take(now)
		out.Exchanges = append(out.Exchanges, Exchange{
			Method: resp.Request.Method, URL: resp.Request.URL.String(), Host: hostSent(resp.Request), Status: resp.StatusCode,
			Proto: resp.Proto, Header: resp.Header.Clone(), Redirect: true,
			Sent: sent, Received: now, Conn: conn, Reused: reused,
		})
		if cmd.Include {
			writeHeadWithTE(stdio.Stdout, resp)
		}
	})

	req, err := buildRequest(ctx, cmd, raw, body, hasBody)
	if err != nil {
		return err
	}
	if r.rewrite != nil {
		r.rewrite(req.URL)
	}
	if cmd.Verbose {
		writeVerboseRequest(stdio.Stderr, req)
	}
	resp, err := client.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return parent.Err()
		}
		now := time.Now()
		sent, conn, reused := hop.take(now)
		out.Exchanges = append(out.Exchanges, Exchange{Method: req.Method, URL: req.URL.String(), Host: hostSent(req), Err: err, Duration: now.Sub(start),
			Sent: sent, Received: now, Conn: conn, Reused: reused})
		exit := classifyError(ctx, err, req, now.Sub(start))
		// The request that failed may be a redirect's, not req.
		last := req
		if ue, ok := errors.AsType[*url.Error](err); ok {
			if u, perr := url.Parse(ue.URL); perr == nil {
				last = req.Clone(req.Context())
				last.URL = u
			}
		}
		r.writeOutAfter(cmd, stdio, out, writeOutVars{req: last, elapsed: now.Sub(start)})
		return exit
	}
	defer resp.Body.Close()
	respBody, readErr := io.ReadAll(resp.Body)
	received := time.Now()
	elapsed := received.Sub(start)
	sent, conn, reused := hop.take(received)
	ex := Exchange{
		Method: req.Method, URL: resp.Request.URL.String(), Host: hostSent(resp.Request), Status: resp.StatusCode, Proto: resp.Proto,
		Header: resp.Header.Clone(), Body: respBody, Err: readErr, Duration: elapsed,
		Sent: sent, Received: received, Conn: conn, Reused: reused,
	}
	if len(resp.TransferEncoding) > 0 {
		ex.Header["Transfer-Encoding"] = slicesClone(resp.TransferEncoding)
	}
	out.Exchanges = append(out.Exchanges, ex)
	if readErr != nil {
		if parent.Err() != nil {
			return parent.Err()
		}
		exit := classifyError(ctx, readErr, req, elapsed)
		if exit.Code == ExitEmptyReply || exit.Code == ExitConnect {
			// Headers arrived, so the failure was in the body.
			exit = exitf(ExitRecv, "Failure when receiving data from the peer: %w", readErr)
		}
		r.writeOutAfter(cmd, stdio, out, writeOutVars{req: resp.Request, resp: resp, body: respBody, elapsed: elapsed})
		return exit
	}
	if cmd.Verbose {
		writeVerboseResponse(stdio.Stderr, resp)
	}

	// With -f, curl decides to fail once the headers are in, after -i or
	// -I has printed them: the head of the failing response is output, its
	// body is not.
	failed := cmd.Fail && resp.StatusCode >= 400
	if !failed || cmd.Include || cmd.Head {
		if err := r.writeResponse(cmd, dest, stdio.Stdout, resp, respBody, !failed); err != nil {
			return err
		}
	}
	r.writeOutAfter(cmd, stdio, out, writeOutVars{req: resp.Request, resp: resp, body: respBody, elapsed: elapsed})
	if failed {
		return exitf(ExitHTTPError, "The requested URL returned error: %d", resp.StatusCode)
	}
	return nil
}

// writeOutAfter expands -w once a transfer is over, whether it succeeded or
// not, as curl does.
func (r *Runner) writeOutAfter(cmd *Command, stdio Stdio, out *Outcome, v writeOutVars) {
	if cmd.WriteOut == "" {
		return
	}
	for _, e := range out.Exchanges {
		if e.Redirect {
			v.redirects++
		}
	}
	writeOut(stdio.Stdout, stdio.Stderr, cmd.WriteOut, v)
}

// hopTrace records, for the request of a transfer in flight, the
// connection it got and when its headers were written. The transport calls
// WroteHeaders from its writing goroutine, hence the lock.
type hopTrace struct {
	mu     sync.Mutex
	begun  time.Time // when this hop began: the transfer's start, then each redirect's arrival
	sent   time.Time
	conn   uint64
	reused bool
}

func (h *hopTrace) gotConn(info httptrace.GotConnInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conn, h.reused = ConnNumber(info.Conn), info.Reused
}

func (h *hopTrace) wroteHeaders() {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	// A retry on a fresh connection writes again: the last write is the
	// one the server answered.
	h.sent = now
}

// take returns the finished hop's send time (when it began, if no write was
// seen), its connection and whether it was reused, and starts the next hop
// at next.
func (h *hopTrace) take(next time.Time) (sent time.Time, conn uint64, reused bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sent, conn, reused = h.sent, h.conn, h.reused
	if sent.IsZero() || sent.Before(h.begun) {
		sent = h.begun
	}
	h.begun, h.sent, h.conn, h.reused = next, time.Time{}, 0, false
	return sent, conn, reused
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// classifyError maps a transport error to curl's exit code and message.
func classifyError(ctx context.Context, err error, req *http.Request, elapsed time.Duration) *ExitError {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	ms := elapsed.Milliseconds()
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errMaxTime):
		return exitf(ExitTimeout, "Operation timed out after %d milliseconds", ms)
	case errors.Is(cause, errConnectTimeout):
		return exitf(ExitTimeout, "Connection timed out after %d milliseconds", ms)
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, errTooManyRedirects):
		return exitf(ExitTooManyRedirs, "Maximum (%d) redirects followed", maxRedirects)
	case errors.As(err, &dnsErr):
		return exitf(ExitResolve, "Could not resolve host: %s", host)
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return exitf(ExitPeerCertFailed, "SSL certificate problem: %w", err)
	case errors.As(err, &recordErr):
		return exitf(ExitSSLConnect, "SSL connect error: %w", err)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		if opErr.Timeout() {
			return exitf(ExitTimeout, "Connection timed out after %d milliseconds", ms)
		}
		return exitf(ExitConnect, "Failed to connect to %s port %s after %d ms: Couldn't connect to server", host, port, ms)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return exitf(ExitEmptyReply, "Empty reply from server")
	case errors.As(err, &netErr) && netErr.Timeout():
		return exitf(ExitTimeout, "Operation timed out after %d milliseconds", ms)
	default:
		return exitf(ExitRecv, "Failure when receiving data from the peer: %w", err)
	}
}

// hostSent is the Host header net/http sends for req.
func hostSent(req *http.Request) string {
	if req.Host != "" {
		return req.Host
	}
	return req.URL.Host
}
