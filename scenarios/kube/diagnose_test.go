package kube

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func route(ns, name string, backends ...string) gatewayv1.HTTPRoute {
	var refs []gatewayv1.HTTPBackendRef
	for _, b := range backends {
		refs = append(refs, gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(b)}}})
	}
	return gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: refs}}},
	}
}

func service(ns, name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "helloworld", "version": strings.TrimPrefix(name, "helloworld-")}},
	}
}

func slice(ns, svc string, ready ...bool) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: svc + "-abc", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for _, r := range ready {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &r}})
	}
	return s
}

func fakeReader(t *testing.T, objs ...client.Object) client.Reader {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := gatewayv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

func TestDiagnose(t *testing.T) {
	want := route("helloworld", "traffic-split", "helloworld-v1", "helloworld-v2", "helloworld-v3")
	accepted := want.DeepCopy()
	accepted.Status.Parents = []gatewayv1.RouteParentStatus{{
		ParentRef:      gatewayv1.ParentReference{Name: "http"},
		ControllerName: "splitproof.dev/refproxy",
		Conditions: []metav1.Condition{
			{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"},
			{Type: "ResolvedRefs", Status: metav1.ConditionTrue, Reason: "ResolvedRefs"},
		},
	}}
	unresolved := want.DeepCopy()
	unresolved.Status.Parents = []gatewayv1.RouteParentStatus{{
		ParentRef:      gatewayv1.ParentReference{Name: "http"},
		ControllerName: "splitproof.dev/refproxy",
		Conditions: []metav1.Condition{
			{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"},
			{Type: "ResolvedRefs", Status: metav1.ConditionFalse, Reason: "BackendNotFound", Message: "Service helloworld/helloworld-v3 not found"},
		},
	}}
	svcs := []client.Object{service("helloworld", "helloworld-v1"), service("helloworld", "helloworld-v2"), service("helloworld", "helloworld-v3")}
	tests := []struct {
		name string
		objs []client.Object
		want []string
	}{
		{
			name: "healthy",
			objs: append([]client.Object{accepted, slice("helloworld", "helloworld-v1", true), slice("helloworld", "helloworld-v2", true, false), slice("helloworld", "helloworld-v3", true)}, svcs...),
		},
		{
			name: "services select nothing",
			objs: append([]client.Object{accepted}, svcs...),
			want: []string{
				"Service helloworld/helloworld-v1 has no ready endpoints (its selector app=helloworld,version=v1 matches no running pod)",
				"Service helloworld/helloworld-v2 has no ready endpoints (its selector app=helloworld,version=v2 matches no running pod)",
				"Service helloworld/helloworld-v3 has no ready endpoints (its selector app=helloworld,version=v3 matches no running pod)",
			},
		},
		{
			name: "endpoints not ready and a missing service",
			objs: []client.Object{unresolved, service("helloworld", "helloworld-v1"), service("helloworld", "helloworld-v2"), slice("helloworld", "helloworld-v1", false, false), slice("helloworld", "helloworld-v2", true)},
			want: []string{
				"HTTPRoute helloworld/traffic-split (parent http): ResolvedRefs is False: BackendNotFound: Service helloworld/helloworld-v3 not found",
				"Service helloworld/helloworld-v1 has no ready endpoints (2 not ready)",
				"Service helloworld/helloworld-v3 does not exist",
			},
		},
		{
			name: "route missing",
			objs: svcs,
			want: []string{
				"HTTPRoute helloworld/traffic-split does not exist in the cluster",
				"Service helloworld/helloworld-v1 has no ready endpoints (its selector app=helloworld,version=v1 matches no running pod)",
				"Service helloworld/helloworld-v2 has no ready endpoints (its selector app=helloworld,version=v2 matches no running pod)",
				"Service helloworld/helloworld-v3 has no ready endpoints (its selector app=helloworld,version=v3 matches no running pod)",
			},
		},
		{
			name: "route never seen by a controller",
			objs: append([]client.Object{want.DeepCopy(), slice("helloworld", "helloworld-v1", true), slice("helloworld", "helloworld-v2", true), slice("helloworld", "helloworld-v3", true)}, svcs...),
			want: []string{"HTTPRoute helloworld/traffic-split has no status from any gateway controller: no Gateway has accepted or even seen it"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diagnose(context.Background(), fakeReader(t, tt.objs...), []gatewayv1.HTTPRoute{want})
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("Diagnose:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
