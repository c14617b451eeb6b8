package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/scenarios/sequence"
)

// TestConcurrencyFlag: --concurrency on replay, demo and check — its range,
// its help, and a PASS with every request accounted for in the counts file.
func TestConcurrencyFlag(t *testing.T) {
	for _, tc := range []struct {
		value string
		args  []string
	}{
		{"0", []string{"replay", "--concurrency", "0", "example1-ab-testing"}},
		{"-1", []string{"demo", "--concurrency", "-1"}},
		{"257", []string{"check", "http://127.0.0.1:1/", "--expect", "a=1,b=1", "--classify-header", "x", "--concurrency", "257"}},
	} {
		args := tc.args
		code, out, errOut := runCLI(t, args...)
		if code != ExitBadInput || !strings.Contains(errOut, "--concurrency "+tc.value+": expected 1 to 256") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	for _, cmd := range []string{"replay", "demo", "check"} {
		_, out, errOut := runCLI(t, cmd, "--help")
		if help := out + errOut; !strings.Contains(help, "-concurrency N") || !strings.Contains(help, "interleaves the workers'") || !strings.Contains(help, "nor the verdict's statistics") {
			t.Errorf("%s --help does not document --concurrency:\n%s", cmd, help)
		}
	}

	dir := t.TempDir()
	code, out, errOut := runCLI(t, "replay", "--gateway", randomGateway(t, []int32{10, 10, 80}, 4), "--snippet", "port-forward",
		"--concurrency", "8", "--counts", dir, "example1-ab-testing")
	if code != ExitOK || !strings.Contains(out, "1 passed, 0 failed, 0 inconclusive") {
		t.Fatalf("replay --concurrency 8: exit %d\n%s%s", code, out, errOut)
	}
	path := filepath.Join(dir, "example1-ab-testing-port-forward.json")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sf, err := sequence.DecodeFile(f, path)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, c := range sf.Counts {
		sum += c
	}
	if n := sf.Sequence.Len(); n == 0 || int64(n) != sum {
		t.Fatalf("counts file: %d requests in the sequence, counts adding up to %d", n, sum)
	}

	code, out, errOut = runCLI(t, "check", randomGateway(t, []int32{10, 10, 80}, 5)+"/hello", "--classify-regexp", `Hello version: (v\d+)`,
		"--expect", "v1=10,v2=10,v3=80", "--concurrency", "8")
	if code != ExitOK || !strings.Contains(out, "1 passed, 0 failed, 0 inconclusive") {
		t.Fatalf("check --concurrency 8: exit %d\n%s%s", code, out, errOut)
	}
}
