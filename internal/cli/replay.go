package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/loader"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/curl"
	"github.com/splitproof/splitproof/scenarios/embedded"
	"github.com/splitproof/splitproof/scenarios/kube"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/sim"
)

// DocScenarios are the documented examples: what `replay --gateway` and
// `replay --kubeconfig` run when no scenario is named.
var DocScenarios = []string{"example1-ab-testing", "example2-llm"}

// DemoScenarios are what `splitproof demo` replays: the doc's examples and
// Example 2 streamed, whose answers' usage gives tokens per model.
var DemoScenarios = append(slices.Clone(DocScenarios), "example2-llm-stream")

func replayCommand() Command {
	return Command{
		Name:  "replay",
		Short: "replay the doc's curl snippets against a gateway and test the split against its weights",
		Run: func(ctx context.Context, env *Env, args []string) error {
			return runReplay(ctx, env, "replay", args, nil)
		},
	}
}

func demoCommand() Command {
	return Command{
		Name:  "demo",
		Short: "the main job: replay both doc examples, and Example 2 streamed, on the embedded target and print the verdicts and tokens per model",
		Run: func(ctx context.Context, env *Env, args []string) error {
			return runReplay(ctx, env, "demo", args, DemoScenarios)
		},
	}
}

const replaySynopsis = `replay [flags] [SCENARIO|DIR ...]

Runs each scenario's documented shell snippets (for loops of curl, piped
through jq) exactly as the doc writes them, with curl and jq run natively,
classifies every response and tests the observed split against the
weights in the scenario's manifests. With no scenario, every built-in
scenario runs on the embedded target; with --gateway or --kubeconfig, the
doc's two examples run (each scenario left out is named, with the reason).
replay --show SCENARIO prints what a gateway must be configured with.

Answers that report token usage (an LLM provider's usage object, in JSON
or in a stream's final event) add a table per replay: requests, prompt and
completion tokens per category, and each one's share of the tokens with a
95% interval, cost with --prices. The verdict stays on requests: a model
that answers at greater length shifts tokens and cost, not the split.

By default each replay runs a sequential test: it stops as soon as the
split is verified within ±--delta of its weights or found wrong (on a
correct gateway after about half the requests of the fixed-n test), and is
INCONCLUSIVE if its cap (--requests, default four times the fixed-n plan) is
reached first. --fixed sends exactly --requests (default: the n giving
--power against --delta) and decides once at the end.

Targets:
  embedded (default)  refproxy, helloworld servers and a fake OpenAI provider
                      in-process on loopback, serving the manifests as written
  --gateway URL       a gateway someone else runs (agentgateway, Envoy
                      Gateway, nginx…): INGRESS_GW_ADDRESS is the URL's host,
                      and the snippets' port 80 and localhost:8080 go to it
  --kubeconfig PATH   a cluster running the doc's install, reached as the doc
                      does: INGRESS_GW_ADDRESS is Service
                      agentgateway-system/http's load-balancer address, and
                      localhost:8080 is a port-forward to a Ready pod of
                      deployment/agentgateway-proxy port 80 (opened by
                      splitproof, no kubectl needed; on 127.0.0.1:8080
                      itself with --system-tools). Any other Gateway API
                      implementation: --gateway-ref NS/NAME takes the
                      address from a Gateway's status, and
                      --port-forward-to NS/svc/NAME:PORT (or deploy/)
                      replaces the doc's port-forward

Verdicts: PASS (every share verified within ±--delta of its weight, false-
pass rate 1 - --power), FAIL (the split differs from the weights) or
INCONCLUSIVE: a sequential test that reaches its cap undecided, a fixed-n
test whose intervals are still wider than ±--delta, or a replay interrupted
by SIGINT or SIGTERM is never PASS: its report says why and estimates how
many more requests would decide.

One false-failure rate for the whole run: --alpha bounds the chance that a
correct gateway fails any verdict of the run. Each of the run's m verdicts
(scenarios × snippets × steps) is planned and decided at --alpha/m; at the
end, Holm's step-down combines the fixed-n verdicts of independent draws,
while sequential verdicts keep their --alpha/m (Bonferroni). Reports are
printed when the run ends, followed by one "run:" line with the rate.

` + exitCodesHelp

const replayExamples = `  splitproof replay --list
  splitproof replay --show example1-ab-testing
  splitproof replay example1-ab-testing
  splitproof replay --fixed --requests 5000 --json example2-llm
  splitproof replay --requests 2000 --junit out/junit.xml
  splitproof replay --gateway http://127.0.0.1:8080 --snippet port-forward example1-ab-testing
  splitproof replay --kubeconfig ~/.kube/config example1-ab-testing example2-llm
  splitproof replay --kubeconfig ~/.kube/config --context kind-splitproof --snippet external-address example2-llm
  splitproof replay --plot out/split.png ./my-scenario/
  splitproof replay example2-llm-faults                    # 429s stay in the faulty arm's share
  splitproof replay --expect-failover example2-llm-faults  # or must move to the other arm`

func runReplay(ctx context.Context, env *Env, name string, args []string, defaults []string) error {
	synopsis, examples := replaySynopsis, replayExamples
	if name == "demo" {
		synopsis = "demo [flags]\n\nReplays the doc's two examples and Example 2 streamed (" + strings.Join(DemoScenarios, ", ") + ")\non the embedded target, every snippet of each (six verdicts), with the\nsequential test (--fixed: the fixed-n one), and prints each verdict with\nthe tokens per model of the LLM examples, then one run-level\nfalse-failure rate: --alpha for the run, --alpha/6 for each of the six\nverdicts. Takes the same flags as `splitproof replay`.\n\n" + exitCodesHelp
		examples = "  splitproof demo\n  splitproof demo --fixed\n  splitproof demo --prices gpt-4o-mini=0.15/0.60,gpt-4o=2.50/10"
	}
	fs := NewFlagSet(env, name, synopsis, examples)
	list := fs.Bool("list", false, "list the built-in scenarios and their snippets, then exit")
	routeFile := fs.String("route", "", "verify the split of this HTTPRoute `FILE` (yours: the scenario's rule of its one HTTPRoute; backendRefs named like the scenario's map to its categories, others are categories by their own name) instead of the scenario's manifests; not with --weights")
	var weightsFlag pairList
	fs.Var(&weightsFlag, "weights", "verify this split instead of the scenario's: comma-separated `NAME=WEIGHT` for every category, e.g. v1=20,v2=20,v3=60 for a gateway configured 20/20/60 (replay --show lists the categories)")
	expectFailover := fs.Bool("expect-failover", false, "for a scenario with faults (one arm failing at a set rate, e.g. example2-llm-faults), expect the gateway to retry the failed requests on the other arms: their share moves there in proportion to the weights and no error may reach the client (default: the errors stay inside the faulty arm's share, as Gateway API's weights alone imply)")
	show := fs.String("show", "", "print what any gateway must be configured with to run `SCENARIO` (routes: hosts, matches, weighted backends; each snippet's exact requests; how answers are classified), then exit; with --json as JSON")
	gateway := fs.String("gateway", "", "replay against the gateway at this `URL` (http:// or https://, with an optional /prefix the gateway is mounted under) instead of the embedded target")
	cacert := fs.String("cacert", "", "with an https:// --gateway, trust only the CA certificates in this PEM `FILE` (e.g. the gateway's self-signed CA)")
	insecure := fs.Bool("insecure", false, "with an https:// --gateway, accept any certificate")
	portForward := fs.String("port-forward", "", "where the snippets' localhost:8080 goes with --gateway (`host:port`; default: the gateway)")
	kubeconfig := fs.String("kubeconfig", "", "replay against the doc's gateway in the cluster of this kubeconfig `PATH` (not with --gateway)")
	kubeContext := fs.String("context", "", "kubeconfig context `NAME` to use with --kubeconfig (default: its current context)")
	gatewayRef := fs.String("gateway-ref", "", "with --kubeconfig, take INGRESS_GW_ADDRESS from this Gateway's status.addresses and its first HTTP listener's port, as the upstream conformance suite does (`NAMESPACE/NAME`; default: the doc's Service agentgateway-system/http)")
	forwardTo := fs.String("port-forward-to", "", "with --kubeconfig, where the doc's port-forward goes: `NAMESPACE/(svc|deploy)/NAME:PORT` (default: agentgateway-system/deploy/agentgateway-proxy:80)")
	snippet := fs.String("snippet", "", "run only the snippet with this `name` (default: every snippet)")
	requests := fs.Int("requests", 0, "the sequential test's cap: at most `N` requests per replay, undecided there is INCONCLUSIVE (exit 3); with --fixed, exactly N (default 0: with --fixed the n giving --power against --delta at each verdict's alpha, else four times it)")
	fixed := fs.Bool("fixed", false, "run the fixed-n test (exactly --requests requests, one decision at the end) instead of the sequential one")
	sequential := fs.Bool("sequential", true, "the default: stop each replay as soon as the sequential test is sure; kept so that older command lines work")
	alpha := fs.Float64("alpha", sim.DefaultAlpha, "false-failure rate of the whole run, in (0,1): the chance that a correct gateway fails any of its verdicts (each verdict gets --alpha over their number)")
	delta := fs.Float64("delta", sim.DefaultDelta, "tolerance, in (0,0.5]: a PASS verifies every share within ±delta of its weight, and the power is stated against a deviation of delta")
	power := fs.Float64("power", 0.9, "power against --delta that sets the default number of requests, in (0,1); 1 - power is the false-pass rate of a PASS")
	timeout := fs.Duration("timeout", replay.DefaultTimeout, "per-request timeout of the native curl, from connecting to the end of the body (a request that takes longer counts as no response)")
	seed := fs.Uint64("seed", 1, "seed of the embedded refproxy's picker and of the fake provider")
	mode := fs.String("pick-mode", string(picker.Random), "embedded refproxy's pick mode: random or smooth")
	systemTools := fs.Bool("system-tools", false, "run the real curl and jq binaries instead of the native ones: their output is all that is seen (a snippet's 5xx shows only with curl -i), the embedded target then also serves 127.0.0.1:80 and :8080, and --gateway addresses are not remapped")
	connections := fs.String("connections", curl.ConnNew.String(), "the native curl's connections: new (each curl command opens its own, as real curl and the doc's loop do) or reuse (one keep-alive connection across the loop's commands)")
	concurrency := fs.Int("concurrency", 1, "run `N` iterations of the snippet's loop at once, each worker a client of its own (1: one request at a time, as the doc's loop). It changes the arrival order, which interleaves the workers' (the gateway's scheduler is classified give or take the requests in flight together, so a round robin may show only as more regular than random, which the counts test then decides), and with --connections reuse a gateway that picks per connection is seen per worker; it changes neither the number of requests (the plan and the cap hold) nor the verdict's statistics (the same tests, alpha and power)")
	var pricesFlag stringList
	fs.Var(&pricesFlag, "prices", "turn each replay's tokens into cost: `MODEL=IN/OUT` in USD per million input and output tokens, repeatable or comma-separated, e.g. gpt-4o-mini=0.15/0.60,gpt-4o=2.50/10. A category (the model an answer names, as replay --show lists them) takes the price of the MODEL equal to it, else of the MODEL it is a dated snapshot of: gpt-4o prices gpt-4o-2024-08-06, not gpt-4o-mini-2024-07-18")
	jsonOut := fs.Bool("json", false, "print the reports as JSON instead of tables")
	junit := fs.String("junit", "", "also write a JUnit XML report to `FILE`")
	plot := fs.String("plot", "", "also draw observed vs expected shares to `FILE.png` (one file per replay: FILE-<scenario>-<snippet>.png when several)")
	countsOut := fs.String("counts", "", "also write the counts of each replay, with every request in arrival order (send and receive time, connection, status, category), for splitproof verify --file or --sequence, to `DIR`")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if err := validateTestFlags(fs, *fixed, *sequential); err != nil {
		return BadInput(err)
	}
	if err := validateReplayFlags(*requests, *alpha, *delta, *power, *timeout); err != nil {
		return BadInput(err)
	}
	pm, err := picker.ParseMode(*mode)
	if err != nil {
		return BadInput(err)
	}
	prices, err := replay.ParsePrices(pricesFlag)
	if err != nil {
		return BadInput(fmt.Errorf("--prices %w", err))
	}
	conns, err := curl.ParseConnPolicy(*connections)
	if err != nil {
		return BadInput(fmt.Errorf("--connections: %w", err))
	}
	if *concurrency < 1 || *concurrency > replay.MaxConcurrency {
		return BadInput(fmt.Errorf("--concurrency %d: expected 1 to %d", *concurrency, replay.MaxConcurrency))
	}
	if conns == curl.ConnReuse && *systemTools {
		return BadInput(errors.New("--connections reuse needs the native curl: real curl (--system-tools) runs each command in a process of its own, which opens its own connections"))
	}
	if *show != "" {
		s, err := scenarios.Find(*show)
		if err != nil {
			return BadInput(err)
		}
		sh, err := replay.Describe(ctx, s)
		if err != nil {
			return BadInput(err)
		}
		if *jsonOut {
			return sh.WriteJSON(env.Stdout)
		}
		return sh.WriteText(env.Stdout)
	}
	if *list {
		all, err := scenarios.Builtin()
		if err != nil {
			return err
		}
		for _, s := range all {
			var names []string
			for _, sn := range s.Snippets {
				names = append(names, sn.Name)
			}
			fmt.Fprintf(env.Stdout, "%-22s %s\n%-22s snippets: %s\n", s.Name, s.Title, "", strings.Join(names, ", "))
		}
		fmt.Fprintln(env.Stdout, "\nsplitproof replay --show SCENARIO prints what a gateway must be configured with to run it.")
		return nil
	}
	names := fs.Args()
	if len(names) == 0 {
		names = defaults
	}
	var chosen []*scenarios.Scenario
	if len(names) == 0 && (*gateway != "" || *kubeconfig != "") {
		// One gateway serves one configuration: the doc's two examples
		// together; every other built-in scenario needs routes of its own.
		names = DocScenarios
		if err := leftOut(env, names); err != nil {
			return err
		}
	}
	if len(names) == 0 {
		if chosen, err = scenarios.Builtin(); err != nil {
			return BadInput(err)
		}
	}
	for _, n := range names {
		s, err := scenarios.Find(n)
		if err != nil {
			return BadInput(err)
		}
		chosen = append(chosen, s)
	}
	opts := replay.Options{
		Requests: *requests, Alpha: *alpha, Delta: *delta, PowerTarget: *power,
		Timeout: *timeout, SystemTools: *systemTools, Progress: env.Stderr, Logger: env.Logger,
		ReuseConnections: conns == curl.ConnReuse, Concurrency: *concurrency,
	}
	if *routeFile != "" {
		if len(weightsFlag) > 0 {
			return BadInput(errors.New("--route and --weights both give the split: use one"))
		}
		r, err := loadRoute(*routeFile)
		if err != nil {
			return BadInput(err)
		}
		opts.Route = r
	}
	if len(weightsFlag) > 0 {
		opts.Weights = map[string]int32{}
		for _, p := range weightsFlag {
			if p.value < 0 || p.value > 1000000 {
				return BadInput(fmt.Errorf("--weights: %s=%d is out of range: expected 0 to 1000000, as an HTTPRoute's weight", p.name, p.value))
			}
			if _, dup := opts.Weights[p.name]; dup {
				return BadInput(fmt.Errorf("--weights: %s is given twice", p.name))
			}
			opts.Weights[p.name] = int32(p.value)
		}
	}
	if *expectFailover {
		if !slices.ContainsFunc(chosen, func(s *scenarios.Scenario) bool { return len(s.Faults) > 0 }) {
			return BadInput(errors.New("--expect-failover: none of the scenarios injects faults (a faults: section in scenario.yaml, as example2-llm-faults has), so there is nothing to fail over"))
		}
		opts.ExpectFailover = true
	}
	if *kubeconfig != "" && (*gateway != "" || *portForward != "") {
		return BadInput(errors.New("--kubeconfig and --gateway/--port-forward choose different targets: give one"))
	}
	if (*gatewayRef != "" || *forwardTo != "") && *kubeconfig == "" {
		return BadInput(errors.New("--gateway-ref and --port-forward-to need --kubeconfig"))
	}
	if *kubeContext != "" && *kubeconfig == "" {
		return BadInput(errors.New("--context needs --kubeconfig"))
	}
	targets := replay.TargetFactory{
		Kind: "embedded",
		Open: func(ctx context.Context, s *scenarios.Scenario) (*replay.Target, error) {
			t, err := embedded.Start(ctx, s, embedded.Options{PickMode: pm, Seed: *seed, Logger: env.Logger, DocPorts: *systemTools})
			if err != nil {
				return nil, err
			}
			return &replay.Target{Endpoint: t.Endpoint(), Applier: t, Closer: t}, nil
		},
	}
	if *gateway != "" {
		ep, err := replay.AddressEndpoint(*gateway, *portForward)
		if err != nil {
			return BadInput(err)
		}
		if ep.PathPrefix != "" && *systemTools {
			return BadInput(fmt.Errorf("--gateway %s: a path prefix needs the native curl (real curl, --system-tools, sends the snippets' URLs as written)", *gateway))
		}
		if *cacert != "" {
			pem, err := os.ReadFile(*cacert)
			if err != nil {
				return BadInput(fmt.Errorf("--cacert: %w", err))
			}
			if err := ep.SetCA(pem); err != nil {
				return BadInput(fmt.Errorf("--cacert %s: %w", *cacert, err))
			}
		}
		if *insecure {
			if err := ep.SetInsecure(); err != nil {
				return BadInput(err)
			}
		}
		targets = replay.FixedTarget(ep)
	}
	if *kubeconfig != "" {
		kopts := kube.Options{}
		if *gatewayRef != "" {
			ref, err := kube.ParseGatewayRef(*gatewayRef)
			if err != nil {
				return BadInput(fmt.Errorf("--gateway-ref %w", err))
			}
			kopts.GatewayRef = &ref
		}
		if *forwardTo != "" {
			t, err := kube.ParseForwardTarget(*forwardTo)
			if err != nil {
				return BadInput(fmt.Errorf("--port-forward-to %w", err))
			}
			kopts.ForwardTo = &t
		}
		ep, closer, err := clusterEndpoint(ctx, env, *kubeconfig, *kubeContext, *systemTools, kopts)
		if err != nil {
			return err
		}
		defer closer.Close()
		targets = replay.FixedTarget(ep)
	}
	cfg := replay.Config{Scenarios: chosen, Snippet: *snippet, Target: targets, Options: opts, Fixed: *fixed}
	// Reports are printed once the run ends: Holm's correction over the
	// run can still turn a fixed-n verdict into a FAIL. Meanwhile stderr
	// says what is done, next to the progress lines.
	cfg.OnReport = func(r *replay.Report) error {
		fmt.Fprintf(env.Stderr, "%s: %d requests done; its verdict is printed when the run ends\n", reportLabel(r), r.Requests)
		return nil
	}
	res, err := replay.RunAll(ctx, cfg)
	if res != nil && len(prices) > 0 {
		for _, m := range replay.ApplyPrices(res.Reports, prices) {
			fmt.Fprintf(env.Stderr, "--prices: no answer with usage in this run came from %s (nor from a dated snapshot of it)\n", m)
		}
	}
	return reportRun(env, res, err, *jsonOut, replay.Files{JUnit: *junit, Plot: *plot, CountsDir: *countsOut})
}

// reportLabel names a replay in progress lines: scenario/snippet[@step].
func reportLabel(r *replay.Report) string {
	l := r.Scenario + "/" + r.Snippet
	if r.Step != "" {
		l += "@" + r.Step
	}
	return l
}

// validateTestFlags refuses a choice of test that --sequential, now the
// default and kept only for older command lines, would otherwise ignore.
func validateTestFlags(fs *flag.FlagSet, fixed, sequential bool) error {
	if !sequential {
		return errors.New("--sequential=false: the sequential test is the default; choose the fixed-n test with --fixed")
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "sequential" })
	if fixed && given {
		return errors.New("--fixed and --sequential choose different tests: give one")
	}
	return nil
}

// validateReplayFlags refuses values that would otherwise be silently
// defaulted or make no sense, naming the flag and what it expects.
func validateReplayFlags(requests int, alpha, delta, power float64, timeout time.Duration) error {
	switch {
	case requests < 0:
		return fmt.Errorf("--requests %d: expected 0 (the computed sample size) or a positive number of requests", requests)
	case requests > maxReplayRequests:
		return fmt.Errorf("--requests %d: expected at most %d", requests, maxReplayRequests)
	case !(alpha > 0 && alpha < 1):
		return fmt.Errorf("--alpha %v: expected a false-failure rate strictly between 0 and 1, such as 0.001", alpha)
	case !(delta > 0 && delta <= 0.5):
		return fmt.Errorf("--delta %v: expected a deviation of a share in (0, 0.5], such as 0.05", delta)
	case !(power > 0 && power < 1):
		return fmt.Errorf("--power %v: expected a probability strictly between 0 and 1, such as 0.9", power)
	case timeout <= 0:
		return fmt.Errorf("--timeout %v: expected a positive duration, such as 30s", timeout)
	}
	return nil
}

// maxReplayRequests bounds --requests: a billion requests is days of traffic
// at any realistic rate, and the counts stay far below sim.MaxObservations.
const maxReplayRequests = 1_000_000_000

// clusterEndpoint connects to the doc's gateway in the kubeconfig's cluster.
// Real curl (--system-tools) cannot be remapped, so the forward then
// listens on the doc's own 127.0.0.1:8080.
func clusterEndpoint(ctx context.Context, env *Env, path, kubeContext string, systemTools bool, opts kube.Options) (*replay.Endpoint, io.Closer, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path},
		&clientcmd.ConfigOverrides{CurrentContext: kubeContext},
	).ClientConfig()
	if err != nil {
		return nil, nil, BadInput(fmt.Errorf("--kubeconfig %s: %w", path, err))
	}
	opts.Logger = env.Logger
	if systemTools {
		opts.LocalPort = kube.DocLocalPort
	}
	e, closer, err := kube.Connect(ctx, cfg, opts)
	if err != nil {
		if errors.Is(err, kube.ErrNoAddress) {
			err = fmt.Errorf("%w; the doc's INGRESS_GW_ADDRESS would be empty: does the cluster run a LoadBalancer implementation?", err)
		}
		return nil, nil, BadInput(fmt.Errorf("cluster of %s: %w", path, err))
	}
	return e, closer, nil
}

// leftOut tells which built-in scenarios a run against one gateway leaves
// out, and why, so that "every scenario" never silently means fewer.
func leftOut(env *Env, run []string) error {
	all, err := scenarios.Builtin()
	if err != nil {
		return BadInput(err)
	}
	for _, s := range all {
		if slices.Contains(run, s.Name) {
			continue
		}
		why := "it needs routes of its own on the gateway (splitproof replay --show " + s.Name + " says which); name it once they are configured"
		if same := sameRoute(s, run); same != "" {
			why = "it is no example of the doc but other requests to " + same + "'s route, which this run needs anyway; name it to run it too"
		}
		if len(s.Steps) > 0 {
			why = "it changes its route between steps, which only the embedded target can do"
		}
		if len(s.Faults) > 0 {
			why = "its provider must fail one arm at a set rate (as splitproof fakeopenai --model-faults does); name it once yours does"
		}
		fmt.Fprintf(env.Stderr, "left out %s: %s\n", s.Name, why)
	}
	return nil
}

// sameRoute returns the scenario of names whose route and manifests s
// shares (a variant of it with other requests), "" when none does.
func sameRoute(s *scenarios.Scenario, names []string) string {
	for _, n := range names {
		o, err := scenarios.Find(n)
		if err != nil || o.Route != s.Route || o.RuleIndex != s.RuleIndex || len(o.Manifests) != len(s.Manifests) || len(s.Steps) > 0 {
			continue
		}
		same := true
		for i, m := range s.Manifests {
			a, errA := s.ReadFile(m.File)
			b, errB := o.ReadFile(o.Manifests[i].File)
			same = same && errA == nil && errB == nil && m.Namespace == o.Manifests[i].Namespace && bytes.Equal(a, b)
		}
		if same {
			return o.Name
		}
	}
	return ""
}

// reportRun prints a run's reports (text or JSON), writes its files and
// turns its outcome into the exit code; replay, demo and check share it.
func reportRun(env *Env, res *replay.Result, err error, jsonOut bool, files replay.Files) error {
	if err != nil && !jsonOut {
		// What ran before the run stopped is still reported.
		for _, r := range res.Reports {
			if werr := r.WriteText(env.Stdout); werr != nil {
				return werr
			}
		}
	}
	switch {
	case errors.Is(err, replay.ErrCannotApply):
		return BadInput(fmt.Errorf("%w (run it without --gateway or --kubeconfig)", err))
	case err != nil:
		// Unreachable gateways and snippets that cannot run are input
		// problems, not a split verdict.
		return BadInput(err)
	}
	if jsonOut {
		if err := replay.WriteJSON(env.Stdout, res); err != nil {
			return err
		}
	} else {
		for _, r := range res.Reports {
			if err := r.WriteText(env.Stdout); err != nil {
				return err
			}
		}
	}
	if err := replay.WriteFiles(res, files); err != nil {
		return err
	}
	if !jsonOut {
		if _, err := fmt.Fprintf(env.Stdout, "%d passed, %d failed, %d inconclusive\n%s\n", res.Passed, res.Failed, res.Inconclusive, res.Run.Line); err != nil {
			return err
		}
	}
	switch res.Outcome {
	case sim.OutcomeFail:
		return Failed(res.Reason())
	case sim.OutcomeInconclusive:
		return Inconclusive(res.Reason())
	}
	return nil
}

// loadRoute reads the one HTTPRoute of a file, with the loader's checks
// (file:line: field errors, the CRD's rules).
func loadRoute(path string) (*gatewayv1.HTTPRoute, error) {
	set, err := loader.Loader{IgnoreUnknownKinds: true}.Load(path)
	if err != nil {
		return nil, fmt.Errorf("--route: %w", err)
	}
	if n := len(set.HTTPRoutes); n != 1 {
		return nil, fmt.Errorf("--route %s: %d HTTPRoutes, expected exactly one", path, n)
	}
	return &set.HTTPRoutes[0], nil
}
