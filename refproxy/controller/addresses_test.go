package controller

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// serviceReader serves one Service (or none) to an AddressFunc.
type serviceReader struct{ svc *corev1.Service }

func (r serviceReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	if r.svc == nil || key.Name != r.svc.Name || key.Namespace != r.svc.Namespace {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "services"}, key.Name)
	}
	r.svc.DeepCopyInto(obj.(*corev1.Service))
	return nil
}

func (serviceReader) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

var _ client.Reader = serviceReader{}

func TestServiceAddresses(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "proxy"}
	svc := func(typ corev1.ServiceType, ingress ...corev1.LoadBalancerIngress) *corev1.Service {
		s := &corev1.Service{}
		s.Namespace, s.Name = key.Namespace, key.Name
		s.Spec.Type = typ
		s.Spec.ClusterIPs = []string{"10.96.0.10"}
		s.Status.LoadBalancer.Ingress = ingress
		return s
	}
	for _, tc := range []struct {
		name string
		svc  *corev1.Service
		want []string
	}{
		{"not found yet", nil, nil},
		{"load balancer not assigned yet", svc(corev1.ServiceTypeLoadBalancer), nil},
		{"load balancer IP", svc(corev1.ServiceTypeLoadBalancer, corev1.LoadBalancerIngress{IP: "172.18.255.254"}), []string{"172.18.255.254"}},
		{"load balancer hostname", svc(corev1.ServiceTypeLoadBalancer, corev1.LoadBalancerIngress{Hostname: "lb.example"}), []string{"lb.example"}},
		{"cluster IP service", svc(corev1.ServiceTypeClusterIP), []string{"10.96.0.10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addrs, err := ServiceAddresses(key)(context.Background(), serviceReader{tc.svc}, types.NamespacedName{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range addrs {
				got = append(got, a.Value)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("addresses %v, want %v", got, tc.want)
			}
		})
	}
}
