package fakeopenai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var _ http.Handler = (*Server)(nil)

// Serve answers s on ln, in a goroutine, until the returned server is shut
// down or closed; that is also when Serve's error (http.ErrServerClosed)
// comes, so it is not reported. There is no ReadTimeout: it would cut
// streamed answers, and the server bounds the time to read a body itself.
func Serve(ln net.Listener, s *Server) *http.Server {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go func() { _ = hs.Serve(ln) }()
	return hs
}

// Endpoint names used in Request.Endpoint and in metric labels.
const (
	EndpointChat        = "chat.completions"
	EndpointCompletions = "completions"
	EndpointEmbeddings  = "embeddings"
	EndpointModels      = "models"
	EndpointUnknown     = "unknown"
)

// StatusClientGone is recorded when the client went away before an answer
// was written (a hang fault, or a client timeout during a delay); nginx uses
// the same number.
const StatusClientGone = 499

// Request is what the server recorded about one API request.
type Request struct {
	// ID is the x-request-id the response carried.
	ID       string
	Time     time.Time
	Method   string
	Path     string
	Endpoint string
	// Model is the model the request named ("" if none or unreadable).
	Model string
	// ResolvedModel is the snapshot Model resolved to ("" if it did not).
	ResolvedModel string
	// Key is the bearer token presented, or on /v1/messages the x-api-key
	// ("" if none). The fake keeps it so tests can tell which credential a
	// gateway forwarded.
	Key string
	// KeyValid is true when Key is configured, or authentication is disabled.
	KeyValid bool
	Stream   bool
	// Status is the HTTP status sent, or StatusClientGone.
	Status           int
	Fault            Fault
	PromptTokens     int
	CompletionTokens int
	Duration         time.Duration
}

// Server is the fake OpenAI API. Create it with New; it is an http.Handler
// safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	catalog *Catalog
	keys    map[string]bool
	mux     *http.ServeMux
	reg     *prometheus.Registry
	metrics *metrics
	fp      string // system_fingerprint

	seq    atomic.Uint64
	closed chan struct{}
	once   sync.Once

	mu      sync.Mutex
	records []Request
	head    int // ring index of the oldest record once full
	window  time.Time
	reqs    int // requests admitted in window
	tokens  int // tokens accounted in window
}

// New builds a server from cfg (see Config for defaults). logger may be nil.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("fakeopenai config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Catalog == nil {
		cfg.Catalog = DefaultCatalog()
	}
	for _, model := range slices.Sorted(maps.Keys(cfg.ModelFaults)) {
		// A misspelt model would otherwise never fail, silently.
		if _, ok := cfg.Catalog.Resolve(model); !ok {
			return nil, fmt.Errorf("fakeopenai config: model faults of %s: no such model in the catalogue", model)
		}
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxEmbeddingValues == 0 {
		cfg.MaxEmbeddingValues = DefaultMaxEmbeddingValues
	}
	if cfg.RetryAfter == 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.RecordLimit == 0 {
		cfg.RecordLimit = DefaultRecordLimit
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Faults = maps.Clone(cfg.Faults)
	if cfg.ModelFaults != nil {
		mf := make(map[string]FaultRates, len(cfg.ModelFaults))
		for model, r := range cfg.ModelFaults {
			mf[model] = maps.Clone(r)
		}
		cfg.ModelFaults = mf
	}
	cfg.Keys = slices.Clone(cfg.Keys)
	s := &Server{
		cfg:     cfg,
		log:     logger,
		catalog: cfg.Catalog,
		keys:    make(map[string]bool, len(cfg.Keys)),
		mux:     http.NewServeMux(),
		reg:     cfg.Registry,
		closed:  make(chan struct{}),
		fp:      fmt.Sprintf("fp_%010x", newHasher(cfg.Seed).str("fingerprint").h.Sum64()>>24),
	}
	for _, k := range cfg.Keys {
		s.keys[k] = true
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(s.reg)
	if err != nil {
		return nil, fmt.Errorf("fakeopenai metrics: %w", err)
	}
	s.metrics = m
	s.mux.Handle("POST /v1/chat/completions", s.endpoint(EndpointChat, s.chat))
	s.mux.Handle("POST /v1/completions", s.endpoint(EndpointCompletions, s.completions))
	s.mux.Handle("POST /v1/responses", s.endpoint(EndpointResponses, s.responses))
	s.mux.Handle("POST /v1/messages", s.dialectEndpoint(EndpointMessages, dialectAnthropic, s.messages))
	s.mux.Handle("POST /v1/embeddings", s.endpoint(EndpointEmbeddings, s.embeddings))
	s.mux.Handle("GET /v1/models", s.endpoint(EndpointModels, s.listModels))
	s.mux.Handle("GET /v1/models/{id}", s.endpoint(EndpointModels, s.getModel))
	if !cfg.DisableMetricsEndpoint {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	}
	s.mux.Handle("/", s.endpoint(EndpointUnknown, func(_ *answer, r *http.Request, _ *Request) *apiError {
		return errInvalidURL(r)
	}))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Registry is the Prometheus registry the server's metrics are on.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Catalog is the catalogue the server resolves models with.
func (s *Server) Catalog() *Catalog { return s.catalog }

// Close releases requests held by a hang fault (they get 503) and makes new
// hangs answer 503 at once. It does not close listeners, which the caller
// owns. It is safe to call more than once.
func (s *Server) Close() { s.once.Do(func() { close(s.closed) }) }

// Requests returns a copy of the recorded requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, 0, len(s.records))
	out = append(out, s.records[s.head:]...)
	return append(out, s.records[:s.head]...)
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records, s.head = nil, 0
}

// answer wraps the ResponseWriter to learn the status sent.
type answer struct {
	http.ResponseWriter
	status int
}

func (a *answer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *answer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (a *answer) Unwrap() http.ResponseWriter { return a.ResponseWriter }

func (a *answer) flush() { _ = http.NewResponseController(a.ResponseWriter).Flush() }

type handler func(w *answer, r *http.Request, rec *Request) *apiError

// dialect is the provider whose conventions an endpoint follows.
type dialect int

const (
	dialectOpenAI dialect = iota
	// dialectAnthropic authenticates with x-api-key and answers errors in
	// Anthropic's shape.
	dialectAnthropic
)

// endpoint wraps an OpenAI API handler with what every endpoint shares.
func (s *Server) endpoint(name string, h handler) http.Handler {
	return s.dialectEndpoint(name, dialectOpenAI, h)
}

// dialectEndpoint wraps an API handler with what every endpoint shares:
// request id and rate-limit headers, authentication, recording and metrics.
func (s *Server) dialectEndpoint(name string, d dialect, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		seq := s.seq.Add(1)
		rec := &Request{
			ID:       fmt.Sprintf("req_%016x%016x", mix64(s.cfg.Seed^seq), mix64(seq+0x5eed)),
			Time:     s.cfg.Now(),
			Method:   r.Method,
			Path:     r.URL.Path,
			Endpoint: name,
		}
		a := &answer{ResponseWriter: w}
		// Deferred so that a deliberate abort (panic http.ErrAbortHandler for a
		// cut) is still recorded.
		defer s.finish(rec, a, r, start)
		hdr := w.Header()
		hdr.Set("x-request-id", rec.ID)
		fail := (*apiError).write
		auth := s.authenticate
		if d == dialectAnthropic {
			hdr.Set("request-id", rec.ID)
			fail = func(e *apiError, w http.ResponseWriter) { e.writeAnthropic(w, rec.ID) }
			auth = s.authenticateAnthropic
		} else {
			hdr.Set("openai-version", "2020-10-01")
			hdr.Set("openai-organization", "splitproof-fake")
		}
		if err := auth(r, rec); err != nil {
			fail(err, a)
			return
		}
		if err := s.admit(hdr, rec.Time); err != nil {
			fail(err, a)
			return
		}
		if err := h(a, r, rec); err != nil {
			fail(err, a)
		}
	})
}

func (s *Server) finish(rec *Request, a *answer, r *http.Request, start time.Time) {
	rec.Duration = time.Since(start)
	rec.Status = a.status
	if rec.Status == 0 {
		rec.Status = http.StatusOK
		if r.Context().Err() != nil {
			rec.Status = StatusClientGone
		}
	}
	s.metrics.observe(rec)
	s.mu.Lock()
	if s.window.Equal(rec.Time.Truncate(time.Minute)) {
		s.tokens += rec.PromptTokens + rec.CompletionTokens
	}
	if s.cfg.RecordLimit > 0 {
		if len(s.records) < s.cfg.RecordLimit {
			s.records = append(s.records, *rec)
		} else {
			s.records[s.head] = *rec
			s.head = (s.head + 1) % len(s.records)
		}
	}
	s.mu.Unlock()
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("fakeopenai request", "id", rec.ID, "endpoint", rec.Endpoint, "model", rec.Model,
			"resolved", rec.ResolvedModel, "keyValid", rec.KeyValid, "status", rec.Status, "fault", rec.Fault,
			"duration", rec.Duration)
	}
	if s.cfg.OnRequest != nil {
		s.cfg.OnRequest(*rec)
	}
}

func (s *Server) authenticate(r *http.Request, rec *Request) *apiError {
	rec.Key = bearerToken(r)
	if len(s.keys) == 0 {
		rec.KeyValid = true
		return nil
	}
	if s.keys[rec.Key] {
		rec.KeyValid = true
		return nil
	}
	return errInvalidKey(rec.Key)
}

// bearerToken is the token of an "Authorization: Bearer" header, or "".
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// authenticateAnthropic checks the x-api-key header against the same keys.
// Without it a bearer token is read instead: Anthropic's Go SDK sends the
// key that way.
func (s *Server) authenticateAnthropic(r *http.Request, rec *Request) *apiError {
	if rec.Key = strings.TrimSpace(r.Header.Get("x-api-key")); rec.Key == "" {
		rec.Key = bearerToken(r)
	}
	if len(s.keys) == 0 || s.keys[rec.Key] {
		rec.KeyValid = true
		return nil
	}
	msg := "x-api-key header is required"
	if rec.Key != "" {
		msg = "invalid x-api-key"
	}
	return &apiError{Status: http.StatusUnauthorized, Type: TypeInvalidRequest, Code: CodeInvalidAPIKey, Message: msg}
}

// admit counts the request in the current one-minute window, sets the
// x-ratelimit-* headers and enforces RequestsPerMinute when configured.
func (s *Server) admit(hdr http.Header, now time.Time) *apiError {
	window := now.Truncate(time.Minute)
	reset := window.Add(time.Minute).Sub(now)
	reqLimit, tokLimit := s.cfg.RequestsPerMinute, s.cfg.TokensPerMinute
	if reqLimit == 0 {
		reqLimit = DefaultRequestsPerMinute
	}
	if tokLimit == 0 {
		tokLimit = DefaultTokensPerMinute
	}
	s.mu.Lock()
	if !s.window.Equal(window) {
		s.window, s.reqs, s.tokens = window, 0, 0
	}
	over := s.cfg.RequestsPerMinute > 0 && s.reqs >= s.cfg.RequestsPerMinute
	if !over {
		s.reqs++
	}
	reqs, toks := s.reqs, s.tokens
	s.mu.Unlock()
	hdr.Set("x-ratelimit-limit-requests", strconv.Itoa(reqLimit))
	hdr.Set("x-ratelimit-limit-tokens", strconv.Itoa(tokLimit))
	hdr.Set("x-ratelimit-remaining-requests", strconv.Itoa(max(0, reqLimit-reqs)))
	hdr.Set("x-ratelimit-remaining-tokens", strconv.Itoa(max(0, tokLimit-toks)))
	hdr.Set("x-ratelimit-reset-requests", reset.Round(time.Millisecond).String())
	hdr.Set("x-ratelimit-reset-tokens", reset.Round(time.Millisecond).String())
	if over {
		return errRateLimited(int(math.Ceil(reset.Seconds())),
			fmt.Sprintf("limit %d per minute", s.cfg.RequestsPerMinute))
	}
	return nil
}

// bodyReadTimeout bounds reading one request body, at most MaxBodyBytes.
const bodyReadTimeout = time.Minute

// readJSON reads a size-limited body into v, mapping failures to OpenAI's
// 400 and 413 answers. Type errors name the offending field as param.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) *apiError {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return errTooLarge(s.cfg.MaxBodyBytes)
	}
	// The body is bounded in time as well as size: a client that stops
	// sending mid-body would otherwise hold the connection for good. The
	// deadline is lifted afterwards, since streamed answers last longer.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	_ = rc.SetReadDeadline(time.Time{})
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return errTooLarge(s.cfg.MaxBodyBytes)
		}
		return badRequest("", "Could not read the request body: %v", err)
	}
	return decodeJSON(data, "", v)
}

// decodeJSON decodes data into v; prefix is prepended to field paths.
func decodeJSON(data []byte, prefix string, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON value")
	}
	if err == nil {
		return nil
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := joinParam(prefix, te.Field)
		if field == "" {
			return badRequest("", "Invalid request body: expected a JSON object, but got %s instead.", article(te.Value))
		}
		return badRequest(field, "Invalid type for '%s': expected %s, but got %s instead.", field, goTypeName(te.Type.String()), article(te.Value))
	}
	return badRequest("", "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)")
}

func joinParam(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	}
	return prefix + "." + field
}

func article(jsonKind string) string {
	switch jsonKind {
	case "array", "object", "integer":
		return "an " + jsonKind
	}
	return "a " + jsonKind
}

// goTypeName says in JSON terms what a Go type accepts.
func goTypeName(t string) string {
	switch {
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "*int"):
		return "an integer"
	case strings.HasPrefix(t, "float") || strings.HasPrefix(t, "*float"):
		return "a number"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	}
	return "an object"
}

// resolve finds the snapshot for a requested model and checks it serves the
// endpoint.
func (s *Server) resolve(rec *Request, model string, want ModelType, endpointPath string) (Model, *apiError) {
	rec.Model = model
	if model == "" {
		return Model{}, errMissingModel()
	}
	m, ok := s.catalog.Resolve(model)
	if !ok {
		return Model{}, errModelNotFound(model)
	}
	rec.ResolvedModel = m.ID
	if m.Type != want {
		return Model{}, errWrongEndpoint(model, endpointPath)
	}
	return m, nil
}

// chooseFault decides the fault for a request: the X-Fake-Fault header wins,
// otherwise a seeded draw against the rates for the request's model. The
// draw depends only on the seed and the request's id, never on the model,
// so one model's rates change the outcome of no other model's request.
func (s *Server) chooseFault(r *http.Request, rec *Request) *apiError {
	if h := r.Header.Get(FaultHeader); h != "" {
		f, err := ParseFault(h)
		if err != nil {
			return badRequest("", "%s header: %v", FaultHeader, err)
		}
		rec.Fault = f
		return nil
	}
	if rates := s.faultRates(rec); len(rates) > 0 {
		g := newHasher(s.cfg.Seed).str("fault").str(rec.ID).rng()
		rec.Fault = rates.draw(g.float())
	}
	return nil
}

// faultRates are the rates a request is drawn against: its model's, when
// ModelFaults names the model as requested or as resolved, else Faults.
func (s *Server) faultRates(rec *Request) FaultRates {
	for _, name := range []string{rec.Model, rec.ResolvedModel} {
		if r, ok := s.cfg.ModelFaults[name]; ok && name != "" {
			return r
		}
	}
	return s.cfg.Faults
}

// applyFault answers the faults that replace a whole response; ok is false
// when the request is finished. A cut is left to the writer of the body.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, rec *Request) (stop bool, err *apiError) {
	switch rec.Fault {
	case Fault429:
		return true, errRateLimited(max(1, int(math.Ceil(s.cfg.RetryAfter.Seconds()))), "injected fault")
	case Fault429Bare:
		// admit set the reset headers already; a client that finds neither
		// them nor Retry-After has nothing to schedule its retry by.
		w.Header().Del("x-ratelimit-reset-requests")
		w.Header().Del("x-ratelimit-reset-tokens")
		return true, errRateLimited(0, "injected fault")
	case Fault500:
		return true, errServer()
	case Fault503:
		return true, errOverloaded()
	case FaultHang:
		select {
		case <-r.Context().Done():
			return true, nil
		case <-s.closed:
			return true, errOverloaded()
		}
	}
	return false, nil
}

// cutBody writes the first half of body and drops the connection, so the
// client sees a response that ends early.
func cutBody(w *answer, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body[:len(body)/2])
	w.flush()
	panic(http.ErrAbortHandler)
}

// pacer applies the configured latency with seeded jitter.
type pacer struct {
	s      *Server
	jitter rng
}

func (s *Server) pacer(rec *Request) *pacer {
	return &pacer{s: s, jitter: newHasher(s.cfg.Seed).str("jitter").str(rec.ID).rng()}
}

// wait sleeps base×count scaled by jitter; false when the client went away
// or the server closed.
func (p *pacer) wait(ctx context.Context, base time.Duration, count int) bool {
	if base <= 0 || count <= 0 {
		return ctx.Err() == nil
	}
	d := time.Duration(float64(base) * float64(count))
	if j := p.s.cfg.Jitter; j > 0 {
		d = time.Duration(float64(d) * (1 + j*(2*p.jitter.float()-1)))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-p.s.closed:
		return false
	}
}

func processingMS(hdr http.Header, start time.Time) {
	hdr.Set("openai-processing-ms", strconv.FormatInt(time.Since(start).Milliseconds(), 10))
}

// respond writes a JSON answer, or half of it when the request drew a cut.
func (s *Server) respond(w *answer, rec *Request, start time.Time, v any) {
	if rec.Fault == FaultCut {
		body, err := json.Marshal(v)
		if err == nil {
			cutBody(w, body)
		}
	}
	writeJSON(w, start, v)
}

func writeJSON(w *answer, start time.Time, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		errServer().write(w)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	processingMS(hdr, start)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}
