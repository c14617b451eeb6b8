package translate

import (
	"net/http/httptest"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestLookupPrecedence sends requests through the table translated from
// testdata/valid-precedence.yaml and checks which (route, rule, match) serves
// each: hostname specificity first, then the spec's match precedence.
func TestLookupPrecedence(t *testing.T) {
	res := mustTranslate(t, mustLoad(t, "testdata/valid-precedence.yaml"))
	tests := []struct {
		name    string
		port    int32
		method  string
		target  string
		host    string
		headers map[string]string
		want    string // route/rule/match, or "" for 404
	}{
		{"exact beats prefix", 80, "GET", "/login", "foo.example.com", nil, "default/b-exact-host/1/0"},
		{"exact needs the whole path", 80, "GET", "/login/x", "foo.example.com", nil, "default/b-exact-host/0/0"},
		{"method match", 80, "POST", "/api/v2/x", "foo.example.com", nil, "default/b-exact-host/1/1"},
		{"headers", 80, "GET", "/api/v2", "foo.example.com", map[string]string{"X-Canary": "yes", "X-User": "alice"}, "default/b-exact-host/1/2"},
		{"header regexp must match", 80, "GET", "/api/v2", "foo.example.com", map[string]string{"X-Canary": "yes", "X-User": "bob"}, "default/b-exact-host/0/0"},
		{"query", 80, "GET", "/api/v2?debug=1", "foo.example.com", nil, "default/b-exact-host/1/3"},
		{"query first value only", 80, "GET", "/api/v2?debug=0&debug=1", "foo.example.com", nil, "default/b-exact-host/0/0"},
		{"method beats headers", 80, "POST", "/api/v2?debug=1", "foo.example.com", map[string]string{"X-Canary": "yes", "X-User": "a"}, "default/b-exact-host/1/1"},
		{"regexp before prefix", 80, "GET", "/items/42", "foo.example.com", nil, "default/b-exact-host/1/4"},
		{"regexp is anchored", 80, "GET", "/items/42x", "foo.example.com", nil, "default/b-exact-host/0/0"},
		{"prefix is element-wise", 80, "GET", "/api/v2x", "foo.example.com", nil, "default/b-exact-host/0/0"},
		{"host port ignored, case folded", 80, "GET", "/login", "FOO.example.com:80", nil, "default/b-exact-host/1/0"},
		{"wildcard host", 80, "GET", "/anything", "bar.example.com", nil, "default/a-wildcard/0/0"},
		{"wildcard spans labels", 80, "GET", "/", "a.b.example.com", nil, "default/a-wildcard/0/0"},
		{"wildcard excludes the bare domain", 80, "GET", "/api", "example.com", nil, "default/c-any-host/0/0"},
		{"exact other host of wildcard route", 80, "GET", "/", "other.example.net", nil, "default/a-wildcard/0/0"},
		{"any host: first rule wins a tie", 80, "GET", "/api/x", "unknown.test", nil, "default/c-any-host/0/0"},
		{"no match is 404", 80, "GET", "/nothing", "unknown.test", nil, ""},
		{"listener hostname narrows", 8080, "GET", "/", "other.example.net", nil, ""},
		{"listener wildcard", 8080, "GET", "/", "x.example.com", nil, "default/a-wildcard/0/0"},
		{"unknown port", 9999, "GET", "/", "x.example.com", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://"+tt.host+tt.target, nil)
			r.Host = tt.host
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			e := res.Table.Lookup(tt.port, r)
			got := ""
			if e != nil {
				got = e.Route + "/" + itoa(e.RuleIndex) + "/" + itoa(e.MatchIndex)
			}
			if got != tt.want {
				t.Fatalf("Lookup(%d %s %s host %s) = %q, want %q", tt.port, tt.method, tt.target, tt.host, got, tt.want)
			}
		})
	}
}

func TestIntersect(t *testing.T) {
	tests := []struct {
		listener string
		route    []gatewayv1.Hostname
		want     []string
	}{
		{"", nil, []string{"*"}},
		{"a.example.com", nil, []string{"a.example.com"}},
		{"", []gatewayv1.Hostname{"a.example.com", "*.b.com"}, []string{"a.example.com", "*.b.com"}},
		{"a.example.com", []gatewayv1.Hostname{"*.example.com"}, []string{"a.example.com"}},
		{"a.example.com", []gatewayv1.Hostname{"b.example.com"}, nil},
		{"*.example.com", []gatewayv1.Hostname{"a.example.com", "x.y.example.com", "example.com", "a.example.net"}, []string{"a.example.com", "x.y.example.com"}},
		{"*.example.com", []gatewayv1.Hostname{"*.foo.example.com"}, []string{"*.foo.example.com"}},
		{"*.foo.example.com", []gatewayv1.Hostname{"*.example.com"}, []string{"*.foo.example.com"}},
		{"*.example.com", []gatewayv1.Hostname{"*.example.com"}, []string{"*.example.com"}},
		{"*.example.com", []gatewayv1.Hostname{"*.example.net"}, nil},
		{"A.Example.com", []gatewayv1.Hostname{"a.example.com"}, nil}, // listener hostnames are lower-cased before intersect
	}
	for _, tt := range tests {
		got := intersect(tt.listener, tt.route)
		if len(got) != len(tt.want) {
			t.Errorf("intersect(%q, %v) = %v, want %v", tt.listener, tt.route, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("intersect(%q, %v) = %v, want %v", tt.listener, tt.route, got, tt.want)
			}
		}
	}
}

// TestLookupListenerIsolation: with nested listener hostnames on one port,
// the most specific listener matching the request's host decides, and only
// the routes attached through it can answer (testdata/valid-listener-isolation.yaml).
func TestLookupListenerIsolation(t *testing.T) {
	res := mustTranslate(t, mustLoad(t, "testdata/valid-listener-isolation.yaml"))
	tests := []struct {
		host, path string
		want       string // route, or "" for 404
	}{
		{"bar.com", "/any", "infra/via-any"},
		{"bar.com", "/wild", ""}, // bar.com is outside *.example.com
		{"bar.example.com", "/wild", "infra/via-wild"},
		{"bar.example.com", "/any", ""}, // owned by the *.example.com listener
		{"bar.foo.example.com", "/wildfoo", "infra/via-wildfoo"},
		{"bar.foo.example.com", "/wild", ""},
		{"bar.foo.example.com", "/any", ""},
		{"abc.foo.example.com", "/abc", "infra/via-abc"},
		{"abc.foo.example.com", "/wildfoo", ""},
		{"abc.foo.example.com", "/wild", ""},
		{"abc.foo.example.com", "/any", ""},
		{"unrelated.test", "/any", ""}, // the catch-all listener, but no route hostname matches
	}
	for _, tt := range tests {
		t.Run(tt.host+tt.path, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://"+tt.host+tt.path, nil)
			got := ""
			if e := res.Table.Lookup(80, r); e != nil {
				got = e.Route
			}
			if got != tt.want {
				t.Errorf("Lookup(%s%s) = %q, want %q", tt.host, tt.path, got, tt.want)
			}
		})
	}
}
