package upstream

import (
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/gateway-api/conformance/utils/weight"

	"github.com/splitproof/splitproof/sim"
)

// Upstream's senders are RequestSenders: the drop-in takes them unchanged.
var _ RequestSender = weight.NewFunctionBasedSender(nil)

// fakeSender answers like a gateway with pods "<backend>-5d8f-x7k2q": the
// first switchAt requests split by before, the rest by after, each an
// independent seeded draw.
type fakeSender struct {
	mu            sync.Mutex
	rng           *rand.Rand
	n, switchAt   int
	before, after []share
}

type share struct {
	backend string
	p       float64
}

func newFake(seed uint64, switchAt int, before, after []share) *fakeSender {
	return &fakeSender{rng: rand.New(rand.NewPCG(seed, 1)), switchAt: switchAt, before: before, after: after}
}

func (f *fakeSender) SendRequest() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	split := f.after
	if f.n < f.switchAt {
		split = f.before
	}
	f.n++
	x := f.rng.Float64()
	for _, s := range split {
		if x < s.p {
			return s.backend + "-5d8f-x7k2q", nil
		}
		x -= s.p
	}
	return split[len(split)-1].backend + "-5d8f-x7k2q", nil
}

var (
	upstreamWeights = map[string]float64{"infra-backend-v1": 0.7, "infra-backend-v2": 0.3, "infra-backend-v3": 0}
	correct         = []share{{"infra-backend-v1", 0.7}, {"infra-backend-v2", 0.3}}
	wrong6436       = []share{{"infra-backend-v1", 0.64}, {"infra-backend-v2", 0.36}}
	oldSplit        = []share{{"infra-backend-v1", 1}}
)

func TestPlan(t *testing.T) {
	p, err := PlanFor(upstreamWeights, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", p)
	if p.FalseFailure > 0.002 || p.FalsePass != sim.DefaultBeta || p.FailPower < 1-sim.DefaultBeta/DefaultMaxWindows || p.WindowMiss > DefaultWindowMiss {
		t.Errorf("plan %+v does not give its stated rates", p)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		sender  RequestSender
		want    sim.Outcome
		windows int // 0: any
		mention string
	}{
		{"correct", newFake(1, 0, nil, correct), sim.OutcomePass, 1, ""},
		{"converges after a weight change", newFake(2, 2500, oldSplit, correct), sim.OutcomePass, 0, ""},
		{"64/36, which upstream passes 98.4 % of the time", newFake(3, 0, nil, wrong6436), sim.OutcomeFail, DefaultMaxWindows, "infra-backend-v1"},
		{"never converges", newFake(4, 1<<30, oldSplit, correct), sim.OutcomeFail, DefaultMaxWindows, "infra-backend-v2"},
		{"hits a weight-0 backend", newFake(5, 0, nil, []share{{"infra-backend-v1", 0.69}, {"infra-backend-v2", 0.3}, {"infra-backend-v3", 0.01}}), sim.OutcomeFail, DefaultMaxWindows, "infra-backend-v3"},
		{"an unexpected backend", newFake(6, 0, nil, []share{{"infra-backend-v1", 0.7}, {"other", 0.3}}), sim.OutcomeFail, DefaultMaxWindows, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Check(tt.sender, upstreamWeights, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.want || (tt.windows != 0 && res.Windows != tt.windows) {
				t.Fatalf("%s, want %s in %d windows", res.Summary(), tt.want, tt.windows)
			}
			if tt.name == "converges after a weight change" && res.Windows < 2 {
				t.Errorf("passed in window %d, before the split changed", res.Windows)
			}
			if f := strings.Join(res.Verdict.Failures, "\n"); !strings.Contains(f, tt.mention) {
				t.Errorf("failures do not name %s: %q", tt.mention, f)
			}
		})
	}
}

// TestRates measures the stated rates on seeded runs: a correct gateway
// (100 runs) is never failed, and the 64/36 split (50 runs) is never
// passed. The bounds are far below one expected event in these runs
// (false failure ≤ 0.002, false pass ≤ 0.1 with each window at 0.02 and
// 64/36 off by 6 pp), so one event would say the statement is wrong.
func TestRates(t *testing.T) {
	opts := Options{Concurrency: 1}
	for seed := range uint64(100) {
		res, err := Check(newFake(100+seed, 0, nil, correct), upstreamWeights, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != sim.OutcomePass {
			t.Fatalf("seed %d: correct gateway %s", seed, res.Summary())
		}
	}
	for seed := range uint64(50) {
		res, err := Check(newFake(1000+seed, 0, nil, wrong6436), upstreamWeights, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome == sim.OutcomePass {
			t.Fatalf("seed %d: 64/36 passed: %s", seed, res.Summary())
		}
	}
}

func TestErrors(t *testing.T) {
	boom := errors.New("connection refused")
	failing := weight.NewFunctionBasedSender(func() (string, error) { return "", boom })
	if err := TestWeightedDistribution(failing, upstreamWeights); !errors.Is(err, boom) || !strings.Contains(err.Error(), "window 1: request") {
		t.Errorf("sender error: got %v", err)
	}
	for _, w := range []map[string]float64{nil, {"a": 0, "b": 0}, {"a": -1, "b": 1}, {"a": 1e-9, "b": 1}} {
		if err := TestWeightedDistribution(failing, w); !errors.Is(err, ErrInput) {
			t.Errorf("weights %v: got %v, want ErrInput", w, err)
		}
	}
	err := TestWeightedDistribution(newFake(7, 0, nil, wrong6436), upstreamWeights)
	if !errors.Is(err, ErrFail) {
		t.Errorf("64/36: got %v, want ErrFail", err)
	}
	if got := backendName("infra-backend-v1-7d9f8b-x2x4z"); got != "infra-backend-v1" {
		t.Errorf("backendName = %q", got)
	}
}
