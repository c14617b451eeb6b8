package cli

import (
	"strings"
	"testing"
)

// TestReplayFaults: example2-llm-faults on the embedded refproxy, which
// passes the premium arm's 429s through as Gateway API implies: PASS by
// default, FAIL with --expect-failover (refproxy does not fail over), and
// --expect-failover refused where no scenario has faults. Seeded.
func TestReplayFaults(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"errors inside the arm's share pass", []string{"replay", "--seed", "7", "example2-llm-faults"}, ExitOK,
			[]string{"1 passed, 0 failed", "fault: openai-premium-backend answers 429-bare at rate 0.25, no failover expected: 429 expected on 5.00% of requests"}},
		{"refproxy does not fail over", []string{"replay", "--seed", "7", "--expect-failover", "example2-llm-faults"}, ExitFail,
			[]string{"0 passed, 1 failed", "its failed 5.00% of requests should be answered by openai-mini-backend, so no 429 should reach the client", "backend 429 has weight 0"}},
		{"--expect-failover without faults", []string{"replay", "--expect-failover", "example1-ab-testing"}, ExitBadInput,
			[]string{"--expect-failover: none of the scenarios injects faults"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s\n%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s\n%s", w, out, errOut)
				}
			}
		})
	}
}

func TestModelFaultsFlag(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--model-faults", "gpt-4o=418=0.1"}, `--model-faults: model faults of gpt-4o: fault rate "418=0.1": unknown fault`},
		{[]string{"--model-faults", "gpt-4o"}, "--model-faults: model faults \"gpt-4o\": want MODEL=FAULT=PROBABILITY"},
		{[]string{"--model-faults", "gpt-4o=429=0.1", "--model-faults", "gpt-4o=503=0.1"}, "--model-faults: gpt-4o is given twice"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"fakeopenai", "--listen", "127.0.0.1:0"}, tt.args...)...)
			if code != ExitBadInput || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s\n%s", code, ExitBadInput, tt.want, out, errOut)
			}
		})
	}
	for _, cmd := range [][]string{{"fakeopenai", "--help"}, {"replay", "--help"}} {
		code, out, errOut := runCLI(t, cmd...)
		want := map[string]string{"fakeopenai": "--model-faults", "replay": "--expect-failover"}[cmd[0]]
		if code != ExitOK || !strings.Contains(out+errOut, want) {
			t.Errorf("%s --help (exit %d) lacks %s", cmd[0], code, want)
		}
	}
}
