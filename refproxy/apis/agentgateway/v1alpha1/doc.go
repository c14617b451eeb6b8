// Package v1alpha1 holds splitproof's Go type for agentgateway's
// AgentgatewayBackend (group agentgateway.dev, version v1alpha1): the subset of
// fields the documented examples use, plus the host/port/path overrides that
// let tests point an AI backend at a local fake provider.
//
// It owns the type, its deep copies (so it satisfies runtime.Object for
// controller-runtime), its scheme registration (AddToScheme) and Validate,
// the checks the cluster's schema would make that JSON decoding cannot.
//
// The kubebuilder markers on the types generate the CRD in
// conformance/manifests/crds/ (`make generate`, ci/generate.sh); they
// mirror Validate, and an integration test checks that the API server and
// Validate accept the same objects.
//
// +groupName=agentgateway.dev
package v1alpha1
