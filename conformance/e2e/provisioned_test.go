//go:build e2e

package e2e

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/splitproof/splitproof/conformance/install"
	"github.com/splitproof/splitproof/refproxy/provision"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/kube"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/sim"
)

// teamGateway is a Gateway under a name that is not the doc's, in a
// namespace of its own, with the doc's Example 1 route attached to it: what
// another team's install looks like. The provisioner gives it a refproxy
// Deployment and LoadBalancer Service of its own.
const teamGateway = `apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: team-gw
  namespace: team-a
spec:
  gatewayClassName: ` + install.GatewayClassName + `
  listeners:
  - name: web
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: All
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: team-split
  namespace: helloworld
spec:
  parentRefs:
  - name: team-gw
    namespace: team-a
  hostnames: ["traffic.split.example"]
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /
    backendRefs:
    - {name: helloworld-v1, port: 5000, weight: 10}
    - {name: helloworld-v2, port: 5000, weight: 10}
    - {name: helloworld-v3, port: 5000, weight: 80}
`

var _ = Describe("a provisioned Gateway under another name, found by --gateway-ref", Ordered, func() {
	var manifest string
	BeforeAll(func(ctx SpecContext) {
		By("installing the Conformance profile: the doc's install plus the provisioner")
		Expect(install.Install(ctx, restConfig, install.Conformance)).To(Succeed())
		mustDeploymentAvailable(ctx, install.Namespace, install.ProxyDeployment)
		mustDeploymentAvailable(ctx, install.Namespace, install.ProvisionerDeployment)
		mustFreshNamespace(ctx, helloworldNamespace)
		_, err := kubectl(ctx, "create", "namespace", helloworldNamespace)
		Expect(err).NotTo(HaveOccurred())
		_, err = kubectl(ctx, "-n", helloworldNamespace, "apply", "-f", filepath.Join(repoRoot, "scenarios", "example1-ab-testing", "manifests", "helloworld.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) { helloworldPodsReady(ctx, g) }).
			WithContext(ctx).WithTimeout(4 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		manifest = filepath.Join(GinkgoT().TempDir(), "team.yaml")
		Expect(os.WriteFile(manifest, []byte(teamGateway), 0o644)).To(Succeed())
		_, err = kubectl(ctx, "apply", "-f", manifest)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			_, _ = kubectl(ctx, "delete", "--ignore-not-found", "--wait=false", "-f", manifest)
			_, _ = kubectl(ctx, "delete", "namespace", helloworldNamespace, "--ignore-not-found", "--wait=false")
		}, NodeTimeout(2*time.Minute))
	}, NodeTimeout(10*time.Minute))

	It("replays Example 1 through team-a/team-gw and its provisioned Service", func(ctx SpecContext) {
		logger := slog.New(slog.NewTextHandler(GinkgoWriter, nil))
		By("waiting for the provisioned proxy to program the Gateway with an address")
		dyn := dynamic.NewForConfigOrDie(restConfig)
		Eventually(func(g Gomega) {
			gw, err := dyn.Resource(gatewayGVR).Namespace("team-a").Get(ctx, "team-gw", metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			addrs, _, _ := unstructured.NestedSlice(gw.Object, "status", "addresses")
			g.Expect(addrs).NotTo(BeEmpty(), "status.addresses of team-a/team-gw")
			g.Expect(conditionStatus(gw.Object, "status", "conditions")("Programmed")).To(Equal("True"))
		}).WithContext(ctx).WithTimeout(4 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		mustRouteAccepted(ctx, helloworldNamespace, "team-split", "team-a", "team-gw")

		svc := provision.ObjectName(types.NamespacedName{Namespace: "team-a", Name: "team-gw"})
		ref, err := kube.ParseGatewayRef("team-a/team-gw")
		Expect(err).NotTo(HaveOccurred())
		to, err := kube.ParseForwardTarget(install.Namespace + "/svc/" + svc + ":80")
		Expect(err).NotTo(HaveOccurred())
		ep, closer, err := kube.Connect(ctx, restConfig, kube.Options{Logger: logger, GatewayRef: &ref, ForwardTo: &to})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(closer.Close)
		Expect(ep.Name).To(ContainSubstring(svc))
		client := ep.Client()
		for _, base := range []string{"http://" + ep.Env["INGRESS_GW_ADDRESS"] + ":80", "http://localhost:8080"} {
			Eventually(func(g Gomega) {
				body := mustDo(g, client, "GET", base+"/hello", splitHost, "", 200)
				g.Expect(body).To(HavePrefix("Hello version: v"))
			}).WithContext(ctx).WithTimeout(2*time.Minute).WithPolling(time.Second).Should(Succeed(), "team-gw at %s", base)
		}
		s, err := scenarios.Find("example1-ab-testing")
		Expect(err).NotTo(HaveOccurred())
		res, err := replay.RunAll(ctx, replay.Config{
			Scenarios: []*scenarios.Scenario{s},
			Target:    replay.FixedTarget(ep),
			Options:   replay.Options{Progress: GinkgoWriter, Logger: logger},
			OnReport:  func(r *replay.Report) error { return r.WriteText(GinkgoWriter) },
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Reports).To(HaveLen(2))
		Expect(res.Outcome).To(Equal(sim.OutcomePass), "%v", res.Reason())
		for _, r := range res.Reports {
			Expect(strings.Contains(r.Target, "team-gw") || strings.Contains(r.Target, svc)).To(BeTrue(), "target %s", r.Target)
		}
	}, SpecTimeout(10*time.Minute))
})
