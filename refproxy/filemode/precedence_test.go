package filemode_test

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMatchPrecedence goes YAML → loader → translator → proxy over loopback
// and checks the Gateway API precedence between matches and hostnames.
func TestMatchPrecedence(t *testing.T) {
	names := []string{"exact", "prefix-long", "prefix", "method", "header", "query", "wild", "anyhost"}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, gatewayYAML, fmt.Sprintf(listenerYAML, 80, 80))
	for _, n := range names {
		fmt.Fprintf(&cfg, serviceYAML, n, newBackend(t, n).port)
	}
	cfg.WriteString(`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [app.example]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: prefix, port: 5000}]
  - matches: [{path: {type: PathPrefix, value: /api/v1}}]
    backendRefs: [{name: prefix-long, port: 5000}]
  - matches: [{path: {type: Exact, value: /api/v1/exact}}]
    backendRefs: [{name: exact, port: 5000}]
  - matches: [{path: {type: PathPrefix, value: /api/v1}, method: POST}]
    backendRefs: [{name: method, port: 5000}]
  - matches: [{path: {type: PathPrefix, value: /api/v1}, headers: [{name: x-canary, value: "1"}]}]
    backendRefs: [{name: header, port: 5000}]
  - matches: [{path: {type: PathPrefix, value: /api/v1}, queryParams: [{name: q, value: "1"}]}]
    backendRefs: [{name: query, port: 5000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wild, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["*.example"]
  rules:
  - backendRefs: [{name: wild, port: 5000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: anyhost, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: anyhost, port: 5000}]
`)
	path := filepath.Join(t.TempDir(), "config.yaml")
	MustWrite(t, path, cfg.String())
	r, _ := MustRunner(t, path, -1)
	base := "http://" + r.Addr(80).String()

	for _, tc := range []struct {
		name, method, host, path string
		hdr                      http.Header
		want                     string
	}{
		{"exact beats prefix", "GET", "app.example", "/api/v1/exact", nil, "exact"},
		{"longest prefix", "GET", "app.example", "/api/v1/x", nil, "prefix-long"},
		{"prefix is element-wise", "GET", "app.example", "/api/v10", nil, "prefix"},
		{"method beats headers", "POST", "app.example", "/api/v1/x", http.Header{"X-Canary": {"1"}}, "method"},
		{"headers beat query", "GET", "app.example", "/api/v1/x?q=1", http.Header{"X-Canary": {"1"}}, "header"},
		{"query", "GET", "app.example", "/api/v1/x?q=1", nil, "query"},
		{"exact hostname beats wildcard", "GET", "app.example:80", "/", nil, "prefix"},
		{"wildcard hostname", "GET", "other.example", "/api/v1/exact", nil, "wild"},
		{"no hostname matches any", "GET", "elsewhere.test", "/", nil, "anyhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, base+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tc.host
			for k, v := range tc.hdr {
				req.Header[k] = v
			}
			c := &http.Client{Timeout: 5 * time.Second}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 200 || string(body) != tc.want {
				t.Errorf("%s %s%s → %d %q, want %q", tc.method, tc.host, tc.path, res.StatusCode, body, tc.want)
			}
		})
	}
}
