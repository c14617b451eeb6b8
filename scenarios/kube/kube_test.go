package kube

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

func TestIngressAddress(t *testing.T) {
	tests := []struct {
		name    string
		ingress []corev1.LoadBalancerIngress
		want    string
		wantErr error // nil: success; errNotNoAddress: an error other than ErrNoAddress
	}{
		{name: "ip", ingress: []corev1.LoadBalancerIngress{{IP: "172.18.255.254"}}, want: "172.18.255.254"},
		{name: "hostname", ingress: []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}, want: "lb.example.com"},
		{name: "ipv6", ingress: []corev1.LoadBalancerIngress{{IP: "fd00::5"}}, want: "fd00::5"},
		{name: "only the first entry counts", ingress: []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}}, want: "10.0.0.1"},
		{name: "first entry without address", ingress: []corev1.LoadBalancerIngress{{}, {IP: "10.0.0.2"}}, wantErr: ErrNoAddress},
		{name: "no ingress", wantErr: ErrNoAddress},
		{name: "empty ingress list", ingress: []corev1.LoadBalancerIngress{}, wantErr: ErrNoAddress},
		{name: "hostname and ip are two words", ingress: []corev1.LoadBalancerIngress{{Hostname: "lb.example.com", IP: "10.0.0.1"}}, wantErr: errNotNoAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "http", Namespace: "agentgateway-system"}}
			svc.Status.LoadBalancer.Ingress = tt.ingress
			got, err := IngressAddress(svc)
			switch {
			case tt.wantErr == nil:
				if err != nil || got != tt.want {
					t.Fatalf("IngressAddress = %q, %v; want %q", got, err, tt.want)
				}
			case tt.wantErr == errNotNoAddress:
				if err == nil || errors.Is(err, ErrNoAddress) {
					t.Fatalf("IngressAddress = %q, %v; want an error other than ErrNoAddress", got, err)
				}
			default:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("IngressAddress = %q, %v; want %v", got, err, tt.wantErr)
				}
			}
		})
	}
}

var errNotNoAddress = errors.New("an error other than ErrNoAddress")

func TestReadyPod(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := func(name string, phase corev1.PodPhase, ready corev1.ConditionStatus, since time.Time, deleting bool) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{Phase: phase}}
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: ready, LastTransitionTime: metav1.NewTime(since)},
		}
		if deleting {
			p.DeletionTimestamp = &metav1.Time{Time: since}
		}
		return p
	}
	tests := []struct {
		name string
		pods []corev1.Pod
		want string // "" expects ErrNoReadyPod
	}{
		{"none", nil, ""},
		{"only pending", []corev1.Pod{pod("a", corev1.PodPending, corev1.ConditionFalse, t0, false)}, ""},
		{"running but not ready", []corev1.Pod{pod("a", corev1.PodRunning, corev1.ConditionFalse, t0, false)}, ""},
		{"ready but terminating", []corev1.Pod{pod("a", corev1.PodRunning, corev1.ConditionTrue, t0, true)}, ""},
		{"the ready one", []corev1.Pod{
			pod("a", corev1.PodRunning, corev1.ConditionFalse, t0, false),
			pod("b", corev1.PodRunning, corev1.ConditionTrue, t0.Add(time.Minute), false),
		}, "b"},
		{"ready the longest", []corev1.Pod{
			pod("new", corev1.PodRunning, corev1.ConditionTrue, t0.Add(time.Minute), false),
			pod("old", corev1.PodRunning, corev1.ConditionTrue, t0, false),
		}, "old"},
		{"tie broken by name", []corev1.Pod{
			pod("zz", corev1.PodRunning, corev1.ConditionTrue, t0, false),
			pod("aa", corev1.PodRunning, corev1.ConditionTrue, t0, false),
		}, "aa"},
		{"old pod of a rollout being deleted", []corev1.Pod{
			pod("old", corev1.PodRunning, corev1.ConditionTrue, t0, true),
			pod("new", corev1.PodRunning, corev1.ConditionTrue, t0.Add(time.Minute), false),
		}, "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadyPod(tt.pods)
			if tt.want == "" {
				if !errors.Is(err, ErrNoReadyPod) {
					t.Fatalf("ReadyPod = %q, %v; want ErrNoReadyPod", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ReadyPod = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestConnectStopsWithoutAddress checks that Connect refuses a Service
// without an address before it looks for a pod: the API server here only
// knows that Service, so any further request would fail differently.
func TestConnectStopsWithoutAddress(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		if r.URL.Path != "/api/v1/namespaces/agentgateway-system/services/http" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"http","namespace":"agentgateway-system"},"spec":{"type":"LoadBalancer"},"status":{"loadBalancer":{}}}`))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, closer, err := Connect(ctx, &rest.Config{Host: srv.URL}, Options{})
	if !errors.Is(err, ErrNoAddress) || closer != nil {
		t.Fatalf("Connect error = %v, want ErrNoAddress", err)
	}
	if !strings.Contains(err.Error(), "agentgateway-system/http") {
		t.Errorf("error %q does not name the Service", err)
	}
	if len(paths) != 1 {
		t.Errorf("requests %v, want only the Service GET", paths)
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{}.withDefaults()
	if o.Namespace != "agentgateway-system" || o.Service != "http" || o.Deployment != "agentgateway-proxy" || o.Port != 80 || o.LocalPort != 0 {
		t.Fatalf("defaults %+v are not the doc's", o)
	}
	o = Options{Namespace: "ns", Service: "s", Deployment: "d", Port: 8080, LocalPort: 8080}.withDefaults()
	if o.Namespace != "ns" || o.Service != "s" || o.Deployment != "d" || o.Port != 8080 || o.LocalPort != 8080 {
		t.Fatalf("explicit options overridden: %+v", o)
	}
}

// TestForwarderCloseBounded: a forward whose ForwardPorts never returns
// (client-go blocking in closing its stream connection) must not keep
// Close, and so the replay, from returning.
func TestForwarderCloseBounded(t *testing.T) {
	stuck := &forwarder{stop: make(chan struct{}), done: make(chan error, 1), closeWait: 50 * time.Millisecond}
	start := time.Now()
	err := stuck.Close()
	if !errors.Is(err, ErrCloseTimeout) {
		t.Fatalf("Close of a stuck forward = %v, want ErrCloseTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	select {
	case <-stuck.stop:
	default:
		t.Fatal("Close did not signal the forward to stop")
	}
	if again := stuck.Close(); !errors.Is(again, ErrCloseTimeout) {
		t.Fatalf("second Close = %v, want the first result", again)
	}

	// A forward that ends promptly reports how it ended.
	ends := &forwarder{stop: make(chan struct{}), done: make(chan error, 1)}
	go func() { <-ends.stop; ends.done <- nil }()
	if err := ends.Close(); err != nil {
		t.Fatalf("Close of a forward that ended = %v", err)
	}
}
