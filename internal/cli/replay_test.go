package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/sim"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	err := Run(context.Background(), env, args)
	return exitCode(&errb, err), out.String(), errb.String()
}

// gateway serves the doc's Example 1 like a gateway splitting with weights
// w, smoothly: an arrival order the scheduler classification calls
// deterministic.
func gateway(t *testing.T, w []int32) string {
	t.Helper()
	return pickerGateway(t, picker.MustNew(picker.Smooth, w, 0))
}

// randomGateway is gateway with independent draws (seeded), the order the
// sequential test assumes.
func randomGateway(t *testing.T, w []int32, seed uint64) string {
	t.Helper()
	return pickerGateway(t, picker.MustNew(picker.Random, w, seed))
}

func pickerGateway(t *testing.T, p picker.Picker) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(rw, "Hello version: v%d, instance: x\n", p.Pick()+1)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestReplayExitCodes(t *testing.T) {
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return "http://" + ln.Addr().String()
	}()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"correct gateway passes", []string{"replay", "--gateway", gateway(t, []int32{10, 10, 80}), "--requests", "500", "example1-ab-testing"}, ExitOK, "2 passed, 0 failed, 0 inconclusive"},
		{"wrong split fails", []string{"replay", "--gateway", gateway(t, []int32{20, 20, 60}), "--requests", "500", "--snippet", "port-forward", "example1-ab-testing"}, ExitFail, "0 passed, 1 failed, 0 inconclusive"},
		{"unreachable gateway is bad input", []string{"replay", "--gateway", closed, "--requests", "5", "example1-ab-testing"}, ExitBadInput, "gateway unreachable"},
		{"unknown scenario", []string{"replay", "no-such-scenario"}, ExitBadInput, "expected a folder or one of"},
		{"unknown snippet", []string{"replay", "--gateway", closed, "--snippet", "nope", "example1-ab-testing"}, ExitBadInput, `no snippet "nope"`},
		{"stepped scenario needs the embedded target", []string{"replay", "--gateway", closed, "canary-ramp"}, ExitBadInput, "only the embedded target"},
		{"bad flag", []string{"replay", "--requests", "many"}, ExitBadInput, "invalid value"},
		// A sequential test at its cap printed "verdict: FAIL" and exited 1.
		// The caps of 300 are below the first n at which a sequential pass
		// is possible (422 for both splits), so the draws cannot decide.
		{"sequential cap is inconclusive", []string{"replay", "--gateway", randomGateway(t, []int32{10, 10, 80}, 1), "--requests", "300", "--snippet", "port-forward", "example1-ab-testing"}, ExitInconclusive, "0 passed, 0 failed, 1 inconclusive"},
		{"--sequential is accepted as the default", []string{"replay", "--gateway", randomGateway(t, []int32{10, 10, 80}, 1), "--sequential", "--requests", "300", "--snippet", "port-forward", "example1-ab-testing"}, ExitInconclusive, "0 passed, 0 failed, 1 inconclusive"},
		{"embedded sequential cap is inconclusive", []string{"replay", "--requests", "300", "--snippet", "port-forward", "example2-llm"}, ExitInconclusive, "more requests would decide (an estimate"},
		{"wrong split fails the sequential test", []string{"replay", "--gateway", randomGateway(t, []int32{20, 20, 60}, 1), "--requests", "300", "example1-ab-testing"}, ExitFail, "0 passed, 2 failed, 0 inconclusive"},
		{"--fixed with --sequential", []string{"replay", "--fixed", "--sequential", "example1-ab-testing"}, ExitBadInput, "--fixed and --sequential choose different tests"},
		{"--sequential=false", []string{"replay", "--sequential=false", "example1-ab-testing"}, ExitBadInput, "choose the fixed-n test with --fixed"},
		// 100 requests cannot verify 80/20 within ±5 points: the 90%
		// interval is wider than that at every count.
		{"embedded fixed-n too small is inconclusive", []string{"replay", "--fixed", "--requests", "100", "--snippet", "port-forward", "example2-llm"}, ExitInconclusive, "but not verified within ±5.0 percentage points"},
		// 500 requests do verify it: the sample size for power 0.9 (1,401)
		// is not needed for a PASS, only for a FAIL to be likely.
		{"embedded fixed-n of 500 verifies", []string{"replay", "--fixed", "--requests", "500", "--snippet", "port-forward", "example2-llm"}, ExitOK, "verdict: PASS (verified within ±5.0 percentage points"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d, want %d; output does not contain %q:\n%s\n%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
}

// TestReplayOutputs checks --json, --junit, --plot and --counts, and that
// the counts file round-trips through `splitproof verify`.
func TestReplayOutputs(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "replay", "--gateway", gateway(t, []int32{10, 10, 80}), "--fixed", "--requests", "400", "--snippet", "port-forward",
		"--json", "--junit", filepath.Join(dir, "junit.xml"), "--plot", filepath.Join(dir, "split.png"), "--counts", dir, "example1-ab-testing")
	if code != ExitOK {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var run struct {
		Run     replay.RunSummary `json:"run"`
		Outcome sim.Outcome       `json:"outcome"`
		Reports []struct {
			Scenario string           `json:"scenario"`
			Requests int              `json:"requests"`
			Counts   map[string]int64 `json:"counts"`
			Verdict  sim.Verdict      `json:"verdict"`
		} `json:"reports"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	reports := run.Reports
	if len(reports) != 1 || reports[0].Requests != 400 || !reports[0].Verdict.Pass || reports[0].Counts["v3"] != 320 || run.Outcome != sim.OutcomePass {
		t.Fatalf("reports %+v", reports)
	}
	if run.Run.Alpha != sim.DefaultAlpha || run.Run.Made != 1 || run.Run.VerdictAlpha != sim.DefaultAlpha || !strings.Contains(run.Run.Line, "false-failure rate of the run ≤ 0.001") {
		t.Fatalf("run %+v", run.Run)
	}
	junit, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil || !strings.Contains(string(junit), `<testsuite name="splitproof/example1-ab-testing" tests="1" failures="0"`) ||
		!strings.Contains(string(junit), `<property name="splitproof.run.alpha" value="0.001">`) {
		t.Fatalf("junit: %v\n%s", err, junit)
	}
	png, err := os.ReadFile(filepath.Join(dir, "split.png"))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("plot is not a PNG: %v", err)
	}
	counts := filepath.Join(dir, "example1-ab-testing-port-forward.json")
	code, out, errOut = runCLI(t, "verify", "--file", counts)
	if code != ExitOK || !strings.Contains(out, "PASS") {
		t.Fatalf("verify --file %s: exit %d\n%s%s", counts, code, out, errOut)
	}
	// The counts file keeps the order: 400 requests, one connection each
	// (--connections new, the default, as real curl), and the same verdict
	// through --sequence.
	f, err := os.Open(counts)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sf, err := sequence.DecodeFile(f, counts)
	if err != nil || sf.Sequence.Len() != 400 || sf.Sequence.Conns() != 400 || sf.Sequence.Connections != sequence.ConnsTraced {
		t.Fatalf("counts file %s: %v; sequence of %d requests on %d connections", counts, err, sf.Sequence.Len(), sf.Sequence.Conns())
	}
	code, out, errOut = runCLI(t, "verify", "--sequence", counts)
	if code != ExitOK || !strings.Contains(out, "400 responses in arrival order, 400 connection(s), traced") || !strings.Contains(out, "PASS") {
		t.Fatalf("verify --sequence %s: exit %d\n%s%s", counts, code, out, errOut)
	}
}

// TestReplayKubeconfig checks the cluster target's input errors. The API
// server of the last case serves only a Service without a load-balancer
// address: the replay must stop there, before any port-forward.
func TestReplayKubeconfig(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/namespaces/agentgateway-system/services/http" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"http","namespace":"agentgateway-system"},"spec":{"type":"LoadBalancer"},"status":{"loadBalancer":{}}}`)
	}))
	t.Cleanup(api.Close)
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: %q}
contexts:
- name: pending
  context: {cluster: c, user: u}
current-context: pending
users:
- name: u
  user: {}
`, api.URL)
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"with --gateway", []string{"replay", "--kubeconfig", kubeconfig, "--gateway", "http://127.0.0.1:1", "example1-ab-testing"}, "give one"},
		{"with --port-forward", []string{"replay", "--kubeconfig", kubeconfig, "--port-forward", "127.0.0.1:1", "example1-ab-testing"}, "give one"},
		{"--context alone", []string{"replay", "--context", "pending", "example1-ab-testing"}, "--context needs --kubeconfig"},
		{"missing kubeconfig", []string{"replay", "--kubeconfig", filepath.Join(dir, "nope"), "example1-ab-testing"}, "--kubeconfig " + filepath.Join(dir, "nope")},
		{"unknown context", []string{"replay", "--kubeconfig", kubeconfig, "--context", "other", "example1-ab-testing"}, `context "other"`},
		{"no address yet", []string{"replay", "--kubeconfig", kubeconfig, "--context", "pending", "example1-ab-testing"}, "Service agentgateway-system/http: no load-balancer address yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != ExitBadInput || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d, want %d; output does not contain %q:\n%s\n%s", code, ExitBadInput, tt.want, out, errOut)
			}
		})
	}
	code, out, errOut := runCLI(t, "replay", "--help")
	out += errOut
	for _, want := range []string{"--kubeconfig PATH", "-context NAME", "replay --kubeconfig ~/.kube/config"} {
		if !strings.Contains(out, want) {
			t.Errorf("replay --help (exit %d) does not mention %q:\n%s", code, want, out)
		}
	}
}

// TestDemoRunLevel: `splitproof demo` makes six verdicts (the doc's two
// examples and Example 2 streamed, two snippets each), sequential by
// default, and states one false-failure rate for the run: each verdict at
// --alpha/6, and exactly one run line. The four LLM replays print their
// tokens per model, the helloworld ones none.
func TestDemoRunLevel(t *testing.T) {
	code, out, errOut := runCLI(t, "demo")
	if code != ExitOK {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := strings.Count(out, "false-failure rate of the run"); n != 1 {
		t.Fatalf("%d run-level lines, want 1:\n%s", n, out)
	}
	for _, want := range []string{
		"6 passed, 0 failed, 0 inconclusive\nrun: 6 verdicts, false-failure rate of the run ≤ 0.001 (each verdict at 0.0001667; Bonferroni for the 6 sequential ones",
		", sequential: pass",
		"example2-llm-stream — Example 2, streamed",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "this verdict's share 0.0001667 (Bonferroni: sequential"); n != 6 {
		t.Fatalf("%d verdicts state their share 0.0001667, want 6:\n%s", n, out)
	}
	// Each report starts with its scenario's name; the LLM ones end with
	// the usage table, every request's usage known.
	for _, block := range strings.Split("\n"+out, "\nexample")[1:] {
		llm := strings.HasPrefix(block, "2-llm")
		table := strings.Contains(block, "tokens per category (the provider's usage")
		if !strings.Contains(block, "verdict: ") {
			continue
		}
		if llm != table {
			t.Fatalf("report with a usage table %v, from an LLM example %v:\n%s", table, llm, block)
		}
		if llm && (!strings.Contains(block, "gpt-4o-2024-08-06 ") || strings.Contains(block, "usage unknown")) {
			t.Fatalf("LLM report without every request's tokens per model:\n%s", block)
		}
	}
	// Reports come after the run, so nothing of them is on stderr.
	if strings.Contains(errOut, "verdict:") {
		t.Fatalf("a verdict went to stderr before the run ended:\n%s", errOut)
	}
}
