package translate

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/route"
)

// routes attaches every HTTPRoute to the listeners it may use.
func (t *translator) routes() {
	t.vhosts = map[int32]map[vhostKey]*route.VirtualHost{}
	rs := make([]*gatewayv1.HTTPRoute, 0, len(t.idx.set.HTTPRoutes))
	for i := range t.idx.set.HTTPRoutes {
		rs = append(rs, &t.idx.set.HTTPRoutes[i])
	}
	sort.Slice(rs, func(i, j int) bool { return nn(rs[i].Namespace, rs[i].Name) < nn(rs[j].Namespace, rs[j].Name) })
	for _, r := range rs {
		t.route(r)
	}
}

func (t *translator) route(r *gatewayv1.HTTPRoute) {
	id := nn(r.Namespace, r.Name)
	gen := r.Generation
	st := RouteStatus{Route: types.NamespacedName{Namespace: r.Namespace, Name: r.Name}, Generation: gen, Parents: []gatewayv1.RouteParentStatus{}}

	// Rules and backends do not depend on the parent: compile them once so a
	// route attached to several listeners shares one picker per rule.
	rules, ruleErr := t.compileRules(r)
	resolved := t.resolvedRefs(r, rules)

	for _, pref := range r.Spec.ParentRefs {
		group, kind := gatewayv1.GroupName, kindGateway
		if pref.Group != nil {
			group = string(*pref.Group)
		}
		if pref.Kind != nil {
			kind = string(*pref.Kind)
		}
		if group != gatewayv1.GroupName || kind != kindGateway {
			t.warnf("HTTPRoute %s: parentRef %s/%s %s is not a Gateway; ignored", id, group, kind, pref.Name)
			continue
		}
		ns := r.Namespace
		if pref.Namespace != nil {
			ns = string(*pref.Namespace)
		}
		gw := t.gateway(ns, string(pref.Name))
		if gw == nil {
			t.warnf("HTTPRoute %s: parentRef Gateway %s/%s is not served here (not found, or of another GatewayClass)", id, ns, pref.Name)
			continue
		}
		ps := gatewayv1.RouteParentStatus{ParentRef: pref, ControllerName: gatewayv1.GatewayController(t.opts.ControllerName)}
		accepted := t.attach(r, pref, gw, rules, ruleErr)
		ps.Conditions = []metav1.Condition{accepted, resolved}
		st.Parents = append(st.Parents, ps)
	}
	t.res.Routes = append(t.res.Routes, st)
}

func (t *translator) gateway(ns, name string) *gatewayv1.Gateway {
	for _, l := range t.listeners {
		if l.gw.Namespace == ns && l.gw.Name == name {
			return l.gw
		}
	}
	for i := range t.idx.set.Gateways {
		g := &t.idx.set.Gateways[i]
		if g.Namespace == ns && g.Name == name && t.served(g) {
			return g
		}
	}
	return nil
}

// attach binds the route's rules to the matching listeners of gw and returns
// the parent's Accepted condition.
func (t *translator) attach(r *gatewayv1.HTTPRoute, pref gatewayv1.ParentReference, gw *gatewayv1.Gateway, rules []*compiledRule, ruleErr error) metav1.Condition {
	gen := r.Generation
	typ := string(gatewayv1.RouteConditionAccepted)
	if ruleErr != nil {
		return t.cond(typ, string(gatewayv1.RouteReasonUnsupportedValue), false, gen, ruleErr.Error())
	}
	var candidates []*listener
	for _, l := range t.listeners {
		if l.gw != gw {
			continue
		}
		if pref.SectionName != nil && string(*pref.SectionName) != string(l.spec.Name) {
			continue
		}
		if pref.Port != nil && int32(*pref.Port) != l.port {
			continue
		}
		candidates = append(candidates, l)
	}
	if len(candidates) == 0 {
		return t.cond(typ, string(gatewayv1.RouteReasonNoMatchingParent), false, gen, "no listener matches the parentRef's sectionName and port")
	}
	allowed, attached := 0, 0
	for _, l := range candidates {
		if !l.allowsHTTPRoute || !t.allows(l, r.Namespace) {
			continue
		}
		allowed++
		hosts := intersect(l.hostname, r.Spec.Hostnames)
		if len(hosts) == 0 {
			continue
		}
		attached++
		l.status.AttachedRoutes++
		if !l.valid {
			continue
		}
		for _, h := range hosts {
			t.addEntries(l.port, listenerHost(l.hostname), h, r, rules)
		}
	}
	switch {
	case allowed == 0:
		return t.cond(typ, string(gatewayv1.RouteReasonNotAllowedByListeners), false, gen, "no listener allows routes of this kind from this namespace")
	case attached == 0:
		return t.cond(typ, string(gatewayv1.RouteReasonNoMatchingListenerHostname), false, gen, "no listener hostname intersects the route's hostnames")
	}
	return t.cond(typ, string(gatewayv1.RouteReasonAccepted), true, gen, fmt.Sprintf("attached to %d listeners", attached))
}

// intersect returns the hostnames a route serves on a listener: "*" for any.
func intersect(listenerHost string, routeHosts []gatewayv1.Hostname) []string {
	if len(routeHosts) == 0 {
		if listenerHost == "" {
			return []string{"*"}
		}
		return []string{listenerHost}
	}
	var out []string
	seen := map[string]bool{}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, rh := range routeHosts {
		h := strings.ToLower(string(rh))
		lw, rw := strings.HasPrefix(listenerHost, "*."), strings.HasPrefix(h, "*.")
		switch {
		case listenerHost == "":
			add(h)
		case !rw && route.HostnameMatches(listenerHost, h):
			add(h) // the route's exact name fits the listener (exact or wildcard)
		case rw && !lw && route.HostnameMatches(h, listenerHost):
			add(listenerHost) // a wildcard route narrowed to the listener's exact name
		case rw && lw:
			// Both wildcards: the narrower one, if one contains the other.
			if h == listenerHost || route.HostnameMatches(listenerHost, h[2:]) {
				add(h)
			} else if route.HostnameMatches(h, listenerHost[2:]) {
				add(listenerHost)
			}
		}
	}
	return out
}

// compiledRule is a rule with its matches compiled and backends resolved.
type compiledRule struct {
	rule    *route.Rule
	matches []route.Match
	// unresolved holds the ResolvedRefs failures of its backendRefs.
	unresolved []unresolved
}

type unresolved struct{ reason, message string }

func (t *translator) compileRules(r *gatewayv1.HTTPRoute) ([]*compiledRule, error) {
	var out []*compiledRule
	for ri := range r.Spec.Rules {
		spec := &r.Spec.Rules[ri]
		ruleID := fmt.Sprintf("%s/%s/%d", r.Namespace, r.Name, ri)
		cr := &compiledRule{rule: &route.Rule{ID: ruleID, Filters: spec.Filters, Timeouts: spec.Timeouts}}
		if err := checkFilters(spec.Filters, true); err != nil {
			return nil, fmt.Errorf("rules[%d]: %w", ri, err)
		}
		for fi := range spec.Filters {
			if m := spec.Filters[fi].RequestMirror; spec.Filters[fi].Type == gatewayv1.HTTPRouteFilterRequestMirror && m != nil {
				mb := t.backend(r, &gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{BackendObjectReference: m.BackendRef}})
				where := fmt.Sprintf("rules[%d].filters[%d].requestMirror.backendRef", ri, fi)
				switch mb.Kind {
				case route.KindInvalid:
					cr.unresolved = append(cr.unresolved, unresolved{mb.Reason, where + ": " + mb.Message})
				case route.KindService:
					if pct := mirrorPercent(m); pct > 0 {
						mi := &route.Mirror{Backend: mb, Percent: pct}
						if pct < 100 {
							// Parts per million: the finest share the
							// picker's weight limit allows.
							yes := int32(math.Round(pct * 10_000))
							draw, err := picker.New(t.opts.PickMode, []int32{yes, picker.MaxWeight - yes}, ruleSeed(t.opts.Seed, fmt.Sprintf("%s/mirror/%d", ruleID, fi)))
							if err != nil {
								return nil, fmt.Errorf("%s: %w", where, err)
							}
							mi.Draw = draw
						}
						cr.rule.Mirrors = append(cr.rule.Mirrors, mi)
					}
				default:
					cr.unresolved = append(cr.unresolved, unresolved{string(gatewayv1.RouteReasonInvalidKind), where + ": only a Service can be mirrored to"})
				}
			}
		}
		matches := spec.Matches
		if len(matches) == 0 {
			matches = []gatewayv1.HTTPRouteMatch{{}}
		}
		for mi := range matches {
			m, err := compileMatch(&matches[mi])
			if err != nil {
				return nil, fmt.Errorf("rules[%d].matches[%d]: %w", ri, mi, err)
			}
			cr.matches = append(cr.matches, m)
		}
		weights := make([]int32, 0, len(spec.BackendRefs))
		for bi := range spec.BackendRefs {
			b := t.backend(r, &spec.BackendRefs[bi])
			if err := checkFilters(spec.BackendRefs[bi].Filters, false); err != nil {
				return nil, fmt.Errorf("rules[%d].backendRefs[%d]: %w", ri, bi, err)
			}
			if b.Kind == route.KindInvalid {
				cr.unresolved = append(cr.unresolved, unresolved{b.Reason, fmt.Sprintf("rules[%d].backendRefs[%d]: %s", ri, bi, b.Message)})
			}
			cr.rule.Backends = append(cr.rule.Backends, b)
			weights = append(weights, b.Weight)
		}
		if len(weights) > 0 {
			p, err := picker.New(t.opts.PickMode, weights, ruleSeed(t.opts.Seed, ruleID))
			if err != nil {
				return nil, fmt.Errorf("rules[%d].backendRefs: %w", ri, err)
			}
			cr.rule.Picker = p
		}
		out = append(out, cr)
	}
	return out, nil
}

// resolvedRefs is the route's ResolvedRefs condition: the first failure's
// reason, every failure in the message.
func (t *translator) resolvedRefs(r *gatewayv1.HTTPRoute, rules []*compiledRule) metav1.Condition {
	var reason string
	var msgs []string
	for _, cr := range rules {
		for _, u := range cr.unresolved {
			if reason == "" {
				reason = u.reason
			}
			msgs = append(msgs, u.message)
		}
	}
	if reason == "" {
		return t.cond(string(gatewayv1.RouteConditionResolvedRefs), string(gatewayv1.RouteReasonResolvedRefs), true, r.Generation, "all references resolved")
	}
	return t.cond(string(gatewayv1.RouteConditionResolvedRefs), reason, false, r.Generation, strings.Join(msgs, "; "))
}

var supportedFilters = map[gatewayv1.HTTPRouteFilterType]bool{
	gatewayv1.HTTPRouteFilterRequestHeaderModifier:  true,
	gatewayv1.HTTPRouteFilterResponseHeaderModifier: true,
	gatewayv1.HTTPRouteFilterRequestRedirect:        true,
	gatewayv1.HTTPRouteFilterURLRewrite:             true,
	gatewayv1.HTTPRouteFilterRequestMirror:          true,
	gatewayv1.HTTPRouteFilterCORS:                   true,
}

// ruleOnlyFilters act before the weighted pick, so a backendRef cannot carry them.
var ruleOnlyFilters = map[gatewayv1.HTTPRouteFilterType]bool{
	gatewayv1.HTTPRouteFilterRequestMirror: true,
	gatewayv1.HTTPRouteFilterCORS:          true,
}

// checkFilters refuses the filter types refproxy does not implement, and
// RequestMirror and CORS on a backendRef.
func checkFilters(fs []gatewayv1.HTTPRouteFilter, rule bool) error {
	for i, f := range fs {
		if !supportedFilters[f.Type] || (!rule && ruleOnlyFilters[f.Type]) {
			where := "rule"
			if !rule {
				where = "backendRef"
			}
			return fmt.Errorf("filters[%d]: filter type %q is not supported on a %s: expected RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, URLRewrite or (on a rule) RequestMirror or CORS", i, f.Type, where)
		}
	}
	return nil
}

// mirrorPercent is the share of requests a RequestMirror copies, in percent:
// percent, else fraction (denominator 100 when unset), else all.
func mirrorPercent(m *gatewayv1.HTTPRequestMirrorFilter) float64 {
	switch {
	case m.Percent != nil:
		return float64(*m.Percent)
	case m.Fraction != nil:
		den := int32(100)
		if m.Fraction.Denominator != nil {
			den = *m.Fraction.Denominator
		}
		if den <= 0 {
			return 0
		}
		return 100 * float64(m.Fraction.Numerator) / float64(den)
	}
	return 100
}

func compileMatch(m *gatewayv1.HTTPRouteMatch) (route.Match, error) {
	out := route.Match{PathType: gatewayv1.PathMatchPathPrefix, PathValue: "/"}
	if m.Path != nil {
		if m.Path.Type != nil {
			out.PathType = *m.Path.Type
		}
		if m.Path.Value != nil {
			out.PathValue = *m.Path.Value
		}
	}
	switch out.PathType {
	case gatewayv1.PathMatchExact, gatewayv1.PathMatchPathPrefix:
		if !strings.HasPrefix(out.PathValue, "/") {
			return out, fmt.Errorf("path.value %q must start with \"/\"", out.PathValue)
		}
	case gatewayv1.PathMatchRegularExpression:
		re, err := regexp.Compile("^(?:" + out.PathValue + ")$")
		if err != nil {
			return out, fmt.Errorf("path.value %q is not a valid regular expression: %w", out.PathValue, err)
		}
		out.PathRegexp = re
	default:
		return out, fmt.Errorf("path.type %q is not supported: expected Exact, PathPrefix or RegularExpression", out.PathType)
	}
	if m.Method != nil {
		out.Method = string(*m.Method)
	}
	for i, h := range m.Headers {
		hm := route.HeaderMatch{Name: http.CanonicalHeaderKey(string(h.Name)), Value: h.Value}
		if h.Type != nil && *h.Type == gatewayv1.HeaderMatchRegularExpression {
			re, err := regexp.Compile(h.Value)
			if err != nil {
				return out, fmt.Errorf("headers[%d].value %q is not a valid regular expression: %w", i, h.Value, err)
			}
			hm.Regexp = re
		}
		out.Headers = append(out.Headers, hm)
	}
	for i, q := range m.QueryParams {
		qm := route.QueryParamMatch{Name: string(q.Name), Value: q.Value}
		if q.Type != nil && *q.Type == gatewayv1.QueryParamMatchRegularExpression {
			re, err := regexp.Compile(q.Value)
			if err != nil {
				return out, fmt.Errorf("queryParams[%d].value %q is not a valid regular expression: %w", i, q.Value, err)
			}
			qm.Regexp = re
		}
		out.Query = append(out.Query, qm)
	}
	return out, nil
}

// listenerHost is a listener hostname as route.Port.ListenerHosts holds it.
func listenerHost(h string) string {
	if h == "" {
		return "*"
	}
	return h
}

// addEntries adds the route's (rule, match) pairs to the virtual host of
// hostname host under the listener hostname listener.
func (t *translator) addEntries(port int32, listener, host string, r *gatewayv1.HTTPRoute, rules []*compiledRule) {
	hosts := t.vhosts[port]
	if hosts == nil {
		hosts = map[vhostKey]*route.VirtualHost{}
		t.vhosts[port] = hosts
	}
	key := vhostKey{listener: listener, host: host}
	vh := hosts[key]
	if vh == nil {
		vh = &route.VirtualHost{Hostname: host, Listener: listener}
		hosts[key] = vh
	}
	id := nn(r.Namespace, r.Name)
	for ri, cr := range rules {
		for mi := range cr.matches {
			dup := false
			for _, e := range vh.Entries {
				if e.Route == id && e.RuleIndex == ri && e.MatchIndex == mi {
					dup = true // attached through two listeners of the same port and host
					break
				}
			}
			if dup {
				continue
			}
			vh.Entries = append(vh.Entries, &route.Entry{
				Route: id, RuleIndex: ri, MatchIndex: mi,
				Match: cr.matches[mi], Rule: cr.rule,
				Created: r.CreationTimestamp.Time,
			})
		}
	}
}
