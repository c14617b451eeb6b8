// Package gatewayapi runs the upstream Gateway API conformance suite
// (sigs.k8s.io/gateway-api/conformance, the version in go.mod) against
// refproxy, in a cluster prepared with conformance/install's Conformance
// profile: profile GATEWAY-HTTP with the features refproxy claims. The run
// itself (TestGatewayAPIConformance) is behind the build tag conformance,
// because it needs that cluster: the current kubeconfig, the suite's images
// on the nodes, and a LoadBalancer address of the proxy Service that the
// test host reaches (conformance/lb on kind).
package gatewayapi
