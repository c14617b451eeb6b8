package weights

import (
	"fmt"
	"io"
	"strings"
	"time"

	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/consts"
	"sigs.k8s.io/yaml"
)

// The results as upstream's ConformanceReport (apis/v1 of the Gateway API
// conformance module), written as YAML the way upstream writes its own.
//
// Each mode is a profile, named "SPLITPROOF-WEIGHTS " plus the mode, and
// each case a test in it, named by the case:
//
//   - a case whose behaviour the spec requires (expected pass, fail or
//     not-pass) is a core test: passed when the result is as expected,
//     failed (listed in failedTests) otherwise, a case that could not run
//     included;
//   - a spec-ambiguous case (all-zero) is an extended test, so that it can
//     never fail the profile: passed when the gateway did one of the
//     things the spec allows (every answer a 5xx of its own), skipped
//     (listed in skippedTests; the extended result "partial") when it did
//     something else or the case could not run.
//
// Upstream's types list only failed and skipped tests by name, so each
// profile's summary, after upstream's own sentence, gives every test with
// its verdict: "default-weight: pass (expected pass)".

// ProfilePrefix starts every profile's name.
const ProfilePrefix = "SPLITPROOF-WEIGHTS"

// ReportOptions fill the report's header.
type ReportOptions struct {
	Implementation confv1.Implementation
	// Date is the report's date (RFC 3339); zero: now.
	Date time.Time
	// GatewayAPIVersion is the Gateway API release the cases' manifests
	// are written for (empty: the one splitproof is built with).
	GatewayAPIVersion string
}

// ConformanceReport builds the report of rs.
func ConformanceReport(rs []Result, opts ReportOptions) confv1.ConformanceReport {
	if opts.Date.IsZero() {
		opts.Date = time.Now()
	}
	if opts.GatewayAPIVersion == "" {
		opts.GatewayAPIVersion = consts.BundleVersion
	}
	rep := confv1.ConformanceReport{
		Implementation:    opts.Implementation,
		Date:              opts.Date.UTC().Format(time.RFC3339),
		GatewayAPIVersion: opts.GatewayAPIVersion,
		GatewayAPIChannel: "standard",
		Mode:              "default",
	}
	rep.APIVersion = confv1.GroupVersion.String()
	rep.Kind = "ConformanceReport"
	var modes []string
	byMode := map[string][]Result{}
	for _, r := range rs {
		if _, ok := byMode[r.Mode]; !ok {
			modes = append(modes, r.Mode)
		}
		byMode[r.Mode] = append(byMode[r.Mode], r)
	}
	for _, m := range modes {
		rep.ProfileReports = append(rep.ProfileReports, profileReport(m, byMode[m]))
	}
	return rep
}

func profileReport(mode string, rs []Result) confv1.ProfileReport {
	p := confv1.ProfileReport{Name: ProfilePrefix + " " + mode}
	var ext *confv1.ExtendedStatus
	var verdicts []string
	for _, r := range rs {
		verdicts = append(verdicts, testVerdict(r))
		if r.Expect == ExpectAmbiguous {
			if ext == nil {
				ext = &confv1.ExtendedStatus{}
			}
			if r.AsExpected {
				ext.Passed++
			} else {
				ext.Skipped++
				ext.SkippedTests = append(ext.SkippedTests, r.Case)
			}
			continue
		}
		if r.AsExpected {
			p.Core.Passed++
		} else {
			p.Core.Failed++
			p.Core.FailedTests = append(p.Core.FailedTests, r.Case)
		}
	}
	p.Core.Result = statusResult(p.Core)
	summary := "Core tests " + statusSummary(p.Core)
	if ext != nil {
		ext.Result = statusResult(ext.Status)
		p.Extended = ext
		summary += ". Extended tests " + statusSummary(ext.Status)
	}
	p.Summary = summary + ". Tests: " + strings.Join(verdicts, "; ") + "."
	return p
}

// testVerdict is "case: observed (expected E)", with the error of a case
// that could not run.
func testVerdict(r Result) string {
	v := fmt.Sprintf("%s: %s (expected %s)", r.Case, r.Observed, r.Expect)
	if r.Expect == ExpectAmbiguous {
		v = fmt.Sprintf("%s: %s (spec-ambiguous, reported)", r.Case, r.Observed)
	}
	if r.Err != "" {
		v += ", " + r.Err
	}
	return v
}

func statusResult(s confv1.Status) confv1.Result {
	switch {
	case s.Failed > 0:
		return confv1.Failure
	case s.Skipped > 0:
		return confv1.Partial
	}
	return confv1.Success
}

// statusSummary is upstream's wording for a status.
func statusSummary(s confv1.Status) string {
	switch s.Result {
	case confv1.Failure:
		return fmt.Sprintf("failed with %d test failures", s.Failed)
	case confv1.Partial:
		return fmt.Sprintf("partially succeeded with %d test skips", s.Skipped)
	}
	return "succeeded"
}

// WriteConformanceReport writes rep as YAML.
func WriteConformanceReport(w io.Writer, rep confv1.ConformanceReport) error {
	out, err := yaml.Marshal(rep)
	if err != nil {
		return fmt.Errorf("conformance report: %w", err)
	}
	_, err = w.Write(out)
	return err
}
