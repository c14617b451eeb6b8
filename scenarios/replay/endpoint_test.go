package replay

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestAddressEndpoint(t *testing.T) {
	tests := []struct {
		gateway, portForward string
		wantName, wantErr    string
		wantPrefix           string
		wantDial             map[string]string
	}{
		{gateway: "http://127.0.0.1:8080", wantName: "gateway 127.0.0.1:8080",
			wantDial: map[string]string{"127.0.0.1:80": "127.0.0.1:8080", "localhost:8080": "127.0.0.1:8080"}},
		{gateway: "127.0.0.1", wantName: "gateway 127.0.0.1:80"},
		{gateway: "http://gw.example:81/", wantName: "gateway gw.example:81"},
		{gateway: "http://127.0.0.1:8080", portForward: "127.0.0.1:9090",
			wantDial: map[string]string{"localhost:8080": "127.0.0.1:9090"}},
		{gateway: "http://127.0.0.1:8080/prefix/", wantName: "gateway 127.0.0.1:8080/prefix", wantPrefix: "/prefix"},
		{gateway: "http://127.0.0.1:8080/?x=1", wantErr: "a query, fragment or user here would be ignored"},
		{gateway: "http://user@127.0.0.1:8080", wantErr: "a query, fragment or user here would be ignored"},
		{gateway: "https://127.0.0.1:8443", wantName: "gateway https://127.0.0.1:8443",
			wantDial: map[string]string{"127.0.0.1:80": "127.0.0.1:8443"}},
		{gateway: "https://gw.example", wantName: "gateway https://gw.example:443"},
		{gateway: "ftp://127.0.0.1:21", wantErr: "expected an http:// or https:// URL"},
		{gateway: "http://", wantErr: "expected a URL"},
		{gateway: "http://127.0.0.1:8080", portForward: "nope", wantErr: "expected host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.gateway+" "+tt.portForward, func(t *testing.T) {
			ep, err := AddressEndpoint(tt.gateway, tt.portForward)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ep.PathPrefix != tt.wantPrefix {
				t.Errorf("prefix %q, want %q", ep.PathPrefix, tt.wantPrefix)
			}
			if tt.wantName != "" && ep.Name != tt.wantName {
				t.Errorf("name %q, want %q", ep.Name, tt.wantName)
			}
			for from, to := range tt.wantDial {
				if ep.Dial[from] != to {
					t.Errorf("dial %s -> %q, want %q", from, ep.Dial[from], to)
				}
			}
		})
	}
}

// TestGatewayPathPrefix: a gateway mounted under a prefix gets the
// snippets' paths below it, and the Host header stays the snippet's.
func TestGatewayPathPrefix(t *testing.T) {
	var bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/team-a/hello" || r.Host != "traffic.split.example" {
			bad.Add(1)
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "Hello version: v3, instance: x\n")
	}))
	t.Cleanup(srv.Close)
	ep, err := AddressEndpoint(srv.URL+"/team-a", "")
	if err != nil {
		t.Fatal(err)
	}
	s := mustScenario(t, "example1-ab-testing")
	rep, err := Run(context.Background(), s, ep, Options{Snippet: "port-forward", Requests: 30, Weights: map[string]int32{"v1": 0, "v2": 0, "v3": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if bad.Load() != 0 || rep.Counts["v3"] != 30 {
		t.Fatalf("%d requests missed the prefix; counts %v", bad.Load(), rep.Counts)
	}
}
