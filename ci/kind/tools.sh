#!/usr/bin/env bash
# Builds the pinned tool modules under ci/tools/ into the cache
# ($SPLITPROOF_CACHE/bin/<tool>-<key>/), static and from the Go module proxy
# only, with the same module and build cache as the project (ci/lib.sh). A
# tool is rebuilt only when its go.mod, go.sum, sources or build flags change.
# Prints "<tool> <dir>" per tool on stdout.
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
  # Tools with a main.go of their own (etcd, pause, caddy) build "."; those
  # pinned by a tool directive in their go.mod build "tool".
  case "$name" in
    kubernetes) ldflags="$(k8s_ldflags)"; pattern=tool ;;
    coredns|coredns-conformance|cri-tools|echo-basic|controller-gen|staticcheck) pattern=tool ;;
  esac
  [ "$name" = cri-tools ] && ldflags+=" -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"
  local key out sources
  mapfile -t sources < <(find "$dir" -name '*.go' | sort)
  key="$(content_key "$ldflags" static "$(go version)" "$dir"/go.mod "$dir"/go.sum "${sources[@]}")"
  out="$SPLITPROOF_CACHE/bin/$name-$key"
  mkdir -p "$SPLITPROOF_CACHE/bin"
  # One build of a tool at a time: .ci/run builds tools in the background
  # (ci/kind/prefetch.sh) while make lint or make integration may ask for the
  # same one; the second caller waits and then finds it done.
  local lock_fd
  exec {lock_fd}>"$SPLITPROOF_CACHE/bin/.$name.lock"
  flock "$lock_fd"
  if [ ! -f "$out/.done" ]; then
    local t0; t0="$(date +%s)"
    log "building ci/tools/$name (cold builds of kubernetes take several minutes)"
    # Build beside the final directory and rename it into place, so no run
    # ever sees a half-built tool; what an interrupted build left goes first.
    rm -rf "$out".partial.*
    local tmp; tmp="$(mktemp -d "$out.partial.XXXXXX")"
    (cd "$dir" && CGO_ENABLED=0 GOWORK=off nice -n 10 go build -ldflags "$ldflags" -o "$tmp/" $pattern)
    touch "$tmp/.done"
    rm -rf "$out"
    mv "$tmp" "$out"
    echo "built $name in $(( $(date +%s) - t0 ))s" >&2
  fi
  exec {lock_fd}>&-
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
