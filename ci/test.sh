#!/usr/bin/env bash
# The README's test command: formatting, vet, and the race-enabled unit and
# loopback tests of every package. No cluster, no network beyond loopback.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

log "gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))"
if [ -n "$unformatted" ]; then
  echo "these files need gofmt:" >&2
  echo "$unformatted" >&2
  exit 1
fi

log "go vet"
go vet ./...

log "go test -race"
go test -race -count=1 -timeout 20m ./...
