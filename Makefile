# splitproof — every target calls a script under ci/ so CI and people run the same thing.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

.PHONY: help ci build test demo bench bench-peers fuzz soak e2e lint kind-images kind-cluster kind-delete generate integration conformance

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

build: ## build bin/splitproof
	@ci/build.sh

test: ## gofmt, go vet (every build tag) and go test -race on every package (minutes, no cluster)
	@ci/test.sh

lint: ## staticcheck (pinned, every build tag) and shellcheck on the ci/ scripts
	@ci/lint.sh

ci: ## everything CI runs (.ci/run): install, test, lint, integration, e2e, with a phase summary
	@ci/ci.sh

demo: ## the main job on the embedded default: replay the doc's examples and print verdicts
	@ci/demo.sh

bench: ## run the Go benchmarks and write bench.txt
	@ci/bench.sh

bench-peers: ## req/s and latency of nginx, HAProxy, Caddy and refproxy at one core each, same load (out/bench-peers.json)
	@ci/bench-peers.sh

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@ci/fuzz.sh

soak: ## refproxy under load for SOAK_DURATION (10m): reloads every second, a backend killed every 30s
	@ci/soak.sh

generate: ## regenerate the AgentgatewayBackend CRD from its Go type (controller-gen)
	@ci/generate.sh

integration: ## controller-mode tests against a real etcd + kube-apiserver built from source (cold: 10+ min)
	@ci/integration.sh

e2e: ## the end-to-end suite on a kind cluster built with no registry (docs/kind.md)
	@ci/kind/e2e.sh all

conformance: ## only the upstream Gateway API conformance suite, on the kind cluster (left running)
	@KEEP_CLUSTER=1 ci/kind/e2e.sh conformance

kind-images: ## build the offline kind node image and the workload images (cached)
	@ci/kind/e2e.sh images

kind-cluster: ## create (or reuse) the kind cluster and load the workload images
	@ci/kind/e2e.sh cluster

kind-delete: ## delete the kind cluster and stop the dockerd the scripts started
	@ci/kind/e2e.sh delete
