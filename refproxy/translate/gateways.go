package translate

import (
	cryptotls "crypto/tls"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/route"
)

// listener is one Gateway listener being translated.
type listener struct {
	gw       *gatewayv1.Gateway
	spec     *gatewayv1.Listener
	id       string // namespace/gateway/section
	port     int32
	protocol gatewayv1.ProtocolType
	hostname string // "" = any
	valid    bool   // served (Accepted and not Conflicted)
	cert     *route.Certificate
	status   *gatewayv1.ListenerStatus
	// kinds the listener allows; only HTTPRoute is supported.
	allowsHTTPRoute bool
}

const (
	kindGateway   = "Gateway"
	kindHTTPRoute = "HTTPRoute"
	kindService   = "Service"
	kindSecret    = "Secret"
)

// classes marks which GatewayClasses are ours and accepts them.
func (t *translator) classes() {
	names := make([]string, 0, len(t.idx.classes))
	for n, c := range t.idx.classes {
		if t.opts.OwnsClass(c) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		c := t.idx.classes[n]
		t.res.GatewayClasses = append(t.res.GatewayClasses, GatewayClassStatus{
			Name: n,
			Status: gatewayv1.GatewayClassStatus{Conditions: []metav1.Condition{
				t.cond(string(gatewayv1.GatewayClassConditionStatusAccepted), string(gatewayv1.GatewayClassReasonAccepted), true, c.Generation, "handled by "+t.opts.ControllerName),
			}},
		})
	}
}

// served reports whether this controller serves gw.
func (t *translator) served(gw *gatewayv1.Gateway) bool {
	if len(t.idx.classes) == 0 {
		return true
	}
	c := t.idx.classes[string(gw.Spec.GatewayClassName)]
	return t.opts.OwnsClass(c)
}

// gateways builds the listeners of every served Gateway and their status.
func (t *translator) gateways() {
	gws := make([]*gatewayv1.Gateway, 0, len(t.idx.set.Gateways))
	for i := range t.idx.set.Gateways {
		if t.served(&t.idx.set.Gateways[i]) {
			gws = append(gws, &t.idx.set.Gateways[i])
		}
	}
	sort.Slice(gws, func(i, j int) bool { return nn(gws[i].Namespace, gws[i].Name) < nn(gws[j].Namespace, gws[j].Name) })

	// byPort finds conflicts between listeners sharing a port, across Gateways
	// too: one proxy serves them all on one socket.
	byPort := map[int32][]*listener{}
	t.rejected = map[*gatewayv1.Gateway]string{}
	for _, gw := range gws {
		if msg := unsupportedAddresses(gw); msg != "" {
			t.rejected[gw] = msg // none of its listeners is served
			continue
		}
		for i := range gw.Spec.Listeners {
			l := t.newListener(gw, &gw.Spec.Listeners[i])
			t.listeners = append(t.listeners, l)
			if l.valid {
				byPort[l.port] = append(byPort[l.port], l)
			}
		}
	}
	for _, ls := range byPort {
		t.conflicts(ls)
	}
	for _, gw := range gws {
		t.gatewayStatus(gw)
	}
}

func (t *translator) newListener(gw *gatewayv1.Gateway, spec *gatewayv1.Listener) *listener {
	l := &listener{
		gw: gw, spec: spec,
		id:       fmt.Sprintf("%s/%s/%s", gw.Namespace, gw.Name, spec.Name),
		port:     int32(spec.Port),
		protocol: spec.Protocol,
		valid:    true,
		status:   &gatewayv1.ListenerStatus{Name: spec.Name},
	}
	if spec.Hostname != nil {
		l.hostname = strings.ToLower(string(*spec.Hostname))
	}
	gen := gw.Generation
	accepted := t.cond(string(gatewayv1.ListenerConditionAccepted), string(gatewayv1.ListenerReasonAccepted), true, gen, "listener accepted")
	resolved := t.cond(string(gatewayv1.ListenerConditionResolvedRefs), string(gatewayv1.ListenerReasonResolvedRefs), true, gen, "all references resolved")

	switch spec.Protocol {
	case gatewayv1.HTTPProtocolType:
	case gatewayv1.HTTPSProtocolType:
		if reason, msg := t.listenerTLS(l); reason != "" {
			resolved = t.cond(string(gatewayv1.ListenerConditionResolvedRefs), reason, false, gen, msg)
			l.valid = false
		}
	default:
		accepted = t.cond(string(gatewayv1.ListenerConditionAccepted), string(gatewayv1.ListenerReasonUnsupportedProtocol), false, gen,
			fmt.Sprintf("protocol %q is not supported: expected HTTP or HTTPS", spec.Protocol))
		l.valid = false
	}

	// Route kinds: HTTPRoute only.
	group := gatewayv1.Group(gatewayv1.GroupName)
	l.status.SupportedKinds = []gatewayv1.RouteGroupKind{}
	if spec.AllowedRoutes == nil || len(spec.AllowedRoutes.Kinds) == 0 {
		l.allowsHTTPRoute = true
	} else {
		var bad []string
		for _, k := range spec.AllowedRoutes.Kinds {
			g := gatewayv1.GroupName
			if k.Group != nil {
				g = string(*k.Group)
			}
			if g == gatewayv1.GroupName && k.Kind == kindHTTPRoute {
				l.allowsHTTPRoute = true
			} else {
				bad = append(bad, g+"/"+string(k.Kind))
			}
		}
		if len(bad) > 0 {
			resolved = t.cond(string(gatewayv1.ListenerConditionResolvedRefs), string(gatewayv1.ListenerReasonInvalidRouteKinds), false, gen,
				fmt.Sprintf("unsupported route kinds %s: only gateway.networking.k8s.io/HTTPRoute is supported", strings.Join(bad, ", ")))
		}
	}
	if l.allowsHTTPRoute && accepted.Status == metav1.ConditionTrue {
		l.status.SupportedKinds = []gatewayv1.RouteGroupKind{{Group: &group, Kind: kindHTTPRoute}}
	}
	if !l.allowsHTTPRoute {
		l.valid = false
	}
	programmed := t.cond(string(gatewayv1.ListenerConditionProgrammed), string(gatewayv1.ListenerReasonProgrammed), l.valid, gen, "listener programmed")
	if !l.valid {
		programmed.Reason = string(gatewayv1.ListenerReasonInvalid)
		programmed.Message = "listener is invalid: see its other conditions"
	}
	l.status.Conditions = []metav1.Condition{accepted, resolved, programmed}
	return l
}

// listenerTLS resolves an HTTPS listener's certificate. It returns a reason
// and message when the listener cannot be served.
func (t *translator) listenerTLS(l *listener) (reason, msg string) {
	tls := l.spec.TLS
	if tls == nil || len(tls.CertificateRefs) == 0 {
		return string(gatewayv1.ListenerReasonInvalidCertificateRef), "HTTPS listener needs tls.certificateRefs"
	}
	if tls.Mode != nil && *tls.Mode != gatewayv1.TLSModeTerminate {
		return string(gatewayv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf("tls.mode %q is not supported for HTTPS: expected Terminate", *tls.Mode)
	}
	ref := tls.CertificateRefs[0]
	group, kind := "", kindSecret
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	ns := l.gw.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	key := nn(ns, string(ref.Name))
	if group != "" || kind != kindSecret {
		return string(gatewayv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf("certificateRef %s/%s %s: only core Secrets are supported", group, kind, key)
	}
	if !t.idx.granted(gatewayv1.GroupName, kindGateway, l.gw.Namespace, "", kindSecret, ns, string(ref.Name)) {
		return string(gatewayv1.ListenerReasonRefNotPermitted), fmt.Sprintf("certificateRef to Secret %s is not permitted by any ReferenceGrant", key)
	}
	s := t.idx.secrets[key]
	if s == nil {
		return string(gatewayv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf("Secret %s not found", key)
	}
	crt, key2 := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 || len(key2) == 0 {
		return string(gatewayv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf("Secret %s lacks %s or %s", key, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	// A pair the listener could not load is an invalid reference now, in
	// the status, not a handshake failure later. The error names neither
	// the key nor the certificate's bytes.
	if _, err := cryptotls.X509KeyPair(crt, key2); err != nil {
		return string(gatewayv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf("Secret %s does not hold a usable certificate and key: %v", key, err)
	}
	l.cert = &route.Certificate{Hostname: l.hostname, Ref: key, CertPEM: crt, KeyPEM: route.Secret(key2)}
	return "", ""
}

// conflicts marks listeners sharing a port that cannot be told apart. Within
// one Gateway that is two listeners with the same hostname (HostnameConflict);
// across the port it is HTTP and HTTPS together (ProtocolConflict). The first
// listener (by gateway and listener order) keeps the port. Listeners of
// different Gateways with the same hostname are merged, not conflicted: one
// refproxy serves all its Gateways, so the doc's port-forward to the proxy
// reaches routes attached to either Gateway. Run one refproxy per Gateway
// (controller mode's --gateway) to isolate them.
func (t *translator) conflicts(ls []*listener) {
	type gwHost struct{ gw, host string }
	seen := map[gwHost]*listener{}
	proto := ls[0].protocol
	for _, l := range ls {
		var reason, msg string
		key := gwHost{nn(l.gw.Namespace, l.gw.Name), l.hostname}
		if l.protocol != proto {
			reason, msg = string(gatewayv1.ListenerReasonProtocolConflict), fmt.Sprintf("port %d is already used with protocol %s", l.port, proto)
		} else if prev, ok := seen[key]; ok {
			reason, msg = string(gatewayv1.ListenerReasonHostnameConflict), fmt.Sprintf("hostname %q on port %d is already served by listener %s", l.hostname, l.port, prev.id)
		}
		if reason == "" {
			seen[key] = l
			l.status.Conditions = append(l.status.Conditions, t.cond(string(gatewayv1.ListenerConditionConflicted), string(gatewayv1.ListenerReasonNoConflicts), false, l.gw.Generation, "no conflicts"))
			continue
		}
		l.valid = false
		l.status.Conditions = append(l.status.Conditions, t.cond(string(gatewayv1.ListenerConditionConflicted), reason, true, l.gw.Generation, msg))
		for i := range l.status.Conditions {
			if l.status.Conditions[i].Type == string(gatewayv1.ListenerConditionProgrammed) {
				l.status.Conditions[i].Status = metav1.ConditionFalse
				l.status.Conditions[i].Reason = string(gatewayv1.ListenerReasonInvalid)
				l.status.Conditions[i].Message = msg
			}
		}
	}
}

// gatewayStatus records a Gateway's conditions; listener statuses are
// shared pointers, so attachedRoutes counted later shows up here.
func (t *translator) gatewayStatus(gw *gatewayv1.Gateway) {
	st := GatewayStatus{Gateway: types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}, Generation: gw.Generation}
	valid := 0
	for _, l := range t.listeners {
		if l.gw == gw && l.valid {
			valid++
		}
	}
	accReason, accMsg := string(gatewayv1.GatewayReasonAccepted), "gateway accepted"
	if valid < len(gw.Spec.Listeners) {
		accReason, accMsg = string(gatewayv1.GatewayReasonListenersNotValid), fmt.Sprintf("%d of %d listeners are invalid", len(gw.Spec.Listeners)-valid, len(gw.Spec.Listeners))
	}
	st.Status.Conditions = []metav1.Condition{
		// Some invalid listeners leave the Gateway Accepted (True,
		// ListenersNotValid); none valid means nothing of it can be
		// configured, and the Gateway is not Accepted.
		t.cond(string(gatewayv1.GatewayConditionAccepted), accReason, valid > 0, gw.Generation, accMsg),
		t.cond(string(gatewayv1.GatewayConditionProgrammed), string(gatewayv1.GatewayReasonProgrammed), valid > 0, gw.Generation, fmt.Sprintf("%d listeners programmed", valid)),
	}
	if valid == 0 {
		st.Status.Conditions[1].Reason = string(gatewayv1.GatewayReasonInvalid)
	}
	if msg, ok := t.rejected[gw]; ok {
		st.Status.Conditions = []metav1.Condition{
			t.cond(string(gatewayv1.GatewayConditionAccepted), string(gatewayv1.GatewayReasonUnsupportedAddress), false, gw.Generation, msg),
			t.cond(string(gatewayv1.GatewayConditionProgrammed), string(gatewayv1.GatewayReasonInvalid), false, gw.Generation, "the Gateway is not accepted"),
		}
	}
	t.res.Gateways = append(t.res.Gateways, st)
}

// unsupportedAddresses explains why refproxy cannot honour gw's
// spec.addresses, or returns "". refproxy's address comes from where it is
// deployed (its Service's load balancer), so it can take an IPAddress
// entry without a value ("any address") but not a chosen address or
// another address type.
func unsupportedAddresses(gw *gatewayv1.Gateway) string {
	for i, a := range gw.Spec.Addresses {
		typ := gatewayv1.IPAddressType
		if a.Type != nil {
			typ = *a.Type
		}
		switch {
		case typ != gatewayv1.IPAddressType:
			return fmt.Sprintf("spec.addresses[%d]: address type %q is not supported: expected IPAddress", i, typ)
		case a.Value != "":
			return fmt.Sprintf("spec.addresses[%d]: static address %q is not supported: refproxy's address is assigned by its Service's load balancer; leave value empty", i, a.Value)
		}
	}
	return ""
}

// listenerStatuses copies the (now complete) listener statuses into the results.
func (t *translator) listenerStatuses() {
	for i := range t.res.Gateways {
		g := &t.res.Gateways[i]
		g.Status.Listeners = nil
		for _, l := range t.listeners {
			if l.gw.Namespace == g.Gateway.Namespace && l.gw.Name == g.Gateway.Name {
				g.Status.Listeners = append(g.Status.Listeners, *l.status)
			}
		}
	}
}

// allows reports whether listener l admits routes from namespace ns.
func (t *translator) allows(l *listener, routeNS string) bool {
	from := gatewayv1.NamespacesFromSame
	var sel *metav1.LabelSelector
	if ar := l.spec.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != nil {
			from = *ar.Namespaces.From
		}
		sel = ar.Namespaces.Selector
	}
	switch from {
	case gatewayv1.NamespacesFromAll:
		return true
	case gatewayv1.NamespacesFromSelector:
		if sel == nil {
			return false
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return false
		}
		return s.Matches(labels.Set(t.idx.namespaceLabels(routeNS)))
	case gatewayv1.NamespacesFromNone:
		return false
	default:
		return routeNS == l.gw.Namespace
	}
}
