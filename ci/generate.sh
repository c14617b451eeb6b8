#!/usr/bin/env bash
# Generates, from the Go type of AgentgatewayBackend
# (refproxy/apis/agentgateway/v1alpha1, kubebuilder markers), with the
# controller-gen pinned in ci/tools/controller-gen:
#   - its deep copies, refproxy/apis/agentgateway/v1alpha1/zz_generated.deepcopy.go
#   - its CRD, conformance/install/crds/agentgateway.dev_agentgatewaybackends.yaml,
#     the one committed copy, embedded by conformance/install.
#
#   ci/generate.sh          write both into the repository
#   ci/generate.sh ROOT     write them under ROOT instead, at the same relative
#                           paths: refproxy/controller's TestGeneratedUpToDate
#                           does this and compares with the committed files
#
# SPLITPROOF_CONTROLLER_GEN names a controller-gen binary to use (the
# integration tests get it from ci/integration.sh); otherwise the pinned one
# is built (cached).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

api="refproxy/apis/agentgateway/v1alpha1"
crds="conformance/install/crds"
root="${1:-.}"
controller_gen="${SPLITPROOF_CONTROLLER_GEN:-}"
if [ -z "$controller_gen" ]; then
  controller_gen="$(bash ci/kind/tools.sh controller-gen | awk '$1 == "controller-gen" {print $2}')/controller-gen"
fi

mkdir -p "$root/$api" "$root/$crds"
"$controller_gen" object crd paths="./$api/..." \
  output:object:dir="$root/$api" output:crd:artifacts:config="$root/$crds"
log "wrote $root/$api/zz_generated.deepcopy.go and $root/$crds"
