#!/usr/bin/env bash
# Regenerates the AgentgatewayBackend CRD from its Go type
# (refproxy/apis/agentgateway/v1alpha1, kubebuilder markers) with the
# controller-gen pinned in ci/tools/controller-gen.
#
#   ci/generate.sh           write conformance/manifests/crds/
#   ci/generate.sh --check   fail if the committed CRD differs from a fresh one
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

crds="conformance/manifests/crds"
controller_gen="$(bash ci/kind/tools.sh controller-gen | awk '$1 == "controller-gen" {print $2}')/controller-gen"

generate() {
  "$controller_gen" crd paths=./refproxy/apis/agentgateway/v1alpha1/... output:crd:artifacts:config="$1"
}

if [ "${1:-}" = "--check" ]; then
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  stale=0
  for f in "$tmp"/*.yaml; do
    if ! diff -u "$crds/$(basename "$f")" "$f" >&2; then
      echo "$crds/$(basename "$f") is stale: run make generate" >&2
      stale=1
    fi
  done
  exit "$stale"
fi
mkdir -p "$crds"
generate "$crds"
log "wrote $crds"
