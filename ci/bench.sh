#!/usr/bin/env bash
# Runs the Go benchmarks; speed targets live here, never in unit tests.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BENCHTIME="${BENCHTIME:-1s}"
go test -run '^$' -bench "${BENCH:-.}" -benchmem -benchtime "$BENCHTIME" ./... | tee bench.txt
