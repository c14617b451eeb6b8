package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/translate"
)

// The functions here compute the status to write from the status the object
// has and the one the translator wants. They are pure so that "unchanged"
// can be decided by comparing their result with what is stored.

// mergeConditions sets every condition of want on a copy of cur with
// meta.SetStatusCondition semantics: a condition whose status does not change
// keeps its lastTransitionTime, while reason, message and observedGeneration
// follow want. With dropOthers, conditions of types want lacks are removed
// (a listener's Conflicted condition comes and goes); without, they are kept
// (another writer may own them).
func mergeConditions(cur, want []metav1.Condition, dropOthers bool) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(want))
	for _, c := range cur {
		if !dropOthers || meta.FindStatusCondition(want, c.Type) != nil {
			out = append(out, c)
		}
	}
	for _, c := range want {
		meta.SetStatusCondition(&out, c)
	}
	return out
}

// gatewayClassStatus is cur with want's conditions and features.
func gatewayClassStatus(cur gatewayv1.GatewayClassStatus, want gatewayv1.GatewayClassStatus, feats []gatewayv1.SupportedFeature) gatewayv1.GatewayClassStatus {
	out := *cur.DeepCopy()
	out.Conditions = mergeConditions(out.Conditions, want.Conditions, false)
	out.SupportedFeatures = feats
	return out
}

// gatewayStatus is cur with want's conditions and listeners. When addrs is
// non-nil it replaces status.addresses; an empty addrs also turns Programmed
// False with reason AddressNotAssigned, as the spec asks of a Gateway no
// client can reach.
func gatewayStatus(cur gatewayv1.GatewayStatus, want translate.GatewayStatus, addrs []gatewayv1.GatewayStatusAddress) gatewayv1.GatewayStatus {
	out := *cur.DeepCopy()
	conds := make([]metav1.Condition, len(want.Status.Conditions))
	copy(conds, want.Status.Conditions)
	if addrs != nil {
		out.Addresses = addrs
		if len(addrs) == 0 {
			for i := range conds {
				if conds[i].Type == string(gatewayv1.GatewayConditionProgrammed) {
					conds[i].Status = metav1.ConditionFalse
					conds[i].Reason = string(gatewayv1.GatewayReasonAddressNotAssigned)
					conds[i].Message = "no address is known for this Gateway yet"
				}
			}
		}
	}
	out.Conditions = mergeConditions(out.Conditions, conds, false)
	listeners := make([]gatewayv1.ListenerStatus, 0, len(want.Status.Listeners))
	for _, wl := range want.Status.Listeners {
		l := *wl.DeepCopy()
		for i := range cur.Listeners {
			if cur.Listeners[i].Name == wl.Name {
				l.Conditions = mergeConditions(cur.Listeners[i].Conditions, wl.Conditions, true)
				break
			}
		}
		listeners = append(listeners, l)
	}
	out.Listeners = listeners
	return out
}

// parentKey identifies a parentRef with its defaults filled in, so that an
// entry written earlier matches the ref however it is spelled.
type parentKey struct {
	group, kind, namespace, name, section string
	port                                  int32
}

func keyOf(ref gatewayv1.ParentReference, routeNS string) parentKey {
	k := parentKey{group: gatewayv1.GroupName, kind: "Gateway", namespace: routeNS, name: string(ref.Name)}
	if ref.Group != nil {
		k.group = string(*ref.Group)
	}
	if ref.Kind != nil {
		k.kind = string(*ref.Kind)
	}
	if ref.Namespace != nil {
		k.namespace = string(*ref.Namespace)
	}
	if ref.SectionName != nil {
		k.section = string(*ref.SectionName)
	}
	if ref.Port != nil {
		k.port = int32(*ref.Port)
	}
	return k
}

// routeParents merges want, the parent statuses this controller computed for
// a route, into cur. Entries of other controllers are never touched. An
// entry of this controller that want lacks is removed only when owns says
// this instance is responsible for its Gateway: another refproxy instance
// with the same controllerName (see Options.Gateways) may have written it.
func routeParents(cur, want []gatewayv1.RouteParentStatus, routeNS, controller string, owns func(types.NamespacedName) bool) []gatewayv1.RouteParentStatus {
	wanted := map[parentKey]int{}
	for i := range want {
		wanted[keyOf(want[i].ParentRef, routeNS)] = i
	}
	used := make([]bool, len(want))
	out := make([]gatewayv1.RouteParentStatus, 0, len(cur)+len(want))
	for _, p := range cur {
		if string(p.ControllerName) != controller {
			out = append(out, *p.DeepCopy())
			continue
		}
		k := keyOf(p.ParentRef, routeNS)
		if i, ok := wanted[k]; ok && !used[i] {
			used[i] = true
			np := *want[i].DeepCopy()
			np.Conditions = mergeConditions(p.Conditions, want[i].Conditions, true)
			out = append(out, np)
			continue
		}
		if k.group == gatewayv1.GroupName && k.kind == "Gateway" && owns(types.NamespacedName{Namespace: k.namespace, Name: k.name}) {
			continue // stale: the route no longer attaches to a Gateway we serve
		}
		out = append(out, *p.DeepCopy())
	}
	for i := range want {
		if !used[i] {
			out = append(out, *want[i].DeepCopy())
		}
	}
	return out
}
