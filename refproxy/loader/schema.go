package loader

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// This file enforces, for the fields refproxy reads, the validation an API
// server applies on create: for Gateway API objects the OpenAPI rules and
// CEL rules of the v1.6.3 CRDs (taken from the kubebuilder markers of the
// upstream types), for core objects the API server's own checks of names,
// ports and addresses. Without it file mode would accept what a cluster
// refuses, and the translator would quietly drop a route with a weight of
// -1 where kubectl apply names the field.

// Patterns of the Gateway API string types (sigs.k8s.io/gateway-api/apis/v1
// shared_types.go and gateway_types.go).
var (
	reHostname        = regexp.MustCompile(`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	rePreciseHostname = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	reGroup           = regexp.MustCompile(`^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	reKind            = regexp.MustCompile(`^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`)
	reNamespace       = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	reSectionName     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	reController      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$`)
	reProtocol        = regexp.MustCompile(`^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$`)
	reHeaderName      = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$")
	reDuration        = regexp.MustCompile(`^([0-9]{1,5}(h|m|s|ms)){1,4}$`)
	rePathValue       = regexp.MustCompile(`^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$`)
)

// schema collects the violations of one object.
type schema struct{ errs field.ErrorList }

func (s *schema) add(errs ...*field.Error) { s.errs = append(s.errs, errs...) }

// items checks a list's length against MinItems and MaxItems (max < 0: none).
func (s *schema) items(p *field.Path, n, minItems, maxItems int) {
	switch {
	case n < minItems && n == 0:
		s.add(field.Required(p, fmt.Sprintf("must have at least %d item", minItems)))
	case n < minItems:
		s.add(field.Invalid(p, n, fmt.Sprintf("must have at least %d items", minItems)))
	case maxItems >= 0 && n > maxItems:
		s.add(field.TooMany(p, n, maxItems))
	}
}

func (s *schema) between(p *field.Path, v, lo, hi int64) {
	if v < lo || v > hi {
		s.add(field.Invalid(p, v, fmt.Sprintf("must be between %d and %d, inclusive", lo, hi)))
	}
}

// str checks a string against MinLength, MaxLength and, when re is not nil,
// Pattern; what names the format in the message.
func (s *schema) str(p *field.Path, v string, minLen, maxLen int, re *regexp.Regexp, what string) {
	switch {
	case len(v) < minLen && v == "":
		s.add(field.Required(p, ""))
	case len(v) < minLen:
		s.add(field.Invalid(p, v, fmt.Sprintf("must be at least %d characters long", minLen)))
	case len(v) > maxLen:
		s.add(field.TooLong(p, v, maxLen))
	case re != nil && !re.MatchString(v):
		s.add(field.Invalid(p, v, fmt.Sprintf("must be %s (matching %s)", what, re)))
	}
}

func (s *schema) enum(p *field.Path, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		s.add(field.NotSupported(p, v, allowed))
	}
}

func (s *schema) port(p *field.Path, v int32) { s.between(p, int64(v), 1, 65535) }

func (s *schema) hostname(p *field.Path, v string) {
	s.str(p, v, 1, 253, reHostname, "a lower-case DNS name, optionally prefixed with \"*.\"")
}

func (s *schema) preciseHostname(p *field.Path, v string) {
	s.str(p, v, 1, 253, rePreciseHostname, "a lower-case DNS name")
}

func (s *schema) objectName(p *field.Path, v string) { s.str(p, v, 1, 253, nil, "") }

func (s *schema) namespace(p *field.Path, v string) {
	s.str(p, v, 1, 63, reNamespace, "a DNS label")
}

func (s *schema) group(p *field.Path, v string) {
	s.str(p, v, 0, 253, reGroup, "empty or a DNS subdomain")
}

func (s *schema) kind(p *field.Path, v string) {
	s.str(p, v, 1, 63, reKind, "a kind name")
}

func (s *schema) sectionName(p *field.Path, v string) {
	s.str(p, v, 1, 253, reSectionName, "a DNS subdomain")
}

func (s *schema) headerName(p *field.Path, v string) {
	s.str(p, v, 1, 256, reHeaderName, "an HTTP header name")
}

// objectMeta applies the API server's checks of metadata: the name's format
// (nameFn), the namespace as a DNS label, labels and annotations.
func objectMeta(o metav1.Object, namespaced bool, nameFn apivalidation.ValidateNameFunc) field.ErrorList {
	return apivalidation.ValidateObjectMetaAccessor(o, namespaced, nameFn, field.NewPath("metadata"))
}

// nameRule is the format of metadata.name per kind: the API server's for
// core kinds, a DNS subdomain for every custom resource.
func nameRule(kind string) apivalidation.ValidateNameFunc {
	switch kind {
	case "Namespace":
		return apivalidation.NameIsDNSLabel
	case "Service":
		return apivalidation.NameIsDNS1035Label
	default:
		return apivalidation.NameIsDNSSubdomain
	}
}

func validateService(o metav1.Object) field.ErrorList {
	svc := o.(*corev1.Service)
	var s schema
	for i, sp := range svc.Spec.Ports {
		p := field.NewPath("spec", "ports").Index(i)
		s.port(p.Child("port"), sp.Port)
		if sp.TargetPort.StrVal == "" && sp.TargetPort.IntVal != 0 {
			s.port(p.Child("targetPort"), sp.TargetPort.IntVal)
		}
	}
	return s.errs
}

func validateEndpointSlice(o metav1.Object) field.ErrorList {
	es := o.(*discoveryv1.EndpointSlice)
	var s schema
	s.enum(field.NewPath("addressType"), string(es.AddressType),
		string(discoveryv1.AddressTypeIPv4), string(discoveryv1.AddressTypeIPv6), string(discoveryv1.AddressTypeFQDN))
	s.items(field.NewPath("endpoints"), len(es.Endpoints), 0, 1000)
	for i, ep := range es.Endpoints {
		p := field.NewPath("endpoints").Index(i).Child("addresses")
		s.items(p, len(ep.Addresses), 1, 100)
		for j, a := range ep.Addresses {
			s.add(endpointAddress(p.Index(j), es.AddressType, a)...)
		}
	}
	s.items(field.NewPath("ports"), len(es.Ports), 0, 20000)
	for i, ep := range es.Ports {
		if ep.Port != nil {
			s.port(field.NewPath("ports").Index(i).Child("port"), *ep.Port)
		}
	}
	return s.errs
}

// endpointAddress checks one address against the slice's addressType, as
// the API server does: an IPv4 slice holding "not-an-ip" would otherwise
// send refproxy to DNS on every request.
func endpointAddress(p *field.Path, t discoveryv1.AddressType, a string) field.ErrorList {
	switch t {
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
		ip, err := netip.ParseAddr(a)
		if err != nil || ip.Zone() != "" {
			return field.ErrorList{field.Invalid(p, a, fmt.Sprintf("must be an %s address", t))}
		}
		if (t == discoveryv1.AddressTypeIPv4) != ip.Is4() {
			return field.ErrorList{field.Invalid(p, a, fmt.Sprintf("must be an %s address (addressType is %s)", t, t))}
		}
	case discoveryv1.AddressTypeFQDN:
		var errs field.ErrorList
		for _, msg := range validation.IsDNS1123Subdomain(a) {
			errs = append(errs, field.Invalid(p, a, msg))
		}
		return errs
	}
	return nil
}

func validateGatewayClass(o metav1.Object) field.ErrorList {
	gc := o.(*gatewayv1.GatewayClass)
	var s schema
	s.str(field.NewPath("spec", "controllerName"), string(gc.Spec.ControllerName), 1, 253, reController,
		"a domain-prefixed path such as example.com/controller")
	return s.errs
}

func validateGateway(o metav1.Object) field.ErrorList {
	gw := o.(*gatewayv1.Gateway)
	var s schema
	spec := field.NewPath("spec")
	s.objectName(spec.Child("gatewayClassName"), string(gw.Spec.GatewayClassName))
	s.items(spec.Child("addresses"), len(gw.Spec.Addresses), 0, 16)
	ls := spec.Child("listeners")
	s.items(ls, len(gw.Spec.Listeners), 1, 64)
	// The CRD's rule that port, protocol and hostname be unique per listener
	// is left to the translator, which reports such listeners as Conflicted
	// in the Gateway's status, as the spec describes for conflicts.
	names := map[gatewayv1.SectionName]bool{}
	for i, l := range gw.Spec.Listeners {
		p := ls.Index(i)
		s.sectionName(p.Child("name"), string(l.Name))
		if names[l.Name] {
			s.add(field.Duplicate(p.Child("name"), l.Name))
		}
		names[l.Name] = true
		if l.Hostname != nil {
			s.hostname(p.Child("hostname"), string(*l.Hostname))
		}
		s.port(p.Child("port"), l.Port)
		s.str(p.Child("protocol"), string(l.Protocol), 1, 255, reProtocol, "a protocol name or a domain-prefixed path")
		switch l.Protocol {
		case gatewayv1.HTTPProtocolType, gatewayv1.TCPProtocolType, gatewayv1.UDPProtocolType:
			if l.TLS != nil {
				s.add(field.Forbidden(p.Child("tls"), "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"))
			}
		}
		if l.TLS != nil {
			s.items(p.Child("tls", "certificateRefs"), len(l.TLS.CertificateRefs), 0, 64)
			for j, ref := range l.TLS.CertificateRefs {
				s.secretRef(p.Child("tls", "certificateRefs").Index(j), ref)
			}
		}
		if ar := l.AllowedRoutes; ar != nil {
			if ar.Namespaces != nil && ar.Namespaces.From != nil {
				s.enum(p.Child("allowedRoutes", "namespaces", "from"), string(*ar.Namespaces.From), "All", "Selector", "Same", "None")
			}
			s.items(p.Child("allowedRoutes", "kinds"), len(ar.Kinds), 0, 8)
			for j, k := range ar.Kinds {
				kp := p.Child("allowedRoutes", "kinds").Index(j)
				if k.Group != nil {
					s.group(kp.Child("group"), string(*k.Group))
				}
				s.kind(kp.Child("kind"), string(k.Kind))
			}
		}
	}
	return s.errs
}

func (s *schema) secretRef(p *field.Path, ref gatewayv1.SecretObjectReference) {
	if ref.Group != nil {
		s.group(p.Child("group"), string(*ref.Group))
	}
	if ref.Kind != nil {
		s.kind(p.Child("kind"), string(*ref.Kind))
	}
	s.objectName(p.Child("name"), string(ref.Name))
	if ref.Namespace != nil {
		s.namespace(p.Child("namespace"), string(*ref.Namespace))
	}
}

func validateReferenceGrant(spec gatewayv1beta1.ReferenceGrantSpec) field.ErrorList {
	var s schema
	from, to := field.NewPath("spec", "from"), field.NewPath("spec", "to")
	s.items(from, len(spec.From), 1, 16)
	for i, f := range spec.From {
		s.group(from.Index(i).Child("group"), string(f.Group))
		s.kind(from.Index(i).Child("kind"), string(f.Kind))
		s.namespace(from.Index(i).Child("namespace"), string(f.Namespace))
	}
	s.items(to, len(spec.To), 1, 16)
	for i, t := range spec.To {
		s.group(to.Index(i).Child("group"), string(t.Group))
		s.kind(to.Index(i).Child("kind"), string(t.Kind))
		if t.Name != nil {
			s.objectName(to.Index(i).Child("name"), string(*t.Name))
		}
	}
	return s.errs
}

func validateHTTPRoute(o metav1.Object) field.ErrorList {
	r := o.(*gatewayv1.HTTPRoute)
	var s schema
	spec := field.NewPath("spec")
	s.items(spec.Child("parentRefs"), len(r.Spec.ParentRefs), 0, 32)
	for i, pr := range r.Spec.ParentRefs {
		s.parentRef(spec.Child("parentRefs").Index(i), pr)
	}
	s.items(spec.Child("hostnames"), len(r.Spec.Hostnames), 0, 16)
	for i, h := range r.Spec.Hostnames {
		s.hostname(spec.Child("hostnames").Index(i), string(h))
	}
	rules := spec.Child("rules")
	s.items(rules, len(r.Spec.Rules), 0, 16)
	matches := 0
	for i := range r.Spec.Rules {
		s.rule(rules.Index(i), &r.Spec.Rules[i])
		matches += len(r.Spec.Rules[i].Matches)
	}
	if matches > 128 {
		s.add(field.Invalid(rules, matches, "the total number of matches across all rules in a route must be at most 128"))
	}
	return s.errs
}

func (s *schema) parentRef(p *field.Path, pr gatewayv1.ParentReference) {
	if pr.Group != nil {
		s.group(p.Child("group"), string(*pr.Group))
	}
	if pr.Kind != nil {
		s.kind(p.Child("kind"), string(*pr.Kind))
	}
	if pr.Namespace != nil {
		s.namespace(p.Child("namespace"), string(*pr.Namespace))
	}
	s.objectName(p.Child("name"), string(pr.Name))
	if pr.SectionName != nil {
		s.sectionName(p.Child("sectionName"), string(*pr.SectionName))
	}
	if pr.Port != nil {
		s.port(p.Child("port"), *pr.Port)
	}
}

func (s *schema) rule(p *field.Path, r *gatewayv1.HTTPRouteRule) {
	if r.Name != nil {
		s.sectionName(p.Child("name"), string(*r.Name))
	}
	s.items(p.Child("matches"), len(r.Matches), 0, 64)
	for i := range r.Matches {
		s.match(p.Child("matches").Index(i), &r.Matches[i])
	}
	s.filters(p.Child("filters"), r.Filters)
	if len(r.BackendRefs) > 0 && slices.ContainsFunc(r.Filters, func(f gatewayv1.HTTPRouteFilter) bool { return f.RequestRedirect != nil }) {
		s.add(field.Invalid(p.Child("filters"), "RequestRedirect", "RequestRedirect filter must not be used together with backendRefs"))
	}
	s.items(p.Child("backendRefs"), len(r.BackendRefs), 0, 16)
	for i, b := range r.BackendRefs {
		bp := p.Child("backendRefs").Index(i)
		s.backendRef(bp, b.BackendObjectReference)
		if b.Weight != nil {
			s.between(bp.Child("weight"), int64(*b.Weight), 0, 1000000)
		}
		s.filters(bp.Child("filters"), b.Filters)
	}
	if t := r.Timeouts; t != nil {
		s.timeouts(p.Child("timeouts"), t)
	}
}

func (s *schema) backendRef(p *field.Path, b gatewayv1.BackendObjectReference) {
	group, kind := "", "Service"
	if b.Group != nil {
		group = string(*b.Group)
		s.group(p.Child("group"), group)
	}
	if b.Kind != nil {
		kind = string(*b.Kind)
		s.kind(p.Child("kind"), kind)
	}
	s.objectName(p.Child("name"), string(b.Name))
	if b.Namespace != nil {
		s.namespace(p.Child("namespace"), string(*b.Namespace))
	}
	switch {
	case b.Port != nil:
		s.port(p.Child("port"), *b.Port)
	case group == "" && kind == "Service":
		s.add(field.Required(p.Child("port"), "must have port for Service reference"))
	}
}

func (s *schema) match(p *field.Path, m *gatewayv1.HTTPRouteMatch) {
	if m.Path != nil {
		s.pathMatch(p.Child("path"), m.Path)
	}
	s.items(p.Child("headers"), len(m.Headers), 0, 16)
	for i, h := range m.Headers {
		hp := p.Child("headers").Index(i)
		if h.Type != nil {
			s.enum(hp.Child("type"), string(*h.Type), "Exact", "RegularExpression")
		}
		s.headerName(hp.Child("name"), string(h.Name))
		s.str(hp.Child("value"), h.Value, 1, 4096, nil, "")
	}
	s.items(p.Child("queryParams"), len(m.QueryParams), 0, 16)
	for i, q := range m.QueryParams {
		qp := p.Child("queryParams").Index(i)
		if q.Type != nil {
			s.enum(qp.Child("type"), string(*q.Type), "Exact", "RegularExpression")
		}
		s.headerName(qp.Child("name"), string(q.Name))
		s.str(qp.Child("value"), q.Value, 1, 1024, nil, "")
	}
	if m.Method != nil {
		s.enum(p.Child("method"), string(*m.Method), "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
	}
}

// pathMatch applies the CRD's rules for path matches, defaults included
// (type PathPrefix, value "/").
func (s *schema) pathMatch(p *field.Path, m *gatewayv1.HTTPPathMatch) {
	typ, value := gatewayv1.PathMatchPathPrefix, "/"
	if m.Type != nil {
		typ = *m.Type
	}
	if m.Value != nil {
		value = *m.Value
	}
	s.enum(p.Child("type"), string(typ), "Exact", "PathPrefix", "RegularExpression")
	vp := p.Child("value")
	if len(value) > 1024 {
		s.add(field.TooLong(vp, value, 1024))
		return
	}
	if typ != gatewayv1.PathMatchExact && typ != gatewayv1.PathMatchPathPrefix {
		return
	}
	for _, bad := range []struct {
		broken bool
		msg    string
	}{
		{!strings.HasPrefix(value, "/"), "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"},
		{strings.Contains(value, "//"), "must not contain '//' when type one of ['Exact', 'PathPrefix']"},
		{strings.Contains(value, "/./"), "must not contain '/./' when type one of ['Exact', 'PathPrefix']"},
		{strings.Contains(value, "/../"), "must not contain '/../' when type one of ['Exact', 'PathPrefix']"},
		{strings.Contains(value, "%2f"), "must not contain '%2f' when type one of ['Exact', 'PathPrefix']"},
		{strings.Contains(value, "%2F"), "must not contain '%2F' when type one of ['Exact', 'PathPrefix']"},
		{strings.Contains(value, "#"), "must not contain '#' when type one of ['Exact', 'PathPrefix']"},
		{strings.HasSuffix(value, "/.."), "must not end with '/..' when type one of ['Exact', 'PathPrefix']"},
		{strings.HasSuffix(value, "/."), "must not end with '/.' when type one of ['Exact', 'PathPrefix']"},
		{!rePathValue.MatchString(value), "must only contain valid characters (matching " + rePathValue.String() + ") for types ['Exact', 'PathPrefix']"},
	} {
		if bad.broken {
			s.add(field.Invalid(vp, value, bad.msg))
		}
	}
}

// filterFields says which member each filter type requires, for the CRD's
// "must be specified for ... / must be nil if the filter.type is not ..."
// rules.
var filterFields = []struct {
	typ gatewayv1.HTTPRouteFilterType
	set func(*gatewayv1.HTTPRouteFilter) bool
	key string
}{
	{gatewayv1.HTTPRouteFilterRequestHeaderModifier, func(f *gatewayv1.HTTPRouteFilter) bool { return f.RequestHeaderModifier != nil }, "requestHeaderModifier"},
	{gatewayv1.HTTPRouteFilterResponseHeaderModifier, func(f *gatewayv1.HTTPRouteFilter) bool { return f.ResponseHeaderModifier != nil }, "responseHeaderModifier"},
	{gatewayv1.HTTPRouteFilterRequestMirror, func(f *gatewayv1.HTTPRouteFilter) bool { return f.RequestMirror != nil }, "requestMirror"},
	{gatewayv1.HTTPRouteFilterRequestRedirect, func(f *gatewayv1.HTTPRouteFilter) bool { return f.RequestRedirect != nil }, "requestRedirect"},
	{gatewayv1.HTTPRouteFilterURLRewrite, func(f *gatewayv1.HTTPRouteFilter) bool { return f.URLRewrite != nil }, "urlRewrite"},
	{gatewayv1.HTTPRouteFilterExtensionRef, func(f *gatewayv1.HTTPRouteFilter) bool { return f.ExtensionRef != nil }, "extensionRef"},
	{gatewayv1.HTTPRouteFilterCORS, func(f *gatewayv1.HTTPRouteFilter) bool { return f.CORS != nil }, "cors"},
}

func (s *schema) filters(p *field.Path, fs []gatewayv1.HTTPRouteFilter) {
	s.items(p, len(fs), 0, 16)
	seen := map[gatewayv1.HTTPRouteFilterType]int{}
	for i := range fs {
		f := &fs[i]
		fp := p.Index(i)
		s.enum(fp.Child("type"), string(f.Type), "RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror",
			"RequestRedirect", "URLRewrite", "ExtensionRef", "CORS")
		for _, ff := range filterFields {
			switch set := ff.set(f); {
			case set && f.Type != ff.typ:
				s.add(field.Forbidden(fp.Child(ff.key), fmt.Sprintf("filter.%s must be nil if the filter.type is not %s", ff.key, ff.typ)))
			case !set && f.Type == ff.typ:
				s.add(field.Required(fp.Child(ff.key), fmt.Sprintf("filter.%s must be specified for %s filter.type", ff.key, ff.typ)))
			}
		}
		if seen[f.Type]++; seen[f.Type] == 2 && f.Type != gatewayv1.HTTPRouteFilterRequestMirror && f.Type != gatewayv1.HTTPRouteFilterExtensionRef {
			s.add(field.Invalid(fp.Child("type"), f.Type, fmt.Sprintf("%s filter cannot be repeated", f.Type)))
		}
		s.filter(fp, f)
	}
	if seen[gatewayv1.HTTPRouteFilterRequestRedirect] > 0 && seen[gatewayv1.HTTPRouteFilterURLRewrite] > 0 {
		s.add(field.Invalid(p, "RequestRedirect, URLRewrite", "may specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both"))
	}
}

func (s *schema) filter(p *field.Path, f *gatewayv1.HTTPRouteFilter) {
	for _, hf := range []struct {
		key string
		f   *gatewayv1.HTTPHeaderFilter
	}{{"requestHeaderModifier", f.RequestHeaderModifier}, {"responseHeaderModifier", f.ResponseHeaderModifier}} {
		if hf.f != nil {
			s.headerFilter(p.Child(hf.key), hf.f)
		}
	}
	if r := f.RequestRedirect; r != nil {
		rp := p.Child("requestRedirect")
		if r.Scheme != nil {
			s.enum(rp.Child("scheme"), *r.Scheme, "http", "https")
		}
		if r.Hostname != nil {
			s.preciseHostname(rp.Child("hostname"), string(*r.Hostname))
		}
		if r.Path != nil {
			s.pathModifier(rp.Child("path"), r.Path)
		}
		if r.Port != nil {
			s.port(rp.Child("port"), *r.Port)
		}
		if r.StatusCode != nil && !slices.Contains([]int{301, 302, 303, 307, 308}, *r.StatusCode) {
			s.add(field.NotSupported(rp.Child("statusCode"), *r.StatusCode, []string{"301", "302", "303", "307", "308"}))
		}
	}
	if u := f.URLRewrite; u != nil {
		up := p.Child("urlRewrite")
		if u.Hostname != nil {
			s.preciseHostname(up.Child("hostname"), string(*u.Hostname))
		}
		if u.Path != nil {
			s.pathModifier(up.Child("path"), u.Path)
		}
	}
	if m := f.RequestMirror; m != nil {
		mp := p.Child("requestMirror")
		s.backendRef(mp.Child("backendRef"), m.BackendRef)
		if m.Percent != nil {
			s.between(mp.Child("percent"), int64(*m.Percent), 0, 100)
		}
		if fr := m.Fraction; fr != nil {
			s.between(mp.Child("fraction", "numerator"), int64(fr.Numerator), 0, 1<<31-1)
			den := int32(100)
			if fr.Denominator != nil {
				den = *fr.Denominator
				s.between(mp.Child("fraction", "denominator"), int64(den), 1, 1<<31-1)
			}
			if fr.Numerator > den {
				s.add(field.Invalid(mp.Child("fraction"), fr.Numerator, "numerator must be less than or equal to denominator"))
			}
		}
		if m.Percent != nil && m.Fraction != nil {
			s.add(field.Invalid(mp, "percent, fraction", "only one of percent or fraction may be specified in HTTPRequestMirrorFilter"))
		}
	}
}

func (s *schema) headerFilter(p *field.Path, f *gatewayv1.HTTPHeaderFilter) {
	for _, l := range []struct {
		key string
		hs  []gatewayv1.HTTPHeader
	}{{"set", f.Set}, {"add", f.Add}} {
		s.items(p.Child(l.key), len(l.hs), 0, 16)
		for i, h := range l.hs {
			s.headerName(p.Child(l.key).Index(i).Child("name"), string(h.Name))
			if len(h.Value) > 4096 {
				s.add(field.TooLong(p.Child(l.key).Index(i).Child("value"), h.Value, 4096))
			}
		}
	}
	s.items(p.Child("remove"), len(f.Remove), 0, 16)
}

func (s *schema) pathModifier(p *field.Path, m *gatewayv1.HTTPPathModifier) {
	s.enum(p.Child("type"), string(m.Type), "ReplaceFullPath", "ReplacePrefixMatch")
	for _, v := range []struct {
		key   string
		typ   gatewayv1.HTTPPathModifierType
		value *string
	}{{"replaceFullPath", gatewayv1.FullPathHTTPPathModifier, m.ReplaceFullPath}, {"replacePrefixMatch", gatewayv1.PrefixMatchHTTPPathModifier, m.ReplacePrefixMatch}} {
		switch {
		case v.value != nil && m.Type != v.typ:
			s.add(field.Invalid(p.Child("type"), m.Type, fmt.Sprintf("type must be '%s' when %s is set", v.typ, v.key)))
		case v.value == nil && m.Type == v.typ:
			s.add(field.Required(p.Child(v.key), fmt.Sprintf("%s must be specified when type is set to '%s'", v.key, v.typ)))
		case v.value != nil && len(*v.value) > 1024:
			s.add(field.TooLong(p.Child(v.key), *v.value, 1024))
		}
	}
}

func (s *schema) timeouts(p *field.Path, t *gatewayv1.HTTPRouteTimeouts) {
	durations := map[string]time.Duration{}
	for _, d := range []struct {
		key string
		v   *gatewayv1.Duration
	}{{"request", t.Request}, {"backendRequest", t.BackendRequest}} {
		if d.v == nil {
			continue
		}
		v := string(*d.v)
		if !reDuration.MatchString(v) {
			s.add(field.Invalid(p.Child(d.key), v, "must be a Gateway API duration such as 10s, 1h30m or 500ms (matching "+reDuration.String()+")"))
			continue
		}
		if parsed, err := time.ParseDuration(v); err == nil {
			durations[d.key] = parsed
		}
	}
	req, hasReq := durations["request"]
	be, hasBE := durations["backendRequest"]
	if hasReq && hasBE && req != 0 && be > req {
		s.add(field.Invalid(p.Child("backendRequest"), string(*t.BackendRequest), "backendRequest timeout cannot be longer than request timeout"))
	}
}
