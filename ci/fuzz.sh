#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME each. New interesting inputs land in
# the package's testdata/fuzz/ and should be committed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
FUZZTIME="${FUZZTIME:-30s}"
go list -f '{{.ImportPath}} {{.Dir}}' ./... | while read -r pkg dir; do
  grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //' |
    while read -r target; do
      log "fuzz $pkg $target ($FUZZTIME)"
      # stdin stays the terminal's, not the loop's list.
      go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" </dev/null
    done
done
