package replay

import (
	"testing"
	"time"

	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/sim"
)

// BenchmarkHoldChecks is the classification a sequential run held past
// its decision pays by a 6,300-request cap, on a Caddy-like bursty order
// (blocks of 10 v1, 10 v2, 80 v3), the case that holds runs: a check
// every holdCheckEvery requests, as runs were held before, against the
// doubling steps of holdCheckDue.
func BenchmarkHoldChecks(b *testing.B) {
	const n = 6300
	cats := []sim.Category{{Name: "v1", Weight: 10}, {Name: "v2", Weight: 10}, {Name: "v3", Weight: 80}}
	for _, tt := range []struct {
		name string
		due  func(int) bool
	}{
		{"every-10", func(i int) bool { return i%holdCheckEvery == 0 }},
		{"doubling", holdCheckDue},
	} {
		b.Run(tt.name, func(b *testing.B) {
			checks := 0
			for b.Loop() {
				rec := sequence.New(time.Now(), sequence.ConnsNone)
				checks = 0
				for i := 1; i <= n; i++ {
					cat := "v3"
					switch k := (i - 1) % 100; {
					case k < 10:
						cat = "v1"
					case k < 20:
						cat = "v2"
					}
					at := time.Duration(i) * time.Millisecond
					rec.Add(at, at, 0, 200, cat)
					if tt.due(i) {
						modelAllowsStop(rec, cats, sim.DefaultAlpha)
						checks++
					}
				}
			}
			b.ReportMetric(float64(checks), "checks/op")
		})
	}
}
