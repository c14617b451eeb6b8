package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// These methods are written by hand because the package is small and has no
// code generator in the build; deepcopy_test.go checks that a copy shares no
// memory with its original for every pointer and slice field.

var (
	_ runtime.Object = (*AgentgatewayBackend)(nil)
	_ runtime.Object = (*AgentgatewayBackendList)(nil)
)

// DeepCopyInto copies in into out, sharing no memory.
func (in *AgentgatewayBackend) DeepCopyInto(out *AgentgatewayBackend) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	in.Spec.DeepCopyInto(&out.Spec)
	in.Status.DeepCopyInto(&out.Status)
}

// DeepCopy returns a copy of in that shares no memory with it.
func (in *AgentgatewayBackend) DeepCopy() *AgentgatewayBackend {
	if in == nil {
		return nil
	}
	out := new(AgentgatewayBackend)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *AgentgatewayBackend) DeepCopyObject() runtime.Object {
	if c := in.DeepCopy(); c != nil {
		return c
	}
	return nil
}

// DeepCopyInto copies in into out, sharing no memory.
func (in *AgentgatewayBackendList) DeepCopyInto(out *AgentgatewayBackendList) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]AgentgatewayBackend, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
}

// DeepCopy returns a copy of in that shares no memory with it.
func (in *AgentgatewayBackendList) DeepCopy() *AgentgatewayBackendList {
	if in == nil {
		return nil
	}
	out := new(AgentgatewayBackendList)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *AgentgatewayBackendList) DeepCopyObject() runtime.Object {
	if c := in.DeepCopy(); c != nil {
		return c
	}
	return nil
}

// DeepCopyInto copies in into out, sharing no memory.
func (in *AgentgatewayBackendSpec) DeepCopyInto(out *AgentgatewayBackendSpec) {
	*out = *in
	if in.AI != nil {
		out.AI = new(AIBackend)
		in.AI.DeepCopyInto(out.AI)
	}
	if in.Policies != nil {
		out.Policies = new(BackendPolicies)
		in.Policies.DeepCopyInto(out.Policies)
	}
}

// DeepCopyInto copies in into out, sharing no memory.
func (in *AIBackend) DeepCopyInto(out *AIBackend) {
	*out = *in
	in.Provider.DeepCopyInto(&out.Provider)
}

// DeepCopyInto copies in into out, sharing no memory.
func (in *LLMProvider) DeepCopyInto(out *LLMProvider) {
	*out = *in
	if in.OpenAI != nil {
		out.OpenAI = new(OpenAIProvider)
		*out.OpenAI = *in.OpenAI
	}
}

// DeepCopyInto copies in into out, sharing no memory.
func (in *BackendPolicies) DeepCopyInto(out *BackendPolicies) {
	*out = *in
	if in.Auth != nil {
		out.Auth = new(BackendAuth)
		in.Auth.DeepCopyInto(out.Auth)
	}
}

// DeepCopyInto copies in into out, sharing no memory.
func (in *BackendAuth) DeepCopyInto(out *BackendAuth) {
	*out = *in
	if in.SecretRef != nil {
		out.SecretRef = new(LocalSecretRef)
		*out.SecretRef = *in.SecretRef
	}
}

// DeepCopyInto copies in into out, sharing no memory.
func (in *AgentgatewayBackendStatus) DeepCopyInto(out *AgentgatewayBackendStatus) {
	*out = *in
	if in.Conditions != nil {
		out.Conditions = make([]metav1.Condition, len(in.Conditions))
		for i := range in.Conditions {
			in.Conditions[i].DeepCopyInto(&out.Conditions[i])
		}
	}
}
