package replay

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/sim"
)

// Target is one scenario's gateway as RunAll uses it.
type Target struct {
	// Endpoint is where the snippets send their requests.
	Endpoint *Endpoint
	// Applier applies a stepped scenario's steps; nil when the target
	// cannot change its manifests (a gateway given by address or a cluster
	// reached through its load balancer), and RunAll then refuses stepped
	// scenarios.
	Applier Applier
	// Closer is closed when the scenario's replays are done; nil when the
	// caller owns the target's lifetime.
	Closer io.Closer
}

// TargetFactory opens the target each scenario runs against. A function
// rather than a concrete target because the embedded target
// (scenarios/embedded) imports this package: the caller passes it in.
type TargetFactory struct {
	// Kind names the target in errors ("embedded").
	Kind string
	// Open starts or reaches the target for s.
	Open func(ctx context.Context, s *scenarios.Scenario) (*Target, error)
}

// FixedTarget is one endpoint for every scenario, opened and closed by the
// caller: a gateway given by address, or a cluster's port-forward.
func FixedTarget(ep *Endpoint) TargetFactory {
	return TargetFactory{
		Kind: ep.Name,
		Open: func(context.Context, *scenarios.Scenario) (*Target, error) { return &Target{Endpoint: ep}, nil },
	}
}

// Config is one run: which scenarios and snippets, against what, how.
type Config struct {
	Scenarios []*scenarios.Scenario
	// Snippet runs only the snippet of that name in each scenario (every
	// scenario must have it); empty runs every snippet.
	Snippet string
	Target  TargetFactory
	// Options apply to every replay; their Snippet is set per replay, and
	// so are Alpha and Sequential: Options.Alpha (0: sim.DefaultAlpha) is
	// the run's false-failure rate, which every verdict shares (each is
	// planned and decided at sim.PlanAlpha of it over the run's verdicts,
	// see RunSummary), and Fixed chooses the test.
	Options Options
	// Fixed runs the fixed-n test (Options.Requests, or the n giving
	// Options.PowerTarget, is then each replay's n); the default is the
	// sequential test, which stops as soon as it is sure, with
	// Options.Requests (or four times that n) as its cap.
	Fixed bool
	// OnReport, if set, sees each report as soon as its replay is done (to
	// say so while the run goes on). Its verdict is not final yet: Holm's
	// correction at the end of the run can turn a fixed-n one into a FAIL.
	// An error it returns ends the run and is returned as it is.
	OnReport func(*Report) error
}

// ErrCannotApply marks a stepped scenario given a target without an Applier.
var ErrCannotApply = errors.New("only the embedded target can apply manifests")

// Result is what a run produced.
type Result struct {
	// Reports of every replay that ran, in order.
	Reports []*Report
	// Interrupted is the error (wrapping ErrInterrupted) of a replay that
	// SIGINT or SIGTERM ended before any response; the run stopped there.
	Interrupted error
	// StoppedEarly: the context ended between replays, so some never ran.
	StoppedEarly bool
	// Passed, Failed and Inconclusive count the replays by outcome; the
	// replay Interrupted names counts as inconclusive.
	Passed, Failed, Inconclusive int
	// Outcome is the run's: FAIL if any replay failed, else INCONCLUSIVE if
	// any could not decide or the run was cut short, else PASS.
	Outcome sim.Outcome
	// Run is the run-level false-failure rate every verdict shares.
	Run *RunSummary
}

// RunAll replays every snippet of every scenario of cfg against the target
// cfg.Target opens for it, stepped scenarios step by step. An error means
// the run could not go on (a target that does not start, a missing snippet,
// a stepped scenario on a target that cannot apply manifests, an
// unreachable gateway): the reports made until then are in the Result,
// which is never nil. A cancelled context is not an error: the Result says
// the run was interrupted and its Outcome is at best INCONCLUSIVE.
func RunAll(ctx context.Context, cfg Config) (*Result, error) {
	alpha := first(cfg.Options.Alpha, sim.DefaultAlpha)
	res := &Result{Run: newRunSummary(cfg, alpha)}
	cfg.Options.Alpha = res.Run.VerdictAlpha
	cfg.Options.Sequential = !cfg.Fixed
	err := runScenarios(ctx, cfg, res)
	if ferr := finish(res); ferr != nil && err == nil {
		err = ferr
	}
	return res, err
}

func runScenarios(ctx context.Context, cfg Config, res *Result) error {
	for _, s := range cfg.Scenarios {
		if ctx.Err() != nil {
			res.StoppedEarly = true
			return nil
		}
		stop, err := runScenario(ctx, cfg, s, res)
		if err != nil || stop {
			return err
		}
	}
	return nil
}

// runScenario runs s's snippets on its own target; stop says the context
// ended the run.
func runScenario(ctx context.Context, cfg Config, s *scenarios.Scenario, res *Result) (stop bool, err error) {
	t, err := cfg.Target.Open(ctx, s)
	if err != nil {
		if ctx.Err() != nil {
			res.StoppedEarly = true // SIGINT or SIGTERM during start-up
			return true, nil
		}
		return true, fmt.Errorf("start the %s target for %s: %w", cfg.Target.Kind, s.Name, err)
	}
	if t.Closer != nil {
		defer t.Closer.Close()
	}
	snippets := s.Snippets
	if cfg.Snippet != "" {
		sn, err := s.Snippet(cfg.Snippet)
		if err != nil {
			return true, err
		}
		snippets = []scenarios.Snippet{*sn}
	}
	if len(s.Steps) > 0 && t.Applier == nil {
		return true, fmt.Errorf("scenario %s changes its route between steps; %w", s.Name, ErrCannotApply)
	}
	for _, sn := range snippets {
		if ctx.Err() != nil {
			res.StoppedEarly = true
			return true, nil
		}
		o := cfg.Options
		o.Snippet = sn.Name
		var reps []*Report
		if len(s.Steps) > 0 {
			reps, err = RunSteps(ctx, s, t.Endpoint, t.Applier, o)
		} else {
			var rep *Report
			if rep, err = Run(ctx, s, t.Endpoint, o); err == nil {
				reps = []*Report{rep}
			}
		}
		if errors.Is(err, ErrInterrupted) {
			res.Interrupted = err
			return true, nil
		}
		if err != nil {
			return true, err
		}
		for _, rep := range reps {
			res.Reports = append(res.Reports, rep)
			if cfg.OnReport != nil {
				if err := cfg.OnReport(rep); err != nil {
					return true, err
				}
			}
		}
	}
	return false, nil
}

// finish sees every report of the run before RunAll returns: the place for
// anything that needs the whole run. Holm's correction of the verdicts to
// the run-level alpha (applyRunLevel) comes before the counting, since it
// can turn a fixed-n verdict into a FAIL, and after any per-report
// scheduler classification, which decides the verdicts Holm may combine.
// Reports already handed to OnReport are final only here. A Result
// without Run (not made by RunAll) is only counted.
func finish(res *Result) error {
	err := applyRunLevel(res)
	for _, r := range res.Reports {
		switch r.Outcome() {
		case sim.OutcomePass:
			res.Passed++
		case sim.OutcomeInconclusive:
			res.Inconclusive++
		default:
			res.Failed++
		}
	}
	if res.Interrupted != nil {
		res.Inconclusive++ // the replay that ended before any response
	}
	switch {
	case res.Failed > 0:
		res.Outcome = sim.OutcomeFail
	case res.Inconclusive > 0 || res.StoppedEarly:
		res.Outcome = sim.OutcomeInconclusive
	default:
		res.Outcome = sim.OutcomePass
	}
	return err
}

// Reason explains an Outcome other than PASS (nil for PASS): how many
// replays failed, or why the run could not decide.
func (r *Result) Reason() error {
	total := r.Passed + r.Failed + r.Inconclusive
	switch {
	case r.Failed > 0:
		return fmt.Errorf("%d of %d replays found a split that differs from the weights", r.Failed, total)
	case r.Interrupted != nil:
		return r.Interrupted
	case r.StoppedEarly:
		return fmt.Errorf("interrupted: %d replays ran, the rest did not start", len(r.Reports))
	case r.Inconclusive > 0:
		for _, rep := range r.Reports {
			if rep.Interrupted {
				return fmt.Errorf("interrupted after %d requests of %s/%s: INCONCLUSIVE, a partial run is neither a pass nor a fail", rep.Requests, rep.Scenario, rep.Snippet)
			}
		}
		return fmt.Errorf("%d of %d replays could not decide (INCONCLUSIVE): neither a pass nor a wrong split", r.Inconclusive, r.Passed+r.Inconclusive)
	}
	return nil
}
