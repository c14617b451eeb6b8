// Package gatewayapi runs the upstream Gateway API conformance suite
// (sigs.k8s.io/gateway-api/conformance, the version in go.mod) against
// refproxy, in a cluster prepared with conformance/install's Conformance
// profile: profile GATEWAY-HTTP with the features refproxy claims. The run
// itself (TestGatewayAPIConformance) is behind the build tag conformance,
// because it needs a cluster: the current kubeconfig and the suite's images
// on the nodes. It installs the Conformance profile (the provisioner gives
// each Gateway the suite creates its own refproxy and LoadBalancer Service)
// and, on kind, serves those Services from the host with conformance/lb, so
// that every Gateway has an address of its own. Summarize reads the report.
package gatewayapi
