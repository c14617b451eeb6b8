package proxy

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/splitproof/splitproof/refproxy/route"
)

// Metric names, exported so that tests and dashboards name them once.
const (
	MetricRequests         = "refproxy_requests_total"
	MetricPicks            = "refproxy_picks_total"
	MetricUpstreamDuration = "refproxy_upstream_response_seconds"
	MetricGeneration       = "refproxy_config_generation"
	MetricReloads          = "refproxy_config_reloads_total"
	MetricLastReloadOK     = "refproxy_config_last_reload_successful"
	MetricDraining         = "refproxy_draining"
	MetricUpstreamFailures = "refproxy_upstream_failures_total"
	MetricClientAborts     = "refproxy_client_aborts_total"
)

// metrics are the proxy's Prometheus series. Labels: route is the HTTPRoute
// "namespace/name", rule its rule index, backend the backendRef's route.Backend
// Name ("" when the proxy answered before picking one), code the status.
type metrics struct {
	requests     *prometheus.CounterVec
	picks        *prometheus.CounterVec
	upstreamTime *prometheus.HistogramVec
	generation   prometheus.Gauge
	reloads      *prometheus.CounterVec
	lastReloadOK prometheus.Gauge
	draining     prometheus.Gauge
	// upstreamFailures counts every failed upstream round trip, logged or
	// not: the log is rate-limited, the metric is not.
	upstreamFailures *prometheus.CounterVec
	// clientAborts counts requests the client gave up on mid-way, which
	// are not the backend's failures.
	clientAborts *prometheus.CounterVec

	// index maps the installed table's (entry, backendRef) pairs to their
	// series; see seriesIndex.
	index atomic.Pointer[seriesIndex]
}

// seriesKey names the labels route, rule and backend by the table objects
// that carry them.
type seriesKey struct {
	e *route.Entry
	b *route.Backend
}

// seriesIndex lets a request find its series with one map lookup on two
// pointers instead of having each vector hash three or four label strings
// under its lock, three times a request. It is built by Install for the
// table it installs and read only after; a table pinned by a retired port
// misses it and falls back to the label lookup.
type seriesIndex map[seriesKey]*series

// series holds one (route, rule, backend)'s children of the vectors,
// resolved on first use: resolving them at install would publish zero
// series for backends never picked and codes never answered.
type series struct {
	route, rule, backend string
	picks                atomic.Pointer[prometheus.Counter]
	ok                   atomic.Pointer[prometheus.Counter] // requests answered 200
	upstream             atomic.Pointer[prometheus.Observer]
}

// newSeriesIndex indexes every entry of t with each backendRef of its rule,
// and with none (answers given before a pick).
func newSeriesIndex(t *route.Table) *seriesIndex {
	idx := seriesIndex{}
	add := func(e *route.Entry, b *route.Backend) {
		s := &series{}
		s.route, s.rule, s.backend = labels(e, b)
		idx[seriesKey{e, b}] = s
	}
	for _, pt := range t.Ports {
		for _, vh := range pt.Hosts {
			for _, e := range vh.Entries {
				add(e, nil)
				if e.Rule == nil {
					continue
				}
				for _, b := range e.Rule.Backends {
					add(e, b)
				}
			}
		}
	}
	return &idx
}

func (m *metrics) series(e *route.Entry, b *route.Backend) *series {
	if idx := m.index.Load(); idx != nil && e != nil {
		return (*idx)[seriesKey{e, b}]
	}
	return nil
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRequests,
			Help: "Requests answered, by HTTPRoute, rule, picked backendRef and status code.",
		}, []string{"route", "rule", "backend", "code"}),
		picks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricPicks,
			Help: "Weighted picks, by HTTPRoute, rule and backendRef (invalid ones included).",
		}, []string{"route", "rule", "backend"}),
		upstreamTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricUpstreamDuration,
			Help:    "Time from forwarding a request to receiving the upstream response headers.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "rule", "backend"}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricGeneration,
			Help: "Generation of the routing table being served (successful installs).",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricReloads,
			Help: "Configuration loads, by result (success or failure).",
		}, []string{"result"}),
		lastReloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricLastReloadOK,
			Help: "1 if the last configuration load succeeded, 0 if it was refused.",
		}),
		draining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricDraining,
			Help: "1 once shutdown has begun and the listeners drain, else 0.",
		}),
		upstreamFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricUpstreamFailures,
			Help: "Failed upstream round trips (connect errors, timeouts, broken answers), by backendRef and status answered.",
		}, []string{"backend", "code"}),
		clientAborts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricClientAborts,
			Help: "Requests the client gave up on (upload cut or stalled, connection closed), by backendRef and reason (client_closed, client_timeout).",
		}, []string{"backend", "reason"}),
	}
	// Both results exist from the start so that rate() and alerts see zeros.
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	for _, c := range []prometheus.Collector{
		m.requests, m.picks, m.upstreamTime, m.generation, m.reloads, m.lastReloadOK, m.draining, m.upstreamFailures, m.clientAborts,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func labels(e *route.Entry, b *route.Backend) (routeName, rule, backend string) {
	if e != nil {
		routeName, rule = e.Route, strconv.Itoa(e.RuleIndex)
	}
	if b != nil {
		backend = b.Name
	}
	return
}

func (m *metrics) request(e *route.Entry, b *route.Backend, code int) {
	if s := m.series(e, b); s != nil && code == 200 {
		c := s.ok.Load()
		if c == nil {
			v := m.requests.WithLabelValues(s.route, s.rule, s.backend, "200")
			c = &v
			s.ok.Store(c)
		}
		(*c).Inc()
		return
	}
	r, rule, be := labels(e, b)
	m.requests.WithLabelValues(r, rule, be, codeLabel(code)).Inc()
}

func (m *metrics) pick(e *route.Entry, b *route.Backend) {
	if s := m.series(e, b); s != nil {
		c := s.picks.Load()
		if c == nil {
			v := m.picks.WithLabelValues(s.route, s.rule, s.backend)
			c = &v
			s.picks.Store(c)
		}
		(*c).Inc()
		return
	}
	r, rule, be := labels(e, b)
	m.picks.WithLabelValues(r, rule, be).Inc()
}

func (m *metrics) upstream(e *route.Entry, b *route.Backend, d time.Duration) {
	if s := m.series(e, b); s != nil {
		o := s.upstream.Load()
		if o == nil {
			v := m.upstreamTime.WithLabelValues(s.route, s.rule, s.backend)
			o = &v
			s.upstream.Store(o)
		}
		(*o).Observe(d.Seconds())
		return
	}
	r, rule, be := labels(e, b)
	m.upstreamTime.WithLabelValues(r, rule, be).Observe(d.Seconds())
}

func (m *metrics) reloaded(generation uint64, err error) {
	m.generation.Set(float64(generation))
	if err != nil {
		m.reloads.WithLabelValues("failure").Inc()
		m.lastReloadOK.Set(0)
		return
	}
	m.reloads.WithLabelValues("success").Inc()
	m.lastReloadOK.Set(1)
}
