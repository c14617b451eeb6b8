//go:build e2e

package e2e

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/splitproof/splitproof/conformance/install"
	"github.com/splitproof/splitproof/scenarios/kube"
)

var (
	gatewayGVR = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	routeGVR   = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	backendGVR = schema.GroupVersionResource{Group: "agentgateway.dev", Version: "v1alpha1", Resource: "agentgatewaybackends"}
)

// mustInstallDoc installs refproxy with the Doc profile (server-side apply
// of install.Manifests(install.Doc), CRDs Established before the objects of
// their kinds) and waits for the proxy Deployment to be Available. Applying
// again is a no-op, so every container that needs the install calls it.
func mustInstallDoc(ctx context.Context) {
	GinkgoHelper()
	Expect(install.Install(ctx, restConfig, install.Doc)).To(Succeed())
	mustDeploymentAvailable(ctx, install.Namespace, install.ProxyDeployment)
}

// mustDeploymentAvailable waits until the Deployment's current template is
// rolled out and Available.
func mustDeploymentAvailable(ctx context.Context, ns, name string) {
	GinkgoHelper()
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	Expect(install.WaitRolled(wctx, clientset, ns, name)).To(Succeed())
}

// conditionStatus returns a lookup of the conditions list at path in obj:
// type → status ("" when absent).
func conditionStatus(obj map[string]any, path ...string) func(string) string {
	conds, _, _ := unstructured.NestedSlice(obj, path...)
	return func(typ string) string {
		for _, c := range conds {
			m, ok := c.(map[string]any)
			if ok && m["type"] == typ {
				s, _ := m["status"].(string)
				return s
			}
		}
		return ""
	}
}

// mustServiceAddress waits for the lb controller to give the Service an
// address and returns it.
func mustServiceAddress(ctx context.Context, ns, name string) string {
	GinkgoHelper()
	var addr string
	Eventually(func(g Gomega) {
		svc, err := clientset.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		// The doc's jsonpath, as the replayer's cluster target reads it.
		addr, err = kube.IngressAddress(svc)
		g.Expect(err).NotTo(HaveOccurred(), "Service %s/%s has no load-balancer address", ns, name)
	}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed())
	return addr
}

// mustGatewayProgrammed waits until the Gateway is Accepted and Programmed
// and lists addr among its status.addresses.
func mustGatewayProgrammed(ctx context.Context, ns, name, addr string) {
	GinkgoHelper()
	dyn := dynamic.NewForConfigOrDie(restConfig)
	Eventually(func(g Gomega) {
		gw, err := dyn.Resource(gatewayGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		cond := conditionStatus(gw.Object, "status", "conditions")
		g.Expect(cond("Accepted")).To(Equal("True"), "Gateway %s/%s Accepted", ns, name)
		g.Expect(cond("Programmed")).To(Equal("True"), "Gateway %s/%s Programmed", ns, name)
		addrs, _, _ := unstructured.NestedSlice(gw.Object, "status", "addresses")
		var values []string
		for _, a := range addrs {
			if m, ok := a.(map[string]any); ok {
				v, _ := m["value"].(string)
				values = append(values, v)
			}
		}
		g.Expect(values).To(ContainElement(addr), "Gateway %s/%s status.addresses", ns, name)
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
}

// mustRouteAccepted waits until the HTTPRoute is Accepted with ResolvedRefs
// by its parent Gateway parentNS/parent.
func mustRouteAccepted(ctx context.Context, ns, name, parentNS, parent string) {
	GinkgoHelper()
	dyn := dynamic.NewForConfigOrDie(restConfig)
	Eventually(func(g Gomega) {
		r, err := dyn.Resource(routeGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		parents, _, _ := unstructured.NestedSlice(r.Object, "status", "parents")
		found := false
		for _, p := range parents {
			m, ok := p.(map[string]any)
			if !ok {
				continue
			}
			ref, _ := m["parentRef"].(map[string]any)
			refNS, _ := ref["namespace"].(string)
			if refNS == "" {
				refNS = ns
			}
			if ref["name"] != parent || refNS != parentNS {
				continue
			}
			found = true
			cond := conditionStatus(m, "conditions")
			g.Expect(cond("Accepted")).To(Equal("True"), "HTTPRoute %s/%s Accepted by %s/%s: %v", ns, name, parentNS, parent, m["conditions"])
			g.Expect(cond("ResolvedRefs")).To(Equal("True"), "HTTPRoute %s/%s ResolvedRefs: %v", ns, name, m["conditions"])
		}
		g.Expect(found).To(BeTrue(), "HTTPRoute %s/%s has no status for parent %s/%s: %v", ns, name, parentNS, parent, parents)
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
}
