package kube

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestParseForwardTarget(t *testing.T) {
	tests := []struct {
		in   string
		want ForwardTarget
		err  string
	}{
		{in: "envoy-gateway-system/svc/envoy-default-eg:80", want: ForwardTarget{"envoy-gateway-system", "svc", "envoy-default-eg", 80}},
		{in: "istio-system/deployment/istio-ingressgateway:8080", want: ForwardTarget{"istio-system", "deploy", "istio-ingressgateway", 8080}},
		{in: "ns/service/x:1", want: ForwardTarget{"ns", "svc", "x", 1}},
		{in: "ns/deploy/x", err: "no port"},
		{in: "ns/deploy/x:0", err: "1 to 65535"},
		{in: "ns/pod/x:80", err: `kind "pod"`},
		{in: "deploy/x:80", err: "not three parts"},
	}
	for _, tt := range tests {
		got, err := ParseForwardTarget(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseGatewayRef("only-a-name"); err == nil {
		t.Error("ParseGatewayRef accepted a name without namespace")
	}
	if ref, err := ParseGatewayRef("team-a/my-gateway"); err != nil || ref != (types.NamespacedName{Namespace: "team-a", Name: "my-gateway"}) {
		t.Errorf("ParseGatewayRef = %v, %v", ref, err)
	}
}

func TestGatewayAddress(t *testing.T) {
	gw := func(name string, addrs []string, listeners ...gatewayv1.Listener) *gatewayv1.Gateway {
		g := &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name}}
		g.Spec.Listeners = listeners
		for _, a := range addrs {
			g.Status.Addresses = append(g.Status.Addresses, gatewayv1.GatewayStatusAddress{Value: a})
		}
		return g
	}
	https := gatewayv1.Listener{Name: "tls", Port: 443, Protocol: gatewayv1.HTTPSProtocolType}
	http := gatewayv1.Listener{Name: "web", Port: 8080, Protocol: gatewayv1.HTTPProtocolType}
	r := fakeReader(t, gw("ok", []string{"172.18.255.10"}, https, http), gw("pending", nil, http), gw("tls-only", []string{"10.0.0.1"}, https))
	addr, port, err := GatewayAddress(context.Background(), r, types.NamespacedName{Namespace: "team-a", Name: "ok"})
	if err != nil || addr != "172.18.255.10" || port != 8080 {
		t.Errorf("ok: %s %d %v, want 172.18.255.10 8080", addr, port, err)
	}
	if _, _, err := GatewayAddress(context.Background(), r, types.NamespacedName{Namespace: "team-a", Name: "pending"}); !errors.Is(err, ErrNoAddress) {
		t.Errorf("pending: %v, want ErrNoAddress", err)
	}
	if _, _, err := GatewayAddress(context.Background(), r, types.NamespacedName{Namespace: "team-a", Name: "tls-only"}); err == nil || !strings.Contains(err.Error(), "no HTTP listener") {
		t.Errorf("tls-only: %v", err)
	}
	if _, _, err := GatewayAddress(context.Background(), r, types.NamespacedName{Namespace: "team-a", Name: "missing"}); err == nil {
		t.Error("missing Gateway: no error")
	}
}

func TestServicePod(t *testing.T) {
	ready := func(name string, ports ...corev1.ContainerPort) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "gw", Name: name, Labels: map[string]string{"app": "proxy"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "proxy", Ports: ports}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
				{Type: corev1.PodReady, Status: corev1.ConditionTrue},
			}},
		}
	}
	svc := func(name string, ports ...corev1.ServicePort) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "gw", Name: name},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "proxy"}, Ports: ports}}
	}
	c := fake.NewSimpleClientset(
		ready("proxy-abc", corev1.ContainerPort{Name: "http", ContainerPort: 10080}),
		svc("numbered", corev1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(8080)}),
		svc("named", corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("http")}),
		svc("same", corev1.ServicePort{Port: 80}),
	)
	for _, tt := range []struct {
		name string
		port int
		want int
		err  string
	}{
		{"numbered", 80, 8080, ""},
		{"named", 80, 10080, ""},
		{"same", 80, 80, ""},
		{"numbered", 81, 0, "has no port 81"},
		{"absent", 80, 0, "get Service"},
	} {
		pod, port, err := servicePod(context.Background(), c, "gw", tt.name, tt.port)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s:%d: %v, want %q", tt.name, tt.port, err, tt.err)
			}
			continue
		}
		if err != nil || pod != "proxy-abc" || port != tt.want {
			t.Errorf("%s:%d: %s %d %v, want proxy-abc %d", tt.name, tt.port, pod, port, err, tt.want)
		}
	}
}
