package translate

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	agwv1alpha1 "github.com/splitproof/splitproof/refproxy/apis/agentgateway/v1alpha1"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/route"
)

// AI provider defaults: each provider's public endpoint, on 443.
const (
	openAIHost    = "api.openai.com"
	anthropicHost = "api.anthropic.com"
	providerPort  = 443
	// SecretKey is the Secret data key holding the provider key.
	SecretKey = "Authorization"
)

// ProviderKey is the API key held in a Secret's Authorization value, as
// agentgateway reads it: surrounding space and a leading "Bearer " removed.
func ProviderKey(value []byte) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(value)), "Bearer "))
}

// backend resolves one backendRef. Failures become KindInvalid backends
// that keep their weight: the proxy answers 500 for their share.
func (t *translator) backend(r *gatewayv1.HTTPRoute, ref *gatewayv1.HTTPBackendRef) *route.Backend {
	group, kind := "", kindService
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	ns := r.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	name := string(ref.Name)
	b := &route.Backend{Name: nn(ns, name), Weight: picker.Weight(ref.Weight), Filters: ref.Filters}
	if ref.Port != nil {
		b.Name += ":" + strconv.Itoa(int(*ref.Port))
	}
	invalid := func(reason gatewayv1.RouteConditionReason, format string, args ...any) *route.Backend {
		b.Kind = route.KindInvalid
		b.Reason = string(reason)
		b.Message = fmt.Sprintf(format, args...)
		return b
	}
	switch {
	case (group == "" || group == "core") && kind == kindService:
		if !t.idx.granted(gatewayv1.GroupName, kindHTTPRoute, r.Namespace, "", kindService, ns, name) {
			return invalid(gatewayv1.RouteReasonRefNotPermitted, "reference to Service %s/%s is not permitted by any ReferenceGrant in namespace %s", ns, name, ns)
		}
		return t.service(b, ns, name, ref.Port, invalid)
	case group == agwv1alpha1.Group && kind == agwv1alpha1.Kind:
		if !t.idx.granted(gatewayv1.GroupName, kindHTTPRoute, r.Namespace, agwv1alpha1.Group, agwv1alpha1.Kind, ns, name) {
			return invalid(gatewayv1.RouteReasonRefNotPermitted, "reference to AgentgatewayBackend %s/%s is not permitted by any ReferenceGrant in namespace %s", ns, name, ns)
		}
		return t.aiBackend(b, ns, name, invalid)
	default:
		g := group
		if g == "" {
			g = "core"
		}
		return invalid(gatewayv1.RouteReasonInvalidKind, "backendRef kind %s/%s is not supported: expected core/Service or %s/%s", g, kind, agwv1alpha1.Group, agwv1alpha1.Kind)
	}
}

type invalidFunc func(reason gatewayv1.RouteConditionReason, format string, args ...any) *route.Backend

func (t *translator) service(b *route.Backend, ns, name string, port *gatewayv1.PortNumber, invalid invalidFunc) *route.Backend {
	svc := t.idx.services[nn(ns, name)]
	if svc == nil {
		return invalid(gatewayv1.RouteReasonBackendNotFound, "Service %s/%s not found", ns, name)
	}
	if port == nil {
		return invalid(gatewayv1.RouteReasonBackendNotFound, "backendRef to Service %s/%s needs a port", ns, name)
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == int32(*port) {
			sp = &svc.Spec.Ports[i]
			break
		}
	}
	if sp == nil {
		return invalid(gatewayv1.RouteReasonBackendNotFound, "Service %s/%s has no port %d", ns, name, *port)
	}
	b.Kind = route.KindService
	if sp.AppProtocol != nil {
		b.AppProtocol = *sp.AppProtocol
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		b.Endpoints = []string{net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(sp.Port)))}
		return b
	}
	b.Endpoints = t.endpoints(ns, name, sp)
	return b
}

// endpoints lists the ready endpoints of a Service port from its
// EndpointSlices, as "ip:port", sorted and without duplicates.
func (t *translator) endpoints(ns, name string, sp *corev1.ServicePort) []string {
	seen := map[string]bool{}
	var out []string
	for _, es := range t.idx.slices[nn(ns, name)] {
		if es.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		var port int32 = -1
		for _, p := range es.Ports {
			pname := ""
			if p.Name != nil {
				pname = *p.Name
			}
			if pname == sp.Name && p.Port != nil {
				port = *p.Port
				break
			}
		}
		if port < 0 {
			continue
		}
		for _, ep := range es.Endpoints {
			// A nil ready condition means ready, as the EndpointSlice API says.
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, addr := range ep.Addresses {
				hp := net.JoinHostPort(addr, strconv.Itoa(int(port)))
				if !seen[hp] {
					seen[hp] = true
					out = append(out, hp)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func (t *translator) aiBackend(b *route.Backend, ns, name string, invalid invalidFunc) *route.Backend {
	ab := t.idx.backends[nn(ns, name)]
	if ab == nil {
		return invalid(gatewayv1.RouteReasonBackendNotFound, "AgentgatewayBackend %s/%s not found", ns, name)
	}
	if ab.Spec.AI == nil {
		return invalid(gatewayv1.RouteReasonBackendNotFound, "AgentgatewayBackend %s/%s has no spec.ai", ns, name)
	}
	p := ab.Spec.AI.Provider
	ai := &route.AIBackend{Scheme: "https", Port: providerPort, Path: p.Path}
	// Objects from a cluster have passed the CRD's exactly-one rule and
	// those from files Validate, but the table must not guess if neither ran.
	switch {
	case p.OpenAI != nil && p.Anthropic != nil:
		return invalid(gatewayv1.RouteReasonBackendNotFound, "AgentgatewayBackend %s/%s sets both spec.ai.provider.openai and spec.ai.provider.anthropic: exactly one provider may be set", ns, name)
	case p.OpenAI != nil:
		ai.Provider, ai.Model, ai.Host = route.ProviderOpenAI, p.OpenAI.Model, openAIHost
	case p.Anthropic != nil:
		ai.Provider, ai.Model, ai.Host = route.ProviderAnthropic, p.Anthropic.Model, anthropicHost
	default:
		return invalid(gatewayv1.RouteReasonBackendNotFound, "AgentgatewayBackend %s/%s has no supported provider: splitproof supports spec.ai.provider.openai and spec.ai.provider.anthropic", ns, name)
	}
	if p.Host != "" {
		ai.Host = p.Host
	}
	if p.Port != 0 {
		ai.Port = p.Port
	}
	// An override to a port other than 443 is a plain-HTTP provider (a local
	// fake, a sidecar); 443 keeps TLS.
	if ai.Port != providerPort {
		ai.Scheme = "http"
	}
	if pol := ab.Spec.Policies; pol != nil && pol.Auth != nil && pol.Auth.SecretRef != nil {
		sref := nn(ns, pol.Auth.SecretRef.Name)
		s := t.idx.secrets[sref]
		if s == nil {
			return invalid(gatewayv1.RouteReasonBackendNotFound, "AgentgatewayBackend %s/%s: Secret %s not found", ns, name, sref)
		}
		key, ok := s.Data[SecretKey]
		if !ok {
			return invalid(gatewayv1.RouteReasonBackendNotFound, "AgentgatewayBackend %s/%s: Secret %s has no %q key", ns, name, sref, SecretKey)
		}
		ai.SecretRef = sref
		ai.APIKey = route.Secret(ProviderKey(key))
	}
	b.Kind = route.KindAI
	b.AI = ai
	return b
}
