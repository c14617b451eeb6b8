package cli

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
)

// splitServer answers with a category picked by refproxy's picker (random,
// seeded) over names, written by write.
func splitServer(t *testing.T, names []string, weights []int32, write func(w http.ResponseWriter, r *http.Request, category string)) string {
	t.Helper()
	p := picker.MustNew(picker.Random, weights, 7)
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		c := names[p.Pick()]
		mu.Unlock()
		write(w, r, c)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestCheck: `splitproof check` verifies a split behind any URL, classified
// by a response header or by jq over a JSON body, with the request as
// given (method, headers, body); a wrong expectation FAILs.
func TestCheck(t *testing.T) {
	var sawBody, sawHeader atomic.Bool
	byHeader := splitServer(t, []string{"blue", "green"}, []int32{90, 10}, func(w http.ResponseWriter, r *http.Request, c string) {
		if r.Header.Get("X-Team") == "a" {
			sawHeader.Store(true)
		}
		w.Header().Set("X-Served-By", c)
		io.WriteString(w, "ok\n")
	})
	byModel := splitServer(t, []string{"gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06"}, []int32{80, 20}, func(w http.ResponseWriter, r *http.Request, c string) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost && strings.Contains(string(body), `"hi"`) {
			sawBody.Store(true)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"model":%q,"choices":[]}`, c)
	})
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"header-classified split passes", []string{"check", "--header", "X-Team: a", "--classify-header", "x-served-by", "--expect", "blue=90,green=10", byHeader + "/"}, ExitOK},
		{"header-classified, wrong weights", []string{"check", "--classify-header", "X-Served-By", "--expect", "blue=50,green=50", byHeader + "/"}, ExitFail},
		{"jq-classified split passes", []string{"check", "--method", "POST", "--header", "Content-Type: application/json", "--data", `{"messages":[{"role":"user","content":"hi"}]}`, "--classify-jq", ".model", "--expect", "gpt-4o-mini-2024-07-18=80,gpt-4o-2024-08-06=20", byModel + "/v1/chat/completions"}, ExitOK},
		{"jq-classified, wrong weights", []string{"check", "--classify-jq", ".model", "--expect", "gpt-4o-mini-2024-07-18=50,gpt-4o-2024-08-06=50", byModel + "/"}, ExitFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.code, out, errs)
			}
		})
	}
	if !sawHeader.Load() || !sawBody.Load() {
		t.Errorf("the request as given did not arrive: header %v, body %v", sawHeader.Load(), sawBody.Load())
	}
	code, out, errs := runCLI(t, "check", "--json", "--classify-header", "x-served-by", "--expect", "blue=90,green=10", byHeader+"/")
	var run struct {
		Outcome string
		Reports []struct {
			Verdict struct{ Outcome, Scheduler string }
		}
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &run) != nil || len(run.Reports) != 1 || run.Reports[0].Verdict.Scheduler != "independent" {
		t.Errorf("--json: exit %d, %+v\n%s", code, run, errs)
	}
}

func TestCheckBadInput(t *testing.T) {
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--expect", "a=1,b=1", "http://127.0.0.1:1/"}, "exactly one of --classify-regexp"},
		{[]string{"check", "--classify-jq", ".m", "--classify-header", "x", "--expect", "a=1", "http://127.0.0.1:1/"}, "exactly one of"},
		{[]string{"check", "--classify-jq", ".m", "http://127.0.0.1:1/"}, "--expect is required"},
		{[]string{"check", "--classify-jq", ".m", "--expect", "a=0,b=0", "http://127.0.0.1:1/"}, "every weight is zero"},
		{[]string{"check", "--classify-jq", ".m", "--expect", "a=1", "ftp://x/"}, "expected http://"},
		{[]string{"check", "--classify-jq", ".m", "--expect", "a=1", "--header", "nocolon", "http://127.0.0.1:1/"}, "'Name: value'"},
		{[]string{"check", "--classify-jq", ".m", "--expect", "a=1"}, "expected one URL"},
		{[]string{"check", "--classify-regexp", "v(\\d)", "--expect", "v1=1,v2=1", notFound.URL + "/"}, "404 means no route matched"},
	} {
		code, _, errs := runCLI(t, tt.args...)
		if code != ExitBadInput || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", tt.args, code, ExitBadInput, tt.want, errs)
		}
	}
}

// TestCheckHTTPS: an https:// URL behind a self-signed certificate passes
// with --cacert, is refused without it (exit 2, the TLS hint), and passes
// with --insecure.
func TestCheckHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-By", "blue")
	}))
	t.Cleanup(srv.Close)
	ca := mustWriteFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	args := func(extra ...string) []string {
		return append([]string{"check", srv.URL + "/", "--classify-header", "x-served-by", "--expect", "blue=1", "--requests", "100", "--fixed"}, extra...)
	}
	if code, out, errs := runCLI(t, args("--cacert", ca)...); code != ExitOK {
		t.Errorf("--cacert: exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, args()...); code != ExitBadInput || !strings.Contains(errs, "--cacert FILE") {
		t.Errorf("no CA: exit %d, want %d with the TLS hint:\n%s", code, ExitBadInput, errs)
	}
	if code, out, errs := runCLI(t, args("--insecure")...); code != ExitOK {
		t.Errorf("--insecure: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestCheckRoute: the split can come from an HTTPRoute rule, its
// backendRefs being the categories.
func TestCheckRoute(t *testing.T) {
	srv := splitServer(t, []string{"blue", "green"}, []int32{90, 10}, func(w http.ResponseWriter, r *http.Request, c string) {
		w.Header().Set("X-Served-By", c)
	})
	route := mustWriteFile(t, "route.yaml", `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: team-a}
spec:
  rules:
  - backendRefs:
    - {name: blue, port: 80, weight: 90}
    - {name: green, port: 80, weight: 10}
`)
	if code, out, errs := runCLI(t, "check", srv+"/", "--classify-header", "x-served-by", "--route", route); code != ExitOK {
		t.Errorf("--route: exit %d\n%s\n%s", code, out, errs)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"check", srv + "/", "--classify-header", "x", "--route", route, "--expect", "a=1"}, "give the split once"},
		{[]string{"check", srv + "/", "--classify-header", "x", "--route-from-cluster", "team-a/shop"}, "go together"},
		{[]string{"check", srv + "/", "--classify-header", "x", "--route", route, "--rule", "3"}, "has no rule 3"},
		{[]string{"check", srv + "/", "--classify-header", "x", "--route-from-cluster", "shop", "--kubeconfig", "/nonexistent"}, "expected NAMESPACE/NAME"},
	} {
		if code, _, errs := runCLI(t, tt.args...); code != ExitBadInput || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", tt.args, code, ExitBadInput, tt.want, errs)
		}
	}
}
