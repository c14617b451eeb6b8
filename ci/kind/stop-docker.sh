#!/usr/bin/env bash
# Stops the dockerd that ci/kind/prereqs.sh started (and only that one), as
# recorded in $SPLITPROOF_CACHE/docker/dockerd.pid. A daemon the scripts did
# not start is left alone.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/ci/kind/common.sh"

pidfile="$SPLITPROOF_CACHE/docker/dockerd.pid"
[ -f "$pidfile" ] || exit 0
pid="$(cat "$pidfile")"
if kill -0 "$pid" 2>/dev/null; then
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "dockerd (pid $pid) did not stop within 30s" >&2
    exit 1
  fi
fi
rm -f "$pidfile"
