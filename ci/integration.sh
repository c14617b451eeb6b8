#!/usr/bin/env bash
# Integration tests that need a Kubernetes API server: a real etcd and
# kube-apiserver, built from the Go module proxy by ci/kind/tools.sh (cached;
# a cold build of kubernetes takes several minutes), run on loopback by
# controller-runtime's envtest (internal/kubetest), which never downloads its
# binaries. No cluster, no kubelet, no image pulls. The same run replays the
# doc's Example 1 through third-party gateways on loopback
# (conformance/peers): Debian's nginx and haproxy (ci/install.sh) and Caddy
# at the version pinned in ci/tools/caddy, built here from the Go module proxy.
#
#   ci/integration.sh [go test flags…]     e.g. ci/integration.sh -run TestExample1 -v
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

phase_start "build kubernetes, etcd, controller-gen, caddy (cached)"
tools="$(bash ci/kind/tools.sh kubernetes etcd controller-gen caddy)"
phase_end
tool_dir() { awk -v t="$1" '$1 == t {print $2}' <<<"$tools"; }
SPLITPROOF_KUBE_BIN_DIR="$(tool_dir kubernetes)"
SPLITPROOF_ETCD_BIN_DIR="$(tool_dir etcd)"
SPLITPROOF_CONTROLLER_GEN="$(tool_dir controller-gen)/controller-gen"
SPLITPROOF_CADDY="$(tool_dir caddy)/caddy"
export SPLITPROOF_KUBE_BIN_DIR SPLITPROOF_ETCD_BIN_DIR SPLITPROOF_CONTROLLER_GEN SPLITPROOF_CADDY

phase_start "go test -race -tags integration"
go test -tags integration -race -vet=off -count=1 -timeout 15m "$@" ./refproxy/controller/... ./refproxy/provision/... ./internal/cli/... ./conformance/install/... ./conformance/lb/... ./conformance/peers/...
phase_end
