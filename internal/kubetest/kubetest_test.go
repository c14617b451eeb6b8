package kubetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvironmentNeedsTheBinaries(t *testing.T) {
	t.Setenv(EnvKubeBinDir, "")
	t.Setenv(EnvEtcdBinDir, "")
	if _, err := Environment(); err == nil || !strings.Contains(err.Error(), EnvKubeBinDir) {
		t.Fatalf("no directories: %v, want an error naming %s", err, EnvKubeBinDir)
	}
	dir := t.TempDir()
	t.Setenv(EnvKubeBinDir, dir)
	t.Setenv(EnvEtcdBinDir, dir)
	if _, err := Environment(); err == nil || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Fatalf("empty directory: %v, want an error naming kube-apiserver", err)
	}
}

// TestEnvironmentUsesLocalBinaries checks the configuration envtest gets:
// the binaries of the two directories whatever envtest's own variables say,
// no download and no existing cluster.
func TestEnvironmentUsesLocalBinaries(t *testing.T) {
	kube, etcd := t.TempDir(), t.TempDir()
	for _, f := range []string{filepath.Join(kube, "kube-apiserver"), filepath.Join(kube, "kubectl"), filepath.Join(etcd, "etcd")} {
		if err := os.WriteFile(f, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(EnvKubeBinDir, kube)
	t.Setenv(EnvEtcdBinDir, etcd)
	t.Setenv("KUBEBUILDER_ASSETS", t.TempDir())
	t.Setenv("USE_EXISTING_CLUSTER", "true")
	env, err := Environment("crds")
	if err != nil {
		t.Fatal(err)
	}
	if got := env.ControlPlane.GetAPIServer().Path; got != filepath.Join(kube, "kube-apiserver") {
		t.Errorf("kube-apiserver %q", got)
	}
	if got := env.ControlPlane.Etcd.Path; got != filepath.Join(etcd, "etcd") {
		t.Errorf("etcd %q", got)
	}
	if got := env.ControlPlane.KubectlPath; got != filepath.Join(kube, "kubectl") {
		t.Errorf("kubectl %q", got)
	}
	if env.DownloadBinaryAssets || env.UseExistingCluster == nil || *env.UseExistingCluster {
		t.Errorf("DownloadBinaryAssets %v, UseExistingCluster %v: want neither", env.DownloadBinaryAssets, env.UseExistingCluster)
	}
	if !env.ErrorIfCRDPathMissing || len(env.CRDDirectoryPaths) != 1 || env.CRDDirectoryPaths[0] != "crds" {
		t.Errorf("CRD paths %v (missing is an error: %v)", env.CRDDirectoryPaths, env.ErrorIfCRDPathMissing)
	}
}
