#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME each. New interesting inputs land in
# the package's testdata/fuzz/ and should be committed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
FUZZTIME="${FUZZTIME:-30s}"
for pkg in $(go list ./...); do
  dir="$(go list -f '{{.Dir}}' "$pkg")"
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //'); do
    log "fuzz $pkg $target ($FUZZTIME)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
  done
done
