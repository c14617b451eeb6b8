#!/usr/bin/env bash
# The slow, cacheable preparation of make lint, make integration and make e2e,
# which .ci/run starts in the background while the unit tests run, so that
# downloads, disk work and idle CPU overlap with them:
#
#   Debian packages and dockerd (ci/kind/prereqs.sh, at normal priority, so
#   the containers dockerd starts later do not inherit a low one), then at
#   the lowest CPU priority: the node's root filesystems (ci/kind/rootfs.sh)
#   beside the pinned tools, built in the order the foreground needs them
#   (ci/kind/tools.sh); then every image (ci/kind/e2e.sh images: the node
#   image, bin/splitproof, the workload images) and the compiled e2e and
#   conformance suites.
#
# Every step is the script the later target runs, and leaves its result in
# the cache, so that target finds it done; a step that fails here is simply
# redone there. ci/kind/tools.sh serialises concurrent builds of one tool.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/ci/kind/common.sh"

phase_start "dockerd and Debian packages"
"$REPO_ROOT/ci/kind/prereqs.sh"
phase_end

renice -n 19 -p $$ >/dev/null

# The root filesystems wait mostly on downloads and the disk: beside the
# compilers, not after them.
"$REPO_ROOT/ci/kind/rootfs.sh" node >/dev/null &
node_rootfs=$!
"$REPO_ROOT/ci/kind/rootfs.sh" slim >/dev/null &
slim_rootfs=$!

phase_start "tools"
"$REPO_ROOT/ci/kind/tools.sh" staticcheck etcd controller-gen kubernetes caddy >/dev/null
phase_end

phase_start "root filesystems (after the tools)"
rc=0
wait "$node_rootfs" || rc=1
wait "$slim_rootfs" || rc=1
phase_end
[ "$rc" = 0 ] || { echo "a root filesystem build failed" >&2; exit 1; }

PHASE_PREFIX="${PHASE_PREFIX:-}images / " "$REPO_ROOT/ci/kind/e2e.sh" images

phase_start "compile the e2e and conformance suites"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
static_go test -c -tags e2e -o "$out/" ./conformance/e2e/
static_go test -c -tags conformance -o "$out/" ./conformance/gatewayapi/
static_go build -o "$out/" ./conformance/gatewayapi/summary
phase_end
