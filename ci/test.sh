#!/usr/bin/env bash
# The README's test command: formatting, vet, and the race-enabled unit and
# loopback tests of every package. No cluster, no network beyond loopback.
#
# go vet covers the files of every build tag (integration, e2e, conformance),
# so a compile error in a slow-path test fails here, in minutes. It runs with
# -race, like the tests: both then compile each dependency once, into one
# build cache entry; go test skips its own vet pass, which this one covers.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD_TAGS="integration,e2e,conformance"

phase_start "gofmt"
unformatted="$(git ls-files -z --cached --others --exclude-standard '*.go' | xargs -0 gofmt -l)"
if [ -n "$unformatted" ]; then
  echo "these files need gofmt:" >&2
  echo "$unformatted" >&2
  exit 1
fi
phase_end

phase_start "go vet (tags $BUILD_TAGS)"
go vet -race -tags "$BUILD_TAGS" ./...
phase_end

phase_start "go test -race"
go test -race -vet=off -count=1 -timeout 20m ./...
phase_end
