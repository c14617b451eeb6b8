#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine of this project's
# kind: Go is expected at /usr/local/go; nginx-light is the third-party
# gateway the replayer is checked against. Idempotent and quiet when done.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need=()
command -v make >/dev/null 2>&1 || need+=(make)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)
if [ "${#need[@]}" -gt 0 ]; then
  log "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts nginx on install; the tests run their own instances.
  if command -v systemctl >/dev/null 2>&1; then systemctl stop nginx >/dev/null 2>&1 || true; fi
  pkill -x nginx >/dev/null 2>&1 || true
fi
go version
go mod download
