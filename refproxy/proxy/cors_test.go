package proxy_test

import (
	"net/http"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
)

func corsFilter(f gatewayv1.HTTPCORSFilter) gatewayv1.HTTPRouteFilter {
	return gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterCORS, CORS: &f}
}

// TestCORS covers preflights answered by the proxy and actual requests
// passed to the backend with CORS headers added, for exact, wildcard-host
// and "*" origins, with and without credentials.
func TestCORS(t *testing.T) {
	b := newNamed(t, "b")
	strict := rule(t, picker.Random, 1, service("default/b:80", 1, b.endpoint()))
	strict.Filters = []gatewayv1.HTTPRouteFilter{corsFilter(gatewayv1.HTTPCORSFilter{
		AllowOrigins:     []gatewayv1.CORSOrigin{"https://app.example", "https://*.shop.example", "http://dev.example:8080"},
		AllowMethods:     []gatewayv1.HTTPMethodWithWildcard{"GET", "PUT"},
		AllowHeaders:     []gatewayv1.HTTPHeaderName{"x-a", "x-b"},
		ExposeHeaders:    []gatewayv1.HTTPHeaderName{"x-total"},
		AllowCredentials: new(true),
		MaxAge:           600,
	})}
	open := rule(t, picker.Random, 1, service("default/b:80", 1, b.endpoint()))
	open.Filters = []gatewayv1.HTTPRouteFilter{corsFilter(gatewayv1.HTTPCORSFilter{
		AllowOrigins:     []gatewayv1.CORSOrigin{"*"},
		AllowMethods:     []gatewayv1.HTTPMethodWithWildcard{"*"},
		AllowHeaders:     []gatewayv1.HTTPHeaderName{"*"},
		AllowCredentials: new(true),
	})}
	_, front := MustProxy(t, table(entry("default/strict", prefix("/strict"), strict), entry("default/open", prefix("/open"), open)), proxy.Options{})

	type want struct {
		status  int
		backend bool              // the backend saw the request
		headers map[string]string // "" = absent
	}
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		want    want
	}{
		{"preflight, exact origin", "OPTIONS", "/strict", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-a"},
			want{204, false, map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": "GET, PUT", "Access-Control-Allow-Headers": "x-a, x-b", "Access-Control-Expose-Headers": "x-total", "Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "600"}}},
		{"preflight, wildcard host spans labels", "OPTIONS", "/strict", map[string]string{"Origin": "https://eu.www.shop.example", "Access-Control-Request-Method": "GET"},
			want{204, false, map[string]string{"Access-Control-Allow-Origin": "https://eu.www.shop.example"}}},
		{"preflight, wildcard excludes the bare domain", "OPTIONS", "/strict", map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
			want{204, false, map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""}}},
		{"preflight, scheme must match", "OPTIONS", "/strict", map[string]string{"Origin": "http://app.example", "Access-Control-Request-Method": "GET"},
			want{204, false, map[string]string{"Access-Control-Allow-Origin": ""}}},
		{"preflight, explicit port", "OPTIONS", "/strict", map[string]string{"Origin": "http://dev.example:8080", "Access-Control-Request-Method": "GET"},
			want{204, false, map[string]string{"Access-Control-Allow-Origin": "http://dev.example:8080"}}},
		{"preflight, default port is 443 for https", "OPTIONS", "/strict", map[string]string{"Origin": "https://app.example:443", "Access-Control-Request-Method": "GET"},
			want{204, false, map[string]string{"Access-Control-Allow-Origin": "https://app.example:443"}}},
		{"actual request, allowed origin", "GET", "/strict", map[string]string{"Origin": "https://app.example"},
			want{200, true, map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "x-total", "Access-Control-Allow-Methods": ""}}},
		{"actual request, other origin", "GET", "/strict", map[string]string{"Origin": "https://evil.example"},
			want{200, true, map[string]string{"Access-Control-Allow-Origin": ""}}},
		{"OPTIONS without preflight headers goes to the backend", "OPTIONS", "/strict", nil,
			want{200, true, nil}},
		{"wildcards with credentials echo the request", "OPTIONS", "/open", map[string]string{"Origin": "https://any.example:9443", "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "x-c, x-d"},
			want{204, false, map[string]string{"Access-Control-Allow-Origin": "https://any.example:9443", "Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "x-c, x-d", "Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b.mu.Lock()
			b.last = nil
			b.mu.Unlock()
			req, err := http.NewRequest(tc.method, front.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			res, err := front.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.want.status {
				t.Errorf("status %d, want %d", res.StatusCode, tc.want.status)
			}
			if saw := b.lastRequest() != nil; saw != tc.want.backend {
				t.Errorf("backend saw the request: %v, want %v", saw, tc.want.backend)
			}
			for k, v := range tc.want.headers {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
