package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"

	"github.com/splitproof/splitproof/conformance/weights"
	"github.com/splitproof/splitproof/scenarios/replay"
)

func suiteCommand() Command {
	return Command{Name: "suite", Short: "run a test suite against a target: weights (weight semantics beyond upstream conformance)", Run: runSuite}
}

const suiteSynopsis = `suite weights [--case NAME ...] [--dynamic [--repeats N] [--poll-interval D]] [--seed S] [--all-zero-status 500|503]
              [--gateway URL [--port-forward HOST:PORT]]
              [--kubeconfig PATH --gateway-class NAME [--context NAME] [--namespace-prefix P] [--port-forward] [--ready-timeout D]]
              [--json] [--junit FILE] [--report FILE [--implementation KEY=VALUE,...]]

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

With --kubeconfig and --gateway-class the cases run against any Gateway API
implementation in a cluster, one mode. Each case is applied by server-side
apply into a namespace of its own, PREFIX-CASE (--namespace-prefix, default
splitproof-weights): its Gateway with gatewayClassName set to the class, its
Services and HTTPRoute (references pointed at that namespace), and a
one-replica Deployment of the sample app (docker.io/istio/examples-helloworld-v1)
behind each Service the case serves. The suite waits for the Gateway to be
Programmed with an address, the route to be Accepted with ResolvedRefs True
(False for invalid-backendref) and the pods to be ready, reaches the Gateway
at its status address (or, with --port-forward, through a port-forward to
the Service labelled gateway.networking.k8s.io/gateway-name or holding that
address), replays, and deletes the namespace. --dynamic then measures the
time from a patch of a v1/v2 route's weights (100/0 → 90/10 → 50/50 → 0/100
→ 100/0, --repeats times, default 3) to the first 200-answer window
statistically right for the new weights, p50/p99 per change.

--report writes the results as upstream's ConformanceReport (YAML, as the
Gateway API conformance suite writes it): a profile per mode named
"SPLITPROOF-WEIGHTS MODE", a test per case. A case the spec requires is a
core test, failed when not as expected; the spec-ambiguous all-zero case is
an extended test and never fails the report: passed when every answer was
a 5xx of the gateway's own, otherwise skipped (the extended result then
"partial"). Each profile's summary lists every test with its verdict.
--implementation fills the report's implementation: organization, project,
url, version and contact (contact may repeat, separated by '|').

Exit codes: 0 every case as expected, 1 a case is not, 2 bad input (a
cluster that cannot be reached or has no such GatewayClass included), 3 interrupted by SIGINT or SIGTERM before
every case ran.`

const suiteExamples = `  splitproof suite weights
  splitproof suite weights --gateway http://127.0.0.1:8080 --case default-weight --junit out/weights.xml
  splitproof suite weights --case skewed-1-99 --case weight-zero --json
  splitproof suite weights --dynamic
  splitproof suite weights --kubeconfig ~/.kube/config --gateway-class eg --dynamic --report out/weights-report.yaml \
      --implementation 'organization=envoyproxy,project=envoy-gateway,url=https://github.com/envoyproxy/gateway,version=v1.5.0,contact=@envoyproxy/gateway-maintainers'`

func runSuite(ctx context.Context, env *Env, args []string) error {
	fs := NewFlagSet(env, "suite", suiteSynopsis, suiteExamples)
	var only stringList
	fs.Var(&only, "case", "run only the case `NAME` (repeatable; default every case)")
	seed := fs.Uint64("seed", 1, "seed of refproxy's random picks")
	allZero := fs.Int("all-zero-status", 0, "refproxy's answer to an all-zero rule, 500 or 503 (default: refproxy's, 500)")
	jsonOut := fs.Bool("json", false, "print the results as JSON")
	junit := fs.String("junit", "", "also write the results as JUnit XML to `FILE`")
	report := fs.String("report", "", "also write the results as a Gateway API ConformanceReport (YAML) to `FILE`")
	impl := fs.String("implementation", "", "the report's implementation: `KEY=VALUE,...` with keys organization, project, url, version, contact")
	gatewayURL := fs.String("gateway", "", "run the cases against the gateway at this `URL` instead of refproxy in-process (configure it with each case's routes: splitproof replay --show CASE); one mode, its order classified")
	var portForward portForwardFlag
	fs.Var(&portForward, "port-forward", "with --gateway, where the snippets' localhost:8080 goes (--port-forward=HOST:PORT or --port-forward HOST:PORT; default: the gateway); with --kubeconfig, alone: reach each Gateway through a port-forward to its Service instead of its address")
	kubeconfig := fs.String("kubeconfig", "", "run the cases against a GatewayClass in the cluster of this kubeconfig `PATH` (with --gateway-class)")
	kubeContext := fs.String("context", "", "kubeconfig context `NAME` to use with --kubeconfig (default: its current context)")
	class := fs.String("gateway-class", "", "with --kubeconfig, the GatewayClass `NAME` every case's Gateway gets")
	prefix := fs.String("namespace-prefix", weights.DefaultNamespacePrefix, "with --kubeconfig, each case's namespace is `PREFIX`-CASE")
	readyTimeout := fs.Duration("ready-timeout", 3*time.Minute, "with --kubeconfig, how long a case's setup may take: applying it, then waiting for the Gateway, the route's status, the pods and the first answers")
	dynamic := fs.Bool("dynamic", false, "also run the weight-change and connection-policy cases (a few seconds); with --kubeconfig, the weight-change measurement on the cluster")
	repeats := fs.Int("repeats", weights.DefaultChangeRepeats, "cycles of weight changes `N` with --dynamic (with --kubeconfig, default 3)")
	poll := fs.Duration("poll-interval", 0, "with --dynamic, let refproxy's file poller find each weight change every `D` (default: reload on request, as SIGHUP does)")
	positional, err := ParseInterspersed(fs, joinPortForward(args))
	if err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
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
	implementation, err := parseImplementation(*impl)
	if err != nil {
		return BadInput(err)
	}
	if *impl != "" && *report == "" {
		return BadInput(errors.New("--implementation fills the report: it needs --report"))
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
	var cluster *weights.Cluster
	switch {
	case *kubeconfig != "":
		for _, f := range []string{"gateway", "all-zero-status", "poll-interval"} {
			if given[f] {
				return BadInput(fmt.Errorf("--%s does not apply to a cluster (--kubeconfig)", f))
			}
		}
		if *class == "" {
			return BadInput(errors.New("--kubeconfig needs --gateway-class: the GatewayClass to test"))
		}
		if portForward.addr != "" {
			return BadInput(fmt.Errorf("--port-forward %s: with --kubeconfig, give --port-forward alone (the Gateway's Service is found in the cluster)", portForward.addr))
		}
		if err := weights.ValidPrefix(*prefix); err != nil {
			return BadInput(fmt.Errorf("--namespace-prefix: %w", err))
		}
		if *readyTimeout <= 0 {
			return BadInput(fmt.Errorf("--ready-timeout %s: expected a positive duration", *readyTimeout))
		}
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{ExplicitPath: *kubeconfig},
			&clientcmd.ConfigOverrides{CurrentContext: *kubeContext},
		).ClientConfig()
		if err != nil {
			return BadInput(fmt.Errorf("--kubeconfig %s: %w", *kubeconfig, err))
		}
		cluster = &weights.Cluster{Config: cfg, GatewayClass: *class, NamespacePrefix: *prefix, PortForward: portForward.set, ReadyTimeout: *readyTimeout, Logger: env.Logger}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		controller, err := cluster.Check(cctx)
		cancel()
		if err != nil {
			return BadInput(err)
		}
		target = *cluster
		if implementation.Project == "" {
			implementation.Project = "GatewayClass " + *class + " (controller " + controller + ")"
		}
	case *gatewayURL != "":
		for _, f := range []string{"gateway-class", "namespace-prefix", "context", "ready-timeout"} {
			if given[f] {
				return BadInput(fmt.Errorf("--%s needs --kubeconfig", f))
			}
		}
		if *dynamic {
			return BadInput(errors.New("--dynamic starts refproxy itself: not with --gateway"))
		}
		if portForward.set && portForward.addr == "" {
			return BadInput(errors.New("--port-forward: with --gateway, give HOST:PORT"))
		}
		g := weights.Gateway{URL: *gatewayURL, PortForward: portForward.addr}
		if _, _, err := g.Open(ctx, nil, weights.Mode{}); err != nil {
			return BadInput(err)
		}
		target = g
		if implementation.Project == "" {
			implementation.Project = "gateway at " + *gatewayURL
		}
	default:
		for _, f := range []string{"gateway-class", "namespace-prefix", "context", "ready-timeout"} {
			if given[f] {
				return BadInput(fmt.Errorf("--%s needs --kubeconfig", f))
			}
		}
		if portForward.set {
			return BadInput(errors.New("--port-forward needs --gateway or --kubeconfig"))
		}
		if implementation.Project == "" {
			implementation.Organization, implementation.Project = "splitproof", "refproxy (in-process)"
		}
	}
	results := weights.Run(ctx, target, suite)
	static := len(results)
	if *dynamic && ctx.Err() == nil {
		if cluster != nil {
			opts := weights.ChangeOptions{Repeats: *repeats}
			if !given["repeats"] {
				opts.Repeats = weights.DefaultClusterChangeRepeats
			}
			results = append(results, clusterChanges(ctx, *cluster, opts)...)
		} else {
			results = append(results, weights.RunDynamic(ctx, weights.DynamicOptions{Seed: *seed, Change: weights.ChangeOptions{Repeats: *repeats, Poll: *poll}})...)
		}
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
	if *report != "" {
		rep := weights.ConformanceReport(results, weights.ReportOptions{Implementation: implementation})
		if err := replay.WriteFile(*report, func(f *os.File) error { return weights.WriteConformanceReport(f, rep) }); err != nil {
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

// clusterChanges measures weight changes on the cluster and returns a row
// per distinct change, or one error row.
func clusterChanges(ctx context.Context, c weights.Cluster, opts weights.ChangeOptions) []weights.Result {
	start := time.Now()
	cs, err := weights.MeasureClusterChanges(ctx, c, opts)
	if err != nil {
		return []weights.Result{{Case: "weight-change", Scenario: "controller mode, HTTPRoute v1/v2", Mode: "gatewayclass " + c.GatewayClass + ", route patched",
			Expect: weights.ExpectPass, Observed: "error", Err: err.Error(), Wall: time.Since(start)}}
	}
	return weights.ClusterChangeResults(cs, c.GatewayClass)
}

// portForwardFlag is --port-forward: HOST:PORT with --gateway, alone (a
// boolean) with --kubeconfig.
type portForwardFlag struct {
	set  bool
	addr string
}

func (p *portForwardFlag) String() string {
	if p == nil {
		return ""
	}
	return p.addr
}

func (p *portForwardFlag) Set(v string) error {
	switch v {
	case "true":
		p.set, p.addr = true, ""
	case "false":
		p.set, p.addr = false, ""
	default:
		p.set, p.addr = true, v
	}
	return nil
}

// IsBoolFlag lets --port-forward stand alone.
func (p *portForwardFlag) IsBoolFlag() bool { return true }

// joinPortForward turns "--port-forward HOST:PORT" into
// "--port-forward=HOST:PORT": the flag package reads a boolean flag's
// next argument as a positional one, and --port-forward is boolean with
// --kubeconfig but takes an address with --gateway. An address has a
// colon; the suite's name and flags do not.
func joinPortForward(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if (a == "--port-forward" || a == "-port-forward") && i+1 < len(args) && strings.Contains(args[i+1], ":") && !strings.HasPrefix(args[i+1], "-") {
			out = append(out, a+"="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	return out
}

// parseImplementation reads --implementation: comma-separated KEY=VALUE
// with keys organization, project, url, version and contact (several
// contacts separated by '|').
func parseImplementation(s string) (confv1.Implementation, error) {
	var impl confv1.Implementation
	if s == "" {
		return impl, nil
	}
	for i, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return impl, fmt.Errorf("--implementation, item %d %q: expected KEY=VALUE", i+1, kv)
		}
		switch strings.TrimSpace(k) {
		case "organization":
			impl.Organization = v
		case "project":
			impl.Project = v
		case "url":
			impl.URL = v
		case "version":
			impl.Version = v
		case "contact":
			impl.Contact = append(impl.Contact, strings.Split(v, "|")...)
		default:
			return impl, fmt.Errorf("--implementation, item %d: unknown key %q (expected organization, project, url, version or contact)", i+1, k)
		}
	}
	return impl, nil
}
