package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/sim"
)

func simCommand() Command {
	return Command{Name: "sim", Short: "simulate the proxy's picker and measure a test's false-failure rate and power", Run: runSim}
}

const simSynopsis = `sim --weights W1,W2,... [--mode random|smooth] [--n N] [--runs R] [--seed S]
       [--alpha A] [--test-against W1,W2,...] [--json] [--plot FILE.png]

Draws R runs of N picks through the reference proxy's weighted picker (the
same code the proxy uses), tests each run against the weights (or against
--test-against) and reports how often the test rejects: under the simulated
split that is the false-failure rate (at most 1.1 alpha: the test is chosen
so), under a different split it is the power. Also reports the
Kolmogorov–Smirnov distance of the run p-values from uniform, the
false-failure rate that holds for the test used at this n, and the
noncentral chi-square prediction of power (none in smooth mode, whose picks
are deterministic). Run r uses a seed derived from (seed, r), so results
never depend on the core count.
SIGINT or SIGTERM stops a simulation within milliseconds, even inside a run.

Exit codes: 0 the simulation ran, 2 bad input (flags out of range), 3
interrupted by SIGINT or SIGTERM before it finished (no result is printed).`

const simExamples = `  # calibration: how often does a correct 10/10/80 split fail at alpha 0.001?
  splitproof sim --weights 10,10,80 --n 1000 --runs 10000 --seed 1
  # power: a gateway sending 12/10/78 tested against 10/10/80
  splitproof sim --weights 12,10,78 --test-against 10,10,80 --n 2000 --runs 10000 --alpha 0.05
  # smooth weighted round robin is exact at multiples of its period (p-value 1)
  splitproof sim --weights 80,20 --mode smooth --n 1000 --runs 10
  # p-value histogram and JSON for a report
  splitproof sim --weights 80,20 --n 500 --runs 10000 --plot pvalues.png --json`

func runSim(ctx context.Context, env *Env, args []string) error {
	fs := NewFlagSet(env, "sim", simSynopsis, simExamples)
	var weights, against weightList
	fs.Var(&weights, "weights", "comma-separated backend `WEIGHTS` to simulate, e.g. 10,10,80 (required)")
	mode := fs.String("mode", string(picker.Random), "pick mode: random (independent weighted draws) or smooth (nginx smooth weighted round robin)")
	n := fs.Int64("n", 1000, "picks per run")
	runs := fs.Int("runs", 10000, "number of runs")
	seed := fs.Uint64("seed", 1, "simulation seed; run r uses a seed derived from (seed, r)")
	alpha := fs.Float64("alpha", sim.DefaultAlpha, "level of each run's test (its nominal false-failure rate)")
	fs.Var(&against, "test-against", "comma-separated `WEIGHTS` to test against (default: --weights); different weights measure power")
	workers := fs.Int("workers", 0, "parallel workers (0: GOMAXPROCS); results do not depend on it")
	asJSON := fs.Bool("json", false, "print the result as JSON instead of text")
	plotPath := fs.String("plot", "", "write a histogram of the run p-values to this file (.png, .svg or .pdf)")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return BadInput(fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	switch {
	case *n <= 0 || *n > sim.MaxObservations:
		return BadInput(fmt.Errorf("--n %d: expected 1 to %d picks per run", *n, int64(sim.MaxObservations)))
	case *runs <= 0 || *runs > sim.MaxSimRuns:
		return BadInput(fmt.Errorf("--runs %d: expected 1 to %d runs", *runs, sim.MaxSimRuns))
	case !(*alpha > 0 && *alpha < 1):
		return BadInput(fmt.Errorf("--alpha %v: expected a test level strictly between 0 and 1, such as 0.001", *alpha))
	case *workers < 0:
		return BadInput(fmt.Errorf("--workers %d: expected 0 (one per CPU) or a positive number", *workers))
	}
	if len(weights) == 0 {
		return BadInput(errors.New("--weights is required, e.g. --weights 10,10,80"))
	}
	m, err := picker.ParseMode(*mode)
	if err != nil {
		return BadInput(fmt.Errorf("--mode: %w", err))
	}
	cfg := sim.SimConfig{Weights: weights, Mode: m, N: *n, Runs: *runs, Seed: *seed, TestAgainst: against, Alpha: *alpha, Workers: *workers}
	if float64(*n)*float64(*runs) >= 10_000_000 { // float: n*runs can overflow int64
		cfg.Progress = progressLine(env.Stderr)
		fmt.Fprintf(env.Stderr, "simulating %d runs of %d picks (SIGINT or SIGTERM stops it, with no result)\n", *runs, *n)
	}
	res, err := sim.Simulate(ctx, cfg, env.Logger)
	if cfg.Progress != nil {
		fmt.Fprintln(env.Stderr)
	}
	if err != nil {
		if ctx.Err() != nil {
			return Inconclusive(fmt.Errorf("interrupted before the simulation finished: no result (%w)", err))
		}
		return BadInput(err)
	}
	if *plotPath != "" {
		if err := res.Plot(*plotPath); err != nil {
			return BadInput(err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return res.WriteText(env.Stdout)
}

// progressLine returns a Progress callback that rewrites one stderr line at
// most once a second (workers call it concurrently).
func progressLine(w io.Writer) func(done, total int) {
	var mu sync.Mutex
	var last time.Time
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if done < total && time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		fmt.Fprintf(w, "\rsimulated %d of %d runs (%.0f%%)", done, total, 100*float64(done)/float64(total))
	}
}
