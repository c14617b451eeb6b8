#!/usr/bin/env bash
# Everything CI runs (.ci/run, make ci), on a fresh machine or a warm one:
#
#   install      Debian packages of make test and make lint (ci/install.sh)
#   prefetch     in the background, at the lowest CPU priority: docker, the
#                pinned tools, every image, the compiled suites
#                (ci/kind/prefetch.sh; log in $SPLITPROOF_CACHE/prefetch.log)
#   test         gofmt, go vet on every build tag, go test -race (make test)
#   lint         staticcheck, shellcheck (make lint)
#   integration  the controller tests against a real API server
#   e2e          the kind cluster: the doc's examples and upstream conformance
#
# Ends with the seconds of every phase, also when one fails. Cold (empty
# caches) it is a build of Kubernetes and of every image plus the suites; warm,
# mostly the suites. ci/cold.sh runs it as a fresh machine would.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/ci/kind/common.sh"

SPLITPROOF_PHASES="$(mktemp)"
export SPLITPROOF_PHASES
T_START="$(date +%s)"
PREFETCH_PID=""
PREFETCH_LOG="$SPLITPROOF_CACHE/prefetch.log"

finish() {
  local rc=$?
  phase_failed
  if [ -n "$PREFETCH_PID" ] && kill -0 "$PREFETCH_PID" 2>/dev/null; then
    kill -TERM -- "-$PREFETCH_PID" 2>/dev/null || true
    wait "$PREFETCH_PID" 2>/dev/null || true
  fi
  # A dockerd started for this run (by prefetch or e2e) goes with it.
  "$REPO_ROOT/ci/kind/stop-docker.sh" || rc=1
  {
    printf '\nphase timings (seconds; "A / B" is phase B inside A):\n'
    awk -F'\t' '{printf "  %6d  %s%s\n", $2, $1, ($3 == "" ? "" : "  " $3)}' "$SPLITPROOF_PHASES"
    printf '  %6d  total\n' "$(( $(date +%s) - T_START ))"
  } >&2
  rm -f "$SPLITPROOF_PHASES"
  exit "$rc"
}
trap finish EXIT

phase_start install
bash ci/install.sh test
phase_end

log "prefetch in the background (log: $PREFETCH_LOG)"
# Job control for this one job gives it a process group of its own, whose id
# is its PID, so finish can end everything it started and nothing else.
set -m
PHASE_PREFIX="prefetch / " bash ci/kind/prefetch.sh >"$PREFETCH_LOG" 2>&1 </dev/null &
PREFETCH_PID=$!
set +m

phase_start test
PHASE_PREFIX="test / " make --no-print-directory test
phase_end

phase_start lint
PHASE_PREFIX="lint / " make --no-print-directory lint
phase_end

phase_start integration
PHASE_PREFIX="integration / " make --no-print-directory integration
phase_end

phase_start "wait for prefetch"
prefetch_rc=0
wait "$PREFETCH_PID" || prefetch_rc=$?
PREFETCH_PID=""
if [ "$prefetch_rc" != 0 ]; then
  # make e2e runs the same steps and redoes what failed; the log says why.
  echo "prefetch failed (exit $prefetch_rc); make e2e redoes its steps. Its log ends:" >&2
  tail -30 "$PREFETCH_LOG" >&2
fi
phase_end

phase_start e2e
PHASE_PREFIX="e2e / " make --no-print-directory e2e
phase_end
