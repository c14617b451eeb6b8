package curl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGoldenOutput(t *testing.T) {
	srv := newTestServer(t)
	r := NewRunner(nil, "")
	tests := []struct {
		name string
		args []string
	}{
		{"include", []string{"-i", "SERVER/hello", "-H", "host: traffic.split.example"}},
		{"plain", []string{"SERVER/hello"}},
		{"head", []string{"-I", "SERVER/hello"}},
		{"include-500", []string{"-i", "SERVER/status/500"}},
		{"fail-500", []string{"-f", "-i", "SERVER/status/500"}},
		{"fail-500-silent", []string{"-sf", "SERVER/status/503"}},
		{"fail-500-show-error", []string{"-sSf", "SERVER/status/503"}},
		{"redirect-not-followed", []string{"-i", "SERVER/redirect"}},
		{"redirect-followed", []string{"-iL", "SERVER/redirect"}},
		{"write-out", []string{"-s", "-o", "/dev/null", "-w", `%{http_code} %{size_download} %{url_effective} %{num_redirects} %{method} %header{content-type} %%\n`, "-L", "SERVER/redirect"}},
		{"write-out-unknown", []string{"-s", "-o", "/dev/null", "-w", `%{nope}|%{response_code}`, "SERVER/hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustRun(t, r, srv, tt.args...)
			text := fmt.Sprintf("exit: %d\n--- stdout ---\n%s--- stderr ---\n%s", got.out.Exit, got.stdout, got.stderr)
			MustMatchGolden(t, filepath.Join("testdata", tt.name+".golden"), text)
		})
	}
}

func TestOutputFile(t *testing.T) {
	srv := newTestServer(t)
	dir := t.TempDir()
	r := NewRunner(nil, dir)
	got := MustRun(t, r, srv, "-s", "-o", "out.txt", "-w", "%{http_code}", "SERVER/hello")
	if got.stdout != "200" {
		t.Fatalf("stdout %q, want only the write-out", got.stdout)
	}
	b, err := os.ReadFile(filepath.Join(dir, "out.txt"))
	if err != nil || !strings.HasPrefix(string(b), "Hello version: v3") {
		t.Fatalf("out.txt = %q, %v", b, err)
	}
	for _, escape := range []string{"../escape.txt", "/etc/passwd-splitproof"} {
		if _, err := r.Run(context.Background(), []string{"-o", escape, srv.URL + "/hello"}, Stdio{}); err == nil {
			t.Fatalf("curl -o %s was allowed outside %s", escape, dir)
		}
	}
}
