package provision

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestObjectName(t *testing.T) {
	long := strings.Repeat("x", 200)
	tests := []struct {
		gw         types.NamespacedName
		wantPrefix string
	}{
		{types.NamespacedName{Namespace: "gateway-conformance-infra", Name: "same-namespace"}, "gw-gateway-conformance-infra-same-namespace-"},
		{types.NamespacedName{Namespace: "ns", Name: "with.dots.and_UNDERSCORE"}, "gw-ns-with-dots-and-underscore-"},
		{types.NamespacedName{Namespace: long, Name: long}, "gw-xxxx"},
		{types.NamespacedName{Namespace: "a", Name: "b"}, "gw-a-b-"},
	}
	seen := map[string]types.NamespacedName{}
	for _, tc := range tests {
		t.Run(tc.gw.String()[:min(40, len(tc.gw.String()))], func(t *testing.T) {
			got := ObjectName(tc.gw)
			if !strings.HasPrefix(got, tc.wantPrefix) {
				t.Errorf("ObjectName(%s) = %q, want prefix %q", tc.gw, got, tc.wantPrefix)
			}
			// A Service name must be a DNS-1035 label; Deployment names are
			// laxer, so this covers both.
			if errs := validation.IsDNS1035Label(got); len(errs) > 0 {
				t.Errorf("ObjectName(%s) = %q is not a DNS-1035 label: %v", tc.gw, got, errs)
			}
			if again := ObjectName(tc.gw); again != got {
				t.Errorf("ObjectName is not stable: %q then %q", got, again)
			}
			if prev, dup := seen[got]; dup {
				t.Errorf("ObjectName(%s) = ObjectName(%s) = %q", tc.gw, prev, got)
			}
			seen[got] = tc.gw
		})
	}
	// Joining namespace and name with '-' is ambiguous; the hash is not.
	if a, b := ObjectName(types.NamespacedName{Namespace: "a-b", Name: "c"}), ObjectName(types.NamespacedName{Namespace: "a", Name: "b-c"}); a == b {
		t.Errorf("a-b/c and a/b-c share the name %q", a)
	}
}

func gateway(ports ...int32) *gatewayv1.Gateway {
	gw := &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "gateway-conformance-infra", Name: "same-namespace"},
		Spec:       gatewayv1.GatewaySpec{GatewayClassName: "splitproof"},
	}
	for i, p := range ports {
		gw.Spec.Listeners = append(gw.Spec.Listeners, gatewayv1.Listener{
			Name: gatewayv1.SectionName("l" + string(rune('a'+i))), Port: gatewayv1.PortNumber(p), Protocol: gatewayv1.HTTPProtocolType,
		})
	}
	return gw
}

func TestDesired(t *testing.T) {
	cfg := Config{Namespace: "agentgateway-system", Image: "splitproof/splitproof:dev", ServiceAccount: "refproxy", ProxyArgs: []string{"--pick-mode=smooth"}}
	d, s, err := cfg.Desired(gateway(8080, 80, 80, 443))
	if err != nil {
		t.Fatal(err)
	}
	id := ObjectName(types.NamespacedName{Namespace: "gateway-conformance-infra", Name: "same-namespace"})
	if d.Name != id || s.Name != id || d.Namespace != cfg.Namespace || s.Namespace != cfg.Namespace {
		t.Errorf("names: Deployment %s/%s, Service %s/%s, want %s/%s", d.Namespace, d.Name, s.Namespace, s.Name, cfg.Namespace, id)
	}
	var svcPorts []int32
	for _, p := range s.Spec.Ports {
		svcPorts = append(svcPorts, p.Port)
		if p.TargetPort.IntVal != p.Port {
			t.Errorf("Service port %d targets %v, want the listener port itself", p.Port, p.TargetPort)
		}
	}
	if want := []int32{80, 443, 8080}; !slices.Equal(svcPorts, want) {
		t.Errorf("Service ports %v, want the distinct listener ports %v", svcPorts, want)
	}
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		t.Errorf("Service type %s, want LoadBalancer by default", s.Spec.Type)
	}
	// The Service must select exactly the Deployment's pods.
	for k, v := range d.Spec.Selector.MatchLabels {
		if s.Spec.Selector[k] != v || d.Spec.Template.Labels[k] != v {
			t.Errorf("selector %s=%s: Service has %q, pod template %q", k, v, s.Spec.Selector[k], d.Spec.Template.Labels[k])
		}
	}
	c := d.Spec.Template.Spec.Containers[0]
	for _, want := range []string{"proxy", "--controller", "--gateway=gateway-conformance-infra/same-namespace", "--address-service=agentgateway-system/" + id, "--pick-mode=smooth"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("proxy args %q lack %q", c.Args, want)
		}
	}
	if c.Image != cfg.Image || d.Spec.Template.Spec.ServiceAccountName != "refproxy" {
		t.Errorf("image %q, service account %q", c.Image, d.Spec.Template.Spec.ServiceAccountName)
	}
	if d.Annotations[AnnotationSpecHash] == "" || s.Annotations[AnnotationSpecHash] == "" {
		t.Error("spec hash annotation missing")
	}

	// The hash follows the spec: a new listener port changes the Service's
	// hash (so the provisioner updates it), the same input does not.
	_, s2, _ := cfg.Desired(gateway(8080, 80, 443))
	_, s3, _ := cfg.Desired(gateway(80, 443, 8080, 9000))
	if s2.Annotations[AnnotationSpecHash] != s.Annotations[AnnotationSpecHash] {
		t.Error("same ports, different hash")
	}
	if s3.Annotations[AnnotationSpecHash] == s.Annotations[AnnotationSpecHash] {
		t.Error("a new listener port kept the hash")
	}
	if _, _, err := cfg.Desired(gateway()); err == nil || !regexp.MustCompile(`no listener`).MatchString(err.Error()) {
		t.Errorf("Gateway without listeners: err = %v, want 'no listener'", err)
	}
}
