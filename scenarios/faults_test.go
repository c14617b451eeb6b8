package scenarios

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/splitproof/splitproof/fakeopenai"
)

// split renders categories as "name/backend=weight ...".
func split(cs []Category) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Name+"/"+c.Backend+"="+itoa(int(c.Weight)))
	}
	return strings.Join(parts, " ")
}

func TestApplyFaults(t *testing.T) {
	llm := []Category{{"mini", "mini-ref", 80}, {"premium", "premium-ref", 20}}
	hello := []Category{{"v1", "v1", 10}, {"v2", "v2", 10}, {"v3", "v3", 80}}
	tests := []struct {
		name     string
		expected []Category
		faults   []Fault
		failover bool
		want     string
		wantErr  string
	}{
		{"no faults", llm, nil, false, "mini/mini-ref=80 premium/premium-ref=20", ""},
		// 80 : 20×0.75 : 20×0.25 = 80 : 15 : 5 = 16 : 3 : 1.
		{"premium 429-bare at 0.25", llm, []Fault{{"premium-ref", "429-bare", 0.25}}, false, "mini/mini-ref=16 premium/premium-ref=3 429/premium-ref=1", ""},
		// The failed 5 points go to mini: 85 : 15 = 17 : 3, no 429.
		{"premium 429-bare at 0.25, failover", llm, []Fault{{"premium-ref", "429-bare", 0.25}}, true, "mini/mini-ref=17 premium/premium-ref=3 429/premium-ref=0", ""},
		// v3: 80×0.9 = 72 and 8 → 10 : 10 : 72 : 8 = 5 : 5 : 36 : 4.
		{"three arms, 503 at 0.1", hello, []Fault{{"v3", "503", 0.1}}, false, "v1/v1=5 v2/v2=5 v3/v3=36 503/v3=4", ""},
		// 8 points failed on v3 go 4 and 4 to v1 and v2: 14 : 14 : 72 = 7 : 7 : 36.
		{"three arms, 503 at 0.1, failover", hello, []Fault{{"v3", "503", 0.1}}, true, "v1/v1=7 v2/v2=7 v3/v3=36 503/v3=0", ""},
		// Failover splits by weight: v3 fails 0.5 of its 10, 5 points, 4 to v1 (80) and 1 to v2 (20).
		{"failover in proportion", []Category{{"v1", "v1", 80}, {"v2", "v2", 20}, {"v3", "v3", 10}}, []Fault{{"v3", "429", 0.5}}, true, "v1/v1=84 v2/v2=21 v3/v3=5 429/v3=0", ""},
		{"two arms with faults", []Category{{"a", "a", 50}, {"b", "b", 50}}, []Fault{{"a", "429", 0.5}, {"b", "503", 0.0001}}, false, "a/a=5000 429/a=5000 b/b=9999 503/b=1", ""},
		{"rate 1 leaves no answer", llm, []Fault{{"premium-ref", "503", 1}}, false, "mini/mini-ref=4 premium/premium-ref=0 503/premium-ref=1", ""},
		{"four decimal places", llm, []Fault{{"premium-ref", "429", 0.2501}}, false, "mini/mini-ref=40000 premium/premium-ref=7499 429/premium-ref=2501", ""},
		{"overflow", []Category{{"a", "a", 1000000}, {"b", "b", 1}}, []Fault{{"b", "503", 0.0001}}, false, "", "needs a weight of 10000000000 for a (a) even in lowest terms, beyond int32"},
		{"five decimal places", llm, []Fault{{"premium-ref", "429", 0.25001}}, false, "", "at most 4 decimal places"},
		{"rate 0", llm, []Fault{{"premium-ref", "429", 0}}, false, "", "expected a probability in (0, 1]"},
		{"unknown fault", llm, []Fault{{"premium-ref", "hang", 0.1}}, false, "", `fault "hang": expected one of 429, 429-bare, 500, 503`},
		{"backendRef not in the split", llm, []Fault{{"other", "429", 0.1}}, false, "", `backendRef "other" is not in the split (its backendRefs: mini-ref, premium-ref)`},
		{"failover needs another arm", []Category{{"a", "a", 0}, {"b", "b", 5}}, []Fault{{"b", "429", 0.1}}, true, "", "no other backendRef of positive weight can take the failed share of b"},
		{"failover with two faulty arms", hello, []Fault{{"v1", "429", 0.1}, {"v2", "429", 0.1}}, true, "", "failover is modelled for one faulty backendRef, and 2 have faults"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ApplyFaults(tt.expected, tt.faults, tt.failover)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := split(got); s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
		})
	}
}

// TestFaultNamesAreFakeOpenAIs: the faults a scenario offers are ones the
// embedded target's fake provider can inject, under the same names.
func TestFaultNamesAreFakeOpenAIs(t *testing.T) {
	for _, name := range FaultNames() {
		if f, err := fakeopenai.ParseFault(name); err != nil || string(f) != name {
			t.Errorf("fault %q: fakeopenai parses it as %q, %v", name, f, err)
		}
	}
}

func TestLoadFaults(t *testing.T) {
	route := "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: ns}\nspec:\n  rules:\n  - backendRefs: [{name: a, port: 80, weight: 80}, {name: b, port: 80, weight: 20}]\n"
	base := "name: x\nmanifests: [{file: m.yaml}]\nroute: ns/r\nclassify: {jq: .model}\nsnippets: [{name: s, script: 'curl x'}]\ncategories: {a: A, b: B}\nfaults:\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"ok", base + "- {backendRef: b, fault: 429-bare, rate: 0.25}\n", ""},
		{"unknown field", base + "- {backendRef: b, fault: '503', rte: 0.25}\n", `dir/scenario.yaml:8: faults[0]: unknown field "rte" (known fields: backendRef, fault, rate)`},
		{"status as a number", base + "- {backendRef: b, fault: 503, rate: 0.25}\n", `dir/scenario.yaml:8: faults[0].fault: expected a string, got int 503`},
		{"unknown fault", base + "- backendRef: b\n  fault: hang\n  rate: 0.25\n", `dir/scenario.yaml:9: faults[0].fault "hang": expected one of 429, 429-bare, 500, 503`},
		{"rate with five places", base + "- backendRef: b\n  fault: '503'\n  rate: 0.12345\n", `dir/scenario.yaml:10: faults[0].rate 0.12345: expected a probability in (0, 1] with at most 4 decimal places`},
		{"rate above 1", base + "- {backendRef: b, fault: '503', rate: 2}\n", `faults[0].rate 2: expected a probability in (0, 1]`},
		{"not a backendRef", base + "- {backendRef: c, fault: '503', rate: 0.5}\n", `dir/scenario.yaml:8: faults[0].backendRef "c": not a backendRef of the route (those in categories: a, b)`},
		{"missing backendRef", base + "- {fault: '503', rate: 0.5}\n", `dir/scenario.yaml:8: faults[0].backendRef: required`},
		{"twice", base + "- {backendRef: b, fault: '503', rate: 0.5}\n- {backendRef: b, fault: '429', rate: 0.5}\n", `dir/scenario.yaml:9: faults[1].backendRef "b": already given a fault in faults[0]`},
		{"with steps", base + "- {backendRef: b, fault: '503', rate: 0.5}\nsteps: [{name: one, manifests: [{file: m.yaml}]}]\n", `dir/scenario.yaml:7: faults: a scenario with steps cannot inject faults`},
		// 1,000,000 : 1 with 0.0001 of b failing is 10^10 : 9,999 : 1 in lowest terms.
		{"beyond int32", strings.Replace(base, "m.yaml", "wide.yaml", 1) + "- {backendRef: b, fault: '503', rate: 0.0001}\n", `dir/scenario.yaml:7: faults: the split needs a weight of 10000000000 for A (a) even in lowest terms, beyond int32`},
	}
	wide := strings.Replace(strings.Replace(route, "weight: 80", "weight: 1000000", 1), "weight: 20", "weight: 1", 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"dir/scenario.yaml": {Data: []byte(tt.yaml)}, "dir/m.yaml": {Data: []byte(route)}, "dir/wide.yaml": {Data: []byte(wide)}}
			s, err := Load(fsys, "dir")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				cats, err := s.ExpectedWithFaults(false)
				if err != nil || split(cats) != "A/a=16 B/b=3 429/b=1" {
					t.Fatalf("expected split %s, %v; want A/a=16 B/b=3 429/b=1", split(cats), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to mention %s", err, tt.want)
			}
		})
	}
}

func TestFaultShares(t *testing.T) {
	s := &Scenario{Faults: []Fault{{"b", "429-bare", 0.25}}}
	base := []Category{{"A", "a", 80}, {"B", "b", 20}}
	counts := map[string]int64{"A": 800, "B": 152, "429": 48}
	got := s.FaultShares(base, counts, false)
	if len(got) != 1 {
		t.Fatalf("%d shares, want 1", len(got))
	}
	want := "fault: b answers 429-bare at rate 0.25, no failover expected: 429 expected on 5.00% of requests, observed 4.80% (48 of 1000); on 24.00% of the arm's (48 of 200)"
	if got[0].String() != want {
		t.Errorf("line %q, want %q", got[0], want)
	}
	fo := s.FaultShares(base, map[string]int64{"A": 840, "B": 150, "429": 10}, true)[0]
	want = "fault: b answers 429-bare at rate 0.25; failover expected: its failed 5.00% of requests should be answered by a, so no 429 should reach the client: observed 1.00% (10 of 1000)"
	if fo.String() != want || fo.Expected != 0 {
		t.Errorf("failover line %q (expected share %v), want %q and 0", fo, fo.Expected, want)
	}
	if (&Scenario{}).FaultShares(base, counts, false) != nil {
		t.Error("a scenario without faults has fault shares")
	}
}

func TestBuiltinFaults(t *testing.T) {
	s, err := Find("example2-llm-faults")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		failover bool
		want     string
	}{
		{false, "gpt-4o-mini-2024-07-18/openai-mini-backend=16 gpt-4o-2024-08-06/openai-premium-backend=3 429/openai-premium-backend=1"},
		{true, "gpt-4o-mini-2024-07-18/openai-mini-backend=17 gpt-4o-2024-08-06/openai-premium-backend=3 429/openai-premium-backend=0"},
	} {
		cats, err := s.ExpectedWithFaults(tt.failover)
		if err != nil {
			t.Fatal(err)
		}
		if got := split(cats); got != tt.want {
			t.Errorf("failover %v: %s, want %s", tt.failover, got, tt.want)
		}
	}
}
