package proxy_test

import (
	"net/http"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

func headerFilter(set, add map[string]string, remove ...string) *gatewayv1.HTTPHeaderFilter {
	f := &gatewayv1.HTTPHeaderFilter{Remove: remove}
	for k, v := range set {
		f.Set = append(f.Set, gatewayv1.HTTPHeader{Name: gatewayv1.HTTPHeaderName(k), Value: v})
	}
	for k, v := range add {
		f.Add = append(f.Add, gatewayv1.HTTPHeader{Name: gatewayv1.HTTPHeaderName(k), Value: v})
	}
	return f
}

func TestHeaderModifiers(t *testing.T) {
	b := newNamed(t, "b")
	r := rule(t, picker.Random, 1, service("default/b:80", 1, b.endpoint()))
	r.Filters = []gatewayv1.HTTPRouteFilter{
		{Type: gatewayv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: headerFilter(
			map[string]string{"x-set": "rule"}, map[string]string{"X-Add": "rule"}, "x-remove")},
		{Type: gatewayv1.HTTPRouteFilterResponseHeaderModifier, ResponseHeaderModifier: headerFilter(
			map[string]string{"X-Backend": "hidden"}, map[string]string{"X-Resp-Add": "1"})},
	}
	// The backendRef's filters run after the rule's.
	r.Backends[0].Filters = []gatewayv1.HTTPRouteFilter{
		{Type: gatewayv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: headerFilter(
			nil, map[string]string{"X-Add": "backend"})},
	}
	_, front := MustProxy(t, table(entry("default/r", prefix("/"), r)), proxy.Options{})
	code, _, hdr := MustGet(t, front.Client(), front.URL+"/", http.Header{
		"X-Set":    {"client"},
		"X-Add":    {"client"},
		"X-Remove": {"client"},
	})
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	got := b.lastRequest().Header
	if v := got.Values("X-Set"); len(v) != 1 || v[0] != "rule" {
		t.Errorf("X-Set = %q, want [rule] (set replaces)", v)
	}
	if v := got.Values("X-Add"); len(v) != 3 || v[0] != "client" || v[1] != "rule" || v[2] != "backend" {
		t.Errorf("X-Add = %q, want [client rule backend] (add appends, rule then backendRef)", v)
	}
	if v := got.Get("X-Remove"); v != "" {
		t.Errorf("X-Remove = %q, want removed", v)
	}
	if v := hdr.Get("X-Backend"); v != "hidden" {
		t.Errorf("response X-Backend = %q, want the filter's value", v)
	}
	if v := hdr.Get("X-Resp-Add"); v != "1" {
		t.Errorf("response X-Resp-Add = %q", v)
	}
}

func TestRedirect(t *testing.T) {
	str := func(s string) *string { return &s }
	host := func(s string) *gatewayv1.PreciseHostname { h := gatewayv1.PreciseHostname(s); return &h }
	port := func(p int32) *gatewayv1.PortNumber { return &p }
	code := func(c int) *int { return &c }
	full := func(p string) *gatewayv1.HTTPPathModifier {
		return &gatewayv1.HTTPPathModifier{Type: gatewayv1.FullPathHTTPPathModifier, ReplaceFullPath: &p}
	}
	pre := func(p string) *gatewayv1.HTTPPathModifier {
		return &gatewayv1.HTTPPathModifier{Type: gatewayv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: &p}
	}
	for _, tc := range []struct {
		name     string
		f        gatewayv1.HTTPRequestRedirectFilter
		path     string
		wantCode int
		wantLoc  string
	}{
		{"defaults keep scheme, host and listener port 80", gatewayv1.HTTPRequestRedirectFilter{}, "/foo/bar?q=1", 302, "http://app.example/foo/bar?q=1"},
		{"scheme https implies 443, omitted", gatewayv1.HTTPRequestRedirectFilter{Scheme: str("https"), StatusCode: code(301)}, "/foo", 301, "https://app.example/foo"},
		{"scheme with explicit port", gatewayv1.HTTPRequestRedirectFilter{Scheme: str("https"), Port: port(8443)}, "/foo", 302, "https://app.example:8443/foo"},
		{"port only keeps scheme", gatewayv1.HTTPRequestRedirectFilter{Port: port(8080)}, "/foo", 302, "http://app.example:8080/foo"},
		{"http scheme on port 443 keeps the port", gatewayv1.HTTPRequestRedirectFilter{Scheme: str("http"), Port: port(443)}, "/foo", 302, "http://app.example:443/foo"},
		{"hostname", gatewayv1.HTTPRequestRedirectFilter{Hostname: host("other.example")}, "/foo", 302, "http://other.example/foo"},
		{"full path", gatewayv1.HTTPRequestRedirectFilter{Path: full("/new")}, "/foo/bar", 302, "http://app.example/new"},
		{"prefix", gatewayv1.HTTPRequestRedirectFilter{Path: pre("/bar")}, "/foo/baz", 302, "http://app.example/bar/baz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newNamed(t, "b")
			r := rule(t, picker.Random, 1, service("default/b:80", 1, b.endpoint()))
			f := tc.f
			r.Filters = []gatewayv1.HTTPRouteFilter{{Type: gatewayv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &f}}
			_, front := MustProxy(t, table(entry("default/r", prefix("/foo"), r)), proxy.Options{})
			gotCode, _, hdr := MustGet(t, noRedirect(), front.URL+tc.path, http.Header{"Host": {"app.example:80"}})
			if gotCode != tc.wantCode || hdr.Get("Location") != tc.wantLoc {
				t.Errorf("got %d %q, want %d %q", gotCode, hdr.Get("Location"), tc.wantCode, tc.wantLoc)
			}
			if b.lastRequest() != nil {
				t.Error("a redirect reached the backend")
			}
		})
	}
}

func TestRedirectWithoutBackendRefs(t *testing.T) {
	r := &route.Rule{ID: "default/r/0", Filters: []gatewayv1.HTTPRouteFilter{{
		Type: gatewayv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gatewayv1.HTTPRequestRedirectFilter{},
	}}}
	_, front := MustProxy(t, table(entry("default/r", prefix("/"), r)), proxy.Options{})
	code, _, hdr := MustGet(t, noRedirect(), front.URL+"/x", http.Header{"Host": {"app.example"}})
	if code != 302 || hdr.Get("Location") != "http://app.example/x" {
		t.Errorf("got %d %q", code, hdr.Get("Location"))
	}
}

func TestURLRewrite(t *testing.T) {
	str := func(s string) *string { return &s }
	host := gatewayv1.PreciseHostname("rewritten.example")
	for _, tc := range []struct {
		name      string
		match     string
		f         gatewayv1.HTTPURLRewriteFilter
		path      string
		wantPath  string
		wantHost  string
		wantXFHst string
	}{
		{"hostname", "/", gatewayv1.HTTPURLRewriteFilter{Hostname: &host}, "/a", "/a", "rewritten.example", "app.example"},
		{"full path", "/foo", gatewayv1.HTTPURLRewriteFilter{Path: &gatewayv1.HTTPPathModifier{
			Type: gatewayv1.FullPathHTTPPathModifier, ReplaceFullPath: str("/full")}}, "/foo/bar", "/full", "app.example", "app.example"},
		{"prefix", "/foo", gatewayv1.HTTPURLRewriteFilter{Path: &gatewayv1.HTTPPathModifier{
			Type: gatewayv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: str("/xyz")}}, "/foo/bar", "/xyz/bar", "app.example", "app.example"},
		{"prefix stripped", "/foo/", gatewayv1.HTTPURLRewriteFilter{Path: &gatewayv1.HTTPPathModifier{
			Type: gatewayv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: str("/")}}, "/foo", "/", "app.example", "app.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newNamed(t, "b")
			r := rule(t, picker.Random, 1, service("default/b:80", 1, b.endpoint()))
			f := tc.f
			r.Filters = []gatewayv1.HTTPRouteFilter{{Type: gatewayv1.HTTPRouteFilterURLRewrite, URLRewrite: &f}}
			_, front := MustProxy(t, table(entry("default/r", prefix(tc.match), r)), proxy.Options{})
			code, _, _ := MustGet(t, front.Client(), front.URL+tc.path, http.Header{"Host": {"app.example"}})
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			got := b.lastRequest()
			if got.URL.Path != tc.wantPath || got.Host != tc.wantHost {
				t.Errorf("backend saw %s %s, want %s %s", got.Host, got.URL.Path, tc.wantHost, tc.wantPath)
			}
			if v := got.Header.Get("X-Forwarded-Host"); v != tc.wantXFHst {
				t.Errorf("X-Forwarded-Host %q, want the client's %q", v, tc.wantXFHst)
			}
		})
	}
}
