package replay

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/shell"
)

// TestSetupProblemsStopEarly: a gateway that answers but routes nothing to
// the scenario's backends, or that nothing answers for, ends the replay
// within the first few requests with a diagnosis — the request as sent,
// the answers, a hint and what the target itself found — instead of
// sending the whole planned run and printing a wrong-split verdict.
func TestSetupProblemsStopEarly(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	tests := []struct {
		name       string
		snippet    string
		status     int // 0: nothing listens
		body       string
		sequential bool
		diagnose   []string
		wantErr    error
		maxSent    int64
		want       []string
	}{
		{
			name: "host rule compares the port", snippet: "external-address", status: 404, body: "default backend - 404",
			wantErr: ErrSetup, maxSent: SetupWindow,
			want: []string{
				"none of the first 20 responses fits a category the scenario expects (v1, v2, v3)",
				"20 × HTTP 404",
				"(Host: traffic.split.example:8080), dialled 127.0.0.1:",
				`first HTTP 404 answer: "default backend - 404"`,
				`does the gateway match host "traffic.split.example:8080" (many gateways compare the port too`,
			},
		},
		{
			name: "no healthy upstream, sequential", snippet: "port-forward", status: 503, body: "no healthy upstream", sequential: true,
			diagnose: []string{"Service helloworld/helloworld-v1 has no ready endpoints"},
			wantErr:  ErrSetup, maxSent: SetupWindow,
			want: []string{
				"20 × HTTP 503",
				"GET http://localhost:8080/hello (Host: traffic.split.example), dialled 127.0.0.1:",
				"5xx from the gateway usually means",
				"cluster: Service helloworld/helloworld-v1 has no ready endpoints",
			},
		},
		{
			name: "nothing listens", snippet: "port-forward", status: 0,
			wantErr: ErrUnreachable, maxSent: UnreachableWindow,
			want: []string{
				"none of the first 5 requests got an HTTP response",
				"nothing answers at the address dialled",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var served atomic.Int64
			addr := closed()
			if tt.status != 0 {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					served.Add(1)
					w.WriteHeader(tt.status)
					_, _ = w.Write([]byte(tt.body))
				}))
				t.Cleanup(srv.Close)
				addr = strings.TrimPrefix(srv.URL, "http://")
			}
			ep, err := AddressEndpoint("http://"+addr, "")
			if err != nil {
				t.Fatal(err)
			}
			var diagnosed *scenarios.Scenario
			if tt.diagnose != nil {
				ep.Diagnose = func(_ context.Context, s *scenarios.Scenario) []string {
					diagnosed = s
					return tt.diagnose
				}
			}
			start := time.Now()
			_, err = Run(context.Background(), s, ep, Options{Snippet: tt.snippet, Sequential: tt.sequential, Requests: 1000, Timeout: 2 * time.Second})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := served.Load(); got > tt.maxSent {
				t.Errorf("the gateway got %d requests, want at most %d", got, tt.maxSent)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if tt.diagnose != nil && diagnosed != s {
				t.Errorf("Diagnose was not asked about the scenario")
			}
		})
	}
}

// TestSetupCheckClosesOnFirstFit: once one answer fits, later misfits are
// the split's business (a FAIL), never a setup stop.
func TestSetupCheckClosesOnFirstFit(t *testing.T) {
	c := newSetupCheck(map[string]int{"v1": 0, "v2": 1})
	for i := 0; i < SetupWindow-1; i++ {
		if c.observe(iteration("unmatched", 404)) {
			t.Fatalf("stopped after %d misfits", i+1)
		}
	}
	if c.observe(iteration("v2", 200)) || c.open() {
		t.Fatal("a fitting answer must close the check")
	}
	for i := 0; i < 3*SetupWindow; i++ {
		if c.observe(iteration("unmatched", 404)) {
			t.Fatal("a closed check stopped the run")
		}
	}
}

func iteration(category string, status int) shell.Iteration {
	return shell.Iteration{Category: category, Status: status}
}

// TestSetupCheckUnreachableBudget: requests that each wait out a timeout
// end the watch after UnreachableBudget, not after UnreachableWindow
// timeouts.
func TestSetupCheckUnreachableBudget(t *testing.T) {
	c := newSetupCheck(map[string]int{"v1": 0})
	slow := iteration(shell.CategoryError, 0)
	slow.CurlStart = time.Now().Add(-UnreachableBudget - time.Second)
	if !c.observe(slow) {
		t.Fatal("a first request that took longer than the budget did not stop the watch")
	}
	c = newSetupCheck(map[string]int{"v1": 0})
	fast := iteration(shell.CategoryError, 0)
	fast.CurlStart = time.Now()
	for i := 1; i < UnreachableWindow; i++ {
		if c.observe(fast) {
			t.Fatalf("stopped after %d quick failures", i)
		}
	}
	if !c.observe(fast) {
		t.Fatal("did not stop after UnreachableWindow failures")
	}
}
