#!/usr/bin/env bash
# Installs the Debian packages the project's checks need, in one apt
# transaction, on a fresh machine of this project's kind (Go is expected at
# /usr/local/go). Idempotent and quiet when everything is there.
#
#   ci/install.sh [test] [kind]     (default: test)
#     test   make, curl, jq, nginx-light and haproxy (third-party gateways the
#            replayer is checked against in conformance/peers)
#            and shellcheck (make lint)
#     kind   docker.io, mmdebstrap, iptables and Debian's keyring (make e2e)
#
# Debian's maintainer scripts start the services they install (nginx, haproxy,
# docker); this script starts none: a temporary policy-rc.d denies every
# start, so no process is left behind for anyone to stop.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

groups=("$@")
[ "${#groups[@]}" -gt 0 ] || groups=(test)

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

need=()
for group in "${groups[@]}"; do
  case "$group" in
    test)
      have make || need+=(make)
      have curl || need+=(curl)
      have jq || need+=(jq)
      have nginx || need+=(nginx-light)
      have haproxy || need+=(haproxy)
      have shellcheck || need+=(shellcheck) ;;
    kind)
      have dockerd || need+=(docker.io)
      have mmdebstrap || need+=(mmdebstrap)
      have iptables || need+=(iptables)
      # Non-Debian hosts (e.g. Ubuntu CI runners) need Debian's keyring to
      # bootstrap the node's root filesystem.
      [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring) ;;
    *) echo "ci/install.sh: unknown group $group (want test or kind)" >&2; exit 2 ;;
  esac
done

if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ci/install.sh: these Debian packages are missing: ${need[*]}" >&2
    echo "install them (apt-get install ${need[*]}) or run this script as root" >&2
    exit 1
  fi
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# ci/install.sh: no service starts while it installs packages\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  log "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
