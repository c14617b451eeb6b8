package cluster

import "testing"

func TestNormalizeImage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"busybox", "docker.io/library/busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36"},
		{"curlimages/curl:7.83.1", "docker.io/curlimages/curl:7.83.1"},
		{"docker.io/istio/examples-helloworld-v1", "docker.io/istio/examples-helloworld-v1:latest"},
		{"docker.io/istio/tcp-echo-server:1.2", "docker.io/istio/tcp-echo-server:1.2"},
		{"registry.k8s.io/gateway-api/echo-basic:v1.5.1", "registry.k8s.io/gateway-api/echo-basic:v1.5.1"},
		{"localhost/splitproof:dev", "localhost/splitproof:dev"},
		{"localhost:5000/splitproof", "localhost:5000/splitproof:latest"},
		{"splitproof/splitproof@sha256:abc", "docker.io/splitproof/splitproof@sha256:abc"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := NormalizeImage(tt.in); got != tt.want {
				t.Errorf("NormalizeImage(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
