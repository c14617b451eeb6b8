package curl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRequestShape(t *testing.T) {
	srv := newTestServer(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.txt"), []byte("a=1\r\nb=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := NewRunner(nil, dir)
	tests := []struct {
		name string
		args []string
		want map[string]any
	}{
		{"data implies POST and form type", []string{"-s", "SERVER/echo", "-d", `{"x":1}`},
			map[string]any{"method": "POST", "content_type": "application/x-www-form-urlencoded", "body": `{"x":1}`}},
		{"given content type wins", []string{"-s", "SERVER/echo", "-H", "Content-Type: application/json", "-d", `{}`},
			map[string]any{"method": "POST", "content_type": "application/json", "body": `{}`}},
		{"several data joined with &", []string{"-s", "SERVER/echo", "-d", "a=1", "--data-raw", "@b"},
			map[string]any{"body": "a=1&@b"}},
		{"data file strips newlines", []string{"-s", "SERVER/echo", "-d", "@body.txt"},
			map[string]any{"body": "a=1b=2"}},
		{"binary file kept", []string{"-s", "SERVER/echo", "--data-binary", "@body.txt"},
			map[string]any{"body": "a=1\r\nb=2\n"}},
		{"urlencode forms", []string{"-s", "SERVER/echo", "--data-urlencode", "q=a b&c", "--data-urlencode", "=x y", "--data-urlencode", "z"},
			map[string]any{"body": "q=a+b%26c&x+y&z"}},
		{"get moves data to the query", []string{"-s", "-G", "SERVER/echo?k=v", "-d", "a=1"},
			map[string]any{"method": "GET", "query": "k=v&a=1", "body": ""}},
		{"request overrides", []string{"-s", "-X", "PUT", "SERVER/echo"},
			map[string]any{"method": "PUT"}},
		{"host header", []string{"-s", "SERVER/echo", "-H", "host: traffic.split.example:8080"},
			map[string]any{"host": "traffic.split.example:8080"}},
		{"defaults replaced and removed", []string{"-s", "SERVER/echo", "-A", "probe/1", "-H", "Accept:", "-H", "X-Empty;"},
			map[string]any{"user_agent": []any{"probe/1"}, "accept": nil, "x_empty": []any{""}}},
		{"default user agent", []string{"-s", "SERVER/echo"},
			map[string]any{"user_agent": []any{UserAgent}, "accept": []any{"*/*"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustRun(t, r, srv, tt.args...)
			if got.out.Exit != 0 {
				t.Fatalf("exit %d: %s", got.out.Exit, got.out.Message)
			}
			var seen map[string]any
			if err := json.Unmarshal([]byte(got.stdout), &seen); err != nil {
				t.Fatalf("echo answer %q: %v", got.stdout, err)
			}
			for k, v := range tt.want {
				if fmt.Sprint(seen[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v", k, seen[k], v)
				}
			}
		})
	}
}

func TestDataFiles(t *testing.T) {
	srv := newTestServer(t)
	// Without a directory, reading a file is a replay error, not a curl failure.
	if _, err := NewRunner(nil, "").Run(context.Background(), []string{"-d", "@body", srv.URL + "/echo"}, Stdio{}); !errors.Is(err, errNoDir) {
		t.Fatalf("error %v, want %v", err, errNoDir)
	}
	// With one, a missing file is curl's exit 26.
	got := MustRun(t, NewRunner(nil, t.TempDir()), srv, "-d", "@missing", "SERVER/echo")
	if got.out.Exit != ExitRead || !strings.HasPrefix(got.stderr, "curl: (26)") {
		t.Fatalf("exit %d stderr %q, want 26", got.out.Exit, got.stderr)
	}
}
