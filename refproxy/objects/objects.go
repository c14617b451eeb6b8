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
