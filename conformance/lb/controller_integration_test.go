//go:build integration

package lb

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/splitproof/splitproof/internal/kubetest"
)

// TestControllerAPIServer runs the controller against a real kube-apiserver
// (routes recorded, not made): the status it writes, ipMode included, must
// pass the server's validation, and a Service keeps its address when the
// controller restarts.
func TestControllerAPIServer(t *testing.T) {
	env := kubetest.MustStart(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kube := kubernetes.NewForConfigOrDie(env.Config)
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Services("ns").Create(ctx, svc("http", corev1.ServiceTypeLoadBalancer, ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	via := MustAddr(t, "172.18.0.2")
	run := func(reserved ...netip.Addr) (*fakeRouter, func() error) {
		router := &fakeRouter{routes: map[netip.Addr]netip.Addr{}}
		c, err := New(Options{Client: kube, Pool: MustPrefix(t, "172.18.0.0/16"), Reserved: reserved, Via: via, Router: router})
		if err != nil {
			t.Fatal(err)
		}
		cctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- c.Run(cctx) }()
		return router, func() error { stop(); return <-done }
	}
	wantIP := func(want string) {
		t.Helper()
		eventually(t, "status "+want, func() (bool, string) {
			s, err := kube.CoreV1().Services("ns").Get(ctx, "http", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			in := s.Status.LoadBalancer.Ingress
			if len(in) != 1 {
				return false, "no ingress"
			}
			return in[0].IP == want && in[0].IPMode != nil && *in[0].IPMode == corev1.LoadBalancerIPModeVIP, in[0].IP
		})
	}

	// First run: 172.18.255.254 is taken (a container, say), so the
	// Service gets the next address down.
	router, stop := run(MustAddr(t, "172.18.255.254"))
	wantIP("172.18.255.253")
	if got := router.snapshot(); got[MustAddr(t, "172.18.255.253")] != via {
		t.Errorf("routes %v", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := router.snapshot(); len(got) != 0 {
		t.Errorf("routes left after stop: %v", got)
	}

	// Restart with the top address free: the Service keeps the address in
	// its status rather than move to the first free one.
	router, stop = run()
	wantIP("172.18.255.253")
	// The status was right before the run, so wait for the route itself.
	eventually(t, "route after restart", func() (bool, string) {
		got := router.snapshot()
		return got[MustAddr(t, "172.18.255.253")] == via, fmt.Sprint(got)
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Restart with its address now reserved: it moves.
	_, stop = run(MustAddr(t, "172.18.255.253"))
	wantIP("172.18.255.254")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
