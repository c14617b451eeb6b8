package weights

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/yaml"
)

// confResults are fixed results over two modes: in the cluster mode a
// required case failed and the spec-ambiguous one saw a backend answer;
// in the embedded mode every case is as expected.
func confResults() []Result {
	return append(reportResults()[:3:3],
		Result{Case: "default-weight", Mode: "gatewayclass eg", Expect: ExpectPass, Observed: "fail", Failures: []string{"v1 off"}},
		Result{Case: "invalid-backendref", Mode: "gatewayclass eg", Expect: ExpectPass, Observed: "pass", AsExpected: true},
		Result{Case: "all-zero", Mode: "gatewayclass eg", Expect: ExpectAmbiguous, Observed: "statuses"},
		Result{Case: "no-endpoints", Mode: "gatewayclass eg", Expect: ExpectPass, Observed: "error", Err: "case no-endpoints: Gateway not Programmed"},
	)
}

// TestConformanceReportGolden writes the report of fixed results with a
// fixed date and compares it with testdata/conformance-report.yaml.golden
// (go test -run ConformanceReport -update rewrites it).
func TestConformanceReportGolden(t *testing.T) {
	rep := ConformanceReport(confResults(), ReportOptions{
		Implementation: confv1.Implementation{Organization: "example", Project: "eg", URL: "https://example.com/eg", Version: "v1.0.0", Contact: []string{"@example/eg"}},
		Date:           time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600)),
	})
	var b bytes.Buffer
	if err := WriteConformanceReport(&b, rep); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "conformance-report.yaml.golden")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("report differs from %s:\n%s", path, b.String())
	}
	// It reads back as upstream's type.
	var back confv1.ConformanceReport
	if err := yaml.UnmarshalStrict(b.Bytes(), &back); err != nil {
		t.Fatalf("the report does not read back as a ConformanceReport: %v", err)
	}
	if back.Kind != "ConformanceReport" || back.APIVersion != "gateway.networking.k8s.io/v1" || back.Date != "2026-01-02T02:04:05Z" {
		t.Errorf("header: %s %s %s", back.APIVersion, back.Kind, back.Date)
	}
}

// TestConformanceReportMapping checks the mapping case by case: required
// cases are core (failed when not as expected, an error included), the
// spec-ambiguous one extended and never failed.
func TestConformanceReportMapping(t *testing.T) {
	rep := ConformanceReport(confResults(), ReportOptions{})
	if len(rep.ProfileReports) != 3 {
		t.Fatalf("%d profiles, want one per mode (random, smooth, gatewayclass eg)", len(rep.ProfileReports))
	}
	if rep.GatewayAPIVersion == "" || rep.Date == "" {
		t.Errorf("defaults not filled: version %q, date %q", rep.GatewayAPIVersion, rep.Date)
	}
	byName := map[string]confv1.ProfileReport{}
	for _, p := range rep.ProfileReports {
		byName[p.Name] = p
	}
	for _, tt := range []struct {
		profile          string
		core             confv1.Result
		passed, failed   uint32
		failedTests      []string
		ext              confv1.Result // "" : no extended status
		extPassed, extSk uint32
	}{
		{"SPLITPROOF-WEIGHTS random", confv1.Success, 1, 0, nil, confv1.Success, 1, 0},
		{"SPLITPROOF-WEIGHTS smooth", confv1.Success, 1, 0, nil, "", 0, 0},
		{"SPLITPROOF-WEIGHTS gatewayclass eg", confv1.Failure, 1, 2, []string{"default-weight", "no-endpoints"}, confv1.Partial, 0, 1},
	} {
		p, ok := byName[tt.profile]
		if !ok {
			t.Errorf("no profile %q", tt.profile)
			continue
		}
		if p.Core.Result != tt.core || p.Core.Passed != tt.passed || p.Core.Failed != tt.failed || strings.Join(p.Core.FailedTests, ",") != strings.Join(tt.failedTests, ",") {
			t.Errorf("%s core: %+v", tt.profile, p.Core)
		}
		switch {
		case tt.ext == "" && p.Extended != nil:
			t.Errorf("%s: extended status %+v, want none", tt.profile, p.Extended)
		case tt.ext != "" && (p.Extended == nil || p.Extended.Result != tt.ext || p.Extended.Passed != tt.extPassed || p.Extended.Skipped != tt.extSk):
			t.Errorf("%s extended: %+v", tt.profile, p.Extended)
		}
	}
	if s := byName["SPLITPROOF-WEIGHTS gatewayclass eg"].Summary; !strings.Contains(s, "default-weight: fail (expected pass)") || !strings.Contains(s, "all-zero: statuses (spec-ambiguous, reported)") {
		t.Errorf("summary lacks the tests' verdicts: %s", s)
	}
}
