package sim

import (
	"math"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
)

// runSequential feeds picks from a random picker with weights truth into a
// sequential verification of shares until it decides.
func runSequential(t *testing.T, cfg SequentialConfig, truth []int32, seed uint64) SequentialState {
	t.Helper()
	s, err := NewSequential(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := picker.MustNew(picker.Random, truth, seed)
	for {
		d, err := s.Observe(p.Pick())
		if err != nil {
			t.Fatal(err)
		}
		if d != Continue {
			return s.State()
		}
	}
}

func TestSequentialFalseFailureRate(t *testing.T) {
	// Ville's inequality promises P(fail | correct split) <= alpha at any
	// stopping time. 2000 seeded runs; the bound allows 4.5 binomial
	// standard deviations above alpha.
	const runs, alpha = 2000, 0.05
	cfg := SequentialConfig{Shares: sharesOf([]int32{10, 10, 80}), Alpha: alpha, Delta: 0.05, Beta: 0.05}
	fails, passes := 0, 0
	var needed int64
	for r := range runs {
		st := runSequential(t, cfg, []int32{10, 10, 80}, RunSeed(11, r))
		switch st.Decision {
		case Fail:
			fails++
		case Pass:
			passes++
			needed += st.N
		}
	}
	if rate := float64(fails) / runs; rate > alpha+binomialSlack(alpha, runs) {
		t.Errorf("false-failure rate %.4f exceeds alpha %v", rate, alpha)
	}
	if passes < runs*9/10 {
		t.Errorf("only %d of %d correct runs passed", passes, runs)
	}
	t.Logf("correct split: %d fails, %d passes, mean %d requests to pass", fails, passes, needed/int64(max(passes, 1)))
}

func TestSequentialCatchesWrongSplit(t *testing.T) {
	const runs = 500
	cfg := SequentialConfig{Shares: sharesOf([]int32{10, 10, 80}), Alpha: 0.001, Delta: 0.05, Beta: 0.05}
	fails := 0
	var needed int64
	for r := range runs {
		st := runSequential(t, cfg, []int32{20, 10, 70}, RunSeed(12, r))
		if st.Decision == Fail {
			fails++
			needed += st.N
		}
	}
	if fails < runs*99/100 {
		t.Errorf("a 10-point deviation failed only %d of %d runs", fails, runs)
	}
	t.Logf("20/10/70 against 10/10/80: %d of %d failed, mean %d requests", fails, runs, needed/int64(max(fails, 1)))
}

func TestSequentialFalsePassRate(t *testing.T) {
	// The 80% backend really gets 74%: off by 0.06 > Delta = 0.05. The
	// always-valid intervals let it pass with probability at most Beta.
	const runs, beta = 1000, 0.05
	cfg := SequentialConfig{Shares: sharesOf([]int32{10, 10, 80}), Alpha: 0.001, Delta: 0.05, Beta: beta, MaxN: 3000}
	passes := 0
	for r := range runs {
		if runSequential(t, cfg, []int32{16, 10, 74}, RunSeed(13, r)).Decision == Pass {
			passes++
		}
	}
	if rate := float64(passes) / runs; rate > beta+binomialSlack(beta, runs) {
		t.Errorf("false-pass rate %.4f exceeds beta %v", rate, beta)
	}
}

func TestSequentialImmediateFailures(t *testing.T) {
	cfg := SequentialConfig{Shares: []float64{0.7, 0.3, 0}, Alpha: 0.001, Delta: 0.05, Beta: 0.05}
	for _, tt := range []struct {
		name string
		cat  int
	}{{"weight 0", 2}, {"unexpected", -1}} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSequential(cfg)
			if err != nil {
				t.Fatal(err)
			}
			s.Observe(0)
			d, err := s.Observe(tt.cat)
			if err != nil || d != Fail || s.State().N != 2 {
				t.Errorf("decision %s after %d, err %v: want fail after 2", d, s.State().N, err)
			}
			if _, err := s.Observe(0); err == nil {
				t.Error("observing after a decision succeeded")
			}
		})
	}
	if _, err := NewSequential(SequentialConfig{Shares: []float64{0.5, 0.6}, Alpha: 0.01, Delta: 0.05, Beta: 0.05}); err == nil {
		t.Error("shares summing to 1.1 accepted")
	}
}

func TestConfidenceSequenceWidth(t *testing.T) {
	// The boundary is sqrt(2(V+ρ)(ln(k/β) + ½ ln((V+ρ)/ρ))): at V = ρ it is
	// sqrt(4ρ(ln(k/β) + ½ ln 2)).
	got := csHalfWidth(400, 100, 60)
	want := math.Sqrt(4 * 100 * (math.Log(60) + 0.5*math.Log(2)))
	if !near(got, want, 1e-12) {
		t.Errorf("half-width = %v, want %v", got, want)
	}
}
