package replay

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/sim"
)

// TestOverlappedRoundRobinFalseFailure backs what a report says when
// overlapping requests hide a round robin's period: that the counts test
// decides "as for independent draws", its false-failure rate holding
// because a round robin's counts stray from its weights less than
// independent draws' do. Seeded: a correct smooth round robin whose
// answers arrive shuffled within blocks of the requests in flight (as
// workers interleave them) is judged by the path a replay takes — the
// scheduler classification with its overlap tolerance, the fixed-n test
// and the sequential test — and fails no more often than alpha.
func TestOverlappedRoundRobinFalseFailure(t *testing.T) {
	const (
		runs  = 40
		n     = 600
		alpha = 0.05
	)
	for _, weights := range [][]int32{{10, 10, 80}, {80, 20}} {
		for _, inFlight := range []int{4, 16} {
			t.Run(fmt.Sprintf("%v/in-flight-%d", weights, inFlight), func(t *testing.T) {
				var cats []sim.Category
				var shares []float64
				var total int64
				for _, w := range weights {
					total += int64(w)
				}
				for i, w := range weights {
					cats = append(cats, sim.Category{Name: fmt.Sprintf("v%d", i+1), Weight: int64(w)})
					shares = append(shares, float64(w)/float64(total))
				}
				fixedFails, seqFails, modelFails, leftToCounts := 0, 0, 0, 0
				for run := range runs {
					rng := rand.New(rand.NewPCG(uint64(run), uint64(inFlight)))
					p := picker.MustNew(picker.Smooth, weights, uint64(run))
					// Start the period anywhere, as a gateway that served
					// others before the replay does.
					for range rng.IntN(int(total)) {
						p.Pick()
					}
					order := make([]int, n)
					for i := range order {
						order[i] = p.Pick()
					}
					for i := 0; i < n; i += inFlight {
						block := order[i:min(i+inFlight, n)]
						rng.Shuffle(len(block), func(a, b int) { block[a], block[b] = block[b], block[a] })
					}
					rec := sequence.New(time.Now(), sequence.ConnsNone)
					counts := map[string]int64{}
					seq, err := sim.NewSequential(sim.SequentialConfig{Shares: shares, Alpha: alpha, Delta: sim.DefaultDelta, Beta: 0.1, MaxN: n})
					if err != nil {
						t.Fatal(err)
					}
					seqDone := false
					for i, k := range order {
						name := cats[k].Name
						// inFlight requests sent together, answered together.
						sent := time.Duration(i/inFlight) * time.Millisecond
						rec.Add(sent, sent+time.Millisecond/2, 0, 200, name)
						counts[name]++
						if !seqDone {
							if d, err := seq.Observe(k); err == nil && d != sim.Continue {
								seqDone = true
								if d == sim.Fail {
									seqFails++
								}
							}
						}
					}
					sc, err := sequence.Schedule(rec, cats, sequence.ScheduleOptions{Alpha: alpha})
					if err != nil {
						t.Fatal(err)
					}
					if sc.Verdict.Outcome == "" {
						leftToCounts++
					} else if sc.Verdict.Outcome == sim.OutcomeFail {
						modelFails++
					}
					v, err := sim.Verify(sim.CountsFile{Scenario: "rr", Categories: cats, Counts: counts, Alpha: alpha}, sim.Options{Alpha: alpha})
					if err != nil {
						t.Fatal(err)
					}
					if v.Outcome == sim.OutcomeFail {
						fixedFails++
					}
				}
				t.Logf("%d runs: left to the counts test %d, scheduler-model FAILs %d, fixed-n FAILs %d, sequential FAILs %d", runs, leftToCounts, modelFails, fixedFails, seqFails)
				limit := int(alpha * float64(runs))
				if fixedFails > limit || seqFails > limit || modelFails > limit {
					t.Fatalf("a correct round robin seen through %d requests in flight fails more often than alpha = %g: fixed-n %d, sequential %d, scheduler model %d of %d", inFlight, alpha, fixedFails, seqFails, modelFails, runs)
				}
			})
		}
	}
}
