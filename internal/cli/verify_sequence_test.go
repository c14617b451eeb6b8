package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	lines := func(counts map[string]int) string {
		var b strings.Builder
		b.WriteString("# responses in arrival order\n")
		for i := 0; len(counts) > 0; i++ {
			for _, name := range []string{"v1", "v2", "v3"} {
				if counts[name] > 0 {
					b.WriteString(name + "\n")
					counts[name]--
				}
			}
			if counts["v1"]+counts["v2"]+counts["v3"] == 0 {
				break
			}
		}
		return b.String()
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
		{"stdin", "a\nb\na\na\n", []string{"verify", "--weights", "a=3,b=1", "--sequence", "-", "--json"}, ExitOK, `"outcome": "pass"`},
		{"replayer's JSON", "", []string{"verify", "--sequence", replayed}, ExitOK, "5 responses in arrival order, 2 connection(s), traced"},
		{"replayer's JSON through --file", "", []string{"verify", "--file", replayed}, ExitOK, "verdict: PASS"},
		{"error names file and line", "", []string{"verify", "--weights", "v1=1,v2=1,v3=1", "--sequence", bad}, ExitBadInput, bad + `:4: invalid sequence: "v3 v1" is not one category`},
		{"plain list needs weights", "", []string{"verify", "--sequence", good}, ExitBadInput, "is a plain list of categories: give the expected split with --weights"},
		{"JSON has its own weights", "", []string{"verify", "--weights", "a=1,b=1", "--sequence", replayed}, ExitBadInput, "carries its categories and weights"},
		{"counts file has no sequence", "", []string{"verify", "--sequence", countsOnly}, ExitBadInput, `a counts file without a "sequence": verify it with --file`},
		{"counts and sequence disagree", "", []string{"verify", "--file", disagree}, ExitBadInput, `counts["a"] is 5 but the sequence has 4`},
		{"with --counts", "", []string{"verify", "--weights", "a=1", "--counts", "a=1", "--sequence", good}, ExitBadInput, "give --sequence or --counts, not both"},
		{"with --file", "", []string{"verify", "--file", countsOnly, "--sequence", good}, ExitBadInput, "not two of them"},
		{"bad weights", "", []string{"verify", "--weights", "v1=x", "--sequence", good}, ExitBadInput, "--weights: entry 1 (v1)"},
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
	if _, table, _ := strings.Cut(seqOut, "\n"); table != countsOut {
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
