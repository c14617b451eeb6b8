package weights

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// reportResults are fixed results: a fail as expected, a pass with a
// weight-0 bound, an all-zero probe and a case that could not run.
func reportResults() []Result {
	return []Result{
		{Case: "skewed-1-99", Scenario: "skewed-1-99", Mode: "random", Expect: ExpectFail, Observed: "fail", AsExpected: true,
			Counts: map[string]int64{"v2": 812}, Requests: 812, Scheduler: "independent", Test: "counts", Wall: 1234 * time.Millisecond,
			Failures: []string{"sequential test: v1 off"}},
		{Case: "weight-zero", Scenario: "weight-zero", Mode: "smooth", Expect: ExpectPass, Observed: "pass", AsExpected: true,
			Counts: map[string]int64{"v1": 70, "v2": 30}, Requests: 100, Scheduler: "deterministic", Test: "exactness", Wall: 38 * time.Millisecond,
			Notes: []string{"weight-0 share (v3) < 3 % at 95 % after 100 requests (0 on it)"}},
		{Case: "all-zero", Scenario: "all-zero", Mode: "random", Expect: ExpectAmbiguous, Observed: "statuses", AsExpected: true,
			Counts: map[string]int64{"HTTP 500": 50}, Requests: 50, Wall: 9 * time.Millisecond,
			Notes: []string{"every weight 0: answered HTTP 500 ×50"}},
		{Case: "sixteen-backends", Scenario: "sixteen-backends", Mode: "double", Expect: ExpectPass, Observed: "error",
			Err: "case sixteen-backends (double): start: refused"},
	}
}

func TestReportGolden(t *testing.T) {
	rs := reportResults()
	for _, tt := range []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"table.golden", func(b *bytes.Buffer) error { return WriteTable(b, rs) }},
		{"results.json.golden", func(b *bytes.Buffer) error { return WriteJSON(b, rs) }},
	} {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("%s differs (go test -run TestReportGolden -update):\n%s", path, b.String())
			}
		})
	}
}

// TestZeroBoundsNote: the weight-0 note is the bound for the requests
// made, printed as the issue asks.
func TestZeroBoundsNote(t *testing.T) {
	var wz *Case
	for _, c := range MustDefault(t) {
		if c.Name == "weight-zero" {
			wz = &c
		}
	}
	if wz == nil {
		t.Fatal("no weight-zero case in the suite")
	}
	exp, err := wz.Scenario.Expected()
	if err != nil {
		t.Fatal(err)
	}
	got := zeroBounds(exp, map[string]int64{"v1": 70, "v2": 30}, 100)
	want := "weight-0 share (v3) < 3 % at 95 % after 100 requests (0 on it)"
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want [%q]", got, want)
	}
	if got := zeroBounds(exp, map[string]int64{"v1": 70, "v2": 30}, 0); got != nil {
		t.Errorf("no requests must state no bound, got %q", got)
	}
}
