package weights

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/embedded"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/sim"
	"github.com/splitproof/splitproof/sim/sched"
)

// Expect is what a case must show.
type Expect string

const (
	// ExpectPass: the split is verified (PASS).
	ExpectPass Expect = "pass"
	// ExpectFail: the split is wrong (FAIL); for deliberately wrong gateways.
	ExpectFail Expect = "fail"
	// ExpectAmbiguous: the spec leaves the behaviour open; the result
	// reports what the gateway did instead of judging it.
	ExpectAmbiguous Expect = "spec-ambiguous"
	// ExpectNotPass: the split must not be verified (FAIL or
	// INCONCLUSIVE); for a wrong gateway whose data cannot show a FAIL at
	// a stated error rate, such as one connection of a gateway that picks
	// per connection.
	ExpectNotPass Expect = "not-pass"
)

// Case is one scenario and what it must show.
type Case struct {
	Name     string
	Scenario *scenarios.Scenario
	Expect   Expect
	// Delta is the tolerance a PASS verifies each share within (0:
	// sim.DefaultDelta, ±5 pp). A skewed split needs less: at ±5 pp a 1 %
	// backend cannot be told from a missing one.
	Delta float64
}

// Suite is a list of cases.
type Suite []Case

// Mode is one way a target picks backends.
type Mode struct {
	Name string `json:"name"`
	// Pick is refproxy's pick mode (embedded target only).
	Pick picker.Mode `json:"pick,omitempty"`
	// Scheduler is the arrival order this mode must show (sim/sched's
	// class); empty checks nothing. A deterministic mode is run long enough
	// for its period to be recognised.
	Scheduler sched.Class `json:"scheduler,omitempty"`
}

// Target opens a gateway serving one scenario in one mode.
type Target interface {
	Modes() []Mode
	// Open returns the endpoint the scenario's snippets reach the gateway
	// at and a function that releases it.
	Open(ctx context.Context, s *scenarios.Scenario, m Mode) (*replay.Endpoint, func() error, error)
}

// Embedded is refproxy in-process (scenarios/embedded), one instance per
// case and mode, in random and smooth mode.
type Embedded struct {
	// Seed makes random mode reproducible.
	Seed uint64
	// AllZeroStatus is refproxy's answer to an all-zero rule (0: its default).
	AllZeroStatus int
}

var _ Target = Embedded{}

// Modes are refproxy's two pick modes: random draws are independent,
// smooth WRR is deterministic.
func (Embedded) Modes() []Mode {
	return []Mode{
		{Name: string(picker.Random), Pick: picker.Random, Scheduler: sched.Independent},
		{Name: string(picker.Smooth), Pick: picker.Smooth, Scheduler: sched.Deterministic},
	}
}

// Open starts the embedded target for s.
func (e Embedded) Open(ctx context.Context, s *scenarios.Scenario, m Mode) (*replay.Endpoint, func() error, error) {
	t, err := embedded.Start(ctx, s, embedded.Options{PickMode: m.Pick, Seed: e.Seed, AllZeroStatus: e.AllZeroStatus})
	if err != nil {
		return nil, nil, fmt.Errorf("start embedded target for %s: %w", s.Name, err)
	}
	return t.Endpoint(), t.Close, nil
}

//go:embed cases
var extra embed.FS

// AllZero is the all-zero case's scenario: two Services, both weight 0. It
// is not a built-in scenario, since it has no split to verify.
func AllZero() (*scenarios.Scenario, error) {
	root, err := fs.Sub(extra, "cases")
	if err != nil {
		return nil, err
	}
	return scenarios.Load(root, "all-zero")
}

// SkewedDelta is the tolerance of the skewed-1-99 case: the 1 % share must
// be verified within ±1 pp, so that a gateway dropping it (a deviation of
// exactly 1 pp) fails with the stated power.
const SkewedDelta = 0.01

// Default is the suite: the three weight cases upstream has no test for,
// the three invalid-backend cases and the all-zero rule, every one
// expected to pass on a correct gateway except the spec-ambiguous one.
func Default() (Suite, error) {
	builtin, err := scenarios.Builtin()
	if err != nil {
		return nil, err
	}
	byName := map[string]*scenarios.Scenario{}
	for _, s := range builtin {
		byName[s.Name] = s
	}
	var out Suite
	var errs []error
	for _, c := range []struct {
		name   string
		expect Expect
		delta  float64
	}{
		{"default-weight", ExpectPass, 0},
		{"sixteen-backends", ExpectPass, 0},
		{"skewed-1-99", ExpectPass, SkewedDelta},
		{"weight-zero", ExpectPass, 0},
		{"invalid-backendref", ExpectPass, 0},
		{"no-endpoints", ExpectPass, 0},
	} {
		s, ok := byName[c.name]
		if !ok {
			errs = append(errs, fmt.Errorf("suite case %s: no built-in scenario of that name", c.name))
			continue
		}
		out = append(out, Case{Name: c.name, Scenario: s, Expect: c.expect, Delta: c.delta})
	}
	az, err := AllZero()
	if err != nil {
		errs = append(errs, fmt.Errorf("all-zero case: %w", err))
	} else {
		out = append(out, Case{Name: "all-zero", Scenario: az, Expect: ExpectAmbiguous})
	}
	return out, errors.Join(errs...)
}

// Result is one case in one mode.
type Result struct {
	Case     string `json:"case"`
	Scenario string `json:"scenario"`
	Mode     string `json:"mode"`
	Expect   Expect `json:"expect"`
	// Observed is the verdict (pass, fail, inconclusive), "statuses" for
	// a spec-ambiguous case, or "error" when the case could not run.
	Observed string `json:"observed"`
	// AsExpected says whether Observed is what the case expects (for a
	// spec-ambiguous case: every answer a 5xx from the gateway itself) and
	// the mode's order was the one it must show.
	AsExpected bool             `json:"as_expected"`
	Counts     map[string]int64 `json:"counts"`
	Requests   int              `json:"requests"`
	// Scheduler is the order sim/sched found and Test the test that
	// decided (counts, exactness, ...).
	Scheduler string        `json:"scheduler,omitempty"`
	Test      string        `json:"test,omitempty"`
	Wall      time.Duration `json:"wall_ns"`
	// Notes are findings beyond the verdict: weight-0 bounds, statuses.
	Notes []string `json:"notes,omitempty"`
	// Failures are the verdict's reasons, and the mode's when its order
	// was not the one it must show.
	Failures []string `json:"failures,omitempty"`
	Err      string   `json:"error,omitempty"`
	// Verdict is the full verdict of a split case.
	Verdict *sim.Verdict `json:"verdict,omitempty"`
}

// Run replays every case in every mode of t, in order. A case that cannot
// run gives a Result with Err set; the others still run.
func Run(ctx context.Context, t Target, cases Suite) []Result {
	var out []Result
	for _, c := range cases {
		for _, m := range t.Modes() {
			if ctx.Err() != nil {
				return out
			}
			out = append(out, runCase(ctx, t, c, m))
		}
	}
	return out
}

// Failed returns the results that are not what their case expects.
func Failed(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if !r.AsExpected {
			out = append(out, r)
		}
	}
	return out
}

func runCase(ctx context.Context, t Target, c Case, m Mode) Result {
	start := time.Now()
	r := Result{Case: c.Name, Mode: m.Name, Expect: c.Expect, Observed: "error"}
	fail := func(err error) Result {
		r.Err = fmt.Sprintf("case %s (%s): %v", c.Name, m.Name, err)
		r.Wall = time.Since(start)
		return r
	}
	if c.Scenario == nil {
		return fail(errors.New("no scenario"))
	}
	r.Scenario = c.Scenario.Name
	cats, err := c.Scenario.Expected()
	if err != nil {
		return fail(err)
	}
	ep, release, err := t.Open(ctx, c.Scenario, m)
	if err != nil {
		return fail(err)
	}
	defer func() { _ = release() }()
	if totalWeight(cats) == 0 {
		if err := probeAllZero(ctx, c.Scenario, ep, &r); err != nil {
			return fail(err)
		}
		r.Wall = time.Since(start)
		return r
	}
	if err := runSplit(ctx, c, m, cats, ep, &r); err != nil {
		return fail(err)
	}
	r.Wall = time.Since(start)
	return r
}

func totalWeight(cats []scenarios.Category) int64 {
	var t int64
	for _, c := range cats {
		t += int64(c.Weight)
	}
	return t
}

// runSplit replays a case with a split and fills r from its report.
func runSplit(ctx context.Context, c Case, m Mode, cats []scenarios.Category, ep *replay.Endpoint, r *Result) error {
	opts := replay.Options{Sequential: true, Delta: c.Delta}
	if m.Scheduler == sched.Deterministic {
		// The sequential test may stop before the period has repeated often
		// enough for sim/sched to tell a deterministic order from chance,
		// and the counts test's rates mean nothing for such an order; a
		// fixed run of that length lets the exactness test decide.
		n, err := ExactnessRequests(cats, sim.DefaultAlpha)
		if err != nil {
			return err
		}
		opts = replay.Options{Requests: max(n, 100), Delta: c.Delta}
	}
	rep, err := replay.Run(ctx, c.Scenario, ep, opts)
	if err != nil {
		return err
	}
	v := rep.Verdict
	r.Verdict = &v
	r.Observed = string(v.Outcome)
	r.Counts = rep.Counts
	r.Requests = rep.Requests
	r.Failures = append(r.Failures, v.Failures...)
	if v.Outcome == sim.OutcomeInconclusive && v.Inconclusive != "" {
		r.Notes = append(r.Notes, "inconclusive: "+v.Inconclusive)
	}
	if rep.Scheduler != nil {
		r.Scheduler = string(rep.Scheduler.Scheduler)
	}
	if rep.ModelVerdict != nil {
		r.Test = rep.ModelVerdict.Test
	}
	r.Notes = append(r.Notes, zeroBounds(cats, rep.Counts, int64(rep.Requests))...)
	orderOK := true
	if m.Scheduler != "" && r.Scheduler != string(m.Scheduler) {
		orderOK = false
		r.Failures = append(r.Failures, fmt.Sprintf("mode %s must show a %s order; sim/sched found %q", m.Name, m.Scheduler, r.Scheduler))
	}
	if m.Scheduler == sched.Deterministic && r.Test != sched.TestExactness {
		orderOK = false
		r.Failures = append(r.Failures, fmt.Sprintf("mode %s: the %s test decided, not the exactness test", m.Name, r.Test))
	}
	r.AsExpected = orderOK && r.Observed == string(c.Expect)
	return nil
}

// zeroBounds states, for each weight-0 category, a one-sided 95 % upper
// bound on its share: the Clopper–Pearson bound, which for x = 0 hits in
// k requests is 1 − 0.05^(1/k), about 3/k.
func zeroBounds(cats []scenarios.Category, counts map[string]int64, n int64) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cats {
		if c.Weight != 0 || seen[c.Name] || n == 0 {
			continue
		}
		seen[c.Name] = true
		x := counts[c.Name]
		hi := ZeroShareBound(x, n)
		out = append(out, fmt.Sprintf("weight-0 share (%s) < %s %% at 95 %% after %d requests (%d on it)", c.Name, pct(hi), n, x))
	}
	return out
}

// ZeroShareBound is the one-sided 95 % upper confidence bound on a share
// observed x times in n requests: the upper end of the two-sided 90 %
// Clopper–Pearson interval.
func ZeroShareBound(x, n int64) float64 {
	return sim.ClopperPearson(x, n, 0.90).Hi
}

func pct(f float64) string { return fmt.Sprintf("%.2g", 100*f) }

// ExactnessRequests is the shortest whole number of periods after which
// sim/sched recognises the smooth WRR order of these weights as
// deterministic at level alpha. It classifies the order refproxy's own
// smooth picker produces (the code refproxy serves), period by period, up
// to maxPeriods.
func ExactnessRequests(cats []scenarios.Category, alpha float64) (int, error) {
	weights := make([]int32, len(cats))
	merged := map[string]int{}
	var scats []sim.Category
	index := make([]int, len(cats))
	for i, c := range cats {
		weights[i] = c.Weight
		j, ok := merged[c.Name]
		if !ok {
			j = len(scats)
			merged[c.Name] = j
			scats = append(scats, sim.Category{Name: c.Name})
		}
		scats[j].Weight += int64(c.Weight)
		index[i] = j
	}
	p, err := picker.New(picker.Smooth, weights, 0)
	if err != nil {
		return 0, fmt.Errorf("smooth picker: %w", err)
	}
	period := int(picker.Period(weights))
	var seq []int
	for k := 1; k <= maxPeriods; k++ {
		for range period {
			seq = append(seq, index[p.Pick()])
		}
		if k < 2 {
			continue
		}
		res, err := sched.Classify(seq, scats, sched.Options{Alpha: alpha})
		if err != nil {
			return 0, fmt.Errorf("classify a smooth order: %w", err)
		}
		if res.Scheduler == sched.Deterministic {
			return len(seq), nil
		}
	}
	return 0, fmt.Errorf("a smooth order of period %d is not recognised as deterministic within %d periods", period, maxPeriods)
}

// maxPeriods bounds ExactnessRequests's search.
const maxPeriods = 64

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
