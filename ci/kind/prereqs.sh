#!/usr/bin/env bash
# Makes this machine ready for an offline kind cluster: installs Debian's
# docker.io, mmdebstrap and iptables when missing (ci/install.sh kind), starts dockerd in the
# background when none answers (log: $SPLITPROOF_CACHE/docker/dockerd.log),
# and checks that a privileged container can start. Where it cannot because
# the machine's capability bounding set lacks CAP_SYS_RESOURCE, it restarts
# the dockerd it started with ci/kind/runc-wrapper.sh as the default runtime.
# A dockerd this script started is recorded in $SPLITPROOF_CACHE/docker/
# dockerd.pid; ci/kind/stop-docker.sh stops it.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/ci/kind/common.sh"

DOCKER_STATE="$SPLITPROOF_CACHE/docker"
mkdir -p "$DOCKER_STATE"

docker_ready() { docker info >/dev/null 2>&1; }

# start_dockerd [CONFIG_FILE] starts dockerd in the background and waits for it.
start_dockerd() {
  local config="${1:-}" args=()
  [ -n "$config" ] && args+=(--config-file "$config")
  log "starting dockerd (log: $DOCKER_STATE/dockerd.log)"
  PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH" nohup dockerd "${args[@]}" \
    >>"$DOCKER_STATE/dockerd.log" 2>&1 </dev/null &
  echo $! >"$DOCKER_STATE/dockerd.pid"
  local _
  for _ in $(seq 1 60); do
    docker_ready && return 0
    if ! kill -0 "$(cat "$DOCKER_STATE/dockerd.pid")" 2>/dev/null; then
      tail -20 "$DOCKER_STATE/dockerd.log" >&2
      echo "dockerd exited; see $DOCKER_STATE/dockerd.log" >&2
      return 1
    fi
    sleep 1
  done
  echo "dockerd did not answer within 60s; see $DOCKER_STATE/dockerd.log" >&2
  return 1
}

# probe_privileged runs a privileged container of a tiny image imported from
# the host's own /bin/true and its libraries (no registry involved).
make_probe_image() {
  docker image inspect splitproof/probe:1 >/dev/null 2>&1 && return 0
  local dir; dir="$(mktemp -d)"
  copy_with_libs "$dir" "$(type -P true)"
  tar -C "$dir" -c . | docker import - splitproof/probe:1 >/dev/null
  rm -rf "$dir"
}
probe_privileged() {
  docker run --rm --pull=never --privileged --net=none splitproof/probe:1 "$(type -P true)" \
    >"$DOCKER_STATE/probe.log" 2>&1
}

bash "$REPO_ROOT/ci/install.sh" kind
if docker_ready; then
  echo "using the running docker daemon"
else
  echo '{}' >"$DOCKER_STATE/daemon.json.plain"
  start_dockerd "$DOCKER_STATE/daemon.json.plain"
fi
make_probe_image

if probe_privileged; then
  echo "privileged containers work"
else
  cat "$DOCKER_STATE/probe.log" >&2
  if ! grep -q 'caps' "$DOCKER_STATE/probe.log"; then
    echo "the privileged probe container failed for another reason than capabilities" >&2
    exit 1
  fi
  if [ ! -f "$DOCKER_STATE/dockerd.pid" ] || ! kill -0 "$(cat "$DOCKER_STATE/dockerd.pid")" 2>/dev/null; then
    echo "privileged containers fail on the running docker daemon, which these scripts did not start;" >&2
    echo "register ci/kind/runc-wrapper.sh as its default runtime (see docs/kind.md) or stop it and rerun" >&2
    exit 1
  fi
  log "privileged containers fail here: restarting dockerd with the CAP_SYS_RESOURCE runc wrapper"
  real_runc="$(PATH="/usr/sbin:/usr/bin:/sbin:/bin" command -v runc)"
  sed "s|@REAL_RUNC@|$real_runc|" "$REPO_ROOT/ci/kind/runc-wrapper.sh" >"$DOCKER_STATE/runc-wrapper"
  chmod 0755 "$DOCKER_STATE/runc-wrapper"
  cat >"$DOCKER_STATE/daemon.json" <<JSON
{
  "runtimes": {"splitproof-runc": {"path": "$DOCKER_STATE/runc-wrapper"}},
  "default-runtime": "splitproof-runc"
}
JSON
  "$REPO_ROOT/ci/kind/stop-docker.sh"
  start_dockerd "$DOCKER_STATE/daemon.json"
  if ! probe_privileged; then
    cat "$DOCKER_STATE/probe.log" >&2
    echo "privileged containers still fail with the runc wrapper" >&2
    exit 1
  fi
  echo "privileged containers work with the runc wrapper"
fi
docker version --format 'docker server {{.Server.Version}}, client {{.Client.Version}}'
