package sim

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/splitproof/splitproof/internal/splitmix"
	"github.com/splitproof/splitproof/refproxy/picker"
)

// Count makes n picks from p into counts (indexed like the picker's weights)
// and returns how many picks were picker.None. It is the simulator's hot loop.
func Count(p picker.Picker, n int64, counts []int64) (none int64) {
	for range n {
		if i := p.Pick(); i >= 0 {
			counts[i]++
		} else {
			none++
		}
	}
	return none
}

// cancelCheckPicks is how many picks the simulator makes between looks at
// its context: about a millisecond of work, so SIGINT ends even a run of
// 10^12 picks at once, at no measurable cost to the hot loop.
const cancelCheckPicks = 1 << 16

// countContext is Count in slices of cancelCheckPicks, stopping early (and
// returning false) when ctx ends.
func countContext(ctx context.Context, p picker.Picker, n int64, counts []int64) bool {
	for left := n; left > 0; left -= cancelCheckPicks {
		if ctx.Err() != nil {
			return false
		}
		Count(p, min(left, cancelCheckPicks), counts)
	}
	return ctx.Err() == nil
}

// RunSeed derives run r's picker seed from the simulation seed, so a run's
// picks depend on (seed, r) only: not on the worker that ran it or on GOMAXPROCS.
func RunSeed(seed uint64, r int) uint64 {
	return splitmix.Mix(seed ^ splitmix.Mix(uint64(r)+splitmix.Gamma))
}

// MaxSimRuns bounds a simulation's runs: each keeps its p-value, method and
// exactness in memory (25 bytes, so 250 MB at the bound), and 10^7 runs
// already pin a rejection rate near 0.001 to about ±0.00003.
const MaxSimRuns = 10_000_000

// SimConfig describes a simulation: Runs independent runs of N picks each
// through the proxy's picker, each tested against TestAgainst.
type SimConfig struct {
	Weights []int32
	Mode    picker.Mode
	N       int64
	Runs    int
	Seed    uint64
	// TestAgainst are the weights the counts are tested against (nil: Weights).
	// Testing against other weights than those simulated measures power.
	TestAgainst []int32
	Alpha       float64
	// Workers bounds parallelism (0: GOMAXPROCS); results do not depend on it.
	Workers int
	// Test tunes the per-run goodness-of-fit test.
	Test TestOptions
	// Progress, if set, is called with the number of finished runs now and then.
	Progress func(done, total int)
}

// SimResult summarises a simulation.
type SimResult struct {
	Weights     []int32 `json:"weights"`
	TestAgainst []int32 `json:"test_against"`
	Mode        string  `json:"mode"`
	N           int64   `json:"n"`
	Runs        int     `json:"runs"`
	Seed        uint64  `json:"seed"`
	Alpha       float64 `json:"alpha"`
	// Methods counts the runs by the test method used.
	Methods map[Method]int `json:"methods"`
	// Rejections is the number of runs with p-value < Alpha (or a hit on a weight-0 category).
	Rejections    int      `json:"rejections"`
	RejectionRate float64  `json:"rejection_rate"`
	RateInterval  Interval `json:"rejection_rate_interval_99"`
	// KS is the Kolmogorov–Smirnov distance of the p-values from
	// Uniform(0,1). It is no test: p-values of discrete counts are not
	// uniform even when nothing is wrong (0.11 at n = 50 for 10/10/80).
	KS float64 `json:"ks_distance"`
	// KSNull is the distance from the p-values' exact distribution under
	// the tested split (random mode, simulated split = tested split, at
	// most maxKSNullOutcomes outcomes; -1 otherwise): when the test is right
	// it is sampling noise alone, below KSBound99 with probability 99%.
	KSNull    float64 `json:"ks_distance_null"`
	KSBound99 float64 `json:"ks_bound_99"`
	// TheoryPower is the noncentral chi-square prediction of RejectionRate
	// (Alpha when the split tested is the one simulated); 0 in smooth mode,
	// whose deterministic counts no multinomial power describes.
	TheoryPower   float64 `json:"theory_rejection_rate"`
	Noncentrality float64 `json:"noncentrality"`
	// ExactRuns counts runs whose counts equal N*w/sum exactly (smooth mode at
	// a multiple of its period; such a run has p-value 1).
	ExactRuns int `json:"exact_runs"`
	// Rule is the test every run used and Pearson's exact false-failure rate
	// at this n (the figure that chose it).
	Rule Rule `json:"rule"`
	// Period is the smooth-mode period of Weights.
	Period  uint64    `json:"period"`
	PValues []float64 `json:"-"`
}

// Simulate runs cfg. The logger receives one summary line.
func Simulate(ctx context.Context, cfg SimConfig, log *slog.Logger) (SimResult, error) {
	if cfg.TestAgainst == nil {
		cfg.TestAgainst = cfg.Weights
	}
	if err := picker.Validate(cfg.Weights); err != nil {
		return SimResult{}, fmt.Errorf("simulated weights: %w", err)
	}
	if err := picker.Validate(cfg.TestAgainst); err != nil {
		return SimResult{}, fmt.Errorf("tested weights: %w", err)
	}
	if len(cfg.TestAgainst) != len(cfg.Weights) {
		return SimResult{}, fmt.Errorf("tested weights have %d entries, simulated weights %d", len(cfg.TestAgainst), len(cfg.Weights))
	}
	if picker.Total(cfg.Weights) == 0 || picker.Total(cfg.TestAgainst) == 0 {
		return SimResult{}, fmt.Errorf("all weights are zero: nothing to pick or test")
	}
	if cfg.N <= 0 || cfg.N > MaxObservations {
		return SimResult{}, fmt.Errorf("n is %d, expected 1 to %d picks per run", cfg.N, int64(MaxObservations))
	}
	if cfg.Runs <= 0 || cfg.Runs > MaxSimRuns {
		return SimResult{}, fmt.Errorf("runs is %d, expected 1 to %d", cfg.Runs, MaxSimRuns)
	}
	if cfg.Workers < 0 {
		return SimResult{}, fmt.Errorf("workers is %d, expected 0 (one per CPU) or more", cfg.Workers)
	}
	if !(cfg.Alpha > 0 && cfg.Alpha < 1) {
		return SimResult{}, fmt.Errorf("alpha %v out of range (0,1)", cfg.Alpha)
	}
	if _, err := picker.New(cfg.Mode, cfg.Weights, 0); err != nil {
		return SimResult{}, err
	}
	// Categories with tested weight 0 leave the fit; a pick there rejects the run.
	var keep []int
	for i, w := range cfg.TestAgainst {
		if w > 0 {
			keep = append(keep, i)
		}
	}
	shares := make([]float64, len(keep))
	all := picker.Shares(cfg.TestAgainst)
	for j, i := range keep {
		shares[j] = all[i]
	}
	res := SimResult{
		Weights: cfg.Weights, TestAgainst: cfg.TestAgainst, Mode: string(cfg.Mode), N: cfg.N, Runs: cfg.Runs,
		Seed: cfg.Seed, Alpha: cfg.Alpha, Methods: map[Method]int{}, Period: picker.Period(cfg.Weights),
		PValues: make([]float64, cfg.Runs),
	}
	methods := make([]Method, cfg.Runs)
	exact := make([]bool, cfg.Runs)
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, cfg.Runs)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	simShares := picker.Shares(cfg.Weights)
	// Every run has the same n and split, so the test is chosen once.
	testOpts := cfg.Test
	testOpts.Alpha = cfg.Alpha
	rule := ChooseRule(shares, cfg.N, cfg.Alpha, testOpts)
	testOpts.rule = &rule
	res.Rule = rule
	// An enumerated exact test gives the same p-value to the same counts:
	// with few outcomes (small n) remember them, so 10^5 runs cost no more
	// than the outcomes they hit.
	memo := &pvalueMemo{on: rule.Method == MethodExact && Outcomes(cfg.N, len(keep)) <= maxMemoOutcomes}
	for w := range workers {
		wg.Go(func() {
			counts := make([]int64, len(cfg.Weights))
			kept := make([]int64, len(keep))
			for {
				r := int(next.Add(1) - 1)
				if r >= cfg.Runs || ctx.Err() != nil {
					return
				}
				clear(counts)
				pk, _ := picker.New(cfg.Mode, cfg.Weights, RunSeed(cfg.Seed, r))
				if !countContext(ctx, pk, cfg.N, counts) {
					return
				}
				exact[r] = true
				zeroHit := false
				for i, c := range counts {
					if float64(c) != float64(cfg.N)*simShares[i] {
						exact[r] = false
					}
					if cfg.TestAgainst[i] == 0 && c > 0 {
						zeroHit = true
					}
				}
				for j, i := range keep {
					kept[j] = counts[i]
				}
				pv, method, err := memo.test(kept, func() (GOF, error) {
					opts := testOpts
					opts.Seed = RunSeed(cfg.Seed^0xa5a5a5a5a5a5a5a5, r)
					return Test(kept, shares, opts)
				})
				if err != nil {
					errs[w] = fmt.Errorf("run %d: %w", r, err)
					return
				}
				res.PValues[r], methods[r] = pv, method
				if zeroHit {
					res.PValues[r] = 0
				}
				if d := done.Add(1); cfg.Progress != nil && d%int64(max(1, cfg.Runs/100)) == 0 {
					cfg.Progress(int(d), cfg.Runs)
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return SimResult{}, err
	}
	for _, err := range errs {
		if err != nil {
			return SimResult{}, err
		}
	}
	for r, pv := range res.PValues {
		res.Methods[methods[r]]++
		if pv < cfg.Alpha {
			res.Rejections++
		}
		if exact[r] {
			res.ExactRuns++
		}
	}
	res.RejectionRate = float64(res.Rejections) / float64(cfg.Runs)
	res.RateInterval = Wilson(int64(res.Rejections), int64(cfg.Runs), 0.99)
	res.KS = KSUniform(res.PValues)
	res.KSNull, res.KSBound99 = -1, KSBound99(cfg.Runs)
	if cfg.Mode == picker.Random && slices.Equal(picker.Shares(cfg.Weights), all) {
		// A correct split in random mode: compare the p-values with their
		// exact distribution, which discreteness keeps away from uniform.
		if pv, cum, err := nullPValues(shares, cfg.N, rule, maxKSNullOutcomes); err == nil {
			res.KSNull = KSFromNull(res.PValues, pv, cum)
		}
	}
	res.TheoryPower = cfg.Alpha
	simKept := make([]float64, len(keep))
	var lost float64
	for j, i := range keep {
		simKept[j] = simShares[i]
		lost += simShares[i]
	}
	switch {
	case cfg.Mode == picker.Smooth:
		// Smooth picks are deterministic: no multinomial power applies.
		res.TheoryPower = 0
	case lost < 1-1e-12:
		res.TheoryPower = 1 - math.Pow(lost, float64(cfg.N)) // any pick on a tested weight-0 category rejects
	case len(keep) < 2:
		res.TheoryPower = 0 // one category takes every pick: nothing can be rejected
	default:
		res.Noncentrality = Noncentrality(shares, simKept, cfg.N)
		res.TheoryPower = PowerAt(len(keep)-1, cfg.Alpha, res.Noncentrality)
	}
	log.Debug("simulation done", "mode", cfg.Mode, "n", cfg.N, "runs", cfg.Runs, "rejections", res.Rejections, "ks", res.KS)
	return res, nil
}

// KSUniform returns the Kolmogorov–Smirnov distance between the empirical
// distribution of ps and Uniform(0,1).
func KSUniform(ps []float64) float64 {
	s := slices.Clone(ps)
	slices.Sort(s)
	n := float64(len(s))
	d := 0.0
	for i, p := range s {
		d = math.Max(d, math.Max(float64(i+1)/n-p, p-float64(i)/n))
	}
	return d
}

// maxKSNullOutcomes bounds the outcomes enumerated for KSNull (under a second).
const maxKSNullOutcomes = 1_000_000

// maxMemoOutcomes bounds the outcomes whose p-values a simulation remembers.
const maxMemoOutcomes = 200_000

// pvalueMemo remembers the p-values of an enumerated exact test by counts.
type pvalueMemo struct {
	on bool
	m  sync.Map // string(counts) -> GOF
}

func (pm *pvalueMemo) test(counts []int64, run func() (GOF, error)) (float64, Method, error) {
	if !pm.on {
		g, err := run()
		return g.PValue, g.Method, err
	}
	key := make([]byte, 0, 8*len(counts))
	for _, c := range counts {
		key = binary.AppendVarint(key, c)
	}
	if g, ok := pm.m.Load(string(key)); ok {
		return g.(GOF).PValue, g.(GOF).Method, nil
	}
	g, err := run()
	if err == nil {
		pm.m.Store(string(key), g)
	}
	return g.PValue, g.Method, err
}
