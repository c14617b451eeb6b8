package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/replay"
)

// The replayer's line: splitproof's own replay path (the doc's curl loop
// interpreted, every answer classified and recorded) against nginx, beside
// the load generator's closed loop on the same nginx, started once for
// both. The replayer runs in this process, on the load generator's core,
// with as many workers as the load generator has connections and
// --connections reuse (one keep-alive connection per worker, as the load
// generator keeps): the same traffic, so the ratio is what the replay
// path costs over a bare HTTP client. The doc's own default, a new
// connection per curl command, measures connection setup instead.
const (
	replayerScenario = "example1-ab-testing"
	replayerSnippet  = "port-forward"
	// replayerMinRequests bounds a round's replay from below, so that a
	// slow gateway still gives a measurement longer than its setup.
	replayerMinRequests = 1000
	// replayerWarmup requests run before each timed replay, not counted:
	// the connections are dialled and the code paths warm.
	replayerWarmup = 500
)

// ReplayerRound is one round of the replayer's line.
type ReplayerRound struct {
	// LoadGen is the load generator's measurement of this round.
	LoadGen Measurement `json:"loadgen"`
	// Requests the replay sent, Seconds from its first request's send to
	// its last answer, ReqPerS their ratio.
	Requests int     `json:"requests"`
	Seconds  float64 `json:"seconds"`
	ReqPerS  float64 `json:"req_per_s"`
	// LoadCPUSeconds is this process's CPU time during the replay (the
	// replayer and the backends): near Seconds, the load core was
	// saturated and the replayer, not nginx, was the bound.
	LoadCPUSeconds float64 `json:"load_cpu_s"`
	// Outcome is the replay's verdict on the split.
	Outcome string `json:"outcome"`
	// Ratio is ReqPerS over the load generator's req/s.
	Ratio float64 `json:"ratio"`
}

// ReplayerResult is the replayer's line over every round.
type ReplayerResult struct {
	Target      string `json:"target"`
	Concurrency int    `json:"concurrency"`
	Connections string `json:"connections"`
	// ReqPerS and LoadGenReqPerS are the medians of the rounds', Ratio the
	// median of the per-round ratios.
	ReqPerS        float64         `json:"req_per_s"`
	LoadGenReqPerS float64         `json:"loadgen_req_per_s"`
	Ratio          float64         `json:"ratio"`
	Rounds         []ReplayerRound `json:"rounds"`
}

// ReplayerGoal is the ratio the replayer is expected to reach.
const ReplayerGoal = 0.8

// measureReplayer runs o.Rounds rounds of the replayer's line against t.
func measureReplayer(ctx context.Context, t Target, env Env, b *Backends, o Options, stderr io.Writer) (*ReplayerResult, error) {
	res := &ReplayerResult{Target: t.Name, Concurrency: o.Conns, Connections: "reuse"}
	var rps, lg, ratios []float64
	for round := 1; round <= o.Rounds; round++ {
		fmt.Fprintf(stderr, "replayer round %d/%d: %s, load generator then replay --concurrency %d --connections reuse\n", round, o.Rounds, t.Name, o.Conns)
		r, err := replayerRound(ctx, t, env, b, o)
		if err != nil {
			return nil, fmt.Errorf("replayer round %d: %w", round, err)
		}
		res.Rounds = append(res.Rounds, r)
		rps, lg, ratios = append(rps, r.ReqPerS), append(lg, r.LoadGen.ReqPerS), append(ratios, r.Ratio)
	}
	res.ReqPerS, res.LoadGenReqPerS, res.Ratio = median(rps), median(lg), median(ratios)
	return res, nil
}

// replayerRound starts t once, measures it with the load generator, then
// replays as many requests as the load generator answered in its window.
func replayerRound(ctx context.Context, t Target, env Env, b *Backends, o Options) (ReplayerRound, error) {
	var r ReplayerRound
	err := measureThen(ctx, t, env, b, o, func(addr string, m Measurement) error {
		if m.Errors > 0 || m.Requests == 0 {
			return fmt.Errorf("%s: load generator: %d errors, %d answers (first error: %s)", t.Name, m.Errors, m.Requests, m.FirstError)
		}
		r = ReplayerRound{LoadGen: m, Requests: max(m.Requests, replayerMinRequests)}
		rep, cpu, err := ReplayOnce(ctx, addr, o.Weights, o.Conns, r.Requests)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		r.Seconds, r.LoadCPUSeconds, r.Outcome = replaySeconds(rep), cpu.Seconds(), string(rep.Outcome())
		if r.Seconds <= 0 {
			return fmt.Errorf("%s: the replay recorded no time", t.Name)
		}
		r.ReqPerS = float64(rep.Requests) / r.Seconds
		r.Ratio = r.ReqPerS / m.ReqPerS
		return nil
	})
	if err != nil {
		return ReplayerRound{}, err
	}
	return r, nil
}

// ReplayOnce replays Example 1's port-forward snippet against the gateway
// at addr, n requests (fixed-n) after a warm-up, with workers workers and
// keep-alive connections, and returns the timed replay's report and the
// CPU time this process used during it.
func ReplayOnce(ctx context.Context, addr string, weights []int, workers, n int) (*replay.Report, time.Duration, error) {
	s, err := scenarios.Find(replayerScenario)
	if err != nil {
		return nil, 0, err
	}
	ep, err := replay.AddressEndpoint("http://"+addr, "")
	if err != nil {
		return nil, 0, err
	}
	opts := replay.Options{Snippet: replayerSnippet, Concurrency: workers, ReuseConnections: true,
		Weights: map[string]int32{"v1": int32(weights[0]), "v2": int32(weights[1]), "v3": int32(weights[2])}}
	warm := opts
	warm.Requests = replayerWarmup
	if _, err := replay.Run(ctx, s, ep, warm); err != nil {
		return nil, 0, fmt.Errorf("warm-up replay: %w", err)
	}
	self := os.Getpid()
	before, err := ProcessCPU(self)
	if err != nil {
		return nil, 0, err
	}
	opts.Requests = n
	rep, err := replay.Run(ctx, s, ep, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("replay: %w", err)
	}
	after, err := ProcessCPU(self)
	if err != nil {
		return nil, 0, err
	}
	return rep, after - before, nil
}

// replaySeconds is the time from the replay's first send to its last
// answer: the requests alone, not the verdict computed after them.
func replaySeconds(rep *replay.Report) float64 {
	if rep.Sequence.Len() == 0 {
		return 0
	}
	first, last := rep.Sequence.At(0).Sent, time.Duration(0)
	for _, req := range rep.Sequence.All() {
		first, last = min(first, req.Sent), max(last, req.Received)
	}
	return (last - first).Seconds()
}

// writeReplayer writes the replayer's line under the table.
func writeReplayer(w io.Writer, r *ReplayerResult) error {
	goal := "goal met"
	if r.Ratio < ReplayerGoal {
		goal = "goal missed"
	}
	outcomes := make([]string, len(r.Rounds))
	for i, x := range r.Rounds {
		outcomes[i] = x.Outcome
	}
	_, err := fmt.Fprintf(w, "replayer on %s: %.0f req/s with --concurrency %d --connections %s, %.2f× the load generator's %.0f req/s at %d connections (median of %d rounds; goal ≥ %.1f×: %s; verdicts %s)\n",
		r.Target, r.ReqPerS, r.Concurrency, r.Connections, r.Ratio, r.LoadGenReqPerS, r.Concurrency, len(r.Rounds), ReplayerGoal, goal, strings.Join(outcomes, ", "))
	return err
}
