#!/bin/sh
# OCI runtime wrapper for machines whose capability bounding set lacks
# CAP_SYS_RESOURCE: docker asks for every capability on --privileged and runc
# then fails with "unable to apply caps: operation not permitted". This drops
# CAP_SYS_RESOURCE from the bundle's config.json (create/run) and from the
# --process spec (exec), then runs the real runc with the same arguments.
# ci/kind/prereqs.sh installs it (with @REAL_RUNC@ filled in) only where a
# privileged probe container fails.
REAL_RUNC="@REAL_RUNC@"

drop_cap() {
  [ -f "$1" ] || return 0
  # -z reads the whole file as one record, so indented JSON is handled too.
  sed -z -E -i \
    -e 's/"CAP_SYS_RESOURCE"[[:space:]]*,[[:space:]]*//g' \
    -e 's/,[[:space:]]*"CAP_SYS_RESOURCE"//g' \
    -e 's/\[[[:space:]]*"CAP_SYS_RESOURCE"[[:space:]]*\]/[]/g' \
    "$1"
}

bundle=""
process=""
prev=""
for arg in "$@"; do
  case "$prev" in
    --bundle|-b) bundle="$arg" ;;
    --process|-p) process="$arg" ;;
  esac
  case "$arg" in
    --bundle=*) bundle="${arg#--bundle=}" ;;
    --process=*) process="${arg#--process=}" ;;
  esac
  prev="$arg"
done
[ -n "$bundle" ] && drop_cap "$bundle/config.json"
[ -n "$process" ] && drop_cap "$process"
exec "$REAL_RUNC" "$@"
