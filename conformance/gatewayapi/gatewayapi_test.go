//go:build conformance

package gatewayapi

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"

	"github.com/splitproof/splitproof/conformance/install"
)

// Environment variables of the run.
const (
	// EnvReport overrides where the ConformanceReport YAML is written.
	EnvReport = "SPLITPROOF_CONFORMANCE_REPORT"
	// EnvVersion is the refproxy version named in the report ("dev" when unset).
	EnvVersion = "SPLITPROOF_VERSION"
)

// skipTests are the suite's tests not run, by ShortName, each with the
// reason. Tests of features refproxy does not claim are not listed: the
// suite leaves those out by itself. Empty: no failure has been justified
// as out of scope yet.
var skipTests = map[string]string{}

// TestGatewayAPIConformance runs profile GATEWAY-HTTP: its core features and
// the extended ones controller.SupportedFeatures claims (the same list the
// controller publishes in the GatewayClass status). The suite's own flags
// (-run-test, -debug, -cleanup-base-resources, ...) still apply, after go
// test's -args.
func TestGatewayAPIConformance(t *testing.T) {
	opts := conformance.DefaultOptions(t)
	opts.GatewayClassName = install.GatewayClassName
	opts.ConformanceProfiles = []suite.ConformanceProfileName{Profile.Name}
	// Given explicitly rather than inferred from the GatewayClass status, so
	// that a controller publishing the wrong list cannot shrink the run.
	opts.SupportedFeatures = Features()
	// The cluster gets the CRDs of the very version the suite is built for
	// (conformance/install embeds them, and tests that); a mismatch is a
	// setup error, not something to run through.
	opts.AllowCRDsMismatch = false
	// -skip-tests given on the command line is kept; these are added.
	for name, why := range skipTests {
		t.Logf("skipping %s: %s", name, why)
		opts.SkipTests = append(opts.SkipTests, name)
	}

	version := os.Getenv(EnvVersion)
	if version == "" {
		version = "dev"
	}
	opts.Implementation = confv1.Implementation{
		Organization: "splitproof",
		Project:      "splitproof-refproxy",
		URL:          "https://github.com/splitproof/splitproof",
		Version:      version,
		Contact:      []string{"https://github.com/splitproof/splitproof/issues"},
	}
	report := os.Getenv(EnvReport)
	if report == "" {
		// go test runs in this package's directory; out/ is at the root.
		report = filepath.Join("..", "..", "out", "conformance", "gateway-api-"+string(Profile.Name)+".yaml")
	}
	if err := os.MkdirAll(filepath.Dir(report), 0o755); err != nil {
		t.Fatalf("report directory: %v", err)
	}
	opts.ReportOutputPath = report

	conformance.RunConformanceWithOptions(t, opts)
}
