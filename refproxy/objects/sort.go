package objects

import (
	"cmp"
	"slices"
)

// Sort orders every slice of s by namespace, then name, so that output built
// from a Set does not depend on file order or on a cache's map iteration.
// The sort is stable: objects with the same namespace/name keep their order.
func (s *Set) Sort() {
	sortByKey(s.GatewayClasses)
	sortByKey(s.Gateways)
	sortByKey(s.HTTPRoutes)
	sortByKey(s.ReferenceGrants)
	sortByKey(s.Services)
	sortByKey(s.EndpointSlices)
	sortByKey(s.Secrets)
	sortByKey(s.Namespaces)
	sortByKey(s.Backends)
}

// named is satisfied by a pointer to any Kubernetes object (ObjectMeta's getters).
type named[T any] interface {
	*T
	GetNamespace() string
	GetName() string
}

func sortByKey[T any, P named[T]](objs []T) {
	slices.SortStableFunc(objs, func(a, b T) int {
		pa, pb := P(&a), P(&b)
		return cmp.Or(cmp.Compare(pa.GetNamespace(), pb.GetNamespace()), cmp.Compare(pa.GetName(), pb.GetName()))
	})
}
