package cli

import (
	"testing"
)

// TestProvisionerFlags: every bad input is refused with exit code 2 and a
// message naming the flag, before any cluster is contacted.
func TestProvisionerFlags(t *testing.T) {
	base := []string{"--kubeconfig", "/nonexistent/kubeconfig", "--namespace", "ns", "--image", "img"}
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"no image", []string{"--namespace", "ns"}, nil, "--image is required"},
		{"no namespace", []string{"--image", "img"}, nil, "--namespace is required"},
		{"bad pull policy", append(base, "--image-pull-policy", "Sometimes"), nil, "--image-pull-policy"},
		{"bad service type", append(base, "--service-type", "ExternalName"), nil, "--service-type"},
		{"bad skip", append(base, "--skip-gateway", "gw"), nil, "expected NAMESPACE/NAME"},
		{"stray argument", append(base, "extra"), nil, "unexpected arguments"},
		{"missing kubeconfig", base, nil, "/nonexistent/kubeconfig"},
		{"namespace from the Pod", []string{"--kubeconfig", "/nonexistent/kubeconfig", "--image", "img"}, map[string]string{"POD_NAMESPACE": "ns"}, "/nonexistent/kubeconfig"},
	} {
		t.Run(tc.name, func(t *testing.T) { MustRefuse(t, runProvisioner, tc.args, tc.env, tc.wantErr) })
	}
}
