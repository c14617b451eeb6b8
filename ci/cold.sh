#!/usr/bin/env bash
# Runs .ci/run as a fresh machine would, to prove a change to ci/ holds cold:
# a clean clone of HEAD in a new directory, CI=true, and SPLITPROOF_CACHE,
# GOMODCACHE and GOCACHE pointing at new empty directories; the docker images
# and the kind cluster the project makes are removed first. Debian packages
# already installed stay (removing them would touch the machine beyond the
# project). Prints the clone's phase summary; exits with .ci/run's status.
#
#   ci/cold.sh            clone HEAD into a new directory under $COLD_ROOT
#                         (default /tmp), run, delete the directory
#   KEEP=1 ci/cold.sh     keep the directory (caches, clone, log) afterwards
#
# The run's output goes to <dir>/run.log as well as the terminal.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/ci/kind/common.sh"

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "ci/cold.sh runs HEAD: the uncommitted changes in $REPO_ROOT are not in it" >&2
fi

dir="$(mktemp -d "${COLD_ROOT:-/tmp}/splitproof-cold.XXXXXX")"
cleanup() {
  if [ "${KEEP:-}" = 1 ]; then
    echo "kept $dir" >&2
  else
    # The module cache is read-only by design.
    chmod -R u+w "$dir" 2>/dev/null || true
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

# The project's images: every tag the ci/kind scripts create. A dockerd is
# started for this if none answers, and stopped again.
log "removing the project's kind cluster and docker images"
if command -v dockerd >/dev/null 2>&1; then
  SPLITPROOF_CACHE="$dir/prep" "$REPO_ROOT/ci/kind/prereqs.sh" >/dev/null
  if [ -x bin/splitproof ] || "$REPO_ROOT/ci/build.sh" >/dev/null; then
    bin/splitproof kind delete --name "$KIND_CLUSTER_NAME" \
      --kubeconfig "$dir/prep/kubeconfig" >/dev/null 2>&1 || true
  fi
  mapfile -t images < <(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E \
    '^(splitproof/|registry\.k8s\.io/|docker\.io/istio/|istio/|curlimages/curl:)' || true)
  if [ "${#images[@]}" -gt 0 ]; then
    docker image rm -f "${images[@]}" >/dev/null
  fi
  docker image prune -f >/dev/null
  SPLITPROOF_CACHE="$dir/prep" "$REPO_ROOT/ci/kind/stop-docker.sh"
  echo "removed ${#images[@]} images" >&2
fi
rm -rf "$dir/prep"

git clone --quiet --no-hardlinks "$REPO_ROOT" "$dir/repo"
mkdir -p "$dir/cache" "$dir/gomod" "$dir/gobuild"
log "cold .ci/run in $dir/repo ($(git -C "$dir/repo" rev-parse --short HEAD))"
status=0
(
  cd "$dir/repo"
  CI=true SPLITPROOF_CACHE="$dir/cache" GOMODCACHE="$dir/gomod" GOCACHE="$dir/gobuild" \
    bash .ci/run </dev/null
) 2>&1 | tee "$dir/run.log" || status=$?
exit "$status"
