// Package kubetest configures controller-runtime's envtest for the
// integration tests: the control plane is the etcd and kube-apiserver that
// ci/kind/tools.sh builds from the Go module proxy (ci/integration.sh points
// SPLITPROOF_KUBE_BIN_DIR and SPLITPROOF_ETCD_BIN_DIR at them), never a
// downloaded test asset, and never an existing cluster. There are no
// controllers, scheduler or kubelet: objects such as EndpointSlices are
// created by the tests themselves.
package kubetest
