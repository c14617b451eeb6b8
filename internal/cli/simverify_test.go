package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line with buffers and returns stdout, stderr and the exit code.
func runSimCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(stdin)}
	err := Run(context.Background(), env, args)
	return out.String(), errb.String(), exitCode(&errb, err)
}

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	counts := filepath.Join(dir, "counts.json")
	if err := os.WriteFile(counts, []byte(`{"categories":[{"name":"a","weight":80},{"name":"b","weight":20}],"counts":{"a":790,"b":210}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(dir, "v.png")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string
	}{
		{"pass", "", []string{"verify", "--weights", "v1=10,v2=10,v3=80", "--counts", "v1=103,v2=95,v3=802"}, ExitOK, "verdict: PASS"},
		{"fail", "", []string{"verify", "--weights", "v1=10,v2=10,v3=80", "--counts", "v1=40,v2=100,v3=860"}, ExitFail, "verdict: FAIL"},
		{"weight 0", "", []string{"verify", "--weights", "a=70,b=30,c=0", "--counts", "a=350,b=148,c=2"}, ExitFail, "backend c has weight 0 but received 2 responses"},
		{"file json plot", "", []string{"verify", "--file", counts, "--json", "--plot", png}, ExitOK, `"pass": true`},
		// 300 of 300 verify a single category's share within ±5 points.
		{"stdin", `{"categories":[{"name":"a","weight":1}],"counts":{"a":300}}`, []string{"verify", "--file", "-"}, ExitOK, "single-category"},
		{"unknown field", `{"categories":[],"count":{}}`, []string{"verify", "--file", "-"}, ExitBadInput, ""},
		{"bad pair", "", []string{"verify", "--weights", "a10", "--counts", "a=1"}, ExitBadInput, ""},
		{"both inputs", "", []string{"verify", "--file", counts, "--weights", "a=1"}, ExitBadInput, ""},
		{"missing counts", "", []string{"verify", "--weights", "a=1"}, ExitBadInput, ""},
		// Counts that sum past int64 panicked in Verify (v.N += n) before.
		{"counts past int64", "", []string{"verify", "--weights", "a=1,b=1", "--counts", "a=9223372036854775807,b=9223372036854775807"}, ExitBadInput, ""},
		{"file counts past int64", `{"categories":[{"name":"a","weight":1},{"name":"b","weight":1}],"counts":{"a":9223372036854775807,"b":1}}`, []string{"verify", "--file", "-"}, ExitBadInput, ""},
		{"counts sum past the bound", "", []string{"verify", "--weights", "a=1,b=1", "--counts", "a=600000000000,b=600000000000"}, ExitBadInput, ""},
		{"explicit alpha 0", "", []string{"verify", "--weights", "a=1,b=1", "--counts", "a=5,b=5", "--alpha", "0"}, ExitBadInput, ""},
		{"delta out of range", "", []string{"verify", "--weights", "a=1,b=1", "--counts", "a=5,b=5", "--delta", "0.7"}, ExitBadInput, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := runSimCLI(t, tt.stdin, tt.args...)
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Fatalf("stderr holds a panic:\n%s", stderr)
			}
			if code != tt.code || !strings.Contains(out, tt.out) {
				t.Errorf("exit %d (want %d), stdout:\n%s\nstderr:\n%s", code, tt.code, out, stderr)
			}
		})
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("--plot did not write a PNG (err %v)", err)
	}
}

func TestSimCommand(t *testing.T) {
	png := filepath.Join(t.TempDir(), "p.png")
	tests := []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"calibration", []string{"sim", "--weights", "10,10,80", "--n", "500", "--runs", "300", "--alpha", "0.05"}, ExitOK,
			[]string{"rejections:", "expected (false-failure rate): 0.05", "KS distance"}},
		{"power", []string{"sim", "--weights", "20,10,70", "--test-against", "10,10,80", "--n", "500", "--runs", "100", "--alpha", "0.05", "--plot", png}, ExitOK,
			[]string{"rejections: 100 of 100", "noncentral chi-square"}},
		{"smooth exact", []string{"sim", "--weights", "80,20", "--mode", "smooth", "--n", "1000", "--runs", "3"}, ExitOK,
			[]string{"counts exactly n*w/sum in 3 of 3 runs (p-value 1)", "rejections: 0 of 3"}},
		{"json", []string{"sim", "--weights", "1,1", "--n", "10", "--runs", "5", "--json"}, ExitOK, []string{`"rejection_rate"`}},
		{"bad mode", []string{"sim", "--weights", "1,1", "--mode", "rr"}, ExitBadInput, nil},
		{"bad weights", []string{"sim", "--weights", "1,x"}, ExitBadInput, nil},
		{"no weights", []string{"sim"}, ExitBadInput, nil},
		{"length mismatch", []string{"sim", "--weights", "1,1", "--test-against", "1,1,1", "--runs", "1"}, ExitBadInput, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := runSimCLI(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d (want %d), stdout:\n%s\nstderr:\n%s", code, tt.code, out, stderr)
			}
			for _, want := range tt.out {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestSimVerifyHelp(t *testing.T) {
	for _, cmd := range []string{"sim", "verify"} {
		stdout, _, code := runSimCLI(t, "", cmd, "--help")
		if code != ExitOK || !strings.Contains(stdout, "Usage: splitproof "+cmd) || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "-alpha") {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, stdout)
		}
	}
	if err := Run(context.Background(), &Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}, []string{"verify", "--weights", "a=1", "--counts", "a=0"}); !errors.As(err, new(*ExitError)) {
		t.Errorf("zero observations: err = %v, want an exit error", err)
	}
}
