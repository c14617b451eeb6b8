//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

const helloworldNamespace = "helloworld"

var helloworldVersions = []string{"v1", "v2", "v3"}

// The sample app of the traffic-splitting page, applied unchanged with the
// page's own commands, must come up Ready (its readiness probe runs bash,
// curl and grep inside the helloworld image) and answer /hello per version
// from inside the cluster and from the host.
var _ = Describe("the sample app (helloworld.yaml)", Ordered, func() {
	BeforeAll(func(ctx SpecContext) {
		mustFreshNamespace(ctx, helloworldNamespace)
		_, err := kubectl(ctx, "create", "namespace", helloworldNamespace)
		Expect(err).NotTo(HaveOccurred())
		manifest := filepath.Join(repoRoot, "scenarios", "example1-ab-testing", "manifests", "helloworld.yaml")
		_, err = kubectl(ctx, "apply", "-n", helloworldNamespace, "-f", manifest)
		Expect(err).NotTo(HaveOccurred())
	}, NodeTimeout(3*time.Minute))

	It("runs three pods with all three containers Running and Ready", func(ctx SpecContext) {
		Eventually(func(g Gomega) { helloworldPodsReady(ctx, g) }).WithContext(ctx).WithTimeout(4 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
	}, SpecTimeout(5*time.Minute))

	It("answers /hello of each version through its Service from a pod's curl container", func(ctx SpecContext) {
		for _, v := range helloworldVersions {
			By("curl helloworld-" + v + ":5000/hello from deploy/helloworld-v1, container curl")
			Eventually(func(g Gomega) {
				out, err := kubectl(ctx, "exec", "-n", helloworldNamespace, "deploy/helloworld-v1", "-c", "curl", "--",
					"curl", "-sS", "--max-time", "5", "helloworld-"+v+":5000/hello")
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(out).To(HavePrefix("Hello version: "+v+", instance: helloworld-"+v+"-"), "reply %q", out)
			}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		}
	}, SpecTimeout(4*time.Minute))

	It("answers /hello and the TCP echo of each version from the host through a port-forward", func(ctx SpecContext) {
		for _, v := range helloworldVersions {
			By("port-forward to a pod of Service helloworld-" + v)
			pod := mustServicePod(ctx, helloworldNamespace, "helloworld-"+v)
			ports := mustPortForward(ctx, helloworldNamespace, pod, 5000, 9000)

			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/hello", ports[0]))
			Expect(err).NotTo(HaveOccurred())
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			Expect(err).NotTo(HaveOccurred())
			Expect(resp.StatusCode).To(Equal(http.StatusOK))
			Expect(string(body)).To(HavePrefix("Hello version: " + v + ", instance: " + pod))

			conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ports[1]), 5*time.Second)
			Expect(err).NotTo(HaveOccurred())
			Expect(conn.SetDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
			_, err = io.WriteString(conn, "world\n")
			Expect(err).NotTo(HaveOccurred())
			line, err := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			Expect(err).NotTo(HaveOccurred())
			Expect(strings.TrimSpace(line)).To(Equal("hello-" + v + " world"))
		}
	}, SpecTimeout(3*time.Minute))
})

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// mustFreshNamespace deletes the namespace left by an earlier run on a
// reused cluster (pods without grace, so tail's ignored SIGTERM costs
// nothing) and waits until it is gone.
func mustFreshNamespace(ctx context.Context, ns string) {
	GinkgoHelper()
	_, err := clientset.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return
	}
	Expect(err).NotTo(HaveOccurred())
	zero := int64(0)
	Expect(clientset.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})).To(Succeed())
	err = clientset.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if !apierrors.IsNotFound(err) {
		Expect(err).NotTo(HaveOccurred())
	}
	Eventually(func() bool {
		_, err := clientset.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}).WithContext(ctx).WithTimeout(2*time.Minute).WithPolling(time.Second).Should(BeTrue(), "namespace %s still terminating", ns)
}

// mustServicePod returns the name of a ready pod behind the Service, read
// from its EndpointSlices, the way `kubectl port-forward svc/…` picks one.
func mustServicePod(ctx context.Context, ns, service string) string {
	GinkgoHelper()
	slices, err := clientset.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + service})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range slices.Items {
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && *ep.Conditions.Ready && ep.TargetRef != nil && ep.TargetRef.Kind == "Pod" {
				return ep.TargetRef.Name
			}
		}
	}
	Fail(fmt.Sprintf("service %s/%s has no ready endpoint", ns, service))
	return ""
}

// mustPortForward forwards 127.0.0.1 ports to the pod's ports until the spec
// ends and returns the local ports in the same order.
func mustPortForward(ctx context.Context, ns, pod string, podPorts ...int) []uint16 {
	GinkgoHelper()
	transport, upgrader, err := spdy.RoundTripperFor(restConfig)
	Expect(err).NotTo(HaveOccurred())
	u, err := url.Parse(restConfig.Host)
	Expect(err).NotTo(HaveOccurred())
	u.Path = fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/portforward", ns, pod)
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	var specs []string
	for _, p := range podPorts {
		specs = append(specs, fmt.Sprintf("0:%d", p))
	}
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, specs, stop, ready, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	errc := make(chan error, 1)
	go func() { errc <- fw.ForwardPorts() }()
	DeferCleanup(func() { close(stop) })
	select {
	case <-ready:
	case err := <-errc:
		Fail(fmt.Sprintf("port-forward to %s/%s: %v", ns, pod, err))
	case <-ctx.Done():
		Fail("port-forward did not become ready: " + ctx.Err().Error())
	case <-time.After(30 * time.Second):
		Fail(fmt.Sprintf("port-forward to %s/%s not ready after 30s", ns, pod))
	}
	fwPorts, err := fw.GetPorts()
	Expect(err).NotTo(HaveOccurred())
	local := make([]uint16, len(fwPorts))
	for i, p := range fwPorts {
		local[i] = p.Local
	}
	return local
}
