# shellcheck shell=bash
# Shared settings for the ci/kind scripts: pinned versions, the cache root and
# small helpers. Sourced after ci/lib.sh.

KUBERNETES_VERSION="v1.34.4"
ETCD_VERSION="3.6.5"
ETCD_IMAGE_TAG="3.6.5-0"
COREDNS_VERSION="v1.12.1"
PAUSE_IMAGE_TAG="3.10.1"
CRICTL_VERSION="v1.34.0"
KIND_VERSION="v0.33.0"
DEBIAN_SUITE="bookworm"
export KUBERNETES_VERSION ETCD_VERSION ETCD_IMAGE_TAG COREDNS_VERSION PAUSE_IMAGE_TAG CRICTL_VERSION KIND_VERSION DEBIAN_SUITE

# One root for everything the kind scripts cache between runs.
SPLITPROOF_CACHE="${SPLITPROOF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/splitproof}"
export SPLITPROOF_CACHE
mkdir -p "$SPLITPROOF_CACHE"

KIND_CLUSTER_NAME="${KIND_CLUSTER_NAME:-splitproof}"
export KIND_CLUSTER_NAME

# content_key FILE_OR_STRING… prints a short hash of the files' contents and
# the literal strings given, so a changed input gives a new key.
content_key() {
  local item
  for item in "$@"; do
    if [ -f "$item" ]; then
      # Files of the repository by their path in it, others (cached root
      # filesystems) by name: the key never depends on where a cache lives.
      case "$item" in
        "$REPO_ROOT"/*) printf 'file %s\n' "${item#"$REPO_ROOT"/}" ;;
        *) printf 'file %s\n' "$(basename "$item")" ;;
      esac
      sha256sum <"$item"
    else
      printf 'str %s\n' "$item"
    fi
  done | sha256sum | cut -c1-12
}

# copy_with_libs DIR FILE… copies each file (dereferencing symlinks) into DIR
# at the same path, with every shared library ldd names and the dynamic
# loader, so the files run in an image that holds nothing else.
copy_with_libs() {
  local dir="$1" f lib; shift
  for f in "$@"; do
    mkdir -p "$dir$(dirname "$f")"
    cp -L "$f" "$dir$f"
    for lib in $(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' || true); do
      [ -e "$dir$lib" ] && continue
      mkdir -p "$dir$(dirname "$lib")"
      cp -L "$lib" "$dir$lib"
    done
  done
}
