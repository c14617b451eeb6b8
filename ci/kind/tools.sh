#!/usr/bin/env bash
# Builds the pinned tool modules under ci/tools/ into the cache
# ($SPLITPROOF_CACHE/bin/<tool>-<key>/), static and from the Go module proxy
# only. A tool is rebuilt only when its go.mod, go.sum, sources or build flags
# change. Prints "<tool> <dir>" per tool on stdout.
#
#   ci/kind/tools.sh [tool…]     (default: every tool under ci/tools/)
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/ci/kind/common.sh"

k8s_ldflags() {
  local v="$KUBERNETES_VERSION" minor
  minor="${v#v1.}"; minor="${minor%%.*}"
  local pkg flags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$flags"
}

build_tool() {
  local name="$1" dir="$REPO_ROOT/ci/tools/$1" ldflags="-s -w" pattern=.
  case "$name" in
    kubernetes) ldflags="$(k8s_ldflags)"; pattern=tool ;;
    coredns|coredns-conformance|cri-tools|echo-basic|controller-gen) pattern=tool ;;
  esac
  [ "$name" = cri-tools ] && ldflags+=" -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"
  local key out
  key="$(content_key "$ldflags" "$(go version)" "$dir"/go.mod "$dir"/go.sum $(find "$dir" -name '*.go' | sort))"
  out="$SPLITPROOF_CACHE/bin/$name-$key"
  if [ ! -f "$out/.done" ]; then
    local t0; t0="$(date +%s)"
    log "building ci/tools/$name (cold builds of kubernetes take several minutes)"
    # Build beside the final directory and rename it into place, so two
    # concurrent runs never see (or clobber) a half-built tool.
    local tmp; tmp="$(mktemp -d "$out.partial.XXXXXX")"
    (cd "$dir" && kind_go build -trimpath -ldflags "$ldflags" -o "$tmp/" $pattern)
    touch "$tmp/.done"
    if [ -f "$out/.done" ]; then
      rm -rf "$tmp"
    else
      rm -rf "$out"
      mv "$tmp" "$out"
    fi
    echo "built $name in $(( $(date +%s) - t0 ))s" >&2
  fi
  printf '%s %s\n' "$name" "$out"
}

main() {
  local tools=("$@") d t
  if [ "${#tools[@]}" -eq 0 ]; then
    for d in "$REPO_ROOT"/ci/tools/*/; do tools+=("$(basename "$d")"); done
  fi
  for t in "${tools[@]}"; do build_tool "$t"; done
}
# One line, so bash has read the whole script before anything runs: editing
# this file never disturbs a build that is under way.
main "$@"; exit
