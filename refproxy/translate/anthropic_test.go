package translate

import (
	"strings"
	"testing"

	agwv1alpha1 "github.com/splitproof/splitproof/refproxy/apis/agentgateway/v1alpha1"
	"github.com/splitproof/splitproof/refproxy/route"
)

// aiBackends maps each AI or invalid backendRef of the table by name.
func aiBackends(res *Result) map[string]*route.Backend {
	out := map[string]*route.Backend{}
	for _, p := range res.Table.Ports {
		for _, h := range p.Hosts {
			for _, e := range h.Entries {
				for _, b := range e.Rule.Backends {
					out[b.Name] = b
				}
			}
		}
	}
	return out
}

// TestAnthropicProvider checks what the golden file cannot show, the key,
// and the provider choices a file cannot hold because the loader's
// validation refuses them first: a cluster's objects are not validated by
// refproxy, so the translator must refuse them too.
func TestAnthropicProvider(t *testing.T) {
	const name = "agentgateway-system/anthropic-backend"
	b := aiBackends(mustTranslate(t, mustLoad(t, "testdata/valid-anthropic.yaml")))[name]
	if b == nil || b.Kind != route.KindAI || b.AI.Provider != route.ProviderAnthropic || b.AI.APIKey.Reveal() != "sk-ant-test-key-5678" {
		t.Fatalf("%s resolved to %+v, want an anthropic AI backend with the Secret's key", name, b)
	}

	for _, tc := range []struct {
		name   string
		mutate func(*agwv1alpha1.LLMProvider)
		want   string
	}{
		{"both providers", func(p *agwv1alpha1.LLMProvider) { p.OpenAI = &agwv1alpha1.OpenAIProvider{Model: "gpt-4o"} },
			"sets both spec.ai.provider.openai and spec.ai.provider.anthropic"},
		{"no provider", func(p *agwv1alpha1.LLMProvider) { p.Anthropic = nil },
			"has no supported provider: splitproof supports spec.ai.provider.openai and spec.ai.provider.anthropic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := mustLoad(t, "testdata/valid-anthropic.yaml")
			for i := range set.Backends {
				if set.Backends[i].Name == "anthropic-backend" {
					tc.mutate(&set.Backends[i].Spec.AI.Provider)
				}
			}
			b := aiBackends(mustTranslate(t, set))[name]
			if b == nil || b.Kind != route.KindInvalid || b.Weight != 20 || !strings.Contains(b.Message, tc.want) {
				t.Errorf("%s resolved to %+v, want invalid with weight 20 saying %q", name, b, tc.want)
			}
		})
	}
}
