package kubetest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Environment variables naming the directories that hold the binaries.
const (
	EnvKubeBinDir = "SPLITPROOF_KUBE_BIN_DIR" // kube-apiserver, kubectl
	EnvEtcdBinDir = "SPLITPROOF_ETCD_BIN_DIR" // etcd
)

// Environment returns an envtest environment that runs the locally built
// binaries and installs the CustomResourceDefinitions found in crdPaths
// (files or directories; documents of other kinds are skipped, a missing
// path is an error). A missing binary is an error, in CI and out of it: the
// tests that need a control plane must not pass without one.
func Environment(crdPaths ...string) (*envtest.Environment, error) {
	kubeDir, etcdDir := os.Getenv(EnvKubeBinDir), os.Getenv(EnvEtcdBinDir)
	if kubeDir == "" || etcdDir == "" {
		return nil, fmt.Errorf("%s and %s must name the directories of kube-apiserver and etcd: run the tests with ci/integration.sh, which builds them", EnvKubeBinDir, EnvEtcdBinDir)
	}
	apiserver, etcd, kubectl := filepath.Join(kubeDir, "kube-apiserver"), filepath.Join(etcdDir, "etcd"), filepath.Join(kubeDir, "kubectl")
	for _, bin := range []string{apiserver, etcd, kubectl} {
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("control-plane binary: %w (ci/integration.sh builds it)", err)
		}
	}
	useExisting := false
	env := &envtest.Environment{
		CRDDirectoryPaths:     crdPaths,
		ErrorIfCRDPathMissing: true,
		// Explicit, so that USE_EXISTING_CLUSTER in the caller's
		// environment never points the tests at a real cluster.
		UseExistingCluster: &useExisting,
		// A cold kube-apiserver on a loaded 2-core machine takes well over
		// envtest's default 20s.
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	// Paths set here win over envtest's lookup (TEST_ASSET_*,
	// KUBEBUILDER_ASSETS, /usr/local/kubebuilder/bin); DownloadBinaryAssets
	// stays false, so nothing is fetched.
	env.ControlPlane.Etcd = &envtest.Etcd{Path: etcd}
	env.ControlPlane.KubectlPath = kubectl
	api := env.ControlPlane.GetAPIServer()
	api.Path = apiserver
	// Room for the many Services the controller tests create (envtest's
	// default range is a /24).
	api.Configure().Set("service-cluster-ip-range", "10.96.0.0/16")
	// No controller-manager or scheduler runs, so the API server's own
	// load-shedding buys nothing and costs start-up time.
	api.Configure().Set("enable-priority-and-fairness", "false")
	return env, nil
}

// MustStart starts an Environment for t (whose Config reaches the API
// server as a member of system:masters) and stops it when t ends.
func MustStart(t testing.TB, crdPaths ...string) *envtest.Environment {
	t.Helper()
	env, err := Environment(crdPaths...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Start(); err != nil {
		// Start may fail after the processes came up (installing CRDs,
		// say); stopping them keeps a failed test from leaking them.
		_ = env.Stop()
		t.Fatalf("start etcd and kube-apiserver: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop etcd and kube-apiserver: %v", err)
		}
	})
	return env
}
