package cli

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
)

// TestReplayShow: `replay --show` tells a user of another gateway what to
// configure, without the source tree; --json gives the same as data.
func TestReplayShow(t *testing.T) {
	code, out, errs := runCLI(t, "replay", "--show", "example1-ab-testing")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"HTTPRoute helloworld/traffic-split",
		"hostnames: traffic.split.example",
		"rule 0: PathPrefix /",
		"helloworld-v3:5000", "weight 80", "→ category v3",
		"GET http://INGRESS_GW_ADDRESS:80/hello", "Host: traffic.split.example:8080",
		"GET http://localhost:8080/hello", "Host: traffic.split.example\n",
		`regexp "Hello version: (v\\d+)"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--show lacks %q:\n%s", want, out)
		}
	}
	code, out, errs = runCLI(t, "replay", "--show", "example2-llm", "--json")
	if code != ExitOK {
		t.Fatalf("--json: exit %d: %s", code, errs)
	}
	var sh struct {
		Routes []struct {
			Rules []struct {
				Backends []struct{ Weight int32 }
			}
		}
		Snippets []struct {
			Requests []struct{ Method, Body string }
		}
	}
	if err := json.Unmarshal([]byte(out), &sh); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if len(sh.Routes) != 1 || len(sh.Routes[0].Rules[0].Backends) != 2 || sh.Routes[0].Rules[0].Backends[0].Weight != 80 {
		t.Errorf("routes = %+v", sh.Routes)
	}
	if len(sh.Snippets) != 2 || sh.Snippets[0].Requests[0].Method != http.MethodPost || !strings.Contains(sh.Snippets[0].Requests[0].Body, "What is 2+2?") {
		t.Errorf("snippets = %+v", sh.Snippets)
	}
	if code, _, errs := runCLI(t, "replay", "--show", "no-such-scenario"); code != ExitBadInput || !strings.Contains(errs, "no-such-scenario") {
		t.Errorf("unknown scenario: exit %d, %s", code, errs)
	}
}

// TestReplayMisroutedGateway: a gateway that answers 404 to the doc's Host
// (a rule that compares the port) stops the replay within the setup window
// with exit 2 and the Host actually sent, not a wrong-split verdict after
// the whole run.
func TestReplayMisroutedGateway(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	code, _, errs := runCLI(t, "replay", "--gateway", srv.URL, "--snippet", "external-address", "example1-ab-testing")
	if code != ExitBadInput {
		t.Fatalf("exit %d, want %d: %s", code, ExitBadInput, errs)
	}
	if n := served.Load(); n > 50 {
		t.Errorf("the gateway got %d requests before the replay stopped", n)
	}
	for _, want := range []string{"Host: traffic.split.example:8080", "404 means no route matched"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

// TestReplayGatewayWithoutScenario: against one gateway, "no scenario"
// means the doc's two examples, and every scenario left out is named with
// its reason before anything runs.
func TestReplayGatewayWithoutScenario(t *testing.T) {
	ln := httptest.NewUnstartedServer(nil)
	addr := "http://" + ln.Listener.Addr().String()
	ln.Listener.Close() // nothing answers: the run stops at once
	_, _, errs := runCLI(t, "replay", "--gateway", addr)
	for _, want := range []string{
		"left out canary-ramp: it changes its route between steps",
		"left out weight-zero: it needs routes of its own on the gateway (splitproof replay --show weight-zero says which)",
		"left out invalid-backendref:", "left out no-endpoints:",
		"left out example2-llm-faults: its provider must fail one arm at a set rate",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "left out example1-ab-testing") || strings.Contains(errs, "left out example2-llm:") {
		t.Errorf("the doc's examples were left out:\n%s", errs)
	}
}

// TestReplayHTTPSGateway: an https:// gateway with a self-signed CA passes
// with --cacert, is refused without it (exit 2, the TLS hint), and passes
// with --insecure.
func TestReplayHTTPSGateway(t *testing.T) {
	p := picker.MustNew(picker.Smooth, []int32{10, 10, 80}, 0)
	var mu sync.Mutex
	srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		v := p.Pick() + 1
		mu.Unlock()
		fmt.Fprintf(rw, "Hello version: v%d, instance: x\n", v)
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(extra ...string) []string {
		a := append([]string{"replay", "--gateway", srv.URL, "--snippet", "port-forward", "--requests", "600"}, extra...)
		return append(a, "example1-ab-testing")
	}
	if code, out, errs := runCLI(t, args("--cacert", ca)...); code != ExitOK {
		t.Fatalf("--cacert: exit %d\n%s\n%s", code, out, errs)
	}
	code, _, errs := runCLI(t, args()...)
	if code != ExitBadInput || !strings.Contains(errs, "--cacert FILE") {
		t.Fatalf("without --cacert: exit %d, want %d with the TLS hint:\n%s", code, ExitBadInput, errs)
	}
	if code, out, errs := runCLI(t, args("--insecure")...); code != ExitOK {
		t.Fatalf("--insecure: exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "replay", "--gateway", "http://127.0.0.1:1", "--cacert", ca, "example1-ab-testing"); code != ExitBadInput || !strings.Contains(errs, "https://") {
		t.Errorf("--cacert with http://: exit %d: %s", code, errs)
	}
}

// TestReplayWeights: --weights verifies another split than the scenario's,
// so a gateway configured 20/20/60 is checked without a new scenario.
func TestReplayWeights(t *testing.T) {
	args := func(gw string, extra ...string) []string {
		a := append([]string{"replay", "--gateway", gw, "--snippet", "port-forward", "--requests", "1000"}, extra...)
		return append(a, "example1-ab-testing")
	}
	g206 := gateway(t, []int32{20, 20, 60})
	g118 := gateway(t, []int32{10, 10, 80})
	if code, out, errs := runCLI(t, args(g206, "--weights", "v1=20,v2=20,v3=60")...); code != ExitOK {
		t.Errorf("20/20/60 gateway, --weights 20/20/60: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, args(g118, "--weights", "v1=20,v2=20,v3=60")...); code != ExitFail {
		t.Errorf("10/10/80 gateway, --weights 20/20/60: exit %d, want %d\n%s\n%s", code, ExitFail, out, errs)
	}
	for _, bad := range []struct{ weights, want string }{
		{"v1=20,v2=20", "v3 has none"},
		{"v1=20,v2=20,v3=60,v4=1", `no category "v4"`},
		{"v1=20,v2=20,v3=-1", "out of range"},
		{"v1=20,v1=20,v2=1,v3=1", "given twice"},
	} {
		code, _, errs := runCLI(t, args(g118, "--weights", bad.weights)...)
		if code != ExitBadInput || !strings.Contains(errs, bad.want) {
			t.Errorf("--weights %s: exit %d, want %d and %q:\n%s", bad.weights, code, ExitBadInput, bad.want, errs)
		}
	}
}

// TestReplayClusterRefFlags: the flags that point the cluster target at
// another implementation are checked before anything connects.
func TestReplayClusterRefFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "--gateway-ref", "ns/gw", "example1-ab-testing"}, "need --kubeconfig"},
		{[]string{"replay", "--port-forward-to", "ns/svc/x:80", "example1-ab-testing"}, "need --kubeconfig"},
		{[]string{"replay", "--kubeconfig", "/nonexistent", "--gateway-ref", "gw", "example1-ab-testing"}, "expected NAMESPACE/NAME"},
		{[]string{"replay", "--kubeconfig", "/nonexistent", "--port-forward-to", "ns/pod/x:80", "example1-ab-testing"}, `kind "pod"`},
	} {
		code, _, errs := runCLI(t, tt.args...)
		if code != ExitBadInput || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", tt.args, code, ExitBadInput, tt.want, errs)
		}
	}
}

// TestReplayRoute: --route takes the split from an HTTPRoute of one's own:
// its weights, its backendRefs mapped to the scenario's categories.
func TestReplayRoute(t *testing.T) {
	route := func(w1, w2, w3 int) string {
		return mustWriteFile(t, "route.yaml", fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: my-split
  namespace: team-a
spec:
  hostnames: [traffic.split.example]
  rules:
  - backendRefs:
    - {name: helloworld-v1, port: 5000, weight: %d}
    - {name: helloworld-v2, port: 5000, weight: %d}
    - {name: helloworld-v3, port: 5000, weight: %d}
`, w1, w2, w3))
	}
	args := func(gw, file string, extra ...string) []string {
		a := append([]string{"replay", "--gateway", gw, "--snippet", "port-forward", "--requests", "1000", "--route", file}, extra...)
		return append(a, "example1-ab-testing")
	}
	r206 := route(20, 20, 60)
	if code, out, errs := runCLI(t, args(gateway(t, []int32{20, 20, 60}), r206)...); code != ExitOK {
		t.Errorf("20/20/60 gateway, --route 20/20/60: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, args(gateway(t, []int32{10, 10, 80}), r206)...); code != ExitFail {
		t.Errorf("10/10/80 gateway, --route 20/20/60: exit %d, want %d\n%s\n%s", code, ExitFail, out, errs)
	}
	two := mustWriteFile(t, "two.yaml", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: a, namespace: x}\nspec: {}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: b, namespace: x}\nspec: {}\n")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{args("http://127.0.0.1:1", two), "2 HTTPRoutes, expected exactly one"},
		{args("http://127.0.0.1:1", r206, "--weights", "v1=1,v2=1,v3=1"), "use one"},
		{args("http://127.0.0.1:1", r206+".missing"), "--route"},
	} {
		if code, _, errs := runCLI(t, tt.args...); code != ExitBadInput || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", tt.args, code, ExitBadInput, tt.want, errs)
		}
	}
}
