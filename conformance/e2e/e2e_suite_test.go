//go:build e2e

package e2e

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/splitproof/splitproof/conformance/cluster"
	"github.com/splitproof/splitproof/conformance/lb"
)

// The suite's knobs, all from the environment so `make e2e` and CI set them:
//
//	KIND_NODE_IMAGE    node image (empty: kind's default stock image)
//	KIND_CLUSTER_NAME  cluster name (default "splitproof")
//	KEEP_CLUSTER=1     reuse a running cluster and leave it running afterwards
//	E2E_IMAGES         space-separated local images to load (default: the sample
//	                   app's and splitproof/splitproof:dev)
//	E2E_KUBECONFIG     where the kubeconfig is written (default: a temporary file)
var (
	testCluster *cluster.Cluster
	restConfig  *rest.Config
	clientset   *kubernetes.Clientset
	keepCluster = os.Getenv("KEEP_CLUSTER") == "1"
	repoRoot    string
	// lbStop ends the host-side LoadBalancer controller and returns its
	// Run error (its routes are removed by then).
	lbStop func() error
)

// sampleAppImages are the images helloworld.yaml names and the splitproof
// image refproxy and the fake provider run from, built by
// ci/kind/workload-images.sh.
var sampleAppImages = []string{
	"docker.io/istio/examples-helloworld-v1:latest",
	"curlimages/curl:7.83.1",
	"docker.io/istio/tcp-echo-server:1.2",
	"splitproof/splitproof:dev",
}

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "splitproof e2e on kind")
}

// The suite runs in one process: the cluster is a single shared resource.
var _ = BeforeSuite(func(ctx SpecContext) {
	setUp(ctx)
	var err error
	restConfig, err = clientcmd.BuildConfigFromFlags("", testCluster.Kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(restConfig)
	Expect(err).NotTo(HaveOccurred())
	repoRoot = mustRepoRoot()
	startLB()
}, NodeTimeout(10*time.Minute))

// startLB runs conformance/lb beside the cluster for the whole suite, so
// Services of type LoadBalancer get an address the host reaches, as the
// doc's INGRESS_GW_ADDRESS expects of a real cloud.
func startLB() {
	GinkgoHelper()
	var err error
	lbStop, err = lb.StartKind(clientset, testCluster.Name, slog.New(slog.NewTextHandler(GinkgoWriter, nil)).With("component", "lb"))
	Expect(err).NotTo(HaveOccurred())
}

func setUp(ctx context.Context) {
	logger := slog.New(slog.NewTextHandler(GinkgoWriter, nil))
	kubeconfig := os.Getenv("E2E_KUBECONFIG")
	if kubeconfig == "" {
		kubeconfig = filepath.Join(os.TempDir(), "splitproof-e2e-kubeconfig")
	}
	name := os.Getenv("KIND_CLUSTER_NAME")
	start := time.Now()
	var err error
	testCluster, err = cluster.Ensure(ctx, cluster.Options{
		Name:       name,
		NodeImage:  os.Getenv("KIND_NODE_IMAGE"),
		Kubeconfig: kubeconfig,
		Reuse:      keepCluster,
	}, logger)
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("cluster %s ready in %s (reused: %v)\n", testCluster.Name, time.Since(start).Round(time.Second), testCluster.Reused)
	images := sampleAppImages
	if extra := strings.Fields(os.Getenv("E2E_IMAGES")); len(extra) > 0 {
		images = extra
	}
	start = time.Now()
	Expect(testCluster.LoadImages(ctx, images)).To(Succeed())
	GinkgoWriter.Printf("images loaded in %s\n", time.Since(start).Round(time.Second))
}

var _ = AfterSuite(func() {
	if lbStop != nil {
		Expect(lbStop()).To(Succeed(), "stop the LoadBalancer controller and remove its routes")
	}
	if testCluster == nil || keepCluster {
		return
	}
	Expect(testCluster.Delete()).To(Succeed())
})

// kubectl runs kubectl against the suite's cluster and returns its stdout;
// stderr is part of the error.
func kubectl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", testCluster.Kubeconfig}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), &kubectlError{args: args, err: err, stderr: stderr.String()}
	}
	return string(out), nil
}

type kubectlError struct {
	args   []string
	err    error
	stderr string
}

func (e *kubectlError) Error() string {
	return "kubectl " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + strings.TrimSpace(e.stderr)
}
func (e *kubectlError) Unwrap() error { return e.err }

// mustRepoRoot finds the module root from the test's working directory.
func mustRepoRoot() string {
	GinkgoHelper()
	dir, err := os.Getwd()
	Expect(err).NotTo(HaveOccurred())
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		Expect(parent).NotTo(Equal(dir), "no go.mod above the test directory")
		dir = parent
	}
}
