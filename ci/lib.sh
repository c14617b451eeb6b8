# shellcheck shell=bash
# Shared setup for the ci/ scripts: strict mode, repository root, Go on PATH,
# one Go module and build cache for everything, and phase timings.
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
cd "$REPO_ROOT"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
PATH="$(go env GOPATH)/bin:$PATH"
export PATH
# The project's go.mod and every pinned tool module under ci/tools/ are built
# with the Go that runs here; a toolchain line never downloads another one.
export GOTOOLCHAIN=local
VERSION="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
export VERSION
LDFLAGS="-X github.com/splitproof/splitproof/internal/cli.Version=${VERSION}"
export LDFLAGS

# Go builds come in two flavours only, so that each package is compiled at
# most twice per run whatever script asks for it:
#   race    go vet, go test -race (make test, make integration): cgo on, as
#           the race detector needs it;
#   static  bin/splitproof, the images, the e2e and conformance suites and the
#           ci/tools binaries: CGO_ENABLED=0, no -trimpath, so a binary built
#           on the host runs in any image and shares the build cache with the
#           suites that test it.
# Both use the default GOMODCACHE and GOCACHE (or the caller's).
static_go() { CGO_ENABLED=0 GOWORK=off go "$@"; }

log() { printf '\n==> %s\n' "$*" >&2; }

# Phase timings: phase_start NAME … phase_end prints "NAME: Ns", keeps it for
# phase_summary and, when SPLITPROOF_PHASES names a file (.ci/run sets it),
# appends "NAME<TAB>SECONDS" there so one summary covers every script.
# PHASE_PREFIX (e.g. "e2e / ") names the phase that encloses a script's own.
PHASE_SUMMARY=""
PHASE_NAME=""
phase_start() {
  PHASE_NAME="${PHASE_PREFIX:-}$1"
  PHASE_T0="$(date +%s)"
  log "$PHASE_NAME"
}
phase_end() {
  local dt=$(( $(date +%s) - PHASE_T0 ))
  printf '%-40s %5ss\n' "$PHASE_NAME" "$dt" >&2
  PHASE_SUMMARY+="$(printf '  %-38s %5ss' "$PHASE_NAME" "$dt")"$'\n'
  if [ -n "${SPLITPROOF_PHASES:-}" ]; then
    printf '%s\t%s\n' "$PHASE_NAME" "$dt" >>"$SPLITPROOF_PHASES"
  fi
  PHASE_NAME=""
}
# phase_failed records the phase under way, if any, as failed (for EXIT traps).
phase_failed() {
  [ -n "$PHASE_NAME" ] || return 0
  local dt=$(( $(date +%s) - PHASE_T0 ))
  PHASE_SUMMARY+="$(printf '  %-38s %5ss FAILED' "$PHASE_NAME" "$dt")"$'\n'
  if [ -n "${SPLITPROOF_PHASES:-}" ]; then
    printf '%s\t%s\tFAILED\n' "$PHASE_NAME" "$dt" >>"$SPLITPROOF_PHASES"
  fi
  PHASE_NAME=""
}
phase_summary() { printf '\nphase timings:\n%s' "$PHASE_SUMMARY" >&2; }
