package fakeopenai

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors. Label values are bounded:
// endpoints are a fixed set and models come from the catalogue (a name the
// catalogue does not know is counted as "unknown", so a client cannot grow
// the label space).
type metrics struct {
	requests *prometheus.CounterVec
	tokens   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	faults   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "splitproof", Subsystem: "fakeopenai", Name: "requests_total",
			Help: "API requests answered, by endpoint, resolved model snapshot and HTTP status (499: the client gave up).",
		}, []string{"endpoint", "model", "status"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "splitproof", Subsystem: "fakeopenai", Name: "tokens_total",
			Help: "Tokens accounted in usage, by resolved model snapshot and kind (prompt or completion).",
		}, []string{"model", "kind"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "splitproof", Subsystem: "fakeopenai", Name: "request_duration_seconds",
			Help:    "Time from receiving a request to finishing its answer, by endpoint.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "splitproof", Subsystem: "fakeopenai", Name: "faults_total",
			Help: "Faults injected, by fault (429, 500, 503, hang, cut).",
		}, []string{"fault"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.tokens, m.latency, m.faults} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(rec *Request) {
	model := rec.ResolvedModel
	if model == "" {
		model = "unknown"
		if rec.Model == "" {
			model = "none"
		}
	}
	m.requests.WithLabelValues(rec.Endpoint, model, strconv.Itoa(rec.Status)).Inc()
	m.latency.WithLabelValues(rec.Endpoint).Observe(rec.Duration.Seconds())
	if rec.PromptTokens > 0 {
		m.tokens.WithLabelValues(model, "prompt").Add(float64(rec.PromptTokens))
	}
	if rec.CompletionTokens > 0 {
		m.tokens.WithLabelValues(model, "completion").Add(float64(rec.CompletionTokens))
	}
	if rec.Fault != FaultNone {
		m.faults.WithLabelValues(string(rec.Fault)).Inc()
	}
}
