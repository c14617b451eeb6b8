package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/splitproof/splitproof/refproxy/route"
)

// DefaultAllZeroStatus is the answer to a rule whose weights are all zero.
// The Gateway API leaves the case open; agentgateway answers 500, Kuma 503.
const DefaultAllZeroStatus = http.StatusInternalServerError

// Options configure a Proxy. The zero value is usable.
type Options struct {
	// Logger receives reload events and, at debug level, one line per request.
	Logger *slog.Logger
	// AllZeroStatus answers requests to a rule whose weights are all zero:
	// 500 (default) or 503.
	AllZeroStatus int
	// Transport forwards requests upstream; NewTransport() when nil.
	Transport http.RoundTripper
	// Registry receives the proxy's metrics; a new registry when nil. The
	// process-wide default registry is never used, so that several proxies can
	// live in one test binary.
	Registry *prometheus.Registry
	// FailureLogInterval is the least time between two warnings about
	// failed upstream requests to one backendRef: DefaultFailureLogInterval
	// when zero, every failure when negative.
	FailureLogInterval time.Duration
	// RequestBodyTimeout bounds each pause in a client's upload (408
	// beyond): DefaultRequestBodyTimeout when zero, none when negative.
	RequestBodyTimeout time.Duration
	// UpstreamTimeout bounds how long a backend may stay silent, with the
	// upload done and no response header sent (504 beyond), for rules
	// without HTTPRoute timeouts of their own: DefaultUpstreamTimeout when
	// zero, none when negative.
	UpstreamTimeout time.Duration
}

// Proxy serves every listener port from the current routing table.
type Proxy struct {
	logger        *slog.Logger
	allZeroStatus int
	transport     http.RoundTripper
	registry      *prometheus.Registry
	metrics       *metrics
	failures      *failureLog
	bodyTimeout   time.Duration
	// upstreamTimeout is Options.UpstreamTimeout; <= 0 means none.
	upstreamTimeout time.Duration
	rp              *httputil.ReverseProxy
	ai              *aiForwarder
	mirrors         *mirrorer
	// h2c carries requests to Service ports of appProtocol kubernetes.io/h2c.
	h2c *http.Transport

	// state is the hot-path pointer: one atomic load per request.
	state atomic.Pointer[Status]
	// mu serialises writers of state (Install and ReloadFailed).
	mu sync.Mutex
}

// Status is a consistent snapshot of what the proxy serves and how the last
// reload went. It is never mutated after it is published.
type Status struct {
	// Table is the routing table being served; nil before the first Install.
	Table *route.Table `json:"table"`
	// Generation counts successful installs, starting at 1.
	Generation uint64 `json:"generation"`
	// LoadedAt is when Table was installed.
	LoadedAt time.Time `json:"loaded_at"`
	// LastReload is the outcome of the most recent install attempt.
	LastReload Reload `json:"last_reload"`
	// Draining is set once shutdown has begun: listeners stop accepting
	// and requests in flight finish.
	Draining bool `json:"draining"`
}

// Reload is the outcome of one attempt to install a configuration.
type Reload struct {
	At    time.Time `json:"at"`
	OK    bool      `json:"ok"`
	Error string    `json:"error,omitempty"`
}

// Ready reports whether the proxy should receive traffic, and why (not).
// Ready means a good table is serving and shutdown has not begun. A refused
// reload does not change it: the last good table still serves every
// request, and a readiness probe failing on a bad edit would take a whole
// Service's endpoints away over a configuration that never went live. The
// refusal is in the reason, the metrics, the logs and /debug/routes.
func (s *Status) Ready() (bool, string) {
	switch {
	case s == nil || s.Table == nil:
		if s != nil && s.LastReload.Error != "" {
			return false, "no routing table loaded: " + s.LastReload.Error
		}
		return false, "no routing table loaded yet"
	case s.Draining:
		return false, fmt.Sprintf("draining for shutdown (generation %d serves requests in flight)", s.Generation)
	case !s.LastReload.OK:
		return true, fmt.Sprintf("serving generation %d; the last reload was refused: %s", s.Generation, s.LastReload.Error)
	default:
		return true, fmt.Sprintf("serving generation %d", s.Generation)
	}
}

// CheckAllZeroStatus says whether code may answer a rule whose weights are
// all zero: the spec leaves it open between 500 (agentgateway) and 503
// (Kuma, Traefik), and refproxy offers exactly those two.
func CheckAllZeroStatus(code int) error {
	if code != http.StatusInternalServerError && code != http.StatusServiceUnavailable {
		return fmt.Errorf("all-zero status %d: expected 500 or 503", code)
	}
	return nil
}

// New builds a Proxy. It serves 404 on every port until Install is called.
func New(opts Options) (*Proxy, error) {
	if opts.AllZeroStatus == 0 {
		opts.AllZeroStatus = DefaultAllZeroStatus
	}
	if err := CheckAllZeroStatus(opts.AllZeroStatus); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Transport == nil {
		opts.Transport = NewTransport()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.FailureLogInterval == 0 {
		opts.FailureLogInterval = DefaultFailureLogInterval
	}
	if opts.RequestBodyTimeout == 0 {
		opts.RequestBodyTimeout = DefaultRequestBodyTimeout
	}
	if opts.UpstreamTimeout == 0 {
		opts.UpstreamTimeout = DefaultUpstreamTimeout
	}
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, fmt.Errorf("register proxy metrics: %w", err)
	}
	p := &Proxy{
		logger:          opts.Logger,
		allZeroStatus:   opts.AllZeroStatus,
		transport:       opts.Transport,
		registry:        opts.Registry,
		metrics:         m,
		failures:        newFailureLog(opts.FailureLogInterval),
		bodyTimeout:     opts.RequestBodyTimeout,
		upstreamTimeout: opts.UpstreamTimeout,
		h2c:             newH2CTransport(),
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      backendTransport{def: p.transport, h2c: p.h2c},
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		ErrorLog:       slog.NewLogLogger(p.logger.Handler(), slog.LevelWarn),
		BufferPool:     bufferPool{},
		// FlushInterval stays 0: ReverseProxy already flushes every write
		// (interval -1) for text/event-stream and for responses of unknown
		// length, which is what SSE and chunked LLM streams need, while
		// fixed-length bodies are copied without a flush per write.
	}
	p.ai = newAIForwarder(p)
	p.mirrors = newMirrorer(p)
	return p, nil
}

// NewTransport returns the upstream transport: tuned for many small requests
// to few hosts, so idle connections are kept per endpoint instead of being
// re-dialled, and bodies pass through without transparent decompression.
func NewTransport() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil, // never route through HTTP_PROXY: we are the proxy
		DialContext:           d.DialContext,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
}

// Registry returns the registry holding the proxy's metrics.
func (p *Proxy) Registry() *prometheus.Registry { return p.registry }

// Status returns the current snapshot; never nil.
func (p *Proxy) Status() *Status {
	if s := p.state.Load(); s != nil {
		return s
	}
	return &Status{}
}

// Table returns the table being served, or nil.
func (p *Proxy) Table() *route.Table { return p.Status().Table }

// Install swaps in t for every request that starts from now on and returns
// its generation. The caller must have built t completely: it is shared, read
// only, by concurrent requests.
func (p *Proxy) Install(t *route.Table) (uint64, error) {
	if t == nil {
		return 0, errors.New("install: nil routing table")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	next := &Status{Table: t, LoadedAt: now, LastReload: Reload{At: now, OK: true}}
	if cur := p.state.Load(); cur != nil {
		next.Generation = cur.Generation + 1
		next.Draining = cur.Draining
	} else {
		next.Generation = 1
	}
	// The index first: a request that sees the new table finds its series
	// (one that still holds the old table misses and looks them up).
	p.metrics.index.Store(newSeriesIndex(t))
	p.state.Store(next)
	p.metrics.reloaded(next.Generation, nil)
	p.logger.Info("routing table installed", "generation", next.Generation, "ports", len(t.Ports))
	return next.Generation, nil
}

// ReloadFailed records a configuration that was refused. The table being
// served does not change, and neither does readiness; the metrics, the
// readiness reason and Status report the failure until the next successful
// Install.
func (p *Proxy) ReloadFailed(err error) {
	if err == nil {
		err = errors.New("unknown reload failure")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	next := &Status{}
	if cur := p.state.Load(); cur != nil {
		*next = *cur
	}
	next.LastReload = Reload{At: time.Now(), OK: false, Error: err.Error()}
	p.state.Store(next)
	p.metrics.reloaded(next.Generation, err)
	p.logger.Error("configuration refused, last good routing table keeps serving",
		"generation", next.Generation, "error", err)
}

// Drain records that shutdown has begun, so that readiness fails while the
// listeners drain. It cannot be undone.
func (p *Proxy) Drain() {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := &Status{}
	if cur := p.state.Load(); cur != nil {
		*next = *cur
	}
	if next.Draining {
		return
	}
	next.Draining = true
	p.state.Store(next)
	p.metrics.draining.Set(1)
	p.logger.Info("draining: readiness now fails", "generation", next.Generation)
}

// Handler returns the handler for listener port port. Every request reads the
// table current at its start.
func (p *Proxy) Handler(port int32) http.Handler { return p.NewPortHandler(port) }

// NewPortHandler is Handler with the concrete type, for listener layers
// that retire a port (PortHandler.Retire) when a reload removes it.
func (p *Proxy) NewPortHandler(port int32) *PortHandler { return &PortHandler{p: p, port: port} }

// CloseIdleConnections closes idle upstream connections (at shutdown).
func (p *Proxy) CloseIdleConnections() {
	type idleCloser interface{ CloseIdleConnections() }
	if c, ok := p.transport.(idleCloser); ok {
		c.CloseIdleConnections()
	}
	p.h2c.CloseIdleConnections()
}

// ServerTimeouts sets the listener-side timeouts refproxy uses on srv: a
// bounded header read (slowloris), a bounded idle keep-alive, and no
// read/write deadline on bodies so that long uploads and SSE streams work;
// per-route limits come from HTTPRoute timeouts instead.
func ServerTimeouts(srv *http.Server) {
	srv.ReadHeaderTimeout = 10 * time.Second
	srv.IdleTimeout = 120 * time.Second
	srv.MaxHeaderBytes = 1 << 20
}

// bufferPool recycles ReverseProxy's body copy buffers, which it would
// otherwise allocate (32 KiB) for every request.
type bufferPool struct{}

var _ httputil.BufferPool = bufferPool{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *copyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }
