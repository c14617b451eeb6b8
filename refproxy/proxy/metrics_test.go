package proxy

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/splitproof/splitproof/refproxy/route"
)

// seriesTable is one port, one route, two rules: the first with two
// backendRefs, the second with none.
func seriesTable() (*route.Table, []*route.Entry) {
	b1 := &route.Backend{Name: "default/v1:80", Kind: route.KindService}
	b2 := &route.Backend{Name: "default/v2:80", Kind: route.KindService}
	e0 := &route.Entry{Route: "default/split", RuleIndex: 0, Rule: &route.Rule{Backends: []*route.Backend{b1, b2}}}
	e1 := &route.Entry{Route: "default/split", RuleIndex: 1, Rule: &route.Rule{}}
	t := &route.Table{Ports: []*route.Port{{Port: 80, Hosts: []*route.VirtualHost{{Hostname: "*", Entries: []*route.Entry{e0, e1}}}}}}
	return t, []*route.Entry{e0, e1}
}

func MustMetrics(t testing.TB) *metrics {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSeriesIndex checks that the indexed path counts in the very series
// the label lookup does, resolves a series only once it is used, and that
// entries of another table (a retired port's) fall back correctly.
func TestSeriesIndex(t *testing.T) {
	tbl, es := seriesTable()
	_, oes := seriesTable()
	for _, indexed := range []bool{true, false} {
		t.Run(map[bool]string{true: "indexed", false: "label lookup"}[indexed], func(t *testing.T) {
			m := MustMetrics(t)
			if indexed {
				m.index.Store(newSeriesIndex(tbl))
			}
			b1, b2 := es[0].Rule.Backends[0], es[0].Rule.Backends[1]
			m.pick(es[0], b1)
			m.pick(es[0], b1)
			m.request(es[0], b1, 200)
			m.request(es[0], b1, 503)
			m.request(es[1], nil, 500)
			m.upstream(es[0], b1, 3*time.Millisecond)
			// Not in the index: counted all the same, under the same labels.
			m.pick(oes[0], oes[0].Rule.Backends[0])
			m.request(nil, nil, 404)

			// Before reading values: reading creates the series it reads.
			if n := count(m.requests); n != 4 {
				t.Errorf("%d request series, want 4", n)
			}
			for _, tc := range []struct {
				vec    *prometheus.CounterVec
				labels []string
				want   float64
			}{
				{m.picks, []string{"default/split", "0", "default/v1:80"}, 3},
				{m.requests, []string{"default/split", "0", "default/v1:80", "200"}, 1},
				{m.requests, []string{"default/split", "0", "default/v1:80", "503"}, 1},
				{m.requests, []string{"default/split", "1", "", "500"}, 1},
				{m.requests, []string{"", "", "", "404"}, 1},
			} {
				var d dto.Metric
				if err := tc.vec.WithLabelValues(tc.labels...).Write(&d); err != nil {
					t.Fatal(err)
				}
				if got := d.GetCounter().GetValue(); got != tc.want {
					t.Errorf("%v = %v, want %v", tc.labels, got, tc.want)
				}
			}
			if n := count(m.upstreamTime); n != 1 {
				t.Errorf("%d upstream histograms, want 1", n)
			}
			// b2 was never picked: no series of its own appears.
			if n := count(m.picks); n != 1 {
				t.Errorf("%d pick series, want 1 (none for %s)", n, b2.Name)
			}
		})
	}
}

// count is the number of series c has.
func count(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 64)
	c.Collect(ch)
	close(ch)
	return len(ch)
}

// BenchmarkMetrics records one proxied request's three series (pick,
// request 200, upstream time) through the index and through the label
// lookup it replaces, in the same run, and reports their ratio.
func BenchmarkMetrics(b *testing.B) {
	tbl, es := seriesTable()
	indexed, labelled := MustMetrics(b), MustMetrics(b)
	indexed.index.Store(newSeriesIndex(tbl))
	e, be := es[0], es[0].Rule.Backends[0]
	record := func(m *metrics) {
		m.pick(e, be)
		m.request(e, be, 200)
		m.upstream(e, be, time.Millisecond)
	}
	var ti, tl time.Duration
	const batch = 1000
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		n := min(batch, b.N-done)
		t0 := time.Now()
		for range n {
			record(indexed)
		}
		t1 := time.Now()
		for range n {
			record(labelled)
		}
		ti, tl = ti+t1.Sub(t0), tl+time.Since(t1)
	}
	b.ReportMetric(float64(ti.Nanoseconds())/float64(b.N), "indexed_ns/req")
	b.ReportMetric(float64(tl.Nanoseconds())/float64(b.N), "labels_ns/req")
	b.ReportMetric(float64(ti)/float64(tl), "ratio")
}
