package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group, Version and Kind identify the resource.
const (
	Group   = "agentgateway.dev"
	Version = "v1alpha1"
	Kind    = "AgentgatewayBackend"
)

// GroupVersion is the API group and version of AgentgatewayBackend.
var GroupVersion = schema.GroupVersion{Group: Group, Version: Version}

// AgentgatewayBackend is a backend that an HTTPRoute can reference with
// group agentgateway.dev and kind AgentgatewayBackend.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=agentgateway
type AgentgatewayBackend struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   AgentgatewayBackendSpec   `json:"spec"`
	Status AgentgatewayBackendStatus `json:"status,omitempty"`
}

// AgentgatewayBackendList is a list of AgentgatewayBackend.
//
// +kubebuilder:object:root=true
type AgentgatewayBackendList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AgentgatewayBackend `json:"items"`
}

// AgentgatewayBackendSpec is the desired state of the backend.
type AgentgatewayBackendSpec struct {
	// AI configures an LLM provider backend.
	// +required
	AI *AIBackend `json:"ai,omitempty"`
	// Policies apply to traffic sent to the backend.
	Policies *BackendPolicies `json:"policies,omitempty"`
}

// AIBackend selects one LLM provider.
type AIBackend struct {
	// +required
	Provider LLMProvider `json:"provider"`
}

// LLMProvider is a provider and where to reach it. Exactly one provider is
// set; of agentgateway's seven, splitproof models openai and anthropic.
//
// +kubebuilder:validation:ExactlyOneOf=openai;anthropic
type LLMProvider struct {
	// OpenAI selects the OpenAI chat completions API.
	// +optional
	OpenAI *OpenAIProvider `json:"openai,omitempty"`
	// Anthropic selects Anthropic's Messages API.
	// +optional
	Anthropic *AnthropicProvider `json:"anthropic,omitempty"`
	// Host overrides the provider's default host (api.openai.com,
	// api.anthropic.com): an IP address or a DNS subdomain name.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$`
	Host string `json:"host,omitempty"`
	// Port overrides the provider's default port (443).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`
	// Path overrides the upstream path; without it a route path such as
	// /test is sent to /v1/chat/completions (openai) or /v1/messages
	// (anthropic).
	// +optional
	// +kubebuilder:validation:Pattern=`^/`
	Path string `json:"path,omitempty"`
}

// OpenAIProvider configures OpenAI.
type OpenAIProvider struct {
	// Model, when set, replaces the model of every request.
	Model string `json:"model,omitempty"`
}

// AnthropicProvider configures Anthropic. agentgateway's AnthropicConfig
// (github.com/agentgateway/agentgateway,
// controller/api/v1alpha1/agentgateway/agentgateway_backend_types.go at
// commits afc54f1a2b16 and 75b4e6ce6e0e) has this one field, model, beside
// the provider-level host, port and path above; the key comes, as for
// openai, from spec.policies.auth.secretRef.
type AnthropicProvider struct {
	// Model, when set, replaces the model of every request.
	Model string `json:"model,omitempty"`
}

// BackendPolicies are the policies the documented examples use.
type BackendPolicies struct {
	Auth *BackendAuth `json:"auth,omitempty"`
}

// BackendAuth says where the provider's API key comes from.
type BackendAuth struct {
	// SecretRef names a Secret in the backend's namespace whose
	// "Authorization" key holds the API key (a leading "Bearer " is stripped).
	// +required
	SecretRef *LocalSecretRef `json:"secretRef,omitempty"`
}

// LocalSecretRef names a Secret in the same namespace.
type LocalSecretRef struct {
	// Name is a DNS subdomain name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// AgentgatewayBackendStatus is the observed state.
type AgentgatewayBackendStatus struct {
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}
