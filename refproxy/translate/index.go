package translate

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	agwv1alpha1 "github.com/splitproof/splitproof/refproxy/apis/agentgateway/v1alpha1"
	"github.com/splitproof/splitproof/refproxy/objects"
)

// index looks objects up by namespace/name.
type index struct {
	set        *objects.Set
	classes    map[string]*gatewayv1.GatewayClass
	services   map[string]*corev1.Service
	secrets    map[string]*corev1.Secret
	backends   map[string]*agwv1alpha1.AgentgatewayBackend
	namespaces map[string]*corev1.Namespace
	// slices[ns/service] are the EndpointSlices of a Service.
	slices map[string][]*discoveryv1.EndpointSlice
	grants map[string][]*gatewayv1beta1.ReferenceGrant // by namespace
}

func newIndex(set *objects.Set) (*index, error) {
	idx := &index{
		set:        set,
		namespaces: map[string]*corev1.Namespace{},
		slices:     map[string][]*discoveryv1.EndpointSlice{},
		grants:     map[string][]*gatewayv1beta1.ReferenceGrant{},
	}
	var errs []error
	dup := func(kind, key string) {
		errs = append(errs, fmt.Errorf("duplicate %s %s: each object may be defined once", kind, key))
	}
	idx.classes = indexBy(set.GatewayClasses, "GatewayClass", func(c *gatewayv1.GatewayClass) string { return c.Name }, dup)
	_ = indexBy(set.Gateways, "Gateway", func(g *gatewayv1.Gateway) string { return nn(g.Namespace, g.Name) }, dup)
	_ = indexBy(set.HTTPRoutes, "HTTPRoute", func(r *gatewayv1.HTTPRoute) string { return nn(r.Namespace, r.Name) }, dup)
	idx.services = indexBy(set.Services, "Service", func(s *corev1.Service) string { return nn(s.Namespace, s.Name) }, dup)
	idx.secrets = indexBy(set.Secrets, "Secret", func(s *corev1.Secret) string { return nn(s.Namespace, s.Name) }, dup)
	idx.backends = indexBy(set.Backends, "AgentgatewayBackend", func(b *agwv1alpha1.AgentgatewayBackend) string { return nn(b.Namespace, b.Name) }, dup)
	for i := range set.Namespaces {
		n := &set.Namespaces[i]
		idx.namespaces[n.Name] = n
	}
	for i := range set.EndpointSlices {
		es := &set.EndpointSlices[i]
		svc := es.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		k := nn(es.Namespace, svc)
		idx.slices[k] = append(idx.slices[k], es)
	}
	for i := range set.ReferenceGrants {
		g := &set.ReferenceGrants[i]
		idx.grants[g.Namespace] = append(idx.grants[g.Namespace], g)
	}
	return idx, errors.Join(errs...)
}

// indexBy maps each item's key to it, reporting keys seen twice.
func indexBy[T any](items []T, kind string, key func(*T) string, dup func(kind, key string)) map[string]*T {
	out := make(map[string]*T, len(items))
	for i := range items {
		k := key(&items[i])
		if _, ok := out[k]; ok {
			dup(kind, k)
		}
		out[k] = &items[i]
	}
	return out
}

// namespaceLabels returns a namespace's labels. A namespace the set does not
// hold gets the label the API server always sets, so selectors on
// kubernetes.io/metadata.name work in file mode too.
func (x *index) namespaceLabels(ns string) labels.Set {
	out := labels.Set{corev1.LabelMetadataName: ns}
	if n := x.namespaces[ns]; n != nil {
		for k, v := range n.Labels {
			out[k] = v
		}
	}
	return out
}

// granted reports whether a ReferenceGrant in toNS lets an object of
// fromGroup/fromKind in fromNS refer to toGroup/toKind toName.
func (x *index) granted(fromGroup, fromKind, fromNS, toGroup, toKind, toNS, toName string) bool {
	if fromNS == toNS {
		return true
	}
	for _, g := range x.grants[toNS] {
		fromOK := false
		for _, f := range g.Spec.From {
			if string(f.Group) == fromGroup && string(f.Kind) == fromKind && string(f.Namespace) == fromNS {
				fromOK = true
				break
			}
		}
		if !fromOK {
			continue
		}
		for _, to := range g.Spec.To {
			if string(to.Group) == toGroup && string(to.Kind) == toKind && (to.Name == nil || string(*to.Name) == toName) {
				return true
			}
		}
	}
	return false
}
