package kube

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The doc's install is one Gateway implementation among many: these name
// where another one keeps its address and its proxy.

// ForwardTarget is what the doc's `kubectl port-forward` reaches: a pod of a
// Deployment, or a pod behind a Service, and a port.
type ForwardTarget struct {
	Namespace string
	// Kind is "deploy" or "svc".
	Kind string
	Name string
	// Port is the Deployment's pod port, or the Service's port (forwarded
	// to its target port on a ready pod behind it).
	Port int
}

func (t ForwardTarget) String() string {
	return fmt.Sprintf("%s/%s/%s:%d", t.Namespace, t.Kind, t.Name, t.Port)
}

// ParseForwardTarget reads NS/(svc|service|deploy|deployment)/NAME:PORT.
func ParseForwardTarget(s string) (ForwardTarget, error) {
	bad := func(why string) (ForwardTarget, error) {
		return ForwardTarget{}, fmt.Errorf("%q: %s: expected NAMESPACE/(svc|deploy)/NAME:PORT, such as envoy-gateway-system/svc/envoy-default-eg:80", s, why)
	}
	rest, portText, ok := strings.Cut(s, ":")
	if !ok {
		return bad("no port")
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return bad("the port is not a number from 1 to 65535")
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return bad("not three parts")
	}
	t := ForwardTarget{Namespace: parts[0], Name: parts[2], Port: port}
	switch parts[1] {
	case "svc", "service":
		t.Kind = "svc"
	case "deploy", "deployment":
		t.Kind = "deploy"
	default:
		return bad(fmt.Sprintf("kind %q", parts[1]))
	}
	return t, nil
}

// ParseGatewayRef reads NAMESPACE/NAME.
func ParseGatewayRef(s string) (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, fmt.Errorf("%q: expected NAMESPACE/NAME of a Gateway", s)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

// GatewayAddress finds where a Gateway is reached, as the upstream
// conformance suite does: the first of its status.addresses and the port
// of its first HTTP listener.
func GatewayAddress(ctx context.Context, c client.Reader, ref types.NamespacedName) (string, int32, error) {
	var gw gatewayv1.Gateway
	if err := c.Get(ctx, client.ObjectKey(ref), &gw); err != nil {
		return "", 0, fmt.Errorf("get Gateway %s: %w", ref, err)
	}
	if len(gw.Status.Addresses) == 0 || gw.Status.Addresses[0].Value == "" {
		return "", 0, fmt.Errorf("Gateway %s: %w (status.addresses is empty: is it Programmed?)", ref, ErrNoAddress)
	}
	for _, l := range gw.Spec.Listeners {
		if l.Protocol == gatewayv1.HTTPProtocolType {
			return gw.Status.Addresses[0].Value, int32(l.Port), nil
		}
	}
	return "", 0, fmt.Errorf("Gateway %s has no HTTP listener: the snippets speak plain HTTP", ref)
}

// servicePod picks a ready pod behind a Service and the pod port its
// service port targets.
func servicePod(ctx context.Context, c kubernetes.Interface, ns, name string, port int) (string, int, error) {
	svc, err := c.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", 0, fmt.Errorf("get Service %s/%s: %w", ns, name, err)
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if int(svc.Spec.Ports[i].Port) == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return "", 0, fmt.Errorf("Service %s/%s has no port %d", ns, name, port)
	}
	if len(svc.Spec.Selector) == 0 {
		return "", 0, fmt.Errorf("Service %s/%s has no selector: no pod to forward to", ns, name)
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return "", 0, fmt.Errorf("list pods of Service %s/%s: %w", ns, name, err)
	}
	pod, err := ReadyPod(pods.Items)
	if err != nil {
		return "", 0, fmt.Errorf("Service %s/%s (selector %s): %w", ns, name, sel, err)
	}
	switch tp := sp.TargetPort; {
	case tp.IntValue() > 0:
		return pod, tp.IntValue(), nil
	case tp.StrVal != "":
		for _, p := range pods.Items {
			if p.Name != pod {
				continue
			}
			for _, ctr := range p.Spec.Containers {
				for _, cp := range ctr.Ports {
					if cp.Name == tp.StrVal {
						return pod, int(cp.ContainerPort), nil
					}
				}
			}
		}
		return "", 0, fmt.Errorf("Service %s/%s port %d targets %q, which pod %s does not name", ns, name, port, tp.StrVal, pod)
	default:
		return pod, port, nil
	}
}
