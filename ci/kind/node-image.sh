#!/usr/bin/env bash
# Builds the offline kind node image: Kubernetes, etcd, CoreDNS, crictl and a
# pause binary built from the Go module proxy (ci/kind/tools.sh), a Debian
# root filesystem from Debian's packages (ci/kind/rootfs.sh), kind's own node
# files from the sigs.k8s.io/kind module, and the control-plane images
# imported into the node's containerd. No container registry is contacted.
#
# The image is tagged splitproof/kind-node:<kubernetes version>-<content key>;
# the key hashes the versions and every input, so a warm run reuses the image
# and a changed input rebuilds it. Prints the image name on stdout.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/ci/kind/common.sh"
export DOCKER_BUILDKIT=0 # the classic builder: FROM a local image never pulls

declare -A bins
tools_out="$("$REPO_ROOT/ci/kind/tools.sh" kubernetes etcd coredns cri-tools pause)"
while read -r name dir; do bins[$name]="$dir"; done <<<"$tools_out"
node_rootfs="$("$REPO_ROOT/ci/kind/rootfs.sh" node)"
slim_rootfs="$("$REPO_ROOT/ci/kind/rootfs.sh" slim)"
kind_dir="$(cd "$REPO_ROOT/ci/tools/kubernetes" && static_go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
[ -d "$kind_dir/images/base/files" ] || { echo "kind module files not found in $kind_dir" >&2; exit 1; }

mapfile -t node_files < <(find "$REPO_ROOT/ci/kind/node" -type f | sort)
# The tools' directory names are their content keys; their full paths would
# tie the image to one cache root.
tool_keys="$(for d in "${bins[@]}"; do basename "$d"; done | sort | tr '\n' ' ')"
key="$(content_key "$KUBERNETES_VERSION" "$ETCD_IMAGE_TAG" "$COREDNS_VERSION" "$PAUSE_IMAGE_TAG" "$KIND_VERSION" \
  "$node_rootfs" "$slim_rootfs" "$tool_keys" \
  "$REPO_ROOT/ci/kind/node-image.sh" "$REPO_ROOT/ci/kind/common.sh" "${node_files[@]}")"
image="splitproof/kind-node:$KUBERNETES_VERSION-$key"
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "node image $image is up to date" >&2
  echo "$image"
  exit 0
fi

work="$(mktemp -d "$SPLITPROOF_CACHE/node-build.XXXXXX")"
build_container=""
cleanup() {
  [ -n "$build_container" ] && docker rm -f "$build_container" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# import_rootfs TARBALL IMAGE imports a root filesystem once.
import_rootfs() {
  docker image inspect "$2" >/dev/null 2>&1 && return 0
  log "docker import $(basename "$1") as $2"
  docker import "$1" "$2" >/dev/null
}
slim_image="splitproof/debian-slim:$(basename "$slim_rootfs" .tar | sed 's/^slim-//')"
import_rootfs "$slim_rootfs" "$slim_image"
node_base="splitproof/kind-node-rootfs:$(basename "$node_rootfs" .tar | sed 's/^node-//')"
import_rootfs "$node_rootfs" "$node_base"

# The names kubeadm expects must match what this kubeadm lists.
k8s="${bins[kubernetes]}"
declare -A images=(
  [kube-apiserver]="registry.k8s.io/kube-apiserver:$KUBERNETES_VERSION"
  [kube-controller-manager]="registry.k8s.io/kube-controller-manager:$KUBERNETES_VERSION"
  [kube-scheduler]="registry.k8s.io/kube-scheduler:$KUBERNETES_VERSION"
  [kube-proxy]="registry.k8s.io/kube-proxy:$KUBERNETES_VERSION"
  [etcd]="registry.k8s.io/etcd:$ETCD_IMAGE_TAG"
  [coredns]="registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
  [pause]="registry.k8s.io/pause:$PAUSE_IMAGE_TAG"
)
want="$("$k8s/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null | sort)"
have="$(printf '%s\n' "${images[@]}" | sort)"
if [ "$want" != "$have" ]; then
  echo "kubeadm $KUBERNETES_VERSION expects other images than ci/kind/common.sh pins:" >&2
  diff <(echo "$want") <(echo "$have") >&2 || true
  exit 1
fi

# component_image NAME FROM BINARY ENTRYPOINT builds one control-plane image
# from a local base (scratch or the slim Debian image) and the static binary.
component_image() {
  local name="$1" from="$2" binary="$3" entrypoint="$4" ctx="$work/img-$1"
  mkdir -p "$ctx"
  cp "$binary" "$ctx/"
  {
    echo "FROM $from"
    echo "COPY $(basename "$binary") /usr/local/bin/$(basename "$binary")"
    echo 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    [ -n "$entrypoint" ] && echo "ENTRYPOINT [\"$entrypoint\"]"
  } >"$ctx/Dockerfile"
  docker build -q -t "${images[$name]}" "$ctx" >/dev/null
}
phase_start "control-plane images"
component_image kube-apiserver scratch "$k8s/kube-apiserver" ""
component_image kube-controller-manager scratch "$k8s/kube-controller-manager" ""
component_image kube-scheduler scratch "$k8s/kube-scheduler" ""
component_image kube-proxy "$slim_image" "$k8s/kube-proxy" ""
component_image etcd scratch "${bins[etcd]}/etcd" ""
component_image coredns scratch "${bins[coredns]}/coredns" /usr/local/bin/coredns
component_image pause scratch "${bins[pause]}/pause" /usr/local/bin/pause
docker save -o "$work/images.tar" "${images[@]}"
phase_end

phase_start "node image: files and systemd"
ctx="$work/node"
mkdir -p "$ctx/bin"
cp -r "$kind_dir/images/base/files" "$ctx/files"
chmod -R u+w "$ctx/files"
rm -f "$ctx/files/etc/systemd/system/containerd-fuse-overlayfs.service"
# Debian's containerd 1.6 has no fuse-overlayfs snapshotter; the pause tag is
# the one kubeadm 1.34 pins; restrict_oom_score_adj keeps runc from lowering
# oom_score_adj, which fails where CAP_SYS_RESOURCE is missing.
sed -i \
  -e '/^\[proxy_plugins\]/,/^  address = /d' \
  -e '/^# fuse-overlayfs is used for rootless/d' \
  -e "s|sandbox_image = \"registry.k8s.io/pause:[^\"]*\"|sandbox_image = \"${images[pause]}\"|" \
  -e 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' \
  "$ctx/files/etc/containerd/config.toml"
grep -q "${images[pause]}" "$ctx/files/etc/containerd/config.toml"
grep -q 'restrict_oom_score_adj = true' "$ctx/files/etc/containerd/config.toml"
if grep -q fuse-overlayfs "$ctx/files/etc/containerd/config.toml"; then
  echo "fuse-overlayfs is still in kind's containerd config" >&2; exit 1
fi
mkdir -p "$ctx/files/etc/cni/net.d" "$ctx/files/kind/manifests"
cp "$REPO_ROOT/ci/kind/node/10-splitproof.conflist" "$ctx/files/etc/cni/net.d/"
cp "$REPO_ROOT/ci/kind/node/default-cni.yaml" "$REPO_ROOT/ci/kind/node/default-storage.yaml" "$ctx/files/kind/manifests/"
printf '%s' "$KUBERNETES_VERSION" >"$ctx/files/kind/version"
cp "$k8s/kubeadm" "$k8s/kubelet" "$k8s/kubectl" "${bins[cri-tools]}/crictl" "$ctx/bin/"
cp "$REPO_ROOT/ci/kind/node/Dockerfile" "$ctx/Dockerfile"
docker build -q --build-arg BASE="$node_base" -t "splitproof/kind-node-stage:$key" "$ctx" >/dev/null
phase_end

phase_start "node image: preload images into containerd"
build_container="splitproof-node-build-$key"
docker rm -f "$build_container" >/dev/null 2>&1 || true
docker run -d --name "$build_container" --entrypoint=sleep --security-opt seccomp=unconfined \
  "splitproof/kind-node-stage:$key" infinity >/dev/null
docker cp "$work/images.tar" "$build_container:/images.tar"
docker exec "$build_container" bash -c '
set -o errexit -o nounset -o pipefail
mkdir -p /run/containerd
containerd >/tmp/containerd.log 2>&1 &
cpid=$!
for i in $(seq 1 30); do [ -S /run/containerd/containerd.sock ] && break; sleep 1; done
ctr version >/dev/null
ctr --namespace=k8s.io images import \
  --all-platforms --no-unpack /images.tar >/dev/null
ctr --namespace=k8s.io images list -q | grep -v "^sha256:"
kill "$cpid"; wait "$cpid" || true
rm -f /images.tar /tmp/containerd.log
' >"$work/imported.txt"
for ref in "${images[@]}"; do
  grep -qxF "$ref" "$work/imported.txt" || { echo "image $ref missing from the node's containerd:" >&2; cat "$work/imported.txt" >&2; exit 1; }
done
docker stop -t 1 "$build_container" >/dev/null
docker commit "$build_container" "splitproof/kind-node-committed:$key" >/dev/null
docker rm -f "$build_container" >/dev/null; build_container=""
# docker commit cannot set STOPSIGNAL; a one-line build FROM the local image can.
mkdir -p "$work/final"
cat >"$work/final/Dockerfile" <<DOCKERFILE
FROM splitproof/kind-node-committed:$key
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
CMD []
DOCKERFILE
docker build -q -t "$image" "$work/final" >/dev/null
docker rmi "splitproof/kind-node-committed:$key" "splitproof/kind-node-stage:$key" >/dev/null 2>&1 || true
phase_end
size="$(docker image inspect -f '{{.Size}}' "$image")"
echo "node image $image ($(( size / 1000000 )) MB)" >&2
echo "$image"
