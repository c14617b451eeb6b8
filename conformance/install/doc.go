// Package install owns the manifests that make a Kubernetes cluster run
// refproxy as a Gateway API implementation: the Gateway API standard CRDs of
// the version in go.mod (copied into crds/ by `go run
// ./conformance/install/gen`) and the AgentgatewayBackend CRD (generated
// into crds/ from its Go type by `make generate`), the namespace
// agentgateway-system, the RBAC of `splitproof proxy --controller`, the
// GatewayClass splitproof, the documentation's Gateways http and
// agentgateway-proxy, and the refproxy Deployment agentgateway-proxy with its
// LoadBalancer Service http. They are compiled in; Manifests returns them in
// apply order for a Profile.
package install
