#!/usr/bin/env bash
# Builds a Debian root filesystem tarball with mmdebstrap from the host's own
# apt sources (no mirror is named anywhere) and caches it under
# $SPLITPROOF_CACHE/rootfs/. Prints the tarball's path.
#
#   ci/kind/rootfs.sh node   systemd, containerd, runc, CNI plugins, iptables…:
#                            what kind's base image installs, for the node image
#   ci/kind/rootfs.sh slim   bash, coreutils, grep, curl, iptables, conntrack:
#                            the base of the workload images and of kube-proxy
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/ci/kind/common.sh"

flavor="${1:?usage: rootfs.sh node|slim}"
case "$flavor" in
  node)
    packages=(
      systemd systemd-sysv dbus
      conntrack iptables nftables iproute2 ethtool util-linux mount kmod
      libseccomp2 pigz e2fsprogs
      bash ca-certificates curl jq procps mawk
      containerd runc containernetworking-plugins
    ) ;;
  slim)
    packages=(bash coreutils grep curl ca-certificates iptables conntrack mawk) ;;
  *) echo "unknown rootfs flavor: $flavor (want node or slim)" >&2; exit 2 ;;
esac

options=(
  --variant=minbase
  --include="$(IFS=,; echo "${packages[*]}")"
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
)
key="$(content_key "$DEBIAN_SUITE" "${options[@]}")"
out="$SPLITPROOF_CACHE/rootfs/$flavor-$DEBIAN_SUITE-$key.tar"
if [ ! -f "$out" ]; then
  mkdir -p "$(dirname "$out")"
  log "mmdebstrap $flavor rootfs ($DEBIAN_SUITE, ${#packages[@]} packages)"
  nice -n 10 mmdebstrap --quiet "${options[@]}" "$DEBIAN_SUITE" "${out%.tar}.partial.tar" >&2
  mv "${out%.tar}.partial.tar" "$out"
fi
echo "$out"
