package v1alpha1

import (
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func validBackend() *AgentgatewayBackend {
	return &AgentgatewayBackend{
		ObjectMeta: metav1.ObjectMeta{Name: "openai-mini-backend", Namespace: "agentgateway-system"},
		Spec: AgentgatewayBackendSpec{
			AI:       &AIBackend{Provider: LLMProvider{OpenAI: &OpenAIProvider{Model: "gpt-4o-mini"}}},
			Policies: &BackendPolicies{Auth: &BackendAuth{SecretRef: &LocalSecretRef{Name: "openai-secret"}}},
		},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(b *AgentgatewayBackend)
		want   []string // "field: substring" of each error, in order
	}{
		{"documented example", func(*AgentgatewayBackend) {}, nil},
		{"local override", func(b *AgentgatewayBackend) {
			b.Spec.AI.Provider.Host, b.Spec.AI.Provider.Port, b.Spec.AI.Provider.Path = "127.0.0.1", 8080, "/v1/chat/completions"
		}, nil},
		{"no ai", func(b *AgentgatewayBackend) { b.Spec.AI = nil }, []string{"spec.ai: Required value"}},
		{"no provider", func(b *AgentgatewayBackend) { b.Spec.AI.Provider.OpenAI = nil }, []string{"spec.ai.provider: Required value: exactly one provider"}},
		{"anthropic", func(b *AgentgatewayBackend) {
			b.Spec.AI.Provider = LLMProvider{Anthropic: &AnthropicProvider{Model: "claude-sonnet-4-5"}}
		}, nil},
		{"anthropic with local override and no model", func(b *AgentgatewayBackend) {
			b.Spec.AI.Provider = LLMProvider{Anthropic: &AnthropicProvider{}, Host: "127.0.0.1", Port: 8080, Path: "/v1/messages"}
		}, nil},
		{"two providers", func(b *AgentgatewayBackend) {
			b.Spec.AI.Provider.Anthropic = &AnthropicProvider{Model: "claude-sonnet-4-5"}
		}, []string{"spec.ai.provider: Invalid value: \"openai, anthropic\": exactly one provider may be set"}},
		{"port too large", func(b *AgentgatewayBackend) { b.Spec.AI.Provider.Port = 65536 }, []string{"spec.ai.provider.port: Invalid value: 65536"}},
		{"negative port", func(b *AgentgatewayBackend) { b.Spec.AI.Provider.Port = -1 }, []string{"spec.ai.provider.port: Invalid value: -1"}},
		{"relative path", func(b *AgentgatewayBackend) { b.Spec.AI.Provider.Path = "v1" }, []string{`spec.ai.provider.path: Invalid value: "v1": must start with "/"`}},
		{"bad host", func(b *AgentgatewayBackend) { b.Spec.AI.Provider.Host = "Not_A_Host" }, []string{"spec.ai.provider.host: Invalid value"}},
		{"auth without secret", func(b *AgentgatewayBackend) { b.Spec.Policies.Auth.SecretRef = nil }, []string{"spec.policies.auth.secretRef: Required value"}},
		{"empty secret name", func(b *AgentgatewayBackend) { b.Spec.Policies.Auth.SecretRef.Name = "" }, []string{"spec.policies.auth.secretRef.name: Required value"}},
		{"several at once", func(b *AgentgatewayBackend) {
			b.Spec.AI.Provider = LLMProvider{Port: 70000, Path: "x"}
		}, []string{"spec.ai.provider: Required", "spec.ai.provider.port: Invalid", "spec.ai.provider.path: Invalid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := validBackend()
			tc.mutate(b)
			errs := b.Validate()
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(tc.want))
			}
			for i, e := range errs {
				if !strings.Contains(e.Error(), tc.want[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, e.Error(), tc.want[i])
				}
			}
		})
	}
}

func TestDeepCopySharesNothing(t *testing.T) {
	orig := validBackend()
	orig.Labels = map[string]string{"a": "b"}
	orig.Status.Conditions = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue}}
	cp := orig.DeepCopy()
	if !reflect.DeepEqual(orig, cp) {
		t.Fatalf("copy differs:\n%+v\n%+v", orig, cp)
	}
	cp.Labels["a"] = "changed"
	cp.Spec.AI.Provider.OpenAI.Model = "changed"
	cp.Spec.Policies.Auth.SecretRef.Name = "changed"
	cp.Status.Conditions[0].Type = "changed"
	want := validBackend()
	if orig.Labels["a"] != "b" || !reflect.DeepEqual(orig.Spec, want.Spec) || orig.Status.Conditions[0].Type != "Accepted" {
		t.Errorf("changing the copy changed the original: %+v", orig)
	}

	list := &AgentgatewayBackendList{Items: []AgentgatewayBackend{*validBackend()}}
	lc := list.DeepCopyObject().(*AgentgatewayBackendList)
	lc.Items[0].Spec.AI.Provider.OpenAI.Model = "changed"
	if list.Items[0].Spec.AI.Provider.OpenAI.Model != "gpt-4o-mini" {
		t.Error("changing the list copy changed the original")
	}
	if (*AgentgatewayBackend)(nil).DeepCopy() != nil {
		t.Error("DeepCopy of nil is not nil")
	}
}

func TestAddToScheme(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []runtime.Object{&AgentgatewayBackend{}, &AgentgatewayBackendList{}} {
		gvks, _, err := s.ObjectKinds(obj)
		if err != nil {
			t.Fatal(err)
		}
		if gvks[0].GroupVersion() != GroupVersion {
			t.Errorf("%T registered as %v", obj, gvks[0])
		}
	}
	gvks, _, _ := s.ObjectKinds(&AgentgatewayBackend{})
	if gvks[0].Kind != Kind {
		t.Errorf("kind %q, want %q", gvks[0].Kind, Kind)
	}
}
