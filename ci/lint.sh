#!/usr/bin/env bash
# make lint: staticcheck (pinned in ci/tools/staticcheck) on every package and
# build tag, and shellcheck (Debian's, ci/install.sh) on every shell script.
# gofmt and go vet run in make test.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD_TAGS="integration,e2e,conformance"

phase_start "build staticcheck"
staticcheck="$(bash ci/kind/tools.sh staticcheck | awk '$1 == "staticcheck" {print $2}')/staticcheck"
phase_end

phase_start "staticcheck"
# GOFLAGS=-race: the packages staticcheck loads are then compiled exactly as
# make test compiles them, so a warm build cache serves both.
GOFLAGS=-race "$staticcheck" -tags "$BUILD_TAGS" ./...
phase_end

phase_start "shellcheck"
if ! command -v shellcheck >/dev/null 2>&1; then
  echo "shellcheck is missing: run ci/install.sh (or apt-get install shellcheck)" >&2
  exit 1
fi
mapfile -t scripts < <(git ls-files --cached --others --exclude-standard '*.sh' .ci/run)
shellcheck --external-sources --source-path=SCRIPTDIR "${scripts[@]}"
phase_end
