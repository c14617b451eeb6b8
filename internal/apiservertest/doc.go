// Package apiservertest owns the test fixture that runs a real etcd and
// kube-apiserver on loopback for integration tests: random ports, temporary
// directories, a generated CA, serving certificate, service-account key and
// admin token, then the CustomResourceDefinitions a test needs, installed and
// waited for until established. It returns a rest.Config for the admin.
//
// The binaries are built from the Go module proxy by ci/kind/tools.sh (no
// download of prebuilt test assets); ci/integration.sh builds them and points
// SPLITPROOF_KUBE_BIN_DIR and SPLITPROOF_ETCD_BIN_DIR at them. There are no
// controllers, scheduler or kubelet: objects such as EndpointSlices are
// created by the test itself.
package apiservertest
