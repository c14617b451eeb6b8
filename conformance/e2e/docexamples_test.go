//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/splitproof/splitproof/conformance/install"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/kube"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/sim"
)

// The doc's host header and the models fakeopenai answers for the two
// backends' model aliases.
const (
	splitHost   = "traffic.split.example"
	miniModel   = "gpt-4o-mini-2024-07-18"
	premiumMdl  = "gpt-4o-2024-08-06"
	chatRequest = `{"messages": [{"role": "user", "content": "What is 2+2?"}]}`
)

// The documentation page end to end on a cluster: refproxy installed as the
// Gateway API implementation behind the doc's Gateways, the page's own
// commands and YAML applied unchanged, every snippet replayed through both
// of the page's access paths (the LoadBalancer address and the
// port-forward) at the request count the statistics need, and the page's
// Cleanup commands run at the end.
var _ = Describe("the doc's examples through refproxy on kind", Ordered, func() {
	var (
		addr   string
		ep     *replay.Endpoint
		logger *slog.Logger
	)
	example := func(name, rel string) string {
		return filepath.Join(repoRoot, "scenarios", name, rel)
	}
	helloworldYAML := func() string { return example("example1-ab-testing", "manifests/helloworld.yaml") }

	BeforeAll(func(ctx SpecContext) {
		logger = slog.New(slog.NewTextHandler(GinkgoWriter, nil))
		By("installing refproxy (install.Doc) with server-side apply")
		mustInstallDoc(ctx)
	}, NodeTimeout(5*time.Minute))

	It("gives Service http an address and programs both Gateways with it", func(ctx SpecContext) {
		addr = mustServiceAddress(ctx, install.Namespace, install.ProxyService)
		GinkgoWriter.Printf("INGRESS_GW_ADDRESS=%s\n", addr)
		for _, gw := range []string{"http", "agentgateway-proxy"} {
			mustGatewayProgrammed(ctx, install.Namespace, gw, addr)
		}
	}, SpecTimeout(3*time.Minute))

	It("deploys the sample app with the doc's commands (Example 1)", func(ctx SpecContext) {
		mustFreshNamespace(ctx, helloworldNamespace)
		By("kubectl create namespace helloworld")
		_, err := kubectl(ctx, "create", "namespace", helloworldNamespace)
		Expect(err).NotTo(HaveOccurred())
		By("kubectl -n helloworld apply -f helloworld.yaml")
		_, err = kubectl(ctx, "-n", helloworldNamespace, "apply", "-f", helloworldYAML())
		Expect(err).NotTo(HaveOccurred())
		By("kubectl -n helloworld get pods: 3/3 Running")
		Eventually(func(g Gomega) { helloworldPodsReady(ctx, g) }).
			WithContext(ctx).WithTimeout(4 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
	}, SpecTimeout(7*time.Minute))

	It("accepts the doc's traffic-split HTTPRoute unchanged", func(ctx SpecContext) {
		_, err := kubectl(ctx, "apply", "-f", example("example1-ab-testing", "manifests/traffic-split.yaml"))
		Expect(err).NotTo(HaveOccurred())
		mustRouteAccepted(ctx, helloworldNamespace, "traffic-split", install.Namespace, "http")
	}, SpecTimeout(3*time.Minute))

	It("accepts the doc's LLM backends and route, pointed at the in-cluster fake provider (Example 2)", func(ctx SpecContext) {
		By("deploying fakeopenai and the Secret openai-secret")
		for _, f := range []string{"cluster/fakeopenai.yaml", "cluster/openai-secret.yaml"} {
			_, err := kubectl(ctx, "apply", "-f", example("example2-llm", f))
			Expect(err).NotTo(HaveOccurred())
		}
		mustDeploymentAvailable(ctx, install.Namespace, "fakeopenai")
		By("applying the doc's backends.yaml and route.yaml unchanged")
		for _, f := range []string{"manifests/backends.yaml", "manifests/route.yaml"} {
			_, err := kubectl(ctx, "apply", "-f", example("example2-llm", f))
			Expect(err).NotTo(HaveOccurred())
		}
		By("patching the provider's host, port and path on top")
		_, err := kubectl(ctx, "patch", "AgentgatewayBackend", "openai-mini-backend", "openai-premium-backend",
			"-n", install.Namespace, "--type=merge", "--patch-file", example("example2-llm", "cluster/provider-patch.yaml"))
		Expect(err).NotTo(HaveOccurred())
		dyn := dynamic.NewForConfigOrDie(restConfig)
		for _, name := range []string{"openai-mini-backend", "openai-premium-backend"} {
			b, err := dyn.Resource(backendGVR).Namespace(install.Namespace).Get(ctx, name, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			spec, _ := json.Marshal(b.Object["spec"])
			// The doc's fields and the patch's fields side by side.
			Expect(string(spec)).To(And(
				ContainSubstring(`"host":"fakeopenai.agentgateway-system.svc.cluster.local"`),
				ContainSubstring(`"path":"/v1/chat/completions"`),
				ContainSubstring(`"secretRef":{"name":"openai-secret"}`),
				ContainSubstring(`"model":"gpt-4o`),
			), "AgentgatewayBackend %s spec", name)
		}
		mustRouteAccepted(ctx, install.Namespace, "test", install.Namespace, "agentgateway-proxy")
	}, SpecTimeout(4*time.Minute))

	It("verifies every snippet's split through the LoadBalancer address and the port-forward", func(ctx SpecContext) {
		start := time.Now()
		var closer io.Closer
		var err error
		ep, closer, err = kube.Connect(ctx, restConfig, kube.Options{Logger: logger})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(closer.Close)
		Expect(ep.Env["INGRESS_GW_ADDRESS"]).To(Equal(addr))

		// The route status says Accepted before the proxy necessarily serves
		// the latest objects (the provider patch comes last): wait until
		// both paths answer both routes, outside the counted requests.
		client := ep.Client()
		for _, base := range []string{"http://" + addr + ":80", "http://localhost:8080"} {
			Eventually(func(g Gomega) {
				body := mustDo(g, client, http.MethodGet, base+"/hello", splitHost, "", http.StatusOK)
				g.Expect(body).To(HavePrefix("Hello version: v"))
				body = mustDo(g, client, http.MethodPost, base+"/test", "", chatRequest, http.StatusOK)
				var reply struct{ Model string }
				g.Expect(json.Unmarshal([]byte(body), &reply)).To(Succeed(), "reply %s", body)
				g.Expect(reply.Model).To(BeElementOf(miniModel, premiumMdl))
			}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed(), "gateway at %s", base)
		}

		var docScenarios []*scenarios.Scenario
		for _, name := range []string{"example1-ab-testing", "example2-llm"} {
			s, err := scenarios.Find(name)
			Expect(err).NotTo(HaveOccurred())
			docScenarios = append(docScenarios, s)
		}
		// The same run as `splitproof replay --kubeconfig`: every snippet of
		// both examples through the forward and the load balancer, each a
		// sequential test (the default) at the run's alpha over 4 verdicts.
		res, err := replay.RunAll(ctx, replay.Config{
			Scenarios: docScenarios,
			Target:    replay.FixedTarget(ep),
			Options:   replay.Options{Progress: GinkgoWriter, Logger: logger},
			OnReport: func(r *replay.Report) error {
				By("replayed " + r.Scenario + " " + r.Snippet)
				return r.WriteText(GinkgoWriter)
			},
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Interrupted).NotTo(HaveOccurred())
		Expect(res.StoppedEarly).To(BeFalse())
		reports := res.Reports
		out := filepath.Join(repoRoot, "out", "e2e", "doc-examples.json")
		Expect(os.MkdirAll(filepath.Dir(out), 0o755)).To(Succeed())
		f, err := os.Create(out)
		Expect(err).NotTo(HaveOccurred())
		Expect(replay.WriteJSON(f, res)).To(Succeed())
		Expect(f.Close()).To(Succeed())
		GinkgoWriter.Printf("reports written to %s; replays took %s\n", out, time.Since(start).Round(time.Second))

		Expect(reports).To(HaveLen(4))
		for _, r := range reports {
			Expect(r.Failures).To(BeEmpty(), "%s %s: iterations without a category", r.Scenario, r.Snippet)
			Expect(r.Pass()).To(BeTrue(), "%s %s: counts %v", r.Scenario, r.Snippet, r.Counts)
		}
		Expect(res.Outcome).To(Equal(sim.OutcomePass), "%v", res.Reason())
		GinkgoWriter.Println(res.Run.Line)
		Expect(res.Run.Made).To(Equal(4))
		Expect(res.Run.VerdictAlpha).To(Equal(sim.DefaultAlpha / 4))
	}, SpecTimeout(20*time.Minute))

	It("runs the doc's Cleanup commands, after which the gateway routes neither example", func(ctx SpecContext) {
		for _, args := range [][]string{
			{"delete", "httproute", "traffic-split", "-n", "helloworld"},
			{"delete", "httproute", "test", "-n", "agentgateway-system"},
			{"delete", "AgentgatewayBackend", "openai-mini-backend", "openai-premium-backend", "-n", "agentgateway-system"},
			{"delete", "-n", "helloworld", "-f", helloworldYAML()},
		} {
			By("kubectl " + strings.Join(args, " "))
			_, err := kubectl(ctx, args...)
			Expect(err).NotTo(HaveOccurred())
		}
		DeferCleanup(func(ctx SpecContext) {
			// The suite's own additions, not the doc's.
			for _, f := range []string{"cluster/fakeopenai.yaml", "cluster/openai-secret.yaml"} {
				_, err := kubectl(ctx, "delete", "--ignore-not-found", "-f", example("example2-llm", f))
				Expect(err).NotTo(HaveOccurred())
			}
		}, NodeTimeout(2*time.Minute))

		By("the deleted objects are gone")
		dyn := dynamic.NewForConfigOrDie(restConfig)
		gone := func(err error) bool { return apierrors.IsNotFound(err) }
		_, err := dyn.Resource(routeGVR).Namespace(helloworldNamespace).Get(ctx, "traffic-split", metav1.GetOptions{})
		Expect(gone(err)).To(BeTrue(), "HTTPRoute helloworld/traffic-split: %v", err)
		_, err = dyn.Resource(routeGVR).Namespace(install.Namespace).Get(ctx, "test", metav1.GetOptions{})
		Expect(gone(err)).To(BeTrue(), "HTTPRoute agentgateway-system/test: %v", err)
		for _, b := range []string{"openai-mini-backend", "openai-premium-backend"} {
			_, err = dyn.Resource(backendGVR).Namespace(install.Namespace).Get(ctx, b, metav1.GetOptions{})
			Expect(gone(err)).To(BeTrue(), "AgentgatewayBackend %s: %v", b, err)
		}
		for _, v := range helloworldVersions {
			_, err = clientset.AppsV1().Deployments(helloworldNamespace).Get(ctx, "helloworld-"+v, metav1.GetOptions{})
			Expect(gone(err)).To(BeTrue(), "Deployment helloworld-%s: %v", v, err)
			_, err = clientset.CoreV1().Services(helloworldNamespace).Get(ctx, "helloworld-"+v, metav1.GetOptions{})
			Expect(gone(err)).To(BeTrue(), "Service helloworld-%s: %v", v, err)
		}

		By("the gateway answers 404 for both examples' requests on both paths")
		Expect(ep).NotTo(BeNil(), "the replay spec opened no endpoint")
		// The forward is a fresh one: the replay's was closed with its spec.
		ep2, closer, err := kube.Connect(ctx, restConfig, kube.Options{Logger: logger})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(closer.Close)
		client := ep2.Client()
		for _, base := range []string{"http://" + addr + ":80", "http://localhost:8080"} {
			Eventually(func(g Gomega) {
				mustDo(g, client, http.MethodGet, base+"/hello", splitHost, "", http.StatusNotFound)
				mustDo(g, client, http.MethodPost, base+"/test", "", chatRequest, http.StatusNotFound)
			}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed(), "gateway at %s", base)
		}
	}, SpecTimeout(4*time.Minute))
})

// mustDo sends one request (a JSON body when body is set) and expects the
// status; it returns the response body.
func mustDo(g Gomega, client *http.Client, method, url, host, body string, status int) string {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	g.Expect(err).NotTo(HaveOccurred())
	if host != "" {
		req.Host = host
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(resp.StatusCode).To(Equal(status), "%s %s (host %q): %s", method, url, host, b)
	return string(b)
}

// helloworldPodsReady expects the sample app's three pods with all three
// containers Running and Ready ("3/3 Running" in the doc's example output).
func helloworldPodsReady(ctx context.Context, g Gomega) {
	pods, err := clientset.CoreV1().Pods(helloworldNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=helloworld"})
	g.Expect(err).NotTo(HaveOccurred())
	live := slices.DeleteFunc(pods.Items, func(p corev1.Pod) bool { return p.DeletionTimestamp != nil })
	g.Expect(live).To(HaveLen(3))
	for _, pod := range live {
		g.Expect(pod.Status.Phase).To(Equal(corev1.PodRunning), "pod %s", pod.Name)
		g.Expect(pod.Status.ContainerStatuses).To(HaveLen(3), "pod %s", pod.Name)
		for _, cs := range pod.Status.ContainerStatuses {
			g.Expect(cs.Ready).To(BeTrue(), "pod %s container %s: %+v", pod.Name, cs.Name, cs.State)
		}
		g.Expect(podReady(&pod)).To(BeTrue(), "pod %s Ready condition", pod.Name)
	}
}
