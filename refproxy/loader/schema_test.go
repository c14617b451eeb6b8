package loader

import (
	"fmt"
	"strings"
	"testing"
)

// routeDoc is an HTTPRoute whose one rule is rule (indented under "rules:").
func routeDoc(meta, spec string) string {
	return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {" + meta + "}\nspec:\n" + spec
}

func manyRefs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "    - {name: s%d, port: 80}\n", i)
	}
	return b.String()
}

// TestSchema covers the CRD and API server rules the loader enforces: each
// case is one violation, reported at its line with its field path.
func TestSchema(t *testing.T) {
	const rule = "  parentRefs: [{name: gw}]\n  rules:\n  - backendRefs:\n    - name: a\n      port: 80\n"
	tests := []struct {
		name      string
		doc       string
		wantLine  int
		wantField string
		wantMsg   string
	}{
		{"weight -1", routeDoc("name: r", rule+"      weight: -1\n"), 10, "spec.rules[0].backendRefs[0].weight", "must be between 0 and 1000000, inclusive"},
		{"weight 1,000,001", routeDoc("name: r", rule+"      weight: 1000001\n"), 10, "spec.rules[0].backendRefs[0].weight", "must be between 0 and 1000000"},
		{"17 backendRefs", routeDoc("name: r", "  rules:\n  - backendRefs:\n"+manyRefs(17)), 7, "spec.rules[0].backendRefs", "must have at most 16 items"},
		{"path without /", routeDoc("name: r", "  rules:\n  - matches:\n    - path: {type: PathPrefix, value: api}\n"), 7, "spec.rules[0].matches[0].path.value", "must be an absolute path and start with '/'"},
		{"exact path with //", routeDoc("name: r", "  rules:\n  - matches:\n    - path: {type: Exact, value: /a//b}\n"), 7, "spec.rules[0].matches[0].path.value", "must not contain '//'"},
		{"path type", routeDoc("name: r", "  rules:\n  - matches:\n    - path: {type: Prefix, value: /}\n"), 7, "spec.rules[0].matches[0].path.type", `Unsupported value: "Prefix"`},
		{"hostname with upper case", routeDoc("name: r", "  hostnames: [Traffic.Example]\n"), 5, "spec.hostnames[0]", "must be a lower-case DNS name"},
		{"hostname with a port", routeDoc("name: r", "  hostnames: [\"a.example:80\"]\n"), 5, "spec.hostnames[0]", "must be a lower-case DNS name"},
		{"object name", routeDoc("name: Bad_Name", rule), 3, "metadata.name", "a lowercase RFC 1123 subdomain"},
		{"namespace name", routeDoc("name: r, namespace: Team.A", rule), 3, "metadata.namespace", "a lowercase RFC 1123 label"},
		{"backend namespace", routeDoc("name: r", rule+"      namespace: -x\n"), 10, "spec.rules[0].backendRefs[0].namespace", "must be a DNS label"},
		{"Service backendRef without port", routeDoc("name: r", "  rules:\n  - backendRefs: [{name: a}]\n"), 6, "spec.rules[0].backendRefs[0].port", "must have port for Service reference"},
		{"backendRef port", routeDoc("name: r", "  rules:\n  - backendRefs: [{name: a, port: 0}]\n"), 6, "spec.rules[0].backendRefs[0].port", "must be between 1 and 65535"},
		{"parentRef port", routeDoc("name: r", "  parentRefs: [{name: gw, port: 70000}]\n"), 5, "spec.parentRefs[0].port", "must be between 1 and 65535"},
		{"17 rules", routeDoc("name: r", "  rules:\n"+strings.Repeat("  - {}\n", 17)), 6, "spec.rules", "must have at most 16 items"},
		{"header name", routeDoc("name: r", "  rules:\n  - matches:\n    - headers: [{name: \"a b\", value: x}]\n"), 7, "spec.rules[0].matches[0].headers[0].name", "an HTTP header name"},
		{"method", routeDoc("name: r", "  rules:\n  - matches:\n    - method: FETCH\n"), 7, "spec.rules[0].matches[0].method", `Unsupported value: "FETCH"`},
		{"filter without its member", routeDoc("name: r", "  rules:\n  - filters:\n    - type: RequestHeaderModifier\n"), 7, "spec.rules[0].filters[0].requestHeaderModifier", "must be specified for RequestHeaderModifier"},
		{"redirect with backendRefs", routeDoc("name: r", "  rules:\n  - filters: [{type: RequestRedirect, requestRedirect: {statusCode: 301}}]\n    backendRefs: [{name: a, port: 80}]\n"), 6, "spec.rules[0].filters", "must not be used together with backendRefs"},
		{"redirect status", routeDoc("name: r", "  rules:\n  - filters: [{type: RequestRedirect, requestRedirect: {statusCode: 300}}]\n"), 6, "spec.rules[0].filters[0].requestRedirect.statusCode", "Unsupported value: 300"},
		{"mirror percent", routeDoc("name: r", "  rules:\n  - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}, percent: 101}}]\n"), 6, "spec.rules[0].filters[0].requestMirror.percent", "must be between 0 and 100"},
		{"timeout format", routeDoc("name: r", "  rules:\n  - timeouts: {request: 10 seconds}\n"), 6, "spec.rules[0].timeouts.request", "must be a Gateway API duration"},
		{"backend timeout over request", routeDoc("name: r", "  rules:\n  - timeouts: {request: 1s, backendRequest: 2s}\n"), 6, "spec.rules[0].timeouts.backendRequest", "cannot be longer than request timeout"},
		{"listener port", "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  gatewayClassName: c\n  listeners:\n  - {name: http, port: 0, protocol: HTTP}\n", 7, "spec.listeners[0].port", "must be between 1 and 65535"},
		{"no listener", "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  gatewayClassName: c\n  listeners: []\n", 6, "spec.listeners", "must have at least 1 item"},
		{"listener names repeat", "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  gatewayClassName: c\n  listeners:\n  - {name: http, port: 80, protocol: HTTP}\n  - {name: http, port: 81, protocol: HTTP}\n", 8, "spec.listeners[1].name", `Duplicate value: "http"`},
		{"listener hostname", "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  gatewayClassName: c\n  listeners:\n  - {name: http, port: 80, protocol: HTTP, hostname: \"*\"}\n", 7, "spec.listeners[0].hostname", "must be a lower-case DNS name"},
		{"controllerName", "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: c}\nspec: {controllerName: refproxy}\n", 4, "spec.controllerName", "a domain-prefixed path"},
		{"ReferenceGrant without to", "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: a}]\n", 5, "spec.to", "Required value"},
		{"Service name", "apiVersion: v1\nkind: Service\nmetadata: {name: 1svc}\n", 3, "metadata.name", "a DNS-1035 label"},
		{"Service port", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 70000}]\n", 5, "spec.ports[0].port", "must be between 1 and 65535"},
		{"EndpointSlice address not an IP", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1}\naddressType: IPv4\nendpoints:\n- addresses: [not-an-ip]\n", 6, "endpoints[0].addresses[0]", "must be an IPv4 address"},
		{"EndpointSlice IPv6 in IPv4", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1}\naddressType: IPv4\nendpoints:\n- addresses: [\"::1\"]\n", 6, "endpoints[0].addresses[0]", "addressType is IPv4"},
		{"EndpointSlice address type", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1}\naddressType: IP\nendpoints: []\n", 4, "addressType", `Unsupported value: "IP"`},
		{"EndpointSlice without addresses", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1}\naddressType: IPv4\nendpoints:\n- addresses: []\n", 6, "endpoints[0].addresses", "must have at least 1 item"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := MustFail(t, Loader{}, tc.doc)
			e := errs[0]
			if len(errs) != 1 || e.Line != tc.wantLine || e.Field != tc.wantField || !strings.Contains(e.Err.Error(), tc.wantMsg) {
				t.Errorf("got %d errors, the first at line %d, field %q: %q\nwant one at line %d, field %q, containing %q",
					len(errs), e.Line, e.Field, e.Err, tc.wantLine, tc.wantField, tc.wantMsg)
			}
		})
	}
}

// TestSchemaAcceptsTheEdges loads values at the limits the schema allows.
func TestSchemaAcceptsTheEdges(t *testing.T) {
	for name, doc := range map[string]string{
		"weights 0 and 1000000": routeDoc("name: r", "  rules:\n  - backendRefs:\n    - {name: a, port: 80, weight: 0}\n    - {name: b, port: 80, weight: 1000000}\n"),
		"16 backendRefs":        routeDoc("name: r", "  rules:\n  - backendRefs:\n"+manyRefs(16)),
		"default path":          routeDoc("name: r", "  rules:\n  - matches: [{path: {type: PathPrefix}}]\n"),
		"regular expression":    routeDoc("name: r", "  rules:\n  - matches: [{path: {type: RegularExpression, value: \"v[0-9]+\"}}]\n"),
		"wildcard hostname":     routeDoc("name: r", "  hostnames: [\"*.example.com\"]\n"),
		"AgentgatewayBackend":   routeDoc("name: r", "  rules:\n  - backendRefs: [{group: agentgateway.dev, kind: AgentgatewayBackend, name: b}]\n"),
		"timeouts":              routeDoc("name: r", "  rules:\n  - timeouts: {request: 0s, backendRequest: 1h30m}\n"),
		"EndpointSlice IPv6":    "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1}\naddressType: IPv6\nendpoints:\n- addresses: [\"fd00::1\"]\n",
		"EndpointSlice FQDN":    "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1}\naddressType: FQDN\nendpoints:\n- addresses: [backend.example.com]\n",
	} {
		t.Run(name, func(t *testing.T) { MustDecode(t, Loader{}, doc) })
	}
}
