# splitproof — every target calls a script under ci/ so CI and people run the same thing.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

.PHONY: help build test demo bench fuzz e2e lint

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

build: ## build bin/splitproof
	@ci/build.sh

test: ## gofmt, go vet and go test -race on every package (minutes, no cluster)
	@ci/test.sh

demo: ## the main job on the embedded default: replay the doc's examples and print verdicts
	@ci/demo.sh

bench: ## run the Go benchmarks and write bench.txt
	@ci/bench.sh

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@ci/fuzz.sh
