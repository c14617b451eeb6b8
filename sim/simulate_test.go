package sim

import (
	"context"
	"io"
	"log/slog"
	"math"
	"slices"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// MustSimulate runs Simulate and fails the test on error.
func MustSimulate(t *testing.T, cfg SimConfig) SimResult {
	t.Helper()
	res, err := Simulate(context.Background(), cfg, discard())
	if err != nil {
		t.Fatalf("simulate %+v: %v", cfg, err)
	}
	return res
}

// binomialSlack is 4.5 standard deviations of a rejection rate over runs:
// a correct implementation strays further with probability below 1e-5, and
// the seeds are fixed, so these tests cannot flake.
func binomialSlack(rate float64, runs int) float64 {
	return 4.5 * math.Sqrt(rate*(1-rate)/float64(runs))
}

func TestCalibrationRandomMode(t *testing.T) {
	// Correct split: the rejection rate must match the Pearson test's exact
	// false-failure rate at this n (computed by enumeration) within binomial
	// bounds, and that rate must be close to the nominal alpha.
	w := []int32{10, 10, 80}
	const runs, n, alpha = 10_000, 2000, 0.05
	res := MustSimulate(t, SimConfig{Weights: w, Mode: picker.Random, N: n, Runs: runs, Seed: 1, Alpha: alpha})
	size, err := RejectionProbability(sharesOf(w), sharesOf(w), n, alpha, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(res.RejectionRate - size); d > binomialSlack(size, runs) {
		t.Errorf("rejection rate %.4f, exact size %.4f: off by %.4f > %.4f", res.RejectionRate, size, d, binomialSlack(size, runs))
	}
	if math.Abs(size-alpha) > 0.005 {
		t.Errorf("exact size %.4f far from alpha %v", size, alpha)
	}
	// DKW bounds the sampling part: P(KS > 0.0195) <= 2 exp(-2·10⁴·0.0195²)
	// = 1e-3 for continuous p-values. The statistic is discrete (counts),
	// which adds about 0.005 at n = 2000 for three categories (more for two:
	// fewer distinct values), hence 0.025.
	if res.KS > 0.025 {
		t.Errorf("KS distance of p-values from uniform = %.4f, want <= 0.025", res.KS)
	}
	if res.Methods[MethodPearson] != runs {
		t.Errorf("methods = %v, want Pearson for every run (expected counts >= 200)", res.Methods)
	}
}

func TestPowerRandomMode(t *testing.T) {
	// Wrong split: simulate 12/10/78 and test against 10/10/80. The rejection
	// rate must match the exact (enumerated) power within binomial bounds and
	// the noncentral chi-square theory within 0.03 (its approximation error
	// at this n; λ = 2000 · (0.02²/0.1 + 0.02²/0.8) = 9).
	test, truth := []int32{10, 10, 80}, []int32{12, 10, 78}
	const runs, n, alpha = 10_000, 2000, 0.05
	res := MustSimulate(t, SimConfig{Weights: truth, TestAgainst: test, Mode: picker.Random, N: n, Runs: runs, Seed: 2, Alpha: alpha})
	exact, err := RejectionProbability(sharesOf(test), sharesOf(truth), n, alpha, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(res.RejectionRate - exact); d > binomialSlack(exact, runs) {
		t.Errorf("rejection rate %.4f, exact power %.4f: off by %.4f", res.RejectionRate, exact, d)
	}
	if !near(res.Noncentrality, 9, 1e-9) || math.Abs(res.TheoryPower-res.RejectionRate) > 0.03 {
		t.Errorf("theory power %.4f (λ=%v) vs simulated %.4f", res.TheoryPower, res.Noncentrality, res.RejectionRate)
	}
}

func TestSmoothModeIsExact(t *testing.T) {
	w := []int32{10, 10, 80} // period 10
	res := MustSimulate(t, SimConfig{Weights: w, Mode: picker.Smooth, N: 1000, Runs: 20, Seed: 1, Alpha: 0.001})
	if res.Period != 10 || res.ExactRuns != 20 || res.Rejections != 0 {
		t.Errorf("period %d, exact runs %d, rejections %d: want 10, 20, 0", res.Period, res.ExactRuns, res.Rejections)
	}
	for _, p := range res.PValues {
		if p != 1 {
			t.Fatalf("smooth mode at a multiple of the period: p = %v, want 1", p)
		}
	}
	off := MustSimulate(t, SimConfig{Weights: w, Mode: picker.Smooth, N: 1005, Runs: 1, Seed: 1, Alpha: 0.001})
	if off.ExactRuns != 0 {
		t.Errorf("n = 1005 is not a multiple of the period, yet counts were exact")
	}
}

func TestSimulateDeterministicAcrossWorkers(t *testing.T) {
	cfg := SimConfig{Weights: []int32{80, 20}, Mode: picker.Random, N: 300, Runs: 200, Seed: 9, Alpha: 0.01}
	cfg.Workers = 1
	a := MustSimulate(t, cfg)
	cfg.Workers = 4
	b := MustSimulate(t, cfg)
	if !slices.Equal(a.PValues, b.PValues) {
		t.Error("p-values depend on the number of workers")
	}
	cfg.Seed = 10
	c := MustSimulate(t, cfg)
	if slices.Equal(a.PValues, c.PValues) {
		t.Error("p-values do not depend on the seed")
	}
}

func TestSimulateZeroWeight(t *testing.T) {
	// Testing against a weight-0 backend that really receives traffic: every
	// run with a hit there is rejected, whatever its chi-square says.
	res := MustSimulate(t, SimConfig{Weights: []int32{70, 30, 1}, TestAgainst: []int32{70, 30, 0}, Mode: picker.Random, N: 500, Runs: 500, Seed: 4, Alpha: 0.001})
	want := 1 - math.Pow(100.0/101, 500)
	if d := math.Abs(res.RejectionRate - want); d > binomialSlack(want, 500)+0.002 {
		t.Errorf("rejection rate %.4f, want about %.4f", res.RejectionRate, want)
	}
	// A weight-0 backend in the simulated split is never picked.
	ok := MustSimulate(t, SimConfig{Weights: []int32{70, 30, 0}, Mode: picker.Random, N: 500, Runs: 50, Seed: 4, Alpha: 0.001})
	if ok.Rejections > 1 {
		t.Errorf("correct 70/30/0 split rejected %d of 50 times", ok.Rejections)
	}
}

func TestSimulateBadInput(t *testing.T) {
	for _, cfg := range []SimConfig{
		{Weights: []int32{1, 2}, TestAgainst: []int32{1}, Mode: picker.Random, N: 10, Runs: 1, Alpha: 0.1},
		{Weights: []int32{0, 0}, Mode: picker.Random, N: 10, Runs: 1, Alpha: 0.1},
		{Weights: []int32{1, -2}, Mode: picker.Random, N: 10, Runs: 1, Alpha: 0.1},
		{Weights: []int32{1, 2}, Mode: "roundrobin", N: 10, Runs: 1, Alpha: 0.1},
		{Weights: []int32{1, 2}, Mode: picker.Random, N: 0, Runs: 1, Alpha: 0.1},
		{Weights: []int32{1, 2}, Mode: picker.Random, N: 10, Runs: 1, Alpha: 1},
	} {
		if _, err := Simulate(context.Background(), cfg, discard()); err == nil {
			t.Errorf("Simulate(%+v) succeeded, want an error", cfg)
		}
	}
}

func TestRejectionProbabilityBinomial(t *testing.T) {
	// k = 2, n = 20, p = 1/2: X² = (x-10)²/5 >= 3.8415 iff |x-10| >= 5,
	// so the size is 2·P(Bin(20,1/2) <= 5) = 2·21700/2²⁰ = 0.041389...
	got, err := RejectionProbability([]float64{0.5, 0.5}, []float64{0.5, 0.5}, 20, 0.05, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * 21700.0 / (1 << 20); !near(got, want, 1e-12) {
		t.Errorf("size = %.15g, want %.15g", got, want)
	}
}

func TestKSUniform(t *testing.T) {
	if got := KSUniform([]float64{0.25, 0.75}); !near(got, 0.25, 1e-15) {
		t.Errorf("KS = %v, want 0.25", got)
	}
	if got := KSUniform([]float64{1, 1, 1}); !near(got, 1, 1e-15) {
		t.Errorf("KS = %v, want 1", got)
	}
}

// BenchmarkCountRandom measures the simulator's hot loop through the proxy's
// random picker; 10^8 picks take 10^8 × ns/op.
func BenchmarkCountRandom(b *testing.B) {
	p := picker.MustNew(picker.Random, []int32{10, 10, 80}, 1)
	counts := make([]int64, 3)
	b.ResetTimer()
	Count(p, int64(b.N), counts)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*1e8/1e9, "s/1e8picks")
}

// BenchmarkCountSmooth is the same through smooth weighted round robin.
func BenchmarkCountSmooth(b *testing.B) {
	p := picker.MustNew(picker.Smooth, []int32{10, 10, 80}, 1)
	counts := make([]int64, 3)
	b.ResetTimer()
	Count(p, int64(b.N), counts)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*1e8/1e9, "s/1e8picks")
}

// BenchmarkSimulate1e8 simulates and tests 10^8 random picks (one run) per op.
func BenchmarkSimulate1e8(b *testing.B) {
	for b.Loop() {
		res, err := Simulate(context.Background(), SimConfig{Weights: []int32{10, 10, 80}, Mode: picker.Random, N: 1e8, Runs: 1, Seed: 1, Alpha: 0.001, Workers: 1}, discard())
		if err != nil {
			b.Fatal(err)
		}
		if res.Runs != 1 {
			b.Fatal("no run")
		}
	}
}
