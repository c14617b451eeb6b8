package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/splitproof/splitproof/conformance/weights"
	"github.com/splitproof/splitproof/scenarios/replay"
)

func suiteCommand() Command {
	return Command{Name: "suite", Short: "run a test suite against a target: weights (weight semantics beyond upstream conformance)", Run: runSuite}
}

const suiteSynopsis = `suite weights [--case NAME ...] [--dynamic [--repeats N] [--poll-interval D]] [--seed S] [--all-zero-status 500|503]
              [--gateway URL [--port-forward HOST:PORT]] [--json] [--junit FILE]

Runs the weight-semantics suite against refproxy in-process, in both pick
modes (random: independent draws, counts test; smooth: nginx's smooth
weighted round robin, exactness test over its period): a weight left unset
(= 1) beside explicit ones, 16 backendRefs, a 1:99 split verified within ±1
point, a weight-0 backendRef with the upper bound the run achieved on its
share, an invalid backendRef inside a weighted rule (its share answered 500),
a Service without endpoints (its share 503), and all weights zero (reported,
spec-ambiguous). Prints one row per case and mode: expected, observed counts,
verdict, requests, wall time.

--dynamic adds the cases that take a few seconds more (5 on a 2-core
machine): the time from a weight change in refproxy's file mode (100/0 →
90/10 → 50/50 → 0/100 and the flips, --repeats cycles, reloaded on request
as SIGHUP does, or found by the file poller with --poll-interval: then about
a second more per cycle at 100ms) to the new table serving and to a
200-answer window statistically right for the new weights (p50/p99 in the
notes), and a 10/10/80 split over one keep-alive connection, a new
connection per request and h2c streams, on refproxy (each must pass) and on
a double that picks per connection (caught over one connection, passing over
new ones).

With --gateway the cases run against a gateway of your own instead, in one
mode (its order classified and reported; the verdict decided under the model
that fits): configure it with each case's routes first (splitproof replay
--show CASE prints them). --junit writes a test case per case and mode.

Exit codes: 0 every case as expected, 1 a case is not, 2 bad input, 3
interrupted by SIGINT or SIGTERM before every case ran.`

const suiteExamples = `  splitproof suite weights
  splitproof suite weights --gateway http://127.0.0.1:8080 --case default-weight --junit out/weights.xml
  splitproof suite weights --case skewed-1-99 --case weight-zero --json
  splitproof suite weights --dynamic`

func runSuite(ctx context.Context, env *Env, args []string) error {
	fs := NewFlagSet(env, "suite", suiteSynopsis, suiteExamples)
	var only stringList
	fs.Var(&only, "case", "run only the case `NAME` (repeatable; default every case)")
	seed := fs.Uint64("seed", 1, "seed of refproxy's random picks")
	allZero := fs.Int("all-zero-status", 0, "refproxy's answer to an all-zero rule, 500 or 503 (default: refproxy's, 500)")
	jsonOut := fs.Bool("json", false, "print the results as JSON")
	junit := fs.String("junit", "", "also write the results as JUnit XML to `FILE`")
	gatewayURL := fs.String("gateway", "", "run the cases against the gateway at this `URL` instead of refproxy in-process (configure it with each case's routes: splitproof replay --show CASE); one mode, its order classified")
	portForward := fs.String("port-forward", "", "with --gateway, where the snippets' localhost:8080 goes (`host:port`; default: the gateway)")
	dynamic := fs.Bool("dynamic", false, "also run the weight-change and connection-policy cases (a few seconds)")
	repeats := fs.Int("repeats", weights.DefaultChangeRepeats, "cycles of weight changes `N` with --dynamic")
	poll := fs.Duration("poll-interval", 0, "with --dynamic, let refproxy's file poller find each weight change every `D` (default: reload on request, as SIGHUP does)")
	positional, err := ParseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 || positional[0] != "weights" {
		return BadInput(fmt.Errorf("expected the suite's name, weights (the only suite), got %q", positional))
	}
	if *allZero != 0 && *allZero != 500 && *allZero != 503 {
		return BadInput(fmt.Errorf("--all-zero-status %d: expected 500 or 503", *allZero))
	}
	if *repeats < 1 {
		return BadInput(fmt.Errorf("--repeats %d: expected at least 1", *repeats))
	}
	if *poll < 0 {
		return BadInput(fmt.Errorf("--poll-interval %s: expected a positive interval, or 0 to reload on request", *poll))
	}
	suite, err := weights.Default()
	if err != nil {
		return BadInput(err)
	}
	if len(only) > 0 {
		var names []string
		var chosen weights.Suite
		for _, c := range suite {
			names = append(names, c.Name)
			if slices.Contains(only, c.Name) {
				chosen = append(chosen, c)
			}
		}
		for _, o := range only {
			if !slices.Contains(names, o) {
				return BadInput(fmt.Errorf("--case %q: no such case (the cases: %s)", o, strings.Join(names, ", ")))
			}
		}
		suite = chosen
	}
	var target weights.Target = weights.Embedded{Seed: *seed, AllZeroStatus: *allZero}
	if *gatewayURL != "" {
		if *dynamic {
			return BadInput(errors.New("--dynamic starts refproxy itself: not with --gateway"))
		}
		g := weights.Gateway{URL: *gatewayURL, PortForward: *portForward}
		if _, _, err := g.Open(ctx, nil, weights.Mode{}); err != nil {
			return BadInput(err)
		}
		target = g
	} else if *portForward != "" {
		return BadInput(errors.New("--port-forward needs --gateway"))
	}
	results := weights.Run(ctx, target, suite)
	static := len(results)
	if *dynamic && ctx.Err() == nil {
		results = append(results, weights.RunDynamic(ctx, weights.DynamicOptions{Seed: *seed, Change: weights.ChangeOptions{Repeats: *repeats, Poll: *poll}})...)
	}
	if *jsonOut {
		err = weights.WriteJSON(env.Stdout, results)
	} else {
		err = weights.WriteTable(env.Stdout, results)
	}
	if err != nil {
		return err
	}
	if *junit != "" {
		if err := replay.WriteFile(*junit, func(f *os.File) error { return weights.WriteJUnit(f, results) }); err != nil {
			return err
		}
	}
	if want := len(suite) * len(target.Modes()); static < want || (*dynamic && ctx.Err() != nil) {
		return Inconclusive(fmt.Errorf("interrupted: %d of %d case runs done", static, want))
	}
	if bad := weights.Failed(results); len(bad) > 0 {
		var names []string
		for _, r := range bad {
			names = append(names, r.Case+" ("+r.Mode+")")
		}
		return Failed(errors.New("not as expected: " + strings.Join(names, ", ")))
	}
	return nil
}
