package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/route"
)

var _ http.Handler = (*PortHandler)(nil)

// PortHandler serves one listener port from the current table, or, once
// retired, from the last table that had the port.
type PortHandler struct {
	p    *Proxy
	port int32
	// pinned is set by Retire: the port is no longer in the current table
	// but its server still drains connections opened before the reload.
	pinned atomic.Pointer[route.Table]
}

// Retire pins the table being served now, which must still have the
// handler's port, for the rest of the handler's life. Call it before
// installing a table without the port: requests that arrive on the port's
// kept-alive connections while it drains are then served by the
// configuration they were opened under, not answered 404 by one in which
// their port does not exist, and told to close their connection.
func (h *PortHandler) Retire() {
	if t := h.p.Table(); t != nil && t.Port(h.port) != nil {
		h.pinned.CompareAndSwap(nil, t)
	}
}

// reqState travels with a forwarded request (in its context) from ServeHTTP
// to the ReverseProxy hooks, which are shared by all requests.
type reqState struct {
	entry    *route.Entry
	backend  *route.Backend
	endpoint string
	plan     plan
	start    time.Time
	// body is the client's request body as forwarded (nil without one);
	// silence bounds the backend's time to answer (it points at timer, or
	// is nil when the rule has timeouts of its own); cancel releases the
	// forwarded request's context once the request is over.
	body    *clientBody
	silence *silenceTimer
	timer   silenceTimer
	cancel  context.CancelCauseFunc
}

// exchange is everything one request needs on the heap, allocated at once:
// the status-recording writer always, the forwarding state when the request
// goes to a backend.
type exchange struct {
	w  statusWriter
	st reqState
}

// forward sends r to st's backend through next, with the client's body
// watched and the backend's silence bounded. The request's context is
// derived once, carrying st and, with a silence timer, the cancel it uses.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, st *reqState, next http.Handler) {
	ctx := r.Context()
	// A rule with HTTPRoute timeouts of its own (even "0s", none) is bound
	// by them alone, as the spec has it.
	if t := st.entry.Rule.Timeouts; p.upstreamTimeout > 0 && (t == nil || t.Request == nil && t.BackendRequest == nil) {
		ctx, st.cancel = context.WithCancelCause(ctx)
		st.timer.d, st.timer.cancel = p.upstreamTimeout, st.cancel
		st.silence = &st.timer
	}
	if r.Body != nil && r.Body != http.NoBody {
		st.body = newClientBody(w, r, p.bodyTimeout, st.silence.restart)
		r.Body = st.body
	}
	next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, stateKey{}, st)))
	if st.cancel != nil {
		st.cancel(nil)
	}
}

type stateKey struct{}

func (h *PortHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := h.p
	x := &exchange{w: statusWriter{ResponseWriter: w}}
	rw := &x.w
	var entry *route.Entry
	tbl := h.pinned.Load()
	if tbl != nil {
		if r.ProtoMajor == 1 {
			// HTTP/1 clients reconnect, and so reach the new configuration.
			rw.Header().Set("Connection", "close")
		}
	} else if t := p.state.Load(); t != nil {
		tbl = t.Table
	}
	if tbl != nil {
		if pt := tbl.Port(h.port); pt != nil {
			if r.TLS != nil && pt.Misdirected(r.TLS.ServerName, route.HostOnly(r.Host)) {
				p.local(rw, http.StatusMisdirectedRequest, "the connection was set up for another listener's hostname")
				h.finish(rw, r, nil, nil, "misdirected")
				return
			}
			entry = pt.Lookup(r)
		}
	}
	if entry == nil || entry.Rule == nil {
		p.local(rw, http.StatusNotFound, "no route matches")
		h.finish(rw, r, nil, nil, "no route")
		return
	}
	rule := entry.Rule

	if d := ruleTimeout(rule.Timeouts); d > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		r = r.WithContext(ctx)
	}

	var pl plan
	pl.add(rule.Filters)
	if pl.cors != nil {
		preflight := isPreflight(r)
		hs := pl.cors.headers(r, preflight)
		if preflight {
			// Answered here: the backend never sees a preflight. An Origin
			// that is not allowed gets the same 204 without CORS headers.
			for _, h := range hs {
				rw.Header().Set(string(h.Name), h.Value)
			}
			rw.Header().Add("Vary", "Origin")
			rw.WriteHeader(http.StatusNoContent)
			h.finish(rw, r, entry, nil, "CORS preflight")
			return
		}
		if len(hs) > 0 {
			pl.respHeaders = append(pl.respHeaders, headerMod{&gatewayv1.HTTPHeaderFilter{Set: hs}})
		}
	}
	rw.respHeaders = pl.respHeaders
	if pl.redirect != nil {
		p.redirect(rw, r, h.port, entry, pl.redirect)
		h.finish(rw, r, entry, nil, "redirect")
		return
	}
	if len(rule.Mirrors) > 0 {
		p.mirrors.mirror(r, rule.Mirrors, &pl, entry)
	}
	if len(rule.Backends) == 0 || rule.Picker == nil {
		p.local(rw, http.StatusInternalServerError, "rule has no backendRefs")
		h.finish(rw, r, entry, nil, "no backendRefs")
		return
	}
	i := rule.Picker.Pick()
	if i == picker.None {
		p.local(rw, p.allZeroStatus, "every backendRef of the rule has weight 0")
		h.finish(rw, r, entry, nil, "all weights zero")
		return
	}
	b := rule.Backends[i]
	p.metrics.pick(entry, b)

	if len(b.Filters) > 0 {
		pl.add(b.Filters)
		rw.respHeaders = pl.respHeaders
		if pl.redirect != nil {
			p.redirect(rw, r, h.port, entry, pl.redirect)
			h.finish(rw, r, entry, b, "redirect")
			return
		}
	}

	switch b.Kind {
	case route.KindInvalid:
		// The spec keeps an invalid backendRef's share and answers it with 500.
		p.local(rw, http.StatusInternalServerError, "backendRef "+b.Name+" is invalid: "+b.Reason)
	case route.KindAI:
		st := &x.st
		st.entry, st.backend, st.plan, st.start = entry, b, pl, time.Now()
		p.forward(rw, r, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.ai.serve(w, r, st) }))
	case route.KindService:
		ep := b.NextEndpoint()
		if ep == "" {
			p.local(rw, http.StatusServiceUnavailable, "backend "+b.Name+" has no ready endpoints")
			break
		}
		st := &x.st
		st.entry, st.backend, st.endpoint, st.plan, st.start = entry, b, ep, pl, time.Now()
		p.forward(rw, r, st, p.rp)
	default:
		p.local(rw, http.StatusInternalServerError, "backendRef "+b.Name+" has unknown kind "+string(b.Kind))
	}
	h.finish(rw, r, entry, b, "")
}

// rewrite builds the upstream request of a Service backend.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	st := pr.Out.Context().Value(stateKey{}).(*reqState)
	out := pr.Out
	out.URL.Scheme = "http"
	out.URL.Host = st.endpoint
	// pr.Out.Host is the client's Host: it reaches the backend unchanged
	// unless a URLRewrite sets a hostname.
	st.plan.applyRewrite(out, st.entry)
	// Keep the client's X-Forwarded-For chain and append its address, as
	// gateways in front of other proxies do.
	if prior, ok := pr.In.Header["X-Forwarded-For"]; ok {
		out.Header["X-Forwarded-For"] = prior
	}
	pr.SetXForwarded()
	st.plan.applyRequestHeaders(out.Header)
}

func (p *Proxy) modifyResponse(res *http.Response) error {
	if st, ok := res.Request.Context().Value(stateKey{}).(*reqState); ok {
		p.metrics.upstream(st.entry, st.backend, time.Since(st.start))
	}
	return nil
}

// errorHandler maps a failed upstream round trip to 502 or 504, unless the
// client is to blame: an upload that broke off or stalled, or a client that
// went away, is counted as a client abort (499, or 408 for a stalled
// upload), never as the backend's failure.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	var backend, endpoint string
	var body *clientBody
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		backend, endpoint, body = st.backend.Name, st.endpoint, st.body
	}
	reason, clientFault := body.failure()
	code, msg := upstreamError(r.Context(), err)
	if !clientFault && code == 0 {
		reason, clientFault = ClientClosed, true
	}
	if clientFault {
		p.clientAbort(w, r, backend, reason, err)
		return
	}
	p.metrics.upstreamFailures.WithLabelValues(backend, codeLabel(code)).Inc()
	if p.logger.Enabled(r.Context(), slog.LevelWarn) {
		if ok, suppressed := p.failures.allow(backend); ok {
			p.logger.Warn("upstream request failed", "backend", backend, "endpoint", endpoint, "status", code, "error", err,
				"not_logged_since_last", suppressed)
		}
	}
	p.local(w, code, msg)
}

// clientAbort records a request its client gave up on. A client that went
// away reads no answer; 499 (nginx's code for this) keeps it apart in the
// request metric. A client that stalled may still be listening: it gets 408.
// Aborts are normal on the internet, so the log line is informational and
// rate-limited like upstream failures.
func (p *Proxy) clientAbort(w http.ResponseWriter, r *http.Request, backend, reason string, err error) {
	p.metrics.clientAborts.WithLabelValues(backend, reason).Inc()
	if p.logger.Enabled(r.Context(), slog.LevelInfo) {
		if ok, suppressed := p.failures.allow("client abort: " + backend); ok {
			p.logger.Info("client aborted the request", "backend", backend, "reason", reason, "error", err,
				"not_logged_since_last", suppressed)
		}
	}
	if reason == ClientTimeout {
		w.Header().Set("Connection", "close")
		p.local(w, http.StatusRequestTimeout, "request body not received in time")
		return
	}
	if sw, ok := w.(*statusWriter); ok {
		sw.status, sw.wrote = StatusClientClosed, true
	}
}

// upstreamError classifies err; code 0 means the client cancelled.
func upstreamError(ctx context.Context, err error) (int, string) {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "upstream timed out"
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return 0, ""
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return http.StatusGatewayTimeout, "upstream timed out"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED) {
		return http.StatusBadGateway, "upstream connect failed"
	}
	return http.StatusBadGateway, "upstream request failed"
}

// local writes an answer refproxy makes itself.
func (p *Proxy) local(w http.ResponseWriter, code int, reason string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, "refproxy: "+reason+"\n")
}

func (p *Proxy) redirect(w http.ResponseWriter, r *http.Request, port int32, e *route.Entry, f *redirectFilter) {
	loc, code := f.location(r, port, e)
	w.Header().Set("Location", loc)
	w.WriteHeader(code)
}

// debug logs one request line; it costs one Enabled call when debug is off.
// finish records the answer rw carries: the request metric and, at debug
// level, one log line.
func (h *PortHandler) finish(rw *statusWriter, r *http.Request, e *route.Entry, b *route.Backend, note string) {
	h.p.metrics.request(e, b, rw.code())
	h.p.debug(r, h.port, e, b, rw.code(), note)
}

func (p *Proxy) debug(r *http.Request, port int32, e *route.Entry, b *route.Backend, code int, note string) {
	if !p.logger.Enabled(r.Context(), slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.Int("port", int(port)), slog.String("method", r.Method), slog.String("host", r.Host),
		slog.String("path", r.URL.Path), slog.Int("status", code),
	}
	if e != nil {
		attrs = append(attrs, slog.String("route", e.Route), slog.Int("rule", e.RuleIndex))
	}
	if b != nil {
		attrs = append(attrs, slog.String("backend", b.Name))
	}
	if note != "" {
		attrs = append(attrs, slog.String("note", note))
	}
	p.logger.LogAttrs(r.Context(), slog.LevelDebug, "request", attrs...)
}

// ruleTimeout is the deadline of one request under the rule's timeouts. With
// no retries there is one backend attempt, so the tighter of request and
// backendRequest bounds it. "0s" disables a timeout, as the spec says.
func ruleTimeout(t *gatewayv1.HTTPRouteTimeouts) time.Duration {
	if t == nil {
		return 0
	}
	req, be := parseTimeout(t.Request), parseTimeout(t.BackendRequest)
	switch {
	case req == 0:
		return be
	case be == 0:
		return req
	default:
		return min(req, be)
	}
}

// parseTimeout reads a Gateway API duration ("10s", "1h30m", "500ms"). The
// translator has validated it; anything unreadable counts as no timeout.
func parseTimeout(d *gatewayv1.Duration) time.Duration {
	if d == nil {
		return 0
	}
	v, err := time.ParseDuration(string(*d))
	if err != nil || v < 0 {
		return 0
	}
	return v
}

// statusWriter records the status code for metrics and applies
// ResponseHeaderModifier filters just before the header is sent, so they act
// on upstream and local answers alike.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wrote       bool
	respHeaders []headerMod
}

func (w *statusWriter) WriteHeader(code int) {
	// Informational answers (100 Continue, 103 Early Hints) go through
	// untouched; the final status is recorded once.
	if code >= 200 && !w.wrote {
		for _, m := range w.respHeaders {
			m.apply(w.Header())
		}
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (deadlines, hijack).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack supports protocol upgrades (WebSocket) through ReverseProxy.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("response writer %T cannot hijack", w.ResponseWriter)
	}
	if !w.wrote {
		w.status, w.wrote = http.StatusSwitchingProtocols, true
	}
	return hj.Hijack()
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

var statusText = func() (s [600]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func codeLabel(code int) string {
	if code >= 0 && code < len(statusText) {
		return statusText[code]
	}
	return strconv.Itoa(code)
}
