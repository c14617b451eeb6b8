#!/usr/bin/env bash
# Builds the workload images from the project's own binary (bin/splitproof) and the pinned
# conformance echo server, with no registry: each is a one-line docker build
# FROM the local slim Debian image (bash, coreutils, grep, curl), so they share
# one base layer. Tags are the exact names the manifests use:
#
#   docker.io/istio/examples-helloworld-v1       splitproof helloworld (:5000)
#   curlimages/curl:7.83.1                       curl (the pods run tail -f)
#   docker.io/istio/tcp-echo-server:1.2          splitproof tcp-echo PORTS PREFIX
#   splitproof/splitproof:dev                    splitproof SUBCOMMAND… (proxy, fakeopenai)
#   registry.k8s.io/gateway-api/echo-basic:…     the conformance echo server
#   registry.k8s.io/coredns/coredns:v1.12.2      the conformance suite's UDP backend
#
# Prints the image names on stdout, one a line.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/ci/kind/common.sh"
export DOCKER_BUILDKIT=0

slim_rootfs="$("$REPO_ROOT/ci/kind/rootfs.sh" slim)"
slim_image="splitproof/debian-slim:$(basename "$slim_rootfs" .tar | sed 's/^slim-//')"
if ! docker image inspect "$slim_image" >/dev/null 2>&1; then
  docker import "$slim_rootfs" "$slim_image" >/dev/null
fi
echo_tool="$("$REPO_ROOT/ci/kind/tools.sh" echo-basic)"
read -r _ echo_dir <<<"$echo_tool"
coredns_tool="$("$REPO_ROOT/ci/kind/tools.sh" coredns-conformance)"
read -r _ coredns_dir <<<"$coredns_tool"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# bin/splitproof is static (ci/build.sh); a fresh one is a no-op to rebuild.
"$REPO_ROOT/ci/build.sh" >&2
cp "$REPO_ROOT/bin/splitproof" "$work/splitproof"

# image TAG BINARY ENTRYPOINT_JSON builds TAG from the slim image plus BINARY
# (none when BINARY is empty).
image() {
  local tag="$1" binary="$2" entrypoint="$3" ctx
  ctx="$(mktemp -d "$work/ctx.XXXXXX")"
  {
    echo "FROM $slim_image"
    if [ -n "$binary" ]; then
      cp "$binary" "$ctx/"
      echo "COPY $(basename "$binary") /usr/local/bin/$(basename "$binary")"
    fi
    echo "ENTRYPOINT $entrypoint"
  } >"$ctx/Dockerfile"
  docker build -q -t "$tag" "$ctx" >/dev/null
  echo "$tag"
}

sp="$work/splitproof"
image docker.io/istio/examples-helloworld-v1:latest "$sp" '["/usr/local/bin/splitproof", "helloworld"]'
image docker.io/istio/tcp-echo-server:1.2 "$sp" '["/usr/local/bin/splitproof", "tcp-echo"]'
image splitproof/splitproof:dev "$sp" '["/usr/local/bin/splitproof"]'
# Debian's curl (7.88) stands in for 7.83.1: the pods only run tail and curl.
image curlimages/curl:7.83.1 "" '["curl"]'
for tag in v1.5.1 v1.6.0-dev.2 v1.6.0-dev.3; do
  image "registry.k8s.io/gateway-api/echo-basic:$tag" "$echo_dir/echo-basic" '["/usr/local/bin/echo-basic"]'
done
# The suite's base manifests run CoreDNS v1.12.2 with `-conf /root/Corefile`
# (the node image's own CoreDNS is the cluster DNS, v1.12.1).
image registry.k8s.io/coredns/coredns:v1.12.2 "$coredns_dir/coredns" '["/usr/local/bin/coredns"]'
