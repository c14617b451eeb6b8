package lb

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// syncBuffer is a log sink two goroutines can write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Two LoadBalancers of one cluster: the first to take the Lease serves, the
// second stands by without touching a route, and takes over, with the same
// address, once the first has stopped and removed its routes.
func TestElectedHandover(t *testing.T) {
	client := fake.NewClientset(svc("gw", corev1.ServiceTypeLoadBalancer, ""))
	via := MustAddr(t, "172.18.0.2")
	instance := func(id string) (*fakeRouter, *syncBuffer, func() error) {
		t.Helper()
		router := &fakeRouter{routes: map[netip.Addr]netip.Addr{}}
		c, err := New(Options{Client: client, Pool: MustPrefix(t, "172.18.0.0/16"), Via: via, Router: router})
		if err != nil {
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		stop, err := StartElected(client, c, Election{
			Namespace: "kube-system", Name: "splitproof-lb", Identity: id,
			LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 100 * time.Millisecond,
		}, slog.New(slog.NewTextHandler(logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return router, logs, stop
	}
	address := func() string {
		s, err := client.CoreV1().Services("ns").Get(context.Background(), "gw", metav1.GetOptions{})
		if err != nil || len(s.Status.LoadBalancer.Ingress) == 0 {
			return ""
		}
		return s.Status.LoadBalancer.Ingress[0].IP
	}
	routed := func(r *fakeRouter, ip string) (bool, string) {
		got := r.snapshot()
		addr, err := netip.ParseAddr(ip)
		return err == nil && got[addr] == via && len(got) == 1, ""
	}

	routerA, _, stopA := instance("a")
	eventually(t, "a to assign and route an address", func() (bool, string) {
		ip := address()
		ok, _ := routed(routerA, ip)
		return ok, ip
	})
	first := address()

	routerB, logsB, stopB := instance("b")
	eventually(t, "b to see a as the leader", func() (bool, string) {
		return strings.Contains(logsB.String(), "LoadBalancer standing by") && strings.Contains(logsB.String(), "leader=a"), logsB.String()
	})
	if got := routerB.snapshot(); len(got) != 0 {
		t.Fatalf("standby b changed routes: %v", got)
	}

	if err := stopA(); err != nil {
		t.Fatalf("stop a: %v", err)
	}
	if got := routerA.snapshot(); len(got) != 0 {
		t.Fatalf("a left routes behind: %v", got)
	}
	eventually(t, "b to take over the same address", func() (bool, string) {
		return routed(routerB, first)
	})
	if got := address(); got != first {
		t.Errorf("address after handover = %q, want %q", got, first)
	}
	if err := stopB(); err != nil {
		t.Fatalf("stop b: %v", err)
	}
	if got := routerB.snapshot(); len(got) != 0 {
		t.Fatalf("b left routes behind: %v", got)
	}
}

// stop before the Lease was ever won returns at once and leaves no route.
func TestElectedStopWhileStandingBy(t *testing.T) {
	client := fake.NewClientset()
	lease := Election{Namespace: "kube-system", Name: "splitproof-lb", LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 100 * time.Millisecond}
	newController := func(r *fakeRouter) *Controller {
		c, err := New(Options{Client: client, Pool: MustPrefix(t, "172.18.0.0/16"), Via: MustAddr(t, "172.18.0.2"), Router: r})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	leader, standby := lease, lease
	leader.Identity, standby.Identity = "leader", "standby"
	logs := &syncBuffer{}
	stopLeader, err := StartElected(client, newController(&fakeRouter{routes: map[netip.Addr]netip.Addr{}}), leader, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stopLeader(); err != nil {
			t.Error(err)
		}
	}()
	eventually(t, "the leader to lead", func() (bool, string) {
		return strings.Contains(logs.String(), "LoadBalancer leading"), logs.String()
	})
	r := &fakeRouter{routes: map[netip.Addr]netip.Addr{}}
	stop, err := StartElected(client, newController(r), standby, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if len(r.log) != 0 {
		t.Fatalf("standby touched routes: %v", r.log)
	}
}
