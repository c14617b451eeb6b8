package proxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"

	"github.com/splitproof/splitproof/refproxy/route"
)

// Limits of request mirroring: mirrors are best effort and must never slow
// or break the request they copy.
const (
	// MaxMirrorBody is the largest request body copied to mirrors; a request
	// with a larger (or unknown-length, longer) body is not mirrored.
	MaxMirrorBody = 1 << 20
	// MirrorTimeout bounds one mirrored request.
	MirrorTimeout = 10 * time.Second
	// maxMirrorsInFlight caps concurrent mirrored requests; beyond it copies
	// are dropped rather than queued.
	maxMirrorsInFlight = 256
)

// mirrorer sends copies of requests to RequestMirror backends.
type mirrorer struct {
	p        *Proxy
	inFlight chan struct{}
}

func newMirrorer(p *Proxy) *mirrorer {
	return &mirrorer{p: p, inFlight: make(chan struct{}, maxMirrorsInFlight)}
}

// mirror sends r, as the rule's filters (pl) shape it for the backend, to
// each mirror whose share draws it. It reads the body into memory when one
// is needed and leaves r.Body readable for the real request.
func (m *mirrorer) mirror(r *http.Request, mirrors []*route.Mirror, pl *plan, e *route.Entry) {
	var chosen []*route.Mirror
	for _, mi := range mirrors {
		if mi.Percent >= 100 || (mi.Draw != nil && mi.Draw.Pick() == 0) {
			chosen = append(chosen, mi)
		}
	}
	if len(chosen) == 0 {
		return
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		if r.ContentLength > MaxMirrorBody {
			m.p.logger.Debug("request not mirrored: body too large", "route", e.Route, "content_length", r.ContentLength)
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, MaxMirrorBody+1))
		// Whatever was read goes back in front of the rest, so the real
		// request sees the body unchanged.
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
		if err != nil || len(b) > MaxMirrorBody {
			return
		}
		body = b
	}
	for _, mi := range chosen {
		ep := mi.Backend.NextEndpoint()
		if ep == "" {
			continue
		}
		out := r.Clone(context.Background())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host = "http", ep
		out.Body, out.ContentLength = http.NoBody, 0
		if body != nil {
			out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		pl.applyRewrite(out, e)
		pl.applyRequestHeaders(out.Header)
		select {
		case m.inFlight <- struct{}{}:
		default:
			m.p.logger.Debug("request not mirrored: too many mirrors in flight", "backend", mi.Backend.Name)
			continue
		}
		go m.send(out, mi.Backend.Name)
	}
}

func (m *mirrorer) send(out *http.Request, backend string) {
	defer func() { <-m.inFlight }()
	ctx, cancel := context.WithTimeout(context.Background(), MirrorTimeout)
	defer cancel()
	res, err := m.p.transport.RoundTrip(out.WithContext(ctx))
	if err != nil {
		m.p.logger.Debug("mirrored request failed", "backend", backend, "error", err)
		return
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
}
