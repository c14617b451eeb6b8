package lb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIPRoute runs IPRoute with Command standing in for the privileged
// prefix (sudo): a shell that logs the `ip route ...` argv it is given and
// fails the way iproute2 does for a missing route when told to.
func TestIPRoute(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "argv")
	script := `printf '%s\n' "$*" >>"$LOG"; if [ -n "$FAIL" ]; then echo "$FAIL" >&2; exit 2; fi`
	r := IPRoute{Command: []string{"sh", "-c", script, "sh"}}
	ctx := context.Background()
	ip, via := MustAddr(t, "172.18.255.254"), MustAddr(t, "172.18.0.2")

	for _, tc := range []struct {
		name    string
		fail    string
		run     func() error
		wantLog string
		wantErr bool
	}{
		{"replace", "", func() error { return r.Replace(ctx, ip, via) }, "ip route replace 172.18.255.254/32 via 172.18.0.2", false},
		{"delete", "", func() error { return r.Delete(ctx, ip) }, "ip route del 172.18.255.254/32", false},
		{"delete a missing route", "RTNETLINK answers: No such process", func() error { return r.Delete(ctx, ip) }, "ip route del 172.18.255.254/32", false},
		{"delete fails", "RTNETLINK answers: Operation not permitted", func() error { return r.Delete(ctx, ip) }, "ip route del 172.18.255.254/32", true},
		{"replace fails", "RTNETLINK answers: Operation not permitted", func() error { return r.Replace(ctx, ip, via) }, "ip route replace 172.18.255.254/32 via 172.18.0.2", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(logFile)
			t.Setenv("LOG", logFile)
			t.Setenv("FAIL", tc.fail)
			err := tc.run()
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("error %q does not carry the command's output %q", err, tc.fail)
			}
			b, rerr := os.ReadFile(logFile)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if got := strings.TrimSpace(string(b)); got != tc.wantLog {
				t.Errorf("ran %q, want %q", got, tc.wantLog)
			}
		})
	}
}
