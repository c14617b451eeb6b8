//go:build e2e

package e2e

import (
	"log/slog"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/splitproof/splitproof/conformance/install"
	"github.com/splitproof/splitproof/conformance/weights"
)

// The weight suite with the Cluster target against refproxy in controller
// mode, the way `splitproof suite weights --kubeconfig … --gateway-class
// splitproof` runs it against any implementation: each static case in a
// namespace of its own with a Gateway of the class, which the provisioner
// gives a refproxy Deployment and LoadBalancer Service, then the time from
// a patch of a route's weights to a correct split.
var _ = Describe("the weight suite against refproxy's GatewayClass", Ordered, func() {
	var target weights.Cluster
	BeforeAll(func(ctx SpecContext) {
		By("installing the Conformance profile: the doc's install plus the provisioner")
		Expect(install.Install(ctx, restConfig, install.Conformance)).To(Succeed())
		mustDeploymentAvailable(ctx, install.Namespace, install.ProxyDeployment)
		mustDeploymentAvailable(ctx, install.Namespace, install.ProvisionerDeployment)
		target = weights.Cluster{
			Config:       restConfig,
			GatewayClass: install.GatewayClassName,
			ReadyTimeout: 2 * time.Minute,
			Logger:       slog.New(slog.NewTextHandler(GinkgoWriter, nil)),
		}
		controller, err := target.Check(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(controller).To(Equal(install.ControllerName))
	}, NodeTimeout(5*time.Minute))

	It("runs every static weight case as expected", func(ctx SpecContext) {
		suite, err := weights.Default()
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()
		rs := weights.Run(ctx, target, suite)
		Expect(weights.WriteTable(GinkgoWriter, rs)).To(Succeed())
		GinkgoWriter.Printf("%d cases in %s\n", len(rs), time.Since(start).Round(time.Second))
		Expect(rs).To(HaveLen(len(suite)), "one result per case in the cluster's one mode")
		for _, r := range rs {
			Expect(r.Err).To(BeEmpty(), "case %s could not run", r.Case)
			Expect(r.AsExpected).To(BeTrue(), "case %s: expected %s, observed %s: %v", r.Case, r.Expect, r.Observed, r.Failures)
		}
		// The cases the spec pins down must have been decided, not just
		// run: every split case is a PASS.
		for _, r := range rs {
			if r.Expect == weights.ExpectPass {
				Expect(r.Observed).To(Equal("pass"), "case %s", r.Case)
			}
		}
		Expect(slices.ContainsFunc(rs, func(r weights.Result) bool { return r.Case == "invalid-backendref" })).To(BeTrue())
	}, SpecTimeout(6*time.Minute))

	It("measures the time from a weight patch to a correct split in controller mode", func(ctx SpecContext) {
		cs, err := weights.MeasureClusterChanges(ctx, target, weights.ChangeOptions{Repeats: 3})
		Expect(err).NotTo(HaveOccurred())
		rows := weights.ClusterChangeResults(cs, target.GatewayClass)
		Expect(weights.WriteTable(GinkgoWriter, rows)).To(Succeed())
		var windows []time.Duration
		for _, c := range cs {
			Expect(c.Err).To(BeEmpty(), "%s → %s", c.From, c.To)
			windows = append(windows, c.Window)
		}
		Expect(cs).To(HaveLen(3 * 4))
		p50, p99 := weights.Quantile(windows, 0.5), weights.Quantile(windows, 0.99)
		GinkgoWriter.Printf("controller mode, patch → correct 200-answer window over %d changes: p50 %s, p99 %s\n", len(cs), p50, p99)
		AddReportEntry("weight change patch → correct window", ReportEntryVisibilityAlways,
			map[string]string{"p50": p50.String(), "p99": p99.String()})
		// A generous bound: the figure is reported, not a goal.
		Expect(p99).To(BeNumerically("<", 30*time.Second))
	}, SpecTimeout(4*time.Minute))
})
