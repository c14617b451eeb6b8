package loader

import (
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	agwv1alpha1 "github.com/splitproof/splitproof/refproxy/apis/agentgateway/v1alpha1"
	"github.com/splitproof/splitproof/refproxy/objects"
)

// kindSpec is one apiVersion/kind the loader reads.
type kindSpec struct {
	apiVersion string
	kind       string
	namespaced bool
	goType     reflect.Type // the struct decoded into, for "known fields" hints
	newObj     func() metav1.Object
	// finish applies what the API server does on create (Secret stringData)
	// and the checks the schema adds (AgentgatewayBackend); nil when none.
	finish func(metav1.Object) field.ErrorList
	// schema is the API server's validation of the fields refproxy reads
	// (see schema.go); nil when metadata is all there is to check.
	schema func(metav1.Object) field.ErrorList
	add    func(*objects.Set, metav1.Object)
}

func spec[T any, P interface {
	*T
	metav1.Object
}](apiVersion, kind string, namespaced bool, add func(*objects.Set, P)) kindSpec {
	return kindSpec{
		apiVersion: apiVersion,
		kind:       kind,
		namespaced: namespaced,
		goType:     reflect.TypeFor[T](),
		newObj:     func() metav1.Object { return P(new(T)) },
		add:        func(s *objects.Set, o metav1.Object) { add(s, o.(P)) },
	}
}

func (k kindSpec) withFinish(f func(metav1.Object) field.ErrorList) kindSpec {
	k.finish = f
	return k
}

func (k kindSpec) withSchema(f func(metav1.Object) field.ErrorList) kindSpec {
	k.schema = f
	return k
}

// validate runs finish, then the API server's checks of metadata and of
// the schema, and returns every violation.
func (k kindSpec) validate(o metav1.Object) field.ErrorList {
	var errs field.ErrorList
	if k.finish != nil {
		errs = append(errs, k.finish(o)...)
	}
	errs = append(errs, objectMeta(o, k.namespaced, nameRule(k.kind))...)
	if k.schema != nil {
		errs = append(errs, k.schema(o)...)
	}
	return errs
}

// listAPIVersion and listKind name the generic List that kubectl prints.
const (
	listAPIVersion = "v1"
	listKind       = "List"
)

// kinds is every apiVersion/kind the loader accepts besides List, in the
// order error messages list them.
var kinds = []kindSpec{
	spec("v1", "Namespace", false, func(s *objects.Set, o *corev1.Namespace) { s.Namespaces = append(s.Namespaces, *o) }),
	spec("v1", "Service", true, func(s *objects.Set, o *corev1.Service) { s.Services = append(s.Services, *o) }).
		withSchema(validateService),
	spec("v1", "Secret", true, func(s *objects.Set, o *corev1.Secret) { s.Secrets = append(s.Secrets, *o) }).
		withFinish(mergeStringData),
	spec("discovery.k8s.io/v1", "EndpointSlice", true, func(s *objects.Set, o *discoveryv1.EndpointSlice) {
		s.EndpointSlices = append(s.EndpointSlices, *o)
	}).withSchema(validateEndpointSlice),
	spec(gatewayv1.GroupVersion.String(), "GatewayClass", false, func(s *objects.Set, o *gatewayv1.GatewayClass) {
		s.GatewayClasses = append(s.GatewayClasses, *o)
	}).withSchema(validateGatewayClass),
	spec(gatewayv1.GroupVersion.String(), "Gateway", true, func(s *objects.Set, o *gatewayv1.Gateway) { s.Gateways = append(s.Gateways, *o) }).
		withSchema(validateGateway),
	spec(gatewayv1.GroupVersion.String(), "HTTPRoute", true, func(s *objects.Set, o *gatewayv1.HTTPRoute) { s.HTTPRoutes = append(s.HTTPRoutes, *o) }).
		withSchema(validateHTTPRoute),
	spec(gatewayv1beta1.GroupVersion.String(), "ReferenceGrant", true, func(s *objects.Set, o *gatewayv1beta1.ReferenceGrant) {
		s.ReferenceGrants = append(s.ReferenceGrants, *o)
	}).withSchema(func(o metav1.Object) field.ErrorList {
		return validateReferenceGrant(o.(*gatewayv1beta1.ReferenceGrant).Spec)
	}),
	// v1 ReferenceGrant has the same schema as v1beta1 (v1beta1's type is
	// defined from it), so it converts without loss into the Set's type.
	spec(gatewayv1.GroupVersion.String(), "ReferenceGrant", true, func(s *objects.Set, o *gatewayv1.ReferenceGrant) {
		g := gatewayv1beta1.ReferenceGrant(*o)
		g.APIVersion = gatewayv1beta1.GroupVersion.String()
		s.ReferenceGrants = append(s.ReferenceGrants, g)
	}).withSchema(func(o metav1.Object) field.ErrorList {
		return validateReferenceGrant(o.(*gatewayv1.ReferenceGrant).Spec)
	}),
	spec(agwv1alpha1.GroupVersion.String(), agwv1alpha1.Kind, true, func(s *objects.Set, o *agwv1alpha1.AgentgatewayBackend) {
		s.Backends = append(s.Backends, *o)
	}).withFinish(func(o metav1.Object) field.ErrorList { return o.(*agwv1alpha1.AgentgatewayBackend).Validate() }),
}

func lookupKind(apiVersion, kind string) (kindSpec, bool) {
	for _, k := range kinds {
		if k.apiVersion == apiVersion && k.kind == kind {
			return k, true
		}
	}
	return kindSpec{}, false
}

// knownKind reports whether kind is one the loader reads at some apiVersion,
// so that a wrong apiVersion is never mistaken for a kind to skip.
func knownKind(kind string) bool {
	if kind == listKind {
		return true
	}
	for _, k := range kinds {
		if k.kind == kind {
			return true
		}
	}
	return false
}

// supported lists the accepted apiVersion/kind pairs for error messages.
func supported() string {
	names := make([]string, 0, len(kinds)+1)
	for _, k := range kinds {
		names = append(names, k.apiVersion+" "+k.kind)
	}
	names = append(names, listAPIVersion+" "+listKind)
	return strings.Join(names, ", ")
}

// mergeStringData does what the API server does with a Secret's write-only
// stringData: each key is copied into data, overriding a key of the same name.
func mergeStringData(o metav1.Object) field.ErrorList {
	s := o.(*corev1.Secret)
	if len(s.StringData) == 0 {
		return nil
	}
	if s.Data == nil {
		s.Data = make(map[string][]byte, len(s.StringData))
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
	return nil
}

func describeObject(kind, namespace, name string) string {
	switch {
	case kind == "":
		return ""
	case name == "":
		return kind
	case namespace == "":
		return fmt.Sprintf("%s %s", kind, name)
	default:
		return fmt.Sprintf("%s %s/%s", kind, namespace, name)
	}
}
