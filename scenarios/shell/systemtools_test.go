package shell

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// needTools returns when the real curl and jq exist; CI installs both
// (ci/install.sh), so there a missing one fails instead of skipping.
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed; ci/install.sh installs it", tool)
			}
			t.Skipf("%s not installed; CI runs this test", tool)
		}
	}
}

// TestSystemToolsRealCurlJQ runs snippets with the real curl and jq: nothing is
// recorded but their output, so classification reads stdout — the status
// line of `curl -i` for errors, and what the snippet's own `jq -r` printed.
func TestSystemToolsRealCurlJQ(t *testing.T) {
	needTools(t)
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		switch {
		case r.URL.Path == "/test":
			fmt.Fprintf(w, `{"model": "gpt-4o-mini-2024-07-18"}`)
		case n%2 == 0:
			http.Error(w, "invalid backend", http.StatusInternalServerError)
		default:
			fmt.Fprintf(w, "Hello version: v1, instance: x\n")
		}
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		snippet string
		c       func() (*Classifier, error)
		want    map[string]int
	}{
		{"curl -i with errors", "for i in {1..4}; do curl -s -i " + srv.URL + "/hello; done",
			func() (*Classifier, error) { return ByRegexp(`Hello version: (v\d+)`, SourceAuto) }, map[string]int{"v1": 2, "500": 2}},
		{"piped through jq -r", "for i in {1..3}; do curl -s " + srv.URL + "/test -d '{}' | jq -r '.model'; done",
			func() (*Classifier, error) { return ByJQ(".model", SourceAuto) }, map[string]int{"gpt-4o-mini-2024-07-18": 3}},
		{"curl failure is an error", "for i in {1..2}; do curl -s http://127.0.0.1:1/; done",
			func() (*Classifier, error) { return ByRegexp(`(v\d+)`, SourceAuto) }, map[string]int{CategoryError: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.c()
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), tt.snippet, Options{SystemTools: true, Classifier: c, Env: map[string]string{"PATH": os.Getenv("PATH")}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Counts) != len(tt.want) {
				t.Fatalf("counts %v, want %v", res.Counts, tt.want)
			}
			for k, v := range tt.want {
				if res.Counts[k] != v {
					t.Fatalf("counts %v, want %v", res.Counts, tt.want)
				}
			}
			for _, it := range res.Iterations {
				if len(it.Exchanges) != 0 {
					t.Fatal("native curl ran: exchanges were recorded")
				}
				// The status is known only where curl -i printed it.
				want := 0
				if strings.Contains(tt.snippet, "-i") {
					want = 200
					if it.Category == "500" {
						want = 500
					}
				}
				if it.Status != want || it.Curls != 1 {
					t.Errorf("iteration %d (%s): status %d, %d curls; want %d and 1", it.Index, it.Category, it.Status, it.Curls, want)
				}
			}
		})
	}
}
