// Package objects owns Set, the typed Kubernetes objects that the translator
// turns into a routing table. File mode (the YAML loader) and controller mode
// (the API server cache) both fill a Set, so the translator has one input and
// one code path.
package objects

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	agwv1alpha1 "github.com/splitproof/splitproof/refproxy/apis/agentgateway/v1alpha1"
)

// Set holds every object kind refproxy understands.
type Set struct {
	GatewayClasses  []gatewayv1.GatewayClass
	Gateways        []gatewayv1.Gateway
	HTTPRoutes      []gatewayv1.HTTPRoute
	ReferenceGrants []gatewayv1beta1.ReferenceGrant
	Services        []corev1.Service
	EndpointSlices  []discoveryv1.EndpointSlice
	Secrets         []corev1.Secret
	Namespaces      []corev1.Namespace
	Backends        []agwv1alpha1.AgentgatewayBackend
}

// Merge appends every object of o to s.
func (s *Set) Merge(o *Set) {
	s.GatewayClasses = append(s.GatewayClasses, o.GatewayClasses...)
	s.Gateways = append(s.Gateways, o.Gateways...)
	s.HTTPRoutes = append(s.HTTPRoutes, o.HTTPRoutes...)
	s.ReferenceGrants = append(s.ReferenceGrants, o.ReferenceGrants...)
	s.Services = append(s.Services, o.Services...)
	s.EndpointSlices = append(s.EndpointSlices, o.EndpointSlices...)
	s.Secrets = append(s.Secrets, o.Secrets...)
	s.Namespaces = append(s.Namespaces, o.Namespaces...)
	s.Backends = append(s.Backends, o.Backends...)
}

// Len is the number of objects in the set.
func (s *Set) Len() int {
	return len(s.GatewayClasses) + len(s.Gateways) + len(s.HTTPRoutes) + len(s.ReferenceGrants) +
		len(s.Services) + len(s.EndpointSlices) + len(s.Secrets) + len(s.Namespaces) + len(s.Backends)
}

// Overlay replaces the objects of s that o also holds (same kind, namespace
// and name) with o's, and appends the rest of o, as `kubectl apply` would.
func (s *Set) Overlay(o *Set) {
	s.GatewayClasses = overlay(s.GatewayClasses, o.GatewayClasses, func(x *gatewayv1.GatewayClass) string { return x.Name })
	s.Gateways = overlay(s.Gateways, o.Gateways, func(x *gatewayv1.Gateway) string { return x.Namespace + "/" + x.Name })
	s.HTTPRoutes = overlay(s.HTTPRoutes, o.HTTPRoutes, func(x *gatewayv1.HTTPRoute) string { return x.Namespace + "/" + x.Name })
	s.ReferenceGrants = overlay(s.ReferenceGrants, o.ReferenceGrants, func(x *gatewayv1beta1.ReferenceGrant) string { return x.Namespace + "/" + x.Name })
	s.Services = overlay(s.Services, o.Services, func(x *corev1.Service) string { return x.Namespace + "/" + x.Name })
	s.EndpointSlices = overlay(s.EndpointSlices, o.EndpointSlices, func(x *discoveryv1.EndpointSlice) string { return x.Namespace + "/" + x.Name })
	s.Secrets = overlay(s.Secrets, o.Secrets, func(x *corev1.Secret) string { return x.Namespace + "/" + x.Name })
	s.Namespaces = overlay(s.Namespaces, o.Namespaces, func(x *corev1.Namespace) string { return x.Name })
	s.Backends = overlay(s.Backends, o.Backends, func(x *agwv1alpha1.AgentgatewayBackend) string { return x.Namespace + "/" + x.Name })
}

func overlay[T any](base, over []T, key func(*T) string) []T {
	idx := map[string]int{}
	for i := range base {
		idx[key(&base[i])] = i
	}
	for i := range over {
		if j, ok := idx[key(&over[i])]; ok {
			base[j] = over[i]
			continue
		}
		idx[key(&over[i])] = len(base)
		base = append(base, over[i])
	}
	return base
}
