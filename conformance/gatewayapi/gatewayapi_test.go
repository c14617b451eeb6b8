//go:build conformance

package gatewayapi

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"

	"github.com/splitproof/splitproof/conformance/install"
	"github.com/splitproof/splitproof/conformance/lb"
)

// Environment variables of the run.
const (
	// EnvReport overrides where the ConformanceReport YAML is written.
	EnvReport = "SPLITPROOF_CONFORMANCE_REPORT"
	// EnvVersion is the refproxy version named in the report ("dev" when unset).
	EnvVersion = "SPLITPROOF_VERSION"
	// EnvKindCluster names the kind cluster whose LoadBalancer Services the
	// run serves with conformance/lb ("splitproof" when unset); EnvNoLB=1
	// leaves LoadBalancers to something already running in the cluster.
	EnvKindCluster = "KIND_CLUSTER_NAME"
	EnvNoLB        = "SPLITPROOF_NO_LB"
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

	prepare(t, opts.RestConfig)
	start := time.Now()
	conformance.RunConformanceWithOptions(t, opts)
	t.Logf("conformance suite ran in %s; report: %s", time.Since(start).Round(time.Second), report)
}

// prepare installs the Conformance profile (the doc's proxy, and the
// provisioner that gives each Gateway the suite creates a refproxy of its
// own), waits until both Deployments are Available, and serves the
// cluster's LoadBalancer Services from this host for the test's lifetime.
func prepare(t *testing.T, cfg *rest.Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := install.Install(ctx, cfg, install.Conformance); err != nil {
		t.Fatalf("install the Conformance profile: %v", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A previous run's cleanup deletes the suite's namespaces without
	// waiting; applying into one still terminating fails the whole run.
	if err := waitNotTerminating(ctx, kube, suiteNamespaces...); err != nil {
		t.Fatal(err)
	}
	if os.Getenv(EnvNoLB) != "1" {
		startLB(t, kube)
	}
	for _, name := range []string{install.ProxyDeployment, install.ProvisionerDeployment} {
		if err := install.WaitRolled(ctx, kube, install.Namespace, name); err != nil {
			t.Fatal(err)
		}
	}
}

// suiteNamespaces are the namespaces of the suite's base manifests.
var suiteNamespaces = []string{"gateway-conformance-infra", "gateway-conformance-app-backend", "gateway-conformance-web-backend"}

func waitNotTerminating(ctx context.Context, kube kubernetes.Interface, names ...string) error {
	for _, name := range names {
		for {
			ns, err := kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) || (err == nil && ns.DeletionTimestamp == nil) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("namespace %s is still terminating (a previous run's cleanup): %w", name, ctx.Err())
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

func startLB(t *testing.T, kube kubernetes.Interface) {
	t.Helper()
	name := os.Getenv(EnvKindCluster)
	if name == "" {
		name = "splitproof"
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	stop, err := lb.StartKind(kube, name, logger)
	if err != nil {
		t.Fatalf("%v (set %s=1 if the cluster has its own)", err, EnvNoLB)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("LoadBalancer: %v", err)
		}
	})
}

// testWriter logs through t until the test ends (lb logs from goroutines).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
