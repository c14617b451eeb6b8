// Package cluster owns the lifecycle of the kind cluster the conformance and
// end-to-end suites run against: create (or reuse) a cluster from a node
// image, load locally built images into its nodes without a registry, hand
// out its kubeconfig, and delete it. It drives the kind library
// (sigs.k8s.io/kind/pkg/cluster, and kind's own load docker-image command for
// images) and the docker CLI; it prints nothing and logs through the
// *slog.Logger it is given.
package cluster
