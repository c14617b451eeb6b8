package weights

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// TestPlanCase turns every suite case, and the weight-change route, into
// cluster objects: one namespace per case holding everything, the
// Gateway's class replaced, every reference pointed at that namespace,
// the sample app's pods only behind the Services the embedded target
// serves, and ResolvedRefs expected False only for the invalid backendRef.
func TestPlanCase(t *testing.T) {
	suite, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	wc, err := WeightChange()
	if err != nil {
		t.Fatal(err)
	}
	suite = append(suite, Case{Name: wc.Name, Scenario: wc})
	want := map[string]struct {
		deployments  int
		resolvedRefs bool
		host         string
	}{
		"default-weight":     {3, true, "default-weight.split.example"},
		"sixteen-backends":   {16, true, "sixteen.split.example"},
		"skewed-1-99":        {2, true, "skewed.split.example"},
		"weight-zero":        {3, true, "weight-zero.split.example"},
		"invalid-backendref": {1, false, "invalid-ref.split.example"},
		"no-endpoints":       {1, true, "no-endpoints.split.example"},
		"all-zero":           {2, true, "all-zero.split.example"},
		"weight-change":      {2, true, "weight-change.split.example"},
	}
	for _, c := range suite {
		t.Run(c.Name, func(t *testing.T) {
			w, ok := want[c.Name]
			if !ok {
				t.Fatalf("no expectation for case %s", c.Name)
			}
			ns := CaseNamespace("sp", c.Name)
			p, err := PlanCase(c.Scenario, "my-class", ns, "example/hello:1")
			if err != nil {
				t.Fatal(err)
			}
			if p.Namespace != ns || p.Objects[0].GetKind() != "Namespace" || p.Objects[0].GetName() != ns || p.Objects[0].GetLabels()[CaseLabel] != c.Name {
				t.Errorf("first object %s %s (labels %v), want Namespace %s labelled with the case", p.Objects[0].GetKind(), p.Objects[0].GetName(), p.Objects[0].GetLabels(), ns)
			}
			if len(p.Deployments) != w.deployments || p.ResolvedRefs != w.resolvedRefs || p.Host != w.host || !slices.Equal(p.Gateways, []string{"http"}) {
				t.Errorf("plan: %d deployments, ResolvedRefs %v, host %q, gateways %v; want %d, %v, %q, [http]", len(p.Deployments), p.ResolvedRefs, p.Host, p.Gateways, w.deployments, w.resolvedRefs, w.host)
			}
			var deployments int
			for _, o := range p.Objects[1:] {
				if o.GetNamespace() != ns {
					t.Errorf("%s %s in namespace %q, want %s", o.GetKind(), o.GetName(), o.GetNamespace(), ns)
				}
				switch o.GetKind() {
				case "Gateway":
					if cls, _, _ := unstructured.NestedString(o.Object, "spec", "gatewayClassName"); cls != "my-class" {
						t.Errorf("Gateway %s: class %q", o.GetName(), cls)
					}
				case "HTTPRoute":
					parents, _, _ := unstructured.NestedSlice(o.Object, "spec", "parentRefs")
					for _, pr := range parents {
						if got := pr.(map[string]any)["namespace"]; got != nil && got != ns {
							t.Errorf("HTTPRoute %s: parentRef namespace %v", o.GetName(), got)
						}
					}
				case "Deployment":
					deployments++
					ctrs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
					ctr := ctrs[0].(map[string]any)
					if len(ctrs) != 1 || ctr["image"] != "example/hello:1" {
						t.Errorf("Deployment %s: %d containers, image %v", o.GetName(), len(ctrs), ctr["image"])
					}
					version := ctr["env"].([]any)[0].(map[string]any)["value"]
					if c.Scenario.Embedded.Helloworld["helloworld/"+o.GetName()] != version {
						t.Errorf("Deployment %s answers %v, the embedded target %s", o.GetName(), version, c.Scenario.Embedded.Helloworld["helloworld/"+o.GetName()])
					}
				}
			}
			if deployments != w.deployments {
				t.Errorf("%d Deployments applied, want %d (the sample app's own are replaced)", deployments, w.deployments)
			}
		})
	}
	if _, err := PlanCase(suite[0].Scenario, "", "ns", "img"); err == nil {
		t.Error("no GatewayClass: no error")
	}
}

func TestCaseNamespace(t *testing.T) {
	for _, tt := range []struct{ prefix, name, want string }{
		{"splitproof-weights", "default-weight", "splitproof-weights-default-weight"},
		{"sp", "Skewed_1.99", "sp-skewed-1-99"},
		{"p", strings.Repeat("x", 80), "p-" + strings.Repeat("x", 61)},
		{"p", strings.Repeat("x", 60) + "-y", "p-" + strings.Repeat("x", 60)},
	} {
		if got := CaseNamespace(tt.prefix, tt.name); got != tt.want {
			t.Errorf("CaseNamespace(%q, %q) = %q, want %q", tt.prefix, tt.name, got, tt.want)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		ok     bool
	}{
		{"splitproof-weights", true}, {"a1", true},
		{"", false}, {"-a", false}, {"1a", false}, {"Upper", false}, {"a_b", false}, {strings.Repeat("a", 41), false},
	} {
		if err := ValidPrefix(tt.prefix); (err == nil) != tt.ok {
			t.Errorf("ValidPrefix(%q) = %v, want ok %v", tt.prefix, err, tt.ok)
		}
	}
}

// TestGatewayService finds the Service a port-forward reaches: by the
// GEP-1762 label first, else by the Gateway's address.
func TestGatewayService(t *testing.T) {
	gw := types.NamespacedName{Namespace: "team", Name: "gw"}
	svc := func(ns, name, clusterIP, lbIP string, labels map[string]string) corev1.Service {
		s := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}, Spec: corev1.ServiceSpec{ClusterIP: clusterIP}}
		if lbIP != "" {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: lbIP}}
		}
		return s
	}
	for _, tt := range []struct {
		name string
		svcs []corev1.Service
		addr string
		want string
	}{
		{"label", []corev1.Service{svc("sys", "lb", "10.0.0.1", "172.18.0.9", nil), svc("team", "envoy-gw", "10.0.0.2", "", map[string]string{gatewayNameLabel: "gw"})}, "172.18.0.9", "team/envoy-gw"},
		{"label in another namespace does not count", []corev1.Service{svc("other", "x", "10.0.0.2", "", map[string]string{gatewayNameLabel: "gw"})}, "172.18.0.9", ""},
		{"load-balancer address", []corev1.Service{svc("sys", "a", "10.0.0.1", "172.18.0.8", nil), svc("sys", "b", "10.0.0.3", "172.18.0.9", nil)}, "172.18.0.9", "sys/b"},
		{"cluster IP", []corev1.Service{svc("sys", "a", "10.0.0.7", "", nil)}, "10.0.0.7", "sys/a"},
		{"none", []corev1.Service{svc("sys", "a", "10.0.0.7", "", nil)}, "10.0.0.8", ""},
	} {
		got := GatewayService(tt.svcs, gw, tt.addr)
		name := ""
		if got != nil {
			name = got.Namespace + "/" + got.Name
		}
		if name != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, name, tt.want)
		}
	}
}
