package cli

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/splitproof/splitproof/refproxy/picker"
)

// TestSuiteWeights runs two cases of the weight suite through the CLI:
// each in both pick modes, as expected, and bad input refused.
func TestSuiteWeights(t *testing.T) {
	code, out, errs := runCLI(t, "suite", "weights", "--case", "default-weight", "--case", "weight-zero", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var doc struct {
		Results []struct {
			Case, Mode, Observed string
			AsExpected           bool `json:"as_expected"`
			Notes                []string
		}
		Unexpected int
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	rs := doc.Results
	if len(rs) != 4 {
		t.Fatalf("%d results, want 2 cases × 2 modes: %+v", len(rs), rs)
	}
	for _, r := range rs {
		if !r.AsExpected || r.Observed != "pass" {
			t.Errorf("%s (%s): %s, as expected %v", r.Case, r.Mode, r.Observed, r.AsExpected)
		}
		if r.Case == "weight-zero" && !strings.Contains(strings.Join(r.Notes, " "), "at 95 %") {
			t.Errorf("weight-zero (%s): no upper bound in %q", r.Mode, r.Notes)
		}
	}
	for _, args := range [][]string{
		{"suite"},
		{"suite", "nope"},
		{"suite", "weights", "--case", "nope"},
		{"suite", "weights", "--all-zero-status", "404"},
		{"suite", "weights", "--dynamic", "--repeats", "0"},
		{"suite", "weights", "--dynamic", "--poll-interval", "-1s"},
	} {
		if code, _, errs := runCLI(t, args...); code != ExitBadInput {
			t.Errorf("%v: exit %d, want %d: %s", args, code, ExitBadInput, errs)
		}
	}
}

// TestSuiteWeightsDynamic runs the dynamic cases once through the CLI: a
// row per distinct weight change with its delays in the notes, and the six
// connection-policy rows, every one as expected (2 + 5 + 6 rows).
func TestSuiteWeightsDynamic(t *testing.T) {
	code, out, errs := runCLI(t, "suite", "weights", "--case", "default-weight", "--dynamic", "--repeats", "1")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"weight-change 100/0→90/10", "weight-change 50/50→0/100", "weight-change 100/0→0/100",
		"write → first answer from the backend only the new weights allow: p50",
		"split 10/10/80 (refproxy)", "split 10/10/80 (per-connection double)", "h2c-streams",
		"a gateway that picks per connection looks independent over new connections",
		"13 results: 13 as expected, 0 not",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestSuiteWeightsGateway runs a case against a gateway of one's own (here
// a seeded double splitting 1/1/2 like the default-weight case's route)
// and writes JUnit: a right gateway passes, a wrong one fails the case.
func TestSuiteWeightsGateway(t *testing.T) {
	for _, tt := range []struct {
		weights []int32
		code    int
	}{{[]int32{1, 1, 2}, ExitOK}, {[]int32{1, 1, 1}, ExitFail}} {
		p := picker.MustNew(picker.Random, tt.weights, 3)
		var mu sync.Mutex
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			v := p.Pick() + 1
			mu.Unlock()
			fmt.Fprintf(w, "Hello version: v%d, instance: x\n", v)
		}))
		junit := filepath.Join(t.TempDir(), "weights.xml")
		code, out, errs := runCLI(t, "suite", "weights", "--case", "default-weight", "--gateway", srv.URL, "--junit", junit)
		srv.Close()
		if code != tt.code {
			t.Fatalf("weights %v: exit %d, want %d\n%s\n%s", tt.weights, code, tt.code, out, errs)
		}
		data, err := os.ReadFile(junit)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Suites []struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Cases    []struct {
					Name string `xml:"name,attr"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%v\n%s", err, data)
		}
		wantFail := 0
		if tt.code == ExitFail {
			wantFail = 1
		}
		if len(doc.Suites) != 1 || doc.Suites[0].Tests != 1 || doc.Suites[0].Failures != wantFail || doc.Suites[0].Cases[0].Name != "default-weight (gateway)" {
			t.Errorf("weights %v: JUnit %+v", tt.weights, doc)
		}
	}
	for _, args := range [][]string{
		{"suite", "weights", "--gateway", "ftp://x", "--case", "default-weight"},
		{"suite", "weights", "--gateway", "http://127.0.0.1:1", "--dynamic"},
		{"suite", "weights", "--port-forward", "127.0.0.1:1"},
	} {
		if code, _, errs := runCLI(t, args...); code != ExitBadInput {
			t.Errorf("%v: exit %d, want %d: %s", args, code, ExitBadInput, errs)
		}
	}
}

// TestSuiteWeightsReport writes the ConformanceReport of one case in both
// pick modes: a profile per mode, the case a passed core test, the
// implementation as given.
func TestSuiteWeightsReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.yaml")
	code, out, errs := runCLI(t, "suite", "weights", "--case", "default-weight", "--report", path,
		"--implementation", "organization=splitproof,project=refproxy,version=dev,contact=@a|@b")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep confv1.ConformanceReport
	if err := yaml.UnmarshalStrict(data, &rep); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if rep.Kind != "ConformanceReport" || rep.Organization != "splitproof" || rep.Project != "refproxy" || rep.Version != "dev" || strings.Join(rep.Contact, " ") != "@a @b" {
		t.Errorf("header: %+v", rep)
	}
	var names []string
	for _, p := range rep.ProfileReports {
		names = append(names, p.Name)
		if p.Core.Result != confv1.Success || p.Core.Passed != 1 || !strings.Contains(p.Summary, "default-weight: pass (expected pass)") {
			t.Errorf("%s: %+v", p.Name, p)
		}
	}
	if strings.Join(names, ",") != "SPLITPROOF-WEIGHTS random,SPLITPROOF-WEIGHTS smooth" {
		t.Errorf("profiles %v", names)
	}
}

// TestSuiteWeightsClusterBadInput refuses what a cluster run cannot take,
// before any cluster is reached.
func TestSuiteWeightsClusterBadInput(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\ncontexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--kubeconfig", kc},
		{"--kubeconfig", kc, "--gateway-class", "eg"}, // nothing listens there
		{"--gateway-class", "eg"},
		{"--namespace-prefix", "x"},
		{"--kubeconfig", kc, "--gateway-class", "eg", "--namespace-prefix", "Bad_Prefix"},
		{"--kubeconfig", kc, "--gateway-class", "eg", "--port-forward", "127.0.0.1:9"},
		{"--kubeconfig", kc, "--gateway-class", "eg", "--gateway", "http://127.0.0.1:9"},
		{"--kubeconfig", kc, "--gateway-class", "eg", "--all-zero-status", "503"},
		{"--kubeconfig", kc, "--gateway-class", "eg", "--ready-timeout", "0s"},
		{"--kubeconfig", filepath.Join(t.TempDir(), "none"), "--gateway-class", "eg"},
		{"--gateway", "http://127.0.0.1:9", "--port-forward"},
		{"--port-forward"},
		{"--report", "r.yaml", "--implementation", "owner=me"},
		{"--implementation", "project=x"},
	} {
		args = append([]string{"suite", "weights"}, args...)
		if code, _, errs := runCLI(t, args...); code != ExitBadInput {
			t.Errorf("%v: exit %d, want %d: %s", args, code, ExitBadInput, errs)
		}
	}
}

func TestSuiteJoinPortForward(t *testing.T) {
	for _, tt := range []struct{ in, want []string }{
		{[]string{"weights", "--port-forward", "127.0.0.1:9", "--json"}, []string{"weights", "--port-forward=127.0.0.1:9", "--json"}},
		{[]string{"--port-forward", "weights"}, []string{"--port-forward", "weights"}},
		{[]string{"--port-forward", "--kubeconfig", "k:x"}, []string{"--port-forward", "--kubeconfig", "k:x"}},
		{[]string{"weights", "--port-forward"}, []string{"weights", "--port-forward"}},
	} {
		if got := joinPortForward(tt.in); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("joinPortForward(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
