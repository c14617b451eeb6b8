#!/usr/bin/env bash
# Integration tests that need a Kubernetes API server: a real etcd and
# kube-apiserver, built from the Go module proxy by ci/kind/tools.sh (cached;
# a cold build of kubernetes takes several minutes), run on loopback by
# controller-runtime's envtest (internal/kubetest), which never downloads its
# binaries. No cluster, no kubelet, no image pulls.
#
#   ci/integration.sh [go test flags…]     e.g. ci/integration.sh -run TestExample1 -v
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

phase_start "build kubernetes, etcd, controller-gen (cached)"
tools="$(bash ci/kind/tools.sh kubernetes etcd controller-gen)"
phase_end
tool_dir() { awk -v t="$1" '$1 == t {print $2}' <<<"$tools"; }
SPLITPROOF_KUBE_BIN_DIR="$(tool_dir kubernetes)"
SPLITPROOF_ETCD_BIN_DIR="$(tool_dir etcd)"
SPLITPROOF_CONTROLLER_GEN="$(tool_dir controller-gen)/controller-gen"
export SPLITPROOF_KUBE_BIN_DIR SPLITPROOF_ETCD_BIN_DIR SPLITPROOF_CONTROLLER_GEN

phase_start "go test -race -tags integration"
go test -tags integration -race -vet=off -count=1 -timeout 15m "$@" ./refproxy/controller/... ./refproxy/provision/... ./internal/cli/... ./conformance/install/... ./conformance/lb/...
phase_end
