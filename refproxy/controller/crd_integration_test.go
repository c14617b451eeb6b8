//go:build integration

package controller_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	agwv1alpha1 "github.com/splitproof/splitproof/refproxy/apis/agentgateway/v1alpha1"
)

// generated are the files ci/generate.sh writes from the AgentgatewayBackend
// Go type, relative to the repository root.
var generated = []string{
	"refproxy/apis/agentgateway/v1alpha1/zz_generated.deepcopy.go",
	"conformance/install/crds/agentgateway.dev_agentgatewaybackends.yaml",
}

// TestGeneratedUpToDate runs ci/generate.sh (with the pinned controller-gen
// ci/integration.sh built) into a temporary directory and fails when a
// committed file differs from the fresh one: run `make generate` after
// changing the Go type. It is the one staleness check of the deep copies
// and of the CRD.
func TestGeneratedUpToDate(t *testing.T) {
	bin := os.Getenv("SPLITPROOF_CONTROLLER_GEN")
	if bin == "" {
		t.Fatal("SPLITPROOF_CONTROLLER_GEN is not set: run the integration tests with ci/integration.sh")
	}
	root := filepath.Join("..", "..")
	out := t.TempDir()
	cmd := exec.Command("bash", filepath.Join("ci", "generate.sh"), out)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ci/generate.sh %s: %v\n%s", out, err, b)
	}
	for _, f := range generated {
		fresh, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatalf("ci/generate.sh wrote no %s: %v", f, err)
		}
		committed, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatalf("committed %s: %v", f, err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("%s is stale: run make generate", f)
		}
	}
}

// TestCRDAgreesWithValidate creates backends with a server-side dry run and
// checks that the CRD's schema accepts exactly what Validate accepts.
func TestCRDAgreesWithValidate(t *testing.T) {
	ctx := context.Background()
	ns := "crd-validate"
	MustCreate(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	valid := func() agwv1alpha1.AgentgatewayBackendSpec {
		return agwv1alpha1.AgentgatewayBackendSpec{
			AI: &agwv1alpha1.AIBackend{Provider: agwv1alpha1.LLMProvider{OpenAI: &agwv1alpha1.OpenAIProvider{Model: "gpt-4o-mini"}}},
			Policies: &agwv1alpha1.BackendPolicies{Auth: &agwv1alpha1.BackendAuth{
				SecretRef: &agwv1alpha1.LocalSecretRef{Name: "openai-secret"}}},
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*agwv1alpha1.AgentgatewayBackendSpec)
	}{
		{"doc example", func(*agwv1alpha1.AgentgatewayBackendSpec) {}},
		{"local provider override", func(s *agwv1alpha1.AgentgatewayBackendSpec) {
			s.AI.Provider.Host, s.AI.Provider.Port, s.AI.Provider.Path = "127.0.0.1", 8080, "/v1/chat/completions"
		}},
		{"hostname override", func(s *agwv1alpha1.AgentgatewayBackendSpec) { s.AI.Provider.Host = "fake-openai.default.svc" }},
		{"no ai", func(s *agwv1alpha1.AgentgatewayBackendSpec) { s.AI = nil }},
		{"no openai", func(s *agwv1alpha1.AgentgatewayBackendSpec) { s.AI.Provider.OpenAI = nil }},
		{"anthropic", func(s *agwv1alpha1.AgentgatewayBackendSpec) {
			s.AI.Provider = agwv1alpha1.LLMProvider{Anthropic: &agwv1alpha1.AnthropicProvider{Model: "claude-sonnet-4-5"}}
		}},
		{"openai and anthropic", func(s *agwv1alpha1.AgentgatewayBackendSpec) {
			s.AI.Provider.Anthropic = &agwv1alpha1.AnthropicProvider{}
		}},
		{"port too high", func(s *agwv1alpha1.AgentgatewayBackendSpec) { s.AI.Provider.Port = 70000 }},
		{"negative port", func(s *agwv1alpha1.AgentgatewayBackendSpec) { s.AI.Provider.Port = -1 }},
		{"relative path", func(s *agwv1alpha1.AgentgatewayBackendSpec) { s.AI.Provider.Path = "v1/chat" }},
		{"bad host", func(s *agwv1alpha1.AgentgatewayBackendSpec) { s.AI.Provider.Host = "Bad_Host" }},
		{"auth without secretRef", func(s *agwv1alpha1.AgentgatewayBackendSpec) { s.Policies.Auth.SecretRef = nil }},
		{"bad secret name", func(s *agwv1alpha1.AgentgatewayBackendSpec) { s.Policies.Auth.SecretRef.Name = "Not_A_Name" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &agwv1alpha1.AgentgatewayBackend{
				TypeMeta:   metav1.TypeMeta{APIVersion: agwv1alpha1.GroupVersion.String(), Kind: agwv1alpha1.Kind},
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b"},
				Spec:       valid(),
			}
			tc.mutate(&b.Spec)
			verrs := b.Validate()
			err := kube.Create(ctx, b, client.DryRunAll)
			if (len(verrs) == 0) != (err == nil) {
				t.Errorf("Validate: %v; API server: %v — they must agree", verrs.ToAggregate(), err)
			}
		})
	}
}
