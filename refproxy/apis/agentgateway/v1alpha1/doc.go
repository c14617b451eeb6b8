// Package v1alpha1 holds splitproof's Go type for agentgateway's
// AgentgatewayBackend (group agentgateway.dev, version v1alpha1): the subset of
// fields the documented examples use, plus the host/port/path overrides that
// let tests point an AI backend at a local fake provider. Of agentgateway's
// providers it models openai and anthropic (each with its one field, model);
// the others, provider groups, pathPrefix and spec.policies.ai are not
// modelled, so the strict loader refuses them as unknown fields rather than
// serve them wrongly.
//
// It owns the type, its deep copies (so it satisfies runtime.Object for
// controller-runtime), its scheme registration (AddToScheme) and Validate,
// the checks the cluster's schema would make that JSON decoding cannot.
//
// The kubebuilder markers on the types generate, with the pinned
// controller-gen (`make generate`, ci/generate.sh), the deep copies in
// zz_generated.deepcopy.go and the CRD in conformance/install/crds/ (the
// one committed copy, which conformance/install embeds). The validation
// markers mirror Validate: an integration test checks that the API server
// and Validate accept the same objects, and another that both generated
// files are up to date.
//
// +kubebuilder:object:generate=true
// +groupName=agentgateway.dev
package v1alpha1
