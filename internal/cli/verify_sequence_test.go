package cli

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/sim"
)

// TestVerifySequence: --sequence verifies the counts a list of responses in
// arrival order implies, exactly as --counts does with those counts.
func TestVerifySequence(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// The counts in a seeded random order: independent draws, so that
	// the counts test decides as it does for --counts (an order with
	// structure is judged by its scheduler's test: TestVerifyScheduler).
	lines := func(counts map[string]int) string {
		var names []string
		for _, name := range []string{"v1", "v2", "v3"} {
			for range counts[name] {
				names = append(names, name)
			}
		}
		rand.New(rand.NewPCG(7, 7)).Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		return "# responses in arrival order\n" + strings.Join(names, "\n") + "\n"
	}
	good := write("good.txt", lines(map[string]int{"v1": 103, "v2": 95, "v3": 802}))
	wrong := write("wrong.txt", lines(map[string]int{"v1": 40, "v2": 100, "v3": 860}))
	bad := write("bad.txt", "v1\nv2\n\nv3 v1\n")
	countsOnly := write("counts.json", `{"categories":[{"name":"v1","weight":1}],"counts":{"v1":3}}`)
	replayed := write("replayed.json", `{"categories": [{"name": "a", "weight": 80}, {"name": "b", "weight": 20}], "counts": {"a": 4, "b": 1},
  "sequence": {"start": "2026-12-04T13:00:00Z", "connections": "traced", "fields": ["sent_ns", "received_ns", "conn", "status", "category"],
    "requests": [[0, 5, 1, 200, "a"], [6, 9, 1, 200, "a"], [10, 12, 1, 200, "b"], [13, 20, 2, 200, "a"], [21, 30, 2, 200, "a"]]}}`)
	disagree := write("disagree.json", strings.Replace(string(must(os.ReadFile(replayed))), `"a": 4`, `"a": 5`, 1))
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		want        string
	}{
		{"plain list passes", "", []string{"verify", "--weights", "v1=10,v2=10,v3=80", "--sequence", good}, ExitOK, "verdict: PASS"},
		{"says what it read", "", []string{"verify", "--weights", "v1=10,v2=10,v3=80", "--sequence", good}, ExitOK, "1000 responses in arrival order, connections not recorded"},
		{"plain list fails like --counts", "", []string{"verify", "--weights", "v1=10,v2=10,v3=80", "--sequence", wrong}, ExitFail, "verdict: FAIL"},
		{"stdin", lines(map[string]int{"v1": 600, "v2": 200}), []string{"verify", "--weights", "v1=3,v2=1", "--sequence", "-", "--json"}, ExitOK, `"outcome": "pass"`},
		// Five responses are read, but cannot verify 80/20 within ±5 points.
		{"replayer's JSON", "", []string{"verify", "--sequence", replayed}, ExitInconclusive, "5 responses in arrival order, 2 connection(s), traced"},
		{"replayer's JSON through --file", "", []string{"verify", "--file", writePerConnection(t, filepath.Join(dir, "replayed-1000.json"), 1000, 1)}, ExitOK, "verdict: PASS"},
		{"error names file and line", "", []string{"verify", "--weights", "v1=1,v2=1,v3=1", "--sequence", bad}, ExitBadInput, bad + `:4: invalid sequence: "v3 v1" is not one category`},
		{"plain list needs weights", "", []string{"verify", "--sequence", good}, ExitBadInput, "is a plain list of categories: give the expected split with --weights"},
		{"JSON has its own weights", "", []string{"verify", "--weights", "a=1,b=1", "--sequence", replayed}, ExitBadInput, "carries its categories and weights"},
		{"counts file has no sequence", "", []string{"verify", "--sequence", countsOnly}, ExitBadInput, `a counts file without a "sequence": verify it with --file`},
		{"counts and sequence disagree", "", []string{"verify", "--file", disagree}, ExitBadInput, `counts["a"] is 5 but the sequence has 4`},
		{"with --counts", "", []string{"verify", "--weights", "a=1", "--counts", "a=1", "--sequence", good}, ExitBadInput, "give --sequence or --counts, not both"},
		{"with --file", "", []string{"verify", "--file", countsOnly, "--sequence", good}, ExitBadInput, "not two of them"},
		{"bad weights", "", []string{"verify", "--weights", "v1=x", "--sequence", good}, ExitBadInput, `invalid value "v1=x" for flag -weights: entry 1 (v1): "x" is not a whole number`},
		{"missing file", "", []string{"verify", "--weights", "a=1", "--sequence", filepath.Join(dir, "none.txt")}, ExitBadInput, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runWithStdin(t, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(out+stderr, tt.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, tt.code, tt.want, out, stderr)
			}
		})
	}
	// The same counts through --counts give the same verdict table.
	seqOut, _, _ := runSimCLI(t, "", "verify", "--weights", "v1=10,v2=10,v3=80", "--sequence", good)
	countsOut, _, _ := runSimCLI(t, "", "verify", "--weights", "v1=10,v2=10,v3=80", "--counts", "v1=103,v2=95,v3=802")
	if _, table, _ := strings.Cut(seqOut, "\n"); !strings.HasPrefix(table, countsOut) || !strings.Contains(table, "\nscheduler: independent (") {
		t.Fatalf("--sequence table:\n%s\n--counts table:\n%s", table, countsOut)
	}
}

// runWithStdin runs the command line and returns the exit code, then stdout
// and stderr as they are once the error has been reported.
func runWithStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(stdin)}
	code := exitCode(&errb, Run(context.Background(), env, args))
	return code, out.String(), errb.String()
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestVerifyScheduler: verify classifies a sequence's arrival order and
// lets the test that fits the scheduler decide: exactness for a
// deterministic order, whole periods for a bursty one, the counts over
// connections for a per-connection one; independent draws keep the counts
// test. The orders are seeded or deterministic.
func TestVerifyScheduler(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, labels []string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.Join(labels, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	picks := func(mode picker.Mode, w []int32, n int) []string {
		p := picker.MustNew(mode, w, 1)
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("v%d", p.Pick()+1)
		}
		return out
	}
	smooth := write("smooth.txt", picks(picker.Smooth, []int32{10, 10, 80}, 1000))
	random := write("random.txt", picks(picker.Random, []int32{10, 10, 80}, 1000))
	wrong := write("wrong.txt", picks(picker.Smooth, []int32{20, 20, 60}, 1000))
	perConn := writePerConnection(t, filepath.Join(dir, "per-connection.json"), 2500, 2)
	overlapped := writeOverlapped(t, filepath.Join(dir, "overlapped.json"), 1000, 8)
	weights := "v1=10,v2=10,v3=80"
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"smooth picker: deterministic, exact", []string{"--weights", weights, "--sequence", smooth}, ExitOK,
			[]string{"scheduler: deterministic (period 10, every window holds 1/1/8 (v1/v2/v3)", "the exactness test decides: exact: every window of 10 requests holds 1/1/8", "verdict: PASS"}},
		{"random picker: independent, counts test", []string{"--weights", weights, "--sequence", random}, ExitOK,
			[]string{"scheduler: independent (runs p = ", "the counts test above decides", "verdict: PASS"}},
		{"Caddy-like blocks, 3 whole periods", []string{"--weights", weights, "--sequence", write("blocks-300.txt", blocks(300))}, ExitOK,
			[]string{"scheduler: bursty (longest runs v1 10, v2 10, v3 80", "period 100, 3 whole", "each of the 3 whole periods of 100 requests holds 10/10/80 (v1/v2/v3)", "verdict: PASS"}},
		{"Caddy-like blocks, 1.5 periods", []string{"--weights", weights, "--sequence", write("blocks-150.txt", blocks(150))}, ExitInconclusive,
			[]string{"scheduler: bursty (", "verdict: INCONCLUSIVE", "whole-periods test decides"}},
		{"20/20/60 smooth against 10/10/80", []string{"--weights", weights, "--sequence", wrong}, ExitFail,
			[]string{"scheduler: deterministic (period 5", "not exact", "(v1, v2, v3)", "verdict: FAIL"}},
		{"per-connection JSON", []string{"--sequence", perConn}, ExitOK,
			[]string{"5000 responses in arrival order, 2500 connection(s), traced", "scheduler: per-connection (2500 of 2500 connections carried several requests", "the backends of 2500 connections (one draw each) agree with the weights", "verdict: PASS"}},
		{"a round robin recorded by 8 workers: left to the counts test", []string{"--sequence", overlapped}, ExitOK,
			[]string{"scheduler: undetermined (", "the counts test decides: the requests overlapped", "verdict: PASS"}},
		{"--json reports the scheduler", []string{"--weights", weights, "--sequence", smooth, "--json"}, ExitOK,
			[]string{`"scheduler": {`, `"scheduler": "deterministic"`, `"period_confirmed": true`, `"model_verdict": {`, `"test": "exactness"`, `"outcome": "pass"`}},
		{"--file with a sequence is classified too", []string{"--file", perConn, "--json"}, ExitOK,
			[]string{`"scheduler": "per-connection"`, `"test": "connections"`, `"connections_verdict": {`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runWithStdin(t, "", append([]string{"verify"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", code, tt.code, out, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	// A correct bursty gateway is never failed, however short the run:
	// INCONCLUSIVE until two whole periods (200 requests), PASS after.
	for _, n := range []int{1, 10, 25, 60, 99, 100, 101, 150, 199, 200, 201, 250, 299, 300, 450} {
		code, out, stderr := runWithStdin(t, "", "verify", "--weights", weights, "--sequence", write(fmt.Sprintf("blocks-%d.txt", n), blocks(n)))
		want := ExitInconclusive
		if n >= 200 {
			want = ExitOK
		}
		if code != want {
			t.Errorf("%d requests in blocks: exit %d, want %d:\n%s%s", n, code, want, out, stderr)
		}
	}
}

// blocks is a Caddy-like weighted round robin's order for 10/10/80: 10 v1,
// 10 v2, 80 v3, repeated, cut at n.
func blocks(n int) []string {
	out := make([]string, n)
	for i := range out {
		switch j := i % 100; {
		case j < 10:
			out[i] = "v1"
		case j < 20:
			out[i] = "v2"
		default:
			out[i] = "v3"
		}
	}
	return out
}

// writePerConnection writes the replayer's JSON for a gateway that picks a
// backend per connection (seeded random 10/10/80 picks), with k requests on
// each of conns traced connections, and returns its path.
func writePerConnection(t *testing.T, path string, conns, k int) string {
	t.Helper()
	rec := sequence.New(time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC), sequence.ConnsTraced)
	p := picker.MustNew(picker.Random, []int32{10, 10, 80}, 5)
	var at time.Duration
	for c := 1; c <= conns; c++ {
		name := fmt.Sprintf("v%d", p.Pick()+1)
		for range k {
			rec.Add(at, at+time.Millisecond/2, uint64(c), 200, name)
			at += time.Millisecond
		}
	}
	cats := []sim.Category{{Name: "v1", Weight: 10}, {Name: "v2", Weight: 10}, {Name: "v3", Weight: 80}}
	var b bytes.Buffer
	if err := sequence.Write(&b, sequence.File{CountsFile: sim.CountsFile{Categories: cats, Counts: rec.Counts()}, Sequence: rec}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeOverlapped writes the replayer's JSON for a smooth round robin
// 10/10/80 recorded by `inFlight` workers: requests sent inFlight at a time
// and answered in a shuffled order within each batch (seeded), as a replay
// with --concurrency records them; returns its path.
func writeOverlapped(t *testing.T, path string, n, inFlight int) string {
	t.Helper()
	rec := sequence.New(time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC), sequence.ConnsTraced)
	p := picker.MustNew(picker.Smooth, []int32{10, 10, 80}, 1)
	rng := rand.New(rand.NewPCG(7, 7))
	for batch := 0; batch < n; batch += inFlight {
		names := make([]string, min(inFlight, n-batch))
		for i := range names {
			names[i] = fmt.Sprintf("v%d", p.Pick()+1)
		}
		rng.Shuffle(len(names), func(a, b int) { names[a], names[b] = names[b], names[a] })
		sent := time.Duration(batch/inFlight) * time.Millisecond
		for i, name := range names {
			rec.Add(sent, sent+time.Millisecond/2, uint64(batch+i+1), 200, name)
		}
	}
	cats := []sim.Category{{Name: "v1", Weight: 10}, {Name: "v2", Weight: 10}, {Name: "v3", Weight: 80}}
	var b bytes.Buffer
	if err := sequence.Write(&b, sequence.File{CountsFile: sim.CountsFile{Categories: cats, Counts: rec.Counts()}, Sequence: rec}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplayConnections: the sequence replay --counts writes follows
// --connections (new: one connection per curl command of the doc's loop,
// so N requests use N; reuse: one keep-alive connection for all), verify
// reads it back, and values that cannot work are refused.
func TestReplayConnections(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "60 responses in arrival order, 60 connection(s), traced"},
		{[]string{"--connections", "new"}, "60 responses in arrival order, 60 connection(s), traced"},
		{[]string{"--connections", "reuse"}, "60 responses in arrival order, 1 connection(s), traced"},
	} {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"replay", "--fixed", "--requests", "60", "--snippet", "port-forward", "--counts", dir}, tt.args...)
			if code, out, stderr := runWithStdin(t, "", append(args, "example1-ab-testing")...); code == ExitBadInput || code == ExitFail {
				t.Fatalf("replay: exit %d:\n%s%s", code, out, stderr)
			}
			_, out, stderr := runWithStdin(t, "", "verify", "--sequence", filepath.Join(dir, "example1-ab-testing-port-forward.json"))
			if !strings.Contains(out, tt.want) || !strings.Contains(out, "\nscheduler: ") {
				t.Fatalf("verify lacks %q and the scheduler:\n%s%s", tt.want, out, stderr)
			}
		})
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--connections", "some"}, `--connections: connection policy "some": want "reuse" or "new"`},
		{[]string{"--connections", "reuse", "--system-tools"}, "--connections reuse needs the native curl"},
	} {
		code, out, stderr := runWithStdin(t, "", append(append([]string{"replay"}, tt.args...), "example1-ab-testing")...)
		if code != ExitBadInput || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s%s", tt.args, code, ExitBadInput, tt.want, out, stderr)
		}
	}
}
