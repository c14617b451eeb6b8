#!/usr/bin/env bash
# make bench-peers: the doc's traffic-split route through nginx, HAProxy,
# Caddy and refproxy (random and smooth picks), and straight to one backend,
# under the same load in the same run (ci/benchpeers). Each gateway runs on
# CPU 0 with one worker, thread or P; the load generator and the helloworld
# backends run on CPU 1. Prints a table with ratios to nginx, then a line
# with splitproof's own replayer against nginx (--concurrency as many
# workers as the load generator's connections, keep-alive) and its ratio to
# the load generator (--replayer=false leaves it out), and writes
# out/bench-peers.json. Loopback only; every gateway is stopped by its PID.
# Not part of make test or CI: the figures depend on the machine.
#
#   ci/bench-peers.sh [benchpeers flags…]   e.g. --duration 10s --connections 64
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$(nproc)" -lt 2 ]; then
  echo "bench-peers needs two CPUs (gateway on one, load on the other); this machine has $(nproc)" >&2
  exit 2
fi

phase_start "install nginx and haproxy if missing (ci/install.sh)"
bash "$REPO_ROOT/ci/install.sh" test
phase_end

phase_start "build splitproof, benchpeers and caddy (cached)"
"$REPO_ROOT/ci/build.sh" >/dev/null
static_go build -o "$REPO_ROOT/bin/benchpeers" ./ci/benchpeers
SPLITPROOF_CADDY="$(bash ci/kind/tools.sh caddy | awk '$1 == "caddy" {print $2}')/caddy"
export SPLITPROOF_CADDY
phase_end

phase_start "bench-peers"
# The load generator and backends get CPU 1 and one P; the gateways,
# started by benchpeers under taskset, CPU 0.
GOMAXPROCS=1 taskset -c 1 "$REPO_ROOT/bin/benchpeers" --gateway-cpu 0 \
  --splitproof "$REPO_ROOT/bin/splitproof" --json "$REPO_ROOT/out/bench-peers.json" "$@"
phase_end
