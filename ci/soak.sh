#!/usr/bin/env bash
# make soak: refproxy in file mode under load for SOAK_DURATION (default 10m)
# with a reload every second and a backend killed for SOAK_DOWN (10s) every
# SOAK_KILL_EVERY (30s), all on loopback (refproxy/filemode/soak_test.go,
# build tag soak). Not part of make test or .ci/run.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$REPO_ROOT/ci/build.sh" >/dev/null
# The test ends itself after SOAK_DURATION; the timeout only catches a hang.
SOAK_BINARY="$REPO_ROOT/bin/splitproof" SOAK_DURATION="${SOAK_DURATION:-10m}" \
  go test -tags soak -count=1 -v -run '^TestSoak$' -timeout 3h ./refproxy/filemode/
