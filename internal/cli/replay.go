package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/embedded"
	"github.com/splitproof/splitproof/scenarios/kube"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/sim"
)

// DocScenarios are the documented examples `splitproof demo` replays.
var DocScenarios = []string{"example1-ab-testing", "example2-llm"}

func replayCommand() Command {
	return Command{
		Name:  "replay",
		Short: "replay the doc's curl snippets against a gateway and verify the split",
		Run: func(ctx context.Context, env *Env, args []string) error {
			return runReplay(ctx, env, "replay", args, nil)
		},
	}
}

func demoCommand() Command {
	return Command{
		Name:  "demo",
		Short: "the main job: replay both doc examples on the embedded target and print the verdicts",
		Run: func(ctx context.Context, env *Env, args []string) error {
			return runReplay(ctx, env, "demo", args, DocScenarios)
		},
	}
}

const replaySynopsis = `replay [flags] [SCENARIO|DIR ...]

Runs each scenario's documented shell snippets (for loops of curl, piped
through jq) exactly as the doc writes them, with curl and jq run natively,
scaled to enough requests for a verdict with stated power, classifies every
response and verifies the observed split against the weights in the
scenario's manifests. With no scenario, every built-in scenario runs.

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
                      itself with --system-tools)

Verdicts: PASS, FAIL or INCONCLUSIVE. A sequential test that reaches its cap
(--requests) undecided, or a replay interrupted by SIGINT or SIGTERM, is
INCONCLUSIVE, never PASS: its report says why and estimates how many more
requests would decide.

` + exitCodesHelp

const replayExamples = `  splitproof replay --list
  splitproof replay example1-ab-testing
  splitproof replay --requests 5000 --json example2-llm
  splitproof replay --sequential --junit out/junit.xml
  splitproof replay --gateway http://127.0.0.1:8080 --snippet port-forward example1-ab-testing
  splitproof replay --kubeconfig ~/.kube/config example1-ab-testing example2-llm
  splitproof replay --kubeconfig ~/.kube/config --context kind-splitproof --snippet external-address example2-llm
  splitproof replay --plot out/split.png ./my-scenario/`

func runReplay(ctx context.Context, env *Env, name string, args []string, defaults []string) error {
	synopsis, examples := replaySynopsis, replayExamples
	if name == "demo" {
		synopsis = "demo [flags]\n\nReplays the doc's two examples (" + strings.Join(DocScenarios, ", ") + ") on the embedded\ntarget and prints both verdicts. Takes the same flags as `splitproof replay`.\n\n" + exitCodesHelp
		examples = "  splitproof demo\n  splitproof demo --sequential"
	}
	fs := NewFlagSet(env, name, synopsis, examples)
	list := fs.Bool("list", false, "list the built-in scenarios and their snippets, then exit")
	gateway := fs.String("gateway", "", "replay against the gateway at this `URL` instead of the embedded target")
	portForward := fs.String("port-forward", "", "where the snippets' localhost:8080 goes with --gateway (`host:port`; default: the gateway)")
	kubeconfig := fs.String("kubeconfig", "", "replay against the doc's gateway in the cluster of this kubeconfig `PATH` (not with --gateway)")
	kubeContext := fs.String("context", "", "kubeconfig context `NAME` to use with --kubeconfig (default: its current context)")
	snippet := fs.String("snippet", "", "run only the snippet with this `name` (default: every snippet)")
	requests := fs.Int("requests", 0, "scale each snippet's loop to `N` requests (default 0: the n giving --power against --delta; with --sequential, the cap)")
	sequential := fs.Bool("sequential", false, "stop each replay as soon as the sequential test is sure (alpha still holds); undecided at the cap is INCONCLUSIVE (exit 3)")
	alpha := fs.Float64("alpha", sim.DefaultAlpha, "false-failure rate of each verdict, in (0,1)")
	delta := fs.Float64("delta", sim.DefaultDelta, "smallest deviation of a share the run must detect, in (0,0.5]")
	power := fs.Float64("power", 0.9, "power against --delta that sets the default number of requests, in (0,1)")
	timeout := fs.Duration("timeout", replay.DefaultTimeout, "per-request timeout of the native curl, from connecting to the end of the body (a request that takes longer counts as no response)")
	seed := fs.Uint64("seed", 1, "seed of the embedded refproxy's picker and of the fake provider")
	mode := fs.String("pick-mode", string(picker.Random), "embedded refproxy's pick mode: random or smooth")
	systemTools := fs.Bool("system-tools", false, "run the real curl and jq binaries instead of the native ones: their output is all that is seen (a snippet's 5xx shows only with curl -i), the embedded target then also serves 127.0.0.1:80 and :8080, and --gateway addresses are not remapped")
	jsonOut := fs.Bool("json", false, "print the reports as JSON instead of tables")
	junit := fs.String("junit", "", "also write a JUnit XML report to `FILE`")
	plot := fs.String("plot", "", "also draw observed vs expected shares to `FILE.png` (one file per replay: FILE-<scenario>-<snippet>.png when several)")
	countsOut := fs.String("counts", "", "also write the counts of each replay, with every request in arrival order (send and receive time, connection, status, category), for splitproof verify --file or --sequence, to `DIR`")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if err := validateReplayFlags(*requests, *alpha, *delta, *power, *timeout); err != nil {
		return BadInput(err)
	}
	pm, err := picker.ParseMode(*mode)
	if err != nil {
		return BadInput(err)
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
		return nil
	}
	names := fs.Args()
	if len(names) == 0 {
		names = defaults
	}
	var list2 []*scenarios.Scenario
	if len(names) == 0 {
		if list2, err = scenarios.Builtin(); err != nil {
			return BadInput(err)
		}
	}
	for _, n := range names {
		s, err := scenarios.Find(n)
		if err != nil {
			return BadInput(err)
		}
		list2 = append(list2, s)
	}
	opts := replay.Options{
		Requests: *requests, Sequential: *sequential, Alpha: *alpha, Delta: *delta, PowerTarget: *power,
		Timeout: *timeout, SystemTools: *systemTools, Progress: env.Stderr, Logger: env.Logger,
	}
	if *kubeconfig != "" && (*gateway != "" || *portForward != "") {
		return BadInput(errors.New("--kubeconfig and --gateway/--port-forward choose different targets: give one"))
	}
	if *kubeContext != "" && *kubeconfig == "" {
		return BadInput(errors.New("--context needs --kubeconfig"))
	}
	var addrEP *replay.Endpoint
	if *gateway != "" {
		if addrEP, err = replay.AddressEndpoint(*gateway, *portForward); err != nil {
			return BadInput(err)
		}
	}
	if *kubeconfig != "" {
		var closer io.Closer
		if addrEP, closer, err = clusterEndpoint(ctx, env, *kubeconfig, *kubeContext, *systemTools); err != nil {
			return err
		}
		defer closer.Close()
	}
	var reports []*replay.Report
	// interrupted is the error of a replay that SIGINT or SIGTERM ended
	// before any response: what ran before it is still reported.
	var interrupted error
	// stoppedEarly: SIGINT or SIGTERM came between replays, so some never ran.
	stoppedEarly := false
scenarioLoop:
	for _, s := range list2 {
		if ctx.Err() != nil {
			stoppedEarly = true
			break
		}
		ep := addrEP
		var target *embedded.Target
		if ep == nil {
			target, err = embedded.Start(ctx, s, embedded.Options{PickMode: pm, Seed: *seed, Logger: env.Logger, DocPorts: *systemTools})
			if err != nil && ctx.Err() != nil {
				stoppedEarly = true // SIGINT or SIGTERM during start-up
				break
			}
			if err != nil {
				return BadInput(fmt.Errorf("start the embedded target for %s: %w", s.Name, err))
			}
			ep = target.Endpoint()
		}
		snippets := s.Snippets
		if *snippet != "" {
			sn, err := s.Snippet(*snippet)
			if err != nil {
				closeTarget(target)
				return BadInput(err)
			}
			snippets = []scenarios.Snippet{*sn}
		}
		if len(s.Steps) > 0 && target == nil {
			return BadInput(fmt.Errorf("scenario %s changes its route between steps; only the embedded target can apply manifests (run it without --gateway or --kubeconfig)", s.Name))
		}
		for _, sn := range snippets {
			if ctx.Err() != nil {
				stoppedEarly = true
				closeTarget(target)
				break scenarioLoop
			}
			o := opts
			o.Snippet = sn.Name
			var reps []*replay.Report
			if len(s.Steps) > 0 {
				reps, err = replay.RunSteps(ctx, s, ep, target, o)
			} else {
				var rep *replay.Report
				if rep, err = replay.Run(ctx, s, ep, o); err == nil {
					reps = []*replay.Report{rep}
				}
			}
			if err != nil && errors.Is(err, replay.ErrInterrupted) {
				interrupted = err
				closeTarget(target)
				break scenarioLoop
			}
			if err != nil {
				closeTarget(target)
				// Unreachable gateways and snippets that cannot run are
				// input problems, not a split verdict.
				return BadInput(err)
			}
			for _, rep := range reps {
				reports = append(reports, rep)
				if !*jsonOut {
					if err := rep.WriteText(env.Stdout); err != nil {
						closeTarget(target)
						return err
					}
				}
			}
		}
		closeTarget(target)
	}
	if *jsonOut {
		if err := replay.WriteJSON(env.Stdout, reports); err != nil {
			return err
		}
	}
	if err := writeReplayFiles(reports, *junit, *plot, *countsOut); err != nil {
		return err
	}
	passed, failed, undecided := 0, 0, 0
	for _, r := range reports {
		switch r.Outcome() {
		case sim.OutcomePass:
			passed++
		case sim.OutcomeInconclusive:
			undecided++
		default:
			failed++
		}
	}
	if interrupted != nil {
		undecided++ // the replay that ended before any response
	}
	if !*jsonOut {
		fmt.Fprintf(env.Stdout, "%d passed, %d failed, %d inconclusive\n", passed, failed, undecided)
	}
	switch {
	case failed > 0:
		return Failed(fmt.Errorf("%d of %d replays found a split that differs from the weights", failed, passed+failed+undecided))
	case interrupted != nil:
		return Inconclusive(interrupted)
	case stoppedEarly:
		return Inconclusive(fmt.Errorf("interrupted: %d replays ran, the rest did not start", len(reports)))
	case undecided > 0:
		for _, r := range reports {
			if r.Interrupted {
				return Inconclusive(fmt.Errorf("interrupted after %d requests of %s/%s: INCONCLUSIVE, a partial run is neither a pass nor a fail", r.Requests, r.Scenario, r.Snippet))
			}
		}
		return Inconclusive(fmt.Errorf("%d of %d replays could not decide (INCONCLUSIVE): neither a pass nor a wrong split", undecided, passed+undecided))
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

func closeTarget(t *embedded.Target) {
	if t != nil {
		_ = t.Close()
	}
}

func writeReplayFiles(reports []*replay.Report, junit, plot, countsDir string) error {
	if junit != "" {
		if err := writeFile(junit, func(f *os.File) error { return replay.WriteJUnit(f, reports) }); err != nil {
			return err
		}
	}
	if plot != "" {
		for _, r := range reports {
			path := plot
			if len(reports) > 1 {
				ext := filepath.Ext(plot)
				path = strings.TrimSuffix(plot, ext) + "-" + fileLabel(r) + ext
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := r.Verdict.Plot(path); err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
		}
	}
	if countsDir != "" {
		if err := os.MkdirAll(countsDir, 0o755); err != nil {
			return err
		}
		for _, r := range reports {
			sf := r.SequenceFile()
			path := filepath.Join(countsDir, fileLabel(r)+".json")
			if err := writeFile(path, func(f *os.File) error { return sequence.Write(f, sf) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeFile(path string, write func(*os.File) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// fileLabel names a replay's output files: scenario-snippet[-step].
func fileLabel(r *replay.Report) string {
	l := r.Scenario + "-" + r.Snippet
	if r.Step != "" {
		l += "-" + r.Step
	}
	return l
}

// clusterEndpoint connects to the doc's gateway in the kubeconfig's cluster.
// Real curl (--system-tools) cannot be remapped, so the forward then
// listens on the doc's own 127.0.0.1:8080.
func clusterEndpoint(ctx context.Context, env *Env, path, kubeContext string, systemTools bool) (*replay.Endpoint, io.Closer, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path},
		&clientcmd.ConfigOverrides{CurrentContext: kubeContext},
	).ClientConfig()
	if err != nil {
		return nil, nil, BadInput(fmt.Errorf("--kubeconfig %s: %w", path, err))
	}
	opts := kube.Options{Logger: env.Logger}
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
