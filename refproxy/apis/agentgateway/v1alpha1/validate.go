package v1alpha1

import (
	"net"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validate reports what is wrong with the backend's spec, each error naming
// its field path (for example spec.ai.provider.port). JSON decoding only
// checks types; these are the rules the resource's schema adds on top, for
// the subset of fields splitproof models. An empty list means valid.
func (b *AgentgatewayBackend) Validate() field.ErrorList {
	return b.Spec.validate(field.NewPath("spec"))
}

func (s *AgentgatewayBackendSpec) validate(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	// ai is the only backend type modelled here, so it is required rather
	// than one of several mutually exclusive choices.
	if s.AI == nil {
		errs = append(errs, field.Required(p.Child("ai"), "a backend type is required; splitproof supports ai"))
	} else {
		errs = append(errs, s.AI.Provider.validate(p.Child("ai", "provider"))...)
	}
	if s.Policies != nil && s.Policies.Auth != nil {
		auth := p.Child("policies", "auth")
		if s.Policies.Auth.SecretRef == nil {
			errs = append(errs, field.Required(auth.Child("secretRef"), "auth needs a secretRef"))
		} else {
			name := auth.Child("secretRef", "name")
			ref := s.Policies.Auth.SecretRef.Name
			if ref == "" {
				errs = append(errs, field.Required(name, "the Secret's name is required"))
			} else {
				for _, msg := range validation.IsDNS1123Subdomain(ref) {
					errs = append(errs, field.Invalid(name, ref, msg))
				}
			}
		}
	}
	return errs
}

func (l *LLMProvider) validate(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	// The schema's ExactlyOneOf rule: one provider, never two.
	switch {
	case l.OpenAI == nil && l.Anthropic == nil:
		errs = append(errs, field.Required(p, "exactly one provider is required; splitproof supports openai and anthropic"))
	case l.OpenAI != nil && l.Anthropic != nil:
		errs = append(errs, field.Invalid(p, "openai, anthropic", "exactly one provider may be set"))
	}
	if l.Host != "" && net.ParseIP(l.Host) == nil {
		for _, msg := range validation.IsDNS1123Subdomain(l.Host) {
			errs = append(errs, field.Invalid(p.Child("host"), l.Host, msg))
		}
	}
	if l.Port != 0 {
		for _, msg := range validation.IsValidPortNum(int(l.Port)) {
			errs = append(errs, field.Invalid(p.Child("port"), l.Port, msg))
		}
	}
	if l.Path != "" && !strings.HasPrefix(l.Path, "/") {
		errs = append(errs, field.Invalid(p.Child("path"), l.Path, `must start with "/"`))
	}
	return errs
}
