package replay

import (
	"strings"
	"testing"
)

func TestAddressEndpoint(t *testing.T) {
	tests := []struct {
		gateway, portForward string
		wantName, wantErr    string
		wantDial             map[string]string
	}{
		{gateway: "http://127.0.0.1:8080", wantName: "gateway 127.0.0.1:8080",
			wantDial: map[string]string{"127.0.0.1:80": "127.0.0.1:8080", "localhost:8080": "127.0.0.1:8080"}},
		{gateway: "127.0.0.1", wantName: "gateway 127.0.0.1:80"},
		{gateway: "http://gw.example:81/", wantName: "gateway gw.example:81"},
		{gateway: "http://127.0.0.1:8080", portForward: "127.0.0.1:9090",
			wantDial: map[string]string{"localhost:8080": "127.0.0.1:9090"}},
		{gateway: "http://127.0.0.1:8080/prefix", wantErr: "the snippets send their own paths"},
		{gateway: "http://127.0.0.1:8080/?x=1", wantErr: "the snippets send their own paths"},
		{gateway: "http://user@127.0.0.1:8080", wantErr: "the snippets send their own paths"},
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
