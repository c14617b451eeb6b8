package gatewayapi

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestSummarize: the summary of each report under testdata/ matches its
// golden file, and the error says whether core conformance was reached.
func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		report  string
		wantErr string // "" when core passed
	}{
		{"report-partial.yaml", "GATEWAY-HTTP core partial"},
		{"report-success.yaml", ""},
	} {
		t.Run(tc.report, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tc.report))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = Summarize(&out, in)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Summarize: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Summarize error %v, want one containing %q", err, tc.wantErr)
			}
			golden := filepath.Join("testdata", strings.TrimSuffix(tc.report, ".yaml")+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if out.String() != string(want) {
				t.Errorf("summary differs from %s:\n%s\nwant:\n%s", golden, out.String(), want)
			}
		})
	}
}

func TestSummarizeRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not yaml":      ": [",
		"unknown field": "apiVersion: gateway.networking.k8s.io/v1\nkind: ConformanceReport\nprofilez: []\n",
		"no profile":    "apiVersion: gateway.networking.k8s.io/v1\nkind: ConformanceReport\nprofiles: []\n",
	} {
		t.Run(name, func(t *testing.T) {
			if err := Summarize(&bytes.Buffer{}, []byte(in)); err == nil {
				t.Error("no error")
			}
		})
	}
}
