package lb

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/splitproof/splitproof/internal/poll"
)

// fakeRouter records the host routes instead of changing them.
type fakeRouter struct {
	mu     sync.Mutex
	routes map[netip.Addr]netip.Addr // ip → via
	log    []string
}

var _ Router = (*fakeRouter)(nil)

func (r *fakeRouter) Replace(_ context.Context, ip, via netip.Addr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes[ip] = via
	r.log = append(r.log, fmt.Sprintf("replace %s via %s", ip, via))
	return nil
}

func (r *fakeRouter) Delete(_ context.Context, ip netip.Addr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.routes, ip)
	r.log = append(r.log, "del "+ip.String())
	return nil
}

func (r *fakeRouter) snapshot() map[netip.Addr]netip.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[netip.Addr]netip.Addr{}
	for k, v := range r.routes {
		out[k] = v
	}
	return out
}

func svc(name string, typ corev1.ServiceType, statusIP string) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec:       corev1.ServiceSpec{Type: typ, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if statusIP != "" {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: statusIP}}
	}
	return s
}

// eventually polls cond for up to 10s: the informer delivers events
// asynchronously.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	poll.Must(t, what, 10*time.Millisecond, 10*time.Second, cond)
}

func TestController(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewClientset(
		svc("lb", corev1.ServiceTypeLoadBalancer, ""),
		svc("kept", corev1.ServiceTypeLoadBalancer, "172.18.100.100"),
		svc("plain", corev1.ServiceTypeClusterIP, ""),
	)
	classed := svc("classed", corev1.ServiceTypeLoadBalancer, "")
	classed.Spec.LoadBalancerClass = new("example.com/other")
	if _, err := client.CoreV1().Services("ns").Create(ctx, classed, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	router := &fakeRouter{routes: map[netip.Addr]netip.Addr{}}
	via := MustAddr(t, "172.18.0.2")
	c, err := New(Options{
		Client:   client,
		Pool:     MustPrefix(t, "172.18.0.0/16"),
		Reserved: []netip.Addr{MustAddr(t, "172.18.0.1")},
		Via:      via,
		Router:   router,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	status := func(name string) string {
		s, err := client.CoreV1().Services("ns").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "error: " + err.Error()
		}
		var ips []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			ips = append(ips, in.IP)
		}
		return fmt.Sprint(ips)
	}
	wantStatus := func(name, want string) {
		t.Helper()
		eventually(t, "status of "+name+" "+want, func() (bool, string) { got := status(name); return got == want, got })
	}
	wantRoutes := func(ips ...string) {
		t.Helper()
		want := map[netip.Addr]netip.Addr{}
		for _, ip := range ips {
			want[MustAddr(t, ip)] = via
		}
		eventually(t, fmt.Sprintf("routes %v", ips), func() (bool, string) {
			got := router.snapshot()
			if len(got) != len(want) {
				return false, fmt.Sprint(got)
			}
			for k, v := range want {
				if got[k] != v {
					return false, fmt.Sprint(got)
				}
			}
			return true, ""
		})
	}

	wantStatus("lb", "[172.18.255.254]")
	wantStatus("kept", "[172.18.100.100]") // the address in its status survives
	wantRoutes("172.18.255.254", "172.18.100.100")
	if got := status("plain"); got != "[]" {
		t.Errorf("ClusterIP Service got status %s", got)
	}
	if got := status("classed"); got != "[]" {
		t.Errorf("Service of another loadBalancerClass got status %s", got)
	}

	// A new Service gets the next address down.
	if _, err := client.CoreV1().Services("ns").Create(ctx, svc("late", corev1.ServiceTypeLoadBalancer, ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wantStatus("late", "[172.18.255.253]")
	wantRoutes("172.18.255.254", "172.18.100.100", "172.18.255.253")

	// No longer of type LoadBalancer: route removed, status cleared.
	s, err := client.CoreV1().Services("ns").Get(ctx, "lb", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Spec.Type = corev1.ServiceTypeClusterIP
	if _, err := client.CoreV1().Services("ns").Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wantStatus("lb", "[]")
	wantRoutes("172.18.100.100", "172.18.255.253")

	// Deleted: route removed, address free again.
	if err := client.CoreV1().Services("ns").Delete(ctx, "late", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wantRoutes("172.18.100.100")
	if _, err := client.CoreV1().Services("ns").Create(ctx, svc("again", corev1.ServiceTypeLoadBalancer, ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wantStatus("again", "[172.18.255.254]")
	if got := c.Addresses(); len(got) != 2 || got["ns/kept"] != MustAddr(t, "172.18.100.100") || got["ns/again"] != MustAddr(t, "172.18.255.254") {
		t.Errorf("Addresses() = %v", got)
	}

	// Stopping removes the remaining routes.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if got := router.snapshot(); len(got) != 0 {
		t.Fatalf("routes left after Run returned: %v", got)
	}
	router.mu.Lock()
	defer router.mu.Unlock()
	if !slices.Contains(router.log, "del 172.18.100.100") {
		t.Errorf("route log %v lacks the cleanup", router.log)
	}
}

func TestNewRequires(t *testing.T) {
	pool := MustPrefix(t, "10.0.0.0/24")
	for name, o := range map[string]Options{
		"no client": {Pool: pool, Via: MustAddr(t, "10.0.0.2")},
		"no via":    {Client: fake.NewClientset(), Pool: pool},
		"no pool":   {Client: fake.NewClientset(), Via: MustAddr(t, "10.0.0.2")},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(o); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
