#!/usr/bin/env bash
# The end-to-end job on a real kind cluster, with no container registry:
#
#   ci/kind/e2e.sh [all]   prereqs → node image → workload images → cluster →
#                          load images → suite (conformance/e2e: the sample app
#                          and the doc's examples) → the upstream Gateway API
#                          conformance suite (conformance/gatewayapi), then
#                          delete the cluster and stop the dockerd it started
#                          (make e2e)
#   ci/kind/e2e.sh conformance
#                          images, cluster, then only the conformance suite,
#                          leaving the cluster running (make conformance)
#   ci/kind/e2e.sh images  prereqs and every image (make kind-images)
#   ci/kind/e2e.sh cluster images, then create or reuse the cluster and load
#                          the workload images (make kind-cluster)
#   ci/kind/e2e.sh delete  delete the cluster, stop the dockerd it started (make kind-delete)
#
# Environment: KIND_NODE_IMAGE (skip the offline node image build and use this
# one, e.g. a stock kindest/node image when online), KEEP_CLUSTER=1 (reuse a
# running cluster and leave it, and dockerd, running), KIND_CLUSTER_NAME,
# SPLITPROOF_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/splitproof),
# E2E_FLAGS (extra go test flags, e.g. -ginkgo.focus=…), CONFORMANCE_FLAGS
# (extra flags, e.g. -run-test=HTTPRouteWeight after -args). Prints per-phase
# timings; the conformance report lands in out/conformance/.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/ci/kind/common.sh"

mode="${1:-all}"
KUBECONFIG_FILE="$SPLITPROOF_CACHE/kubeconfig-$KIND_CLUSTER_NAME"
LB_PIDFILE="$SPLITPROOF_CACHE/lb-$KIND_CLUSTER_NAME.pid"
LB_LOG="$SPLITPROOF_CACHE/lb-$KIND_CLUSTER_NAME.log"
T_START="$(date +%s)"

# lb_pid prints the PID of the `splitproof kind lb` these scripts started for
# the cluster, if it still runs (the command line is checked, so a stale
# pidfile never names another process).
lb_pid() {
  [ -f "$LB_PIDFILE" ] || return 1
  local pid; pid="$(cat "$LB_PIDFILE")"
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kind lb --name $KIND_CLUSTER_NAME " || return 1
  echo "$pid"
}

# start_lb keeps the cluster's LoadBalancer Services served from this host
# for as long as the cluster lives (the doc's $INGRESS_GW_ADDRESS answers on
# a kept cluster too); the suites' own LoadBalancers stand by meanwhile.
start_lb() {
  if pid="$(lb_pid)"; then
    echo "LoadBalancer already serving (pid $pid, log $LB_LOG)" >&2
    return 0
  fi
  nohup bin/splitproof kind lb --name "$KIND_CLUSTER_NAME" --kubeconfig "$KUBECONFIG_FILE" \
    >>"$LB_LOG" 2>&1 </dev/null &
  echo $! >"$LB_PIDFILE"
  echo "LoadBalancer serving (pid $!, log $LB_LOG)" >&2
}

# stop_lb ends it (it removes its routes first) and waits up to 30 s.
stop_lb() {
  local pid
  if pid="$(lb_pid)"; then
    kill -TERM "$pid"
    for _ in $(seq 1 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "the LoadBalancer (pid $pid) did not stop within 30s; see $LB_LOG" >&2
      return 1
    fi
  fi
  rm -f "$LB_PIDFILE"
}

finish() {
  local rc=$?
  phase_failed
  if [ "$mode" = all ] && [ "${KEEP_CLUSTER:-}" != 1 ]; then
    if [ -n "${CLUSTER_UP:-}" ]; then
      phase_start "delete cluster"
      stop_lb || rc=1
      bin/splitproof kind delete --name "$KIND_CLUSTER_NAME" --kubeconfig "$KUBECONFIG_FILE" >/dev/null || rc=1
      phase_end
    fi
    "$REPO_ROOT/ci/kind/stop-docker.sh" || rc=1
  fi
  phase_summary
  printf '  %-38s %5ss\n' total "$(( $(date +%s) - T_START ))" >&2
  echo "cache: $SPLITPROOF_CACHE ($(du -sh "$SPLITPROOF_CACHE" 2>/dev/null | cut -f1))" >&2
  exit "$rc"
}
trap finish EXIT

build_images() {
  phase_start "prereqs (docker, mmdebstrap)"
  "$REPO_ROOT/ci/kind/prereqs.sh"
  phase_end

  if [ -n "${KIND_NODE_IMAGE:-}" ]; then
    NODE_IMAGE="$KIND_NODE_IMAGE"
    echo "node image from KIND_NODE_IMAGE: $NODE_IMAGE" >&2
  else
    phase_start "node image"
    NODE_IMAGE="$(PHASE_PREFIX="$PHASE_NAME / " "$REPO_ROOT/ci/kind/node-image.sh")"
    phase_end
    # The kubectl matching the cluster, built with the node image.
    local k8s_tool
    k8s_tool="$("$REPO_ROOT/ci/kind/tools.sh" kubernetes)"
    read -r _ k8s_bin <<<"$k8s_tool"
    export PATH="$k8s_bin:$PATH"
  fi
  export KIND_NODE_IMAGE="$NODE_IMAGE"

  # One static bin/splitproof per run: the images, the cluster commands and
  # the suites (built with the same flags) all use it.
  phase_start "build bin/splitproof"
  "$REPO_ROOT/ci/build.sh" >/dev/null
  phase_end

  phase_start "workload images"
  local built
  built="$("$REPO_ROOT/ci/kind/workload-images.sh")"
  mapfile -t WORKLOAD_IMAGES <<<"$built"
  phase_end
  printf '  %s\n' "$NODE_IMAGE" "${WORKLOAD_IMAGES[@]}" >&2
}

bring_up_cluster() {
  phase_start "cluster (create or reuse)"
  bin/splitproof kind create --reuse --name "$KIND_CLUSTER_NAME" --image "$NODE_IMAGE" --kubeconfig "$KUBECONFIG_FILE"
  CLUSTER_UP=1
  start_lb
  phase_end
  phase_start "load workload images"
  bin/splitproof kind load --name "$KIND_CLUSTER_NAME" --kubeconfig "$KUBECONFIG_FILE" "${WORKLOAD_IMAGES[@]}"
  phase_end
}

run_e2e_suite() {
  phase_start "e2e suite"
  # The script owns the cluster's lifetime: the suite reuses it (and leaves it).
  # Called under `||`, where errexit is off: the status is kept by hand.
  local status=0 flags
  read -ra flags <<<"${E2E_FLAGS:-}"
  KEEP_CLUSTER=1 E2E_KUBECONFIG="$KUBECONFIG_FILE" E2E_IMAGES="${WORKLOAD_IMAGES[*]}" \
    static_go test -tags e2e -count=1 -timeout 30m -v ./conformance/e2e/ -ginkgo.v "${flags[@]}" || status=$?
  phase_end
  return "$status"
}

run_conformance() {
  phase_start "Gateway API conformance suite"
  # The test installs the Conformance profile and serves LoadBalancers itself.
  local status=0 flags
  read -ra flags <<<"${CONFORMANCE_FLAGS:-}"
  KUBECONFIG="$KUBECONFIG_FILE" SPLITPROOF_VERSION="$(git describe --always --dirty 2>/dev/null || echo dev)" \
    static_go test -tags conformance -count=1 -timeout 60m -v ./conformance/gatewayapi/ \
    -run TestGatewayAPIConformance "${flags[@]}" || status=$?
  phase_end
  static_go run ./conformance/gatewayapi/summary out/conformance/*.yaml >&2 || true
  return "$status"
}

case "$mode" in
  images) build_images ;;
  cluster)
    build_images
    bring_up_cluster
    echo "export KUBECONFIG=$KUBECONFIG_FILE" ;;
  delete)
    phase_start "delete cluster"
    [ -x bin/splitproof ] || "$REPO_ROOT/ci/build.sh" >/dev/null
    stop_lb
    if docker info >/dev/null 2>&1; then
      bin/splitproof kind delete --name "$KIND_CLUSTER_NAME" --kubeconfig "$KUBECONFIG_FILE"
    fi
    phase_end
    "$REPO_ROOT/ci/kind/stop-docker.sh" ;;
  all)
    build_images
    bring_up_cluster
    # Both suites run even when the first fails; the exit code is the worst.
    rc=0
    run_e2e_suite || rc=1
    run_conformance || rc=1
    exit "$rc" ;;
  conformance)
    build_images
    bring_up_cluster
    run_conformance ;;
  *) echo "usage: ci/kind/e2e.sh [all|images|cluster|conformance|delete]" >&2; exit 2 ;;
esac
