//go:build e2e

package e2e

import (
	"errors"
	"log/slog"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/splitproof/splitproof/conformance/install"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/kube"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/sim"
)

// What a user sees when the cluster is not set up the way the scenario
// needs: a replay that stops within seconds, exit-2 material, with the
// cause named — never a hang, never a wrong-split verdict.
var _ = Describe("setup problems on a cluster are diagnosed, not verdicts", Ordered, func() {
	var logger *slog.Logger
	example1 := func(rel string) string {
		return filepath.Join(repoRoot, "scenarios", "example1-ab-testing", rel)
	}
	runExample1 := func(ctx SpecContext, opts kube.Options, snippet string) (*replay.Result, time.Duration, error) {
		GinkgoHelper()
		opts.Logger = logger
		ep, closer, err := kube.Connect(ctx, restConfig, opts)
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = closer.Close() }()
		s, err := scenarios.Find("example1-ab-testing")
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()
		res, err := replay.RunAll(ctx, replay.Config{
			Scenarios: []*scenarios.Scenario{s},
			Snippet:   snippet,
			Target:    replay.FixedTarget(ep),
			Options:   replay.Options{Progress: GinkgoWriter, Logger: logger, Timeout: 3 * time.Second},
		})
		return res, time.Since(start), err
	}

	BeforeAll(func(ctx SpecContext) {
		logger = slog.New(slog.NewTextHandler(GinkgoWriter, nil))
		mustInstallDoc(ctx)
		By("the sample app's Services and the doc's route, but no sample-app pod")
		mustFreshNamespace(ctx, helloworldNamespace)
		_, err := kubectl(ctx, "create", "namespace", helloworldNamespace)
		Expect(err).NotTo(HaveOccurred())
		_, err = kubectl(ctx, "-n", helloworldNamespace, "apply", "-f", example1("manifests/helloworld.yaml"))
		Expect(err).NotTo(HaveOccurred())
		_, err = kubectl(ctx, "-n", helloworldNamespace, "delete", "deployment", "--all", "--wait=true")
		Expect(err).NotTo(HaveOccurred())
		_, err = kubectl(ctx, "apply", "-f", example1("manifests/traffic-split.yaml"))
		Expect(err).NotTo(HaveOccurred())
		mustRouteAccepted(ctx, helloworldNamespace, "traffic-split", install.Namespace, "http")
		DeferCleanup(func(ctx SpecContext) {
			_, _ = kubectl(ctx, "delete", "--ignore-not-found", "-f", example1("manifests/traffic-split.yaml"))
			_, _ = kubectl(ctx, "delete", "namespace", helloworldNamespace, "--ignore-not-found", "--wait=false")
		}, NodeTimeout(2*time.Minute))
	}, NodeTimeout(6*time.Minute))

	It("stops within 50 requests when the Services select nothing, naming all three", func(ctx SpecContext) {
		// Wait until no endpoint of the sample app is left: pods still
		// terminating would answer a few requests.
		Eventually(func(g Gomega) {
			pods, err := clientset.CoreV1().Pods(helloworldNamespace).List(ctx, metav1.ListOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pods.Items).To(BeEmpty())
		}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		res, took, err := runExample1(ctx, kube.Options{}, "port-forward")
		GinkgoWriter.Printf("took %s: %v\n", took, err)
		Expect(errors.Is(err, replay.ErrSetup)).To(BeTrue(), "error %v", err)
		Expect(res.Reports).To(BeEmpty())
		for _, v := range []string{"v1", "v2", "v3"} {
			Expect(err.Error()).To(ContainSubstring("Service helloworld/helloworld-" + v + " has no ready endpoints"))
		}
		Expect(err.Error()).To(ContainSubstring("(Host: traffic.split.example)"))
		Expect(err.Error()).To(MatchRegexp(`none of the first (\d|[1-4]\d) responses`))
	}, SpecTimeout(3*time.Minute))

	It("stops within seconds when nothing answers at the external address", func(ctx SpecContext) {
		By("a LoadBalancer Service that selects no pod: its address is routed, nothing serves it")
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: install.Namespace, Name: "splitproof-unreachable"},
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeLoadBalancer,
				Selector: map[string]string{"app": "nothing-has-this-label"},
				Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
			},
		}
		_, err := clientset.CoreV1().Services(install.Namespace).Create(ctx, svc, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			_ = clientset.CoreV1().Services(install.Namespace).Delete(ctx, svc.Name, metav1.DeleteOptions{})
		}, NodeTimeout(time.Minute))
		mustServiceAddress(ctx, install.Namespace, svc.Name)
		res, took, err := runExample1(ctx, kube.Options{Service: svc.Name}, "external-address")
		GinkgoWriter.Printf("took %s: %v\n", took, err)
		Expect(errors.Is(err, replay.ErrUnreachable)).To(BeTrue(), "error %v", err)
		Expect(res.Reports).To(BeEmpty())
		Expect(took).To(BeNumerically("<", 10*time.Second))
	}, SpecTimeout(3*time.Minute))
})

// Any Gateway API implementation, not only the doc's names: the address
// comes from a Gateway's status (as the upstream conformance suite takes
// it) and the port-forward goes through a Service, both named by flags.
// The doc's proxy serves both of its Gateways, so Example 1 is reached
// through Gateway agentgateway-proxy — not the `http` its route names —
// and Service agentgateway-system/http instead of the Deployment.
var _ = Describe("the cluster target with --gateway-ref and --port-forward-to", Ordered, func() {
	BeforeAll(func(ctx SpecContext) {
		mustInstallDoc(ctx)
		mustFreshNamespace(ctx, helloworldNamespace)
		_, err := kubectl(ctx, "create", "namespace", helloworldNamespace)
		Expect(err).NotTo(HaveOccurred())
		_, err = kubectl(ctx, "-n", helloworldNamespace, "apply", "-f", filepath.Join(repoRoot, "scenarios", "example1-ab-testing", "manifests", "helloworld.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) { helloworldPodsReady(ctx, g) }).
			WithContext(ctx).WithTimeout(4 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		_, err = kubectl(ctx, "apply", "-f", filepath.Join(repoRoot, "scenarios", "example1-ab-testing", "manifests", "traffic-split.yaml"))
		Expect(err).NotTo(HaveOccurred())
		mustRouteAccepted(ctx, helloworldNamespace, "traffic-split", install.Namespace, "http")
		DeferCleanup(func(ctx SpecContext) {
			_, _ = kubectl(ctx, "delete", "--ignore-not-found", "-f", filepath.Join(repoRoot, "scenarios", "example1-ab-testing", "manifests", "traffic-split.yaml"))
			_, _ = kubectl(ctx, "delete", "namespace", helloworldNamespace, "--ignore-not-found", "--wait=false")
		}, NodeTimeout(2*time.Minute))
	}, NodeTimeout(8*time.Minute))

	It("replays Example 1 through Gateway agentgateway-proxy and Service http", func(ctx SpecContext) {
		logger := slog.New(slog.NewTextHandler(GinkgoWriter, nil))
		addr := mustServiceAddress(ctx, install.Namespace, install.ProxyService)
		mustGatewayProgrammed(ctx, install.Namespace, "agentgateway-proxy", addr)
		ref, err := kube.ParseGatewayRef(install.Namespace + "/agentgateway-proxy")
		Expect(err).NotTo(HaveOccurred())
		to, err := kube.ParseForwardTarget(install.Namespace + "/svc/" + install.ProxyService + ":80")
		Expect(err).NotTo(HaveOccurred())
		ep, closer, err := kube.Connect(ctx, restConfig, kube.Options{Logger: logger, GatewayRef: &ref, ForwardTo: &to})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(closer.Close)
		Expect(ep.Env["INGRESS_GW_ADDRESS"]).To(Equal(addr))
		Expect(ep.Name).To(ContainSubstring("svc/" + install.ProxyService))
		s, err := scenarios.Find("example1-ab-testing")
		Expect(err).NotTo(HaveOccurred())
		// The route may need a moment after Accepted to serve.
		client := ep.Client()
		for _, base := range []string{"http://" + addr + ":80", "http://localhost:8080"} {
			Eventually(func(g Gomega) {
				body := mustDo(g, client, "GET", base+"/hello", splitHost, "", 200)
				g.Expect(body).To(HavePrefix("Hello version: v"))
			}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed(), "gateway at %s", base)
		}
		res, err := replay.RunAll(ctx, replay.Config{
			Scenarios: []*scenarios.Scenario{s},
			Target:    replay.FixedTarget(ep),
			Options:   replay.Options{Progress: GinkgoWriter, Logger: logger},
			OnReport:  func(r *replay.Report) error { return r.WriteText(GinkgoWriter) },
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Reports).To(HaveLen(2))
		Expect(res.Outcome).To(Equal(sim.OutcomePass), "%v", res.Reason())
	}, SpecTimeout(10*time.Minute))
})
