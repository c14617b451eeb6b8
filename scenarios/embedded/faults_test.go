package embedded

import (
	"context"
	"math"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/splitproof/splitproof/fakeopenai"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/replay"
)

// TestFaultsReachOneArm: example2-llm-faults makes the fake provider fail
// a quarter of the premium arm's requests and none of the other arm's,
// and refproxy hands every failure to the client unchanged.
func TestFaultsReachOneArm(t *testing.T) {
	s, tg := mustStart(t, "example2-llm-faults", picker.Random)
	const n = 400
	rep, err := replay.Run(context.Background(), s, tg.Endpoint(), replay.Options{Requests: n})
	if err != nil {
		t.Fatal(err)
	}
	var premium, faults int64
	for _, r := range tg.FakeOpenAI().Requests() {
		switch {
		case r.Model == "gpt-4o":
			premium++
			if r.Fault != fakeopenai.FaultNone {
				if r.Fault != fakeopenai.Fault429Bare || r.Status != 429 {
					t.Fatalf("premium request with fault %q, status %d; want 429-bare", r.Fault, r.Status)
				}
				faults++
			}
		case r.Fault != fakeopenai.FaultNone:
			t.Fatalf("a request for %s got fault %q: only the premium arm fails", r.Model, r.Fault)
		}
	}
	if rep.Counts["429"] != faults {
		t.Errorf("the client saw %d 429s, the provider sent %d", rep.Counts["429"], faults)
	}
	// Seeded; six standard deviations of a Binomial(premium, 0.25).
	if sd := math.Sqrt(float64(premium) * 0.25 * 0.75); math.Abs(float64(faults)-0.25*float64(premium)) > 6*sd {
		t.Errorf("%d of %d premium requests failed, want about a quarter", faults, premium)
	}
}

// faultsScenario is example2-llm-faults read from memory, with edit
// applied to each file's text (name → old → new).
func faultsScenario(t *testing.T, edits map[string][2]string) *scenarios.Scenario {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, name := range []string{"example2-llm-faults/scenario.yaml", "example2-llm/manifests/backends.yaml", "example2-llm/manifests/route.yaml", "example2-llm/local/gateway.yaml"} {
		data, err := os.ReadFile(path.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := edits[name]; ok {
			if !strings.Contains(string(data), e[0]) {
				t.Fatalf("%s no longer contains %q", name, e[0])
			}
			data = []byte(strings.Replace(string(data), e[0], e[1], 1))
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	s, err := scenarios.Load(fsys, "example2-llm-faults")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFaultsStartErrors: a fault the embedded target cannot confine to
// its arm is refused when the target starts, never served unfaulted.
func TestFaultsStartErrors(t *testing.T) {
	tests := []struct {
		name  string
		edits map[string][2]string
		want  string
	}{
		{"no fake provider", map[string][2]string{"example2-llm-faults/scenario.yaml": {"embedded:\n  fakeopenai:\n    backends:\n      - agentgateway-system/openai-mini-backend\n      - agentgateway-system/openai-premium-backend\n", ""}},
			"faults need embedded.fakeopenai"},
		{"arm not on the fake", map[string][2]string{"example2-llm-faults/scenario.yaml": {"      - agentgateway-system/openai-premium-backend\n", ""}},
			"faults[0]: AgentgatewayBackend agentgateway-system/openai-premium-backend is not served by the fake provider"},
		{"both arms send one model", map[string][2]string{"example2-llm/manifests/backends.yaml": {"model: gpt-4o-mini", "model: gpt-4o"}},
			"faults[0]: AgentgatewayBackend agentgateway-system/openai-premium-backend sends model gpt-4o, as agentgateway-system/openai-mini-backend does"},
		{"arm without a model", map[string][2]string{"example2-llm/manifests/backends.yaml": {"      openai:\n        model: gpt-4o\n", "      openai: {}\n"}},
			"faults[0]: AgentgatewayBackend agentgateway-system/openai-premium-backend sets no model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := faultsScenario(t, tt.edits)
			tg, err := Start(context.Background(), s, Options{Seed: 1})
			if err == nil {
				tg.Close()
				t.Fatalf("started; want an error mentioning %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
