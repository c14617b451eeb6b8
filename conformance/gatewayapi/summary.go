package gatewayapi

import (
	"fmt"
	"io"
	"strings"

	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/yaml"
)

// Summarize writes the short form of a ConformanceReport (YAML, as the
// suite writes it): per profile, the core and extended results with their
// pass/skip/fail counts, the failed and skipped tests, and the extended
// features claimed. It returns an error when the report cannot be read, and
// also when a profile's core result is not success, so that CI can stop on
// it.
func Summarize(w io.Writer, report []byte) error {
	var r confv1.ConformanceReport
	if err := yaml.UnmarshalStrict(report, &r); err != nil {
		return fmt.Errorf("read ConformanceReport: %w", err)
	}
	if len(r.ProfileReports) == 0 {
		return fmt.Errorf("ConformanceReport of %s %s has no profile", r.Project, r.Version)
	}
	fmt.Fprintf(w, "Gateway API %s conformance (%s channel, mode %s) of %s %s, %s\n",
		r.GatewayAPIVersion, r.GatewayAPIChannel, r.Mode, r.Project, r.Version, r.Date)
	var failed []string
	for _, p := range r.ProfileReports {
		fmt.Fprintf(w, "profile %s:\n", p.Name)
		status(w, "core", p.Core)
		if p.Core.Result != confv1.Success {
			failed = append(failed, p.Name+" core "+string(p.Core.Result))
		}
		if p.Extended != nil {
			status(w, "extended", p.Extended.Status)
			fmt.Fprintf(w, "  features claimed: %s\n", list(p.Extended.SupportedFeatures))
			fmt.Fprintf(w, "  features not claimed: %s\n", list(p.Extended.UnsupportedFeatures))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("conformance not reached: %s", strings.Join(failed, ", "))
	}
	return nil
}

func status(w io.Writer, name string, s confv1.Status) {
	fmt.Fprintf(w, "  %s: %s (passed %d, skipped %d, failed %d)\n", name, s.Result, s.Passed, s.Skipped, s.Failed)
	if len(s.FailedTests) > 0 {
		fmt.Fprintf(w, "    failed: %s\n", list(s.FailedTests))
	}
	if len(s.SkippedTests) > 0 {
		fmt.Fprintf(w, "    skipped: %s\n", list(s.SkippedTests))
	}
}

func list(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
