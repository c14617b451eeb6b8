// Command benchpeers measures the doc's traffic-split route served by
// nginx, HAProxy, Caddy and refproxy (both pick modes), and by backend v1
// alone, under the same closed-loop load: N keep-alive connections, each
// sending GET /hello for traffic.split.example one request at a time, for
// a fixed time after a warm-up, in a few rounds over all targets. Each gateway is pinned to one core
// (taskset) with one worker, thread or P; the load generator and the three
// helloworld backends run in this process, which ci/bench-peers.sh pins to
// another core. It prints req/s, answers per CPU-second of the gateway
// (which other load on the machine does not skew: a gateway that loses its
// core for a while serves fewer requests but also uses less CPU), how busy
// the gateway's core and the load side were, p50 and p99 latency, each
// figure also as a ratio to nginx's, and the split the answers showed,
// then a line for splitproof's own replayer against nginx beside the load
// generator (replayer.go), and writes the same as JSON.
//
// Everything listens and connects on 127.0.0.1; every gateway is a child
// process stopped by its PID. The gateways' configurations come from
// conformance/peers' templates (nginx smooth weighted round robin,
// HAProxy roundrobin, Caddy weighted_round_robin) and from
// testdata/refproxy.yaml.tmpl.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/splitproof/splitproof/conformance/peers"
)

// MaxDuration bounds one measurement (one target, one round).
const MaxDuration = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-peers:", err)
		os.Exit(1)
	}
}

// Options are the command line's settings.
type Options struct {
	Conns            int
	Rounds           int
	Warmup, Duration time.Duration
	Weights          []int
	CPU              int
	Splitproof       string
	JSON             string
	Targets          []string
	// Replayer adds the replayer's line (replayer.go) when nginx is a target.
	Replayer bool
}

// ParseOptions reads the flags.
func ParseOptions(args []string, stderr io.Writer) (Options, error) {
	fs := flag.NewFlagSet("benchpeers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var weights, targets string
	fs.IntVar(&o.Conns, "connections", 32, "keep-alive connections, each with one request in flight")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds over every target, each gateway started afresh; a row shows the median round")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "load before measuring, not counted")
	fs.DurationVar(&o.Duration, "duration", 3*time.Second, "measuring time per target and round (at most 10s)")
	fs.StringVar(&weights, "weights", "10,10,80", "weights of helloworld v1,v2,v3")
	fs.IntVar(&o.CPU, "gateway-cpu", 0, "core the gateways are pinned to (run this program on another one)")
	fs.StringVar(&o.Splitproof, "splitproof", "bin/splitproof", "splitproof binary that runs refproxy")
	fs.StringVar(&o.JSON, "json", "out/bench-peers.json", `JSON report path ("" for none)`)
	fs.BoolVar(&o.Replayer, "replayer", true, "also measure splitproof's replayer against nginx (--connections workers, keep-alive) beside the load generator, and print the ratio")
	fs.StringVar(&targets, "targets", strings.Join(targetNames(), ","), "targets to measure, in order")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.Conns < 1:
		return o, fmt.Errorf("--connections %d: need at least 1", o.Conns)
	case o.Rounds < 1:
		return o, fmt.Errorf("--rounds %d: need at least 1", o.Rounds)
	case o.Duration <= 0 || o.Duration > MaxDuration:
		return o, fmt.Errorf("--duration %s: must be in (0, %s]", o.Duration, MaxDuration)
	case o.Warmup < 0 || o.Warmup > MaxDuration:
		return o, fmt.Errorf("--warmup %s: must be in [0, %s]", o.Warmup, MaxDuration)
	}
	for i, w := range strings.Split(weights, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n <= 0 {
			return o, fmt.Errorf("--weights %q: weight %d (%q) is not a positive integer", weights, i+1, w)
		}
		o.Weights = append(o.Weights, n)
	}
	if len(o.Weights) != 3 {
		return o, fmt.Errorf("--weights %q: need three, for helloworld v1, v2 and v3", weights)
	}
	known := targetNames()
	for _, t := range strings.Split(targets, ",") {
		if t = strings.TrimSpace(t); !slices.Contains(known, t) {
			return o, fmt.Errorf("--targets: unknown target %q (known: %s)", t, strings.Join(known, ", "))
		}
		o.Targets = append(o.Targets, t)
	}
	return o, nil
}

func targetNames() []string {
	var names []string
	for _, t := range Targets() {
		names = append(names, t.Name)
	}
	return names
}

// Run measures every target in turn and reports. A target that fails to
// start, or whose load saw errors, fails the run after the report.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	o, err := ParseOptions(args, stderr)
	if err != nil {
		return err
	}
	b, err := StartBackends(o.Weights)
	if err != nil {
		return err
	}
	defer b.Stop()
	env := Env{CPU: o.CPU, Splitproof: o.Splitproof, Getenv: getenv}
	rep := Report{Connections: o.Conns, Rounds: o.Rounds, Warmup: o.Warmup.String(), Duration: o.Duration.String(), GatewayCPU: o.CPU, Weights: o.Weights}
	var targets []Target
	for _, t := range Targets() {
		if slices.Contains(o.Targets, t.Name) {
			targets = append(targets, t)
		}
	}
	// Rounds go over every target in turn, so that a burst of load from
	// elsewhere on the machine hits one round of each rather than all
	// rounds of one target; the median round then leaves it out.
	rounds := make([][]Measurement, len(targets))
	var failures []error
	for round := 1; round <= o.Rounds; round++ {
		for i, t := range targets {
			fmt.Fprintf(stderr, "round %d/%d: %s (%s warm-up, %s)\n", round, o.Rounds, t.Name, o.Warmup, o.Duration)
			m, err := measure(ctx, t, env, b, o)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				failures = append(failures, fmt.Errorf("round %d: %w", round, err))
				continue
			}
			if m.Errors > 0 || m.Requests == 0 {
				failures = append(failures, fmt.Errorf("round %d: %s: %d errors, %d answers (first error: %s)", round, t.Name, m.Errors, m.Requests, m.FirstError))
			}
			rounds[i] = append(rounds[i], m)
		}
	}
	for i, t := range targets {
		if len(rounds[i]) == 0 {
			continue
		}
		rep.Results = append(rep.Results, Result{Target: t.Name, Gateway: t.Gateway, Algorithm: t.Algorithm,
			Measurement: Median(rounds[i]), Rounds: rounds[i]})
	}
	rep.relate()
	if i := slices.IndexFunc(targets, func(t Target) bool { return t.Name == "nginx" }); o.Replayer && i >= 0 {
		r, err := measureReplayer(ctx, targets[i], env, b, o, stderr)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			failures = append(failures, err)
		}
		rep.Replayer = r
	}
	if err := WriteTable(stdout, rep); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if o.JSON != "" {
		if err := writeJSON(o.JSON, rep); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", o.JSON)
	}
	return errors.Join(failures...)
}

// measure starts t, loads it and stops it.
func measure(ctx context.Context, t Target, env Env, b *Backends, o Options) (Measurement, error) {
	var m Measurement
	err := measureThen(ctx, t, env, b, o, func(_ string, got Measurement) error {
		m = got
		return nil
	})
	return m, err
}

// measureThen starts t, loads it with the load generator, and hands its
// address and the measurement to then before stopping it.
func measureThen(ctx context.Context, t Target, env Env, b *Backends, o Options, then func(addr string, m Measurement) error) error {
	dir, err := os.MkdirTemp("", "bench-peers-*")
	if err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	defer os.RemoveAll(dir)
	addr, pid, stop, err := t.Start(ctx, env, b, dir)
	if err != nil {
		return err
	}
	defer stop()
	l := Load{Addr: addr, Host: peers.Host, Path: "/hello", Conns: o.Conns, Warmup: o.Warmup, Duration: o.Duration, Classify: b.Classify}
	if pid != 0 {
		l.CPU = func() (time.Duration, error) { return ProcessCPU(pid) }
	}
	self := os.Getpid()
	l.LoadCPU = func() (time.Duration, error) { return ProcessCPU(self) }
	m, err := Measure(ctx, l)
	if err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	return then(addr, m)
}

// writeJSON writes rep to path, creating its directory.
func writeJSON(path string, rep Report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("json report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("json report %s: %w", path, err)
	}
	return nil
}
