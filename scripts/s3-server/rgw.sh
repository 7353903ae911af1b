#!/usr/bin/env bash
# A throw-away, single-host Ceph RADOS Gateway (a real S3 implementation) for tests and benches:
# one mon, one in-memory OSD (memstore) and one radosgw, all under one temp folder, on free
# 127.0.0.1 ports, no authentication between the daemons. Nothing is installed system-wide
# except the Debian packages (`install`).
#
#   rgw.sh install           apt-get install the packages when a binary is missing
#   rgw.sh start [DIR]       start a cluster in DIR (default: a new temp folder); prints one JSON
#                            line {dir, endpoint, region, accessKeyId, secretAccessKey, seconds}
#   rgw.sh stop DIR          stop it by the daemons' pid files (radosgw, OSD, mon) and remove DIR
#
# Every wait is bounded: a start that fails says which step and where its log is, stops what it
# started and exits 1. Env: FG_RGW_MEMSTORE_MIB (OSD memory cap, default 2048),
# FG_RGW_KEEP=1 keeps DIR after stop (for reading logs).
set -euo pipefail

PACKAGES=(radosgw ceph-mon ceph-osd uuid-runtime curl)
BINARIES=(radosgw radosgw-admin ceph-mon ceph-osd ceph monmaptool uuidgen curl)

die() { printf 'rgw.sh: %s\n' "$*" >&2; exit 1; }

missing_binaries() {
  local b out=()
  for b in "${BINARIES[@]}"; do command -v "$b" >/dev/null 2>&1 || out+=("$b"); done
  printf '%s\n' "${out[@]}"
}

cmd_install() {
  if [ -z "$(missing_binaries)" ]; then return 0; fi
  [ "$(id -u)" = 0 ] || die "Ceph RGW packages missing and not root: sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
  [ -z "$(missing_binaries)" ] || die "still missing after install: $(missing_binaries | tr '\n' ' ')"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_for SECONDS DESCRIPTION COMMAND...: run COMMAND every 0.25 s until it succeeds
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.25
  done
  : "$what" # named for the reader of the call site
}

# last_error DIR: the last non-empty line the ceph CLI wrote to DIR/log/ceph.err (for a one-line failure)
last_error() { grep -v '^[[:space:]]*$' "$1/log/ceph.err" 2>/dev/null | tail -n 1 | cut -c1-200 || true; }

pid_of() { [ -s "$1/run/$2.pid" ] && cat "$1/run/$2.pid"; }

# stop_daemon DIR NAME: SIGTERM by pid file, SIGKILL after 10 s
stop_daemon() {
  local dir=$1 name=$2 pid
  pid=$(pid_of "$dir" "$name" 2>/dev/null) || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
  local dir=${1:-}
  [ -n "$dir" ] && [ -f "$dir/ceph.conf" ] || die "stop: '$dir' is not a folder made by 'rgw.sh start'"
  # order matters: radosgw hangs when the OSD or mon goes first
  stop_daemon "$dir" client.rgw.a
  stop_daemon "$dir" osd.0
  stop_daemon "$dir" mon.a
  [ "${FG_RGW_KEEP:-}" = 1 ] || rm -rf "$dir"
}

cmd_start() {
  [ -z "$(missing_binaries)" ] || die "not installed: $(missing_binaries | tr '\n' ' ')(run: $0 install)"
  local started=$SECONDS dir=${1:-}
  if [ -z "$dir" ]; then dir=$(mktemp -d "${TMPDIR:-/tmp}/fg-rgw-XXXXXX"); else mkdir -p "$dir"; fi
  dir=$(cd "$dir" && pwd)
  mkdir -p "$dir"/{mon,osd,run,log,rgw}
  local conf=$dir/ceph.conf fsid mon_port rgw_port osd_uuid
  fsid=$(uuidgen); osd_uuid=$(uuidgen)
  mon_port=$(free_port); rgw_port=$(free_port)
  while [ "$rgw_port" = "$mon_port" ]; do rgw_port=$(free_port); done
  local access=FG$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
  local secret; secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms bind msgr2 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
osd crush chooseleaf type = 0
mon warn on pool no redundancy = false
mon data avail crit = 0
mon data avail warn = 0
run dir = $dir/run
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
admin socket = $dir/run/\$name.asok
keyring = $dir/keyring
[mon.a]
mon data = $dir/mon
[osd.0]
osd data = $dir/osd
osd objectstore = memstore
memstore device bytes = $(( ${FG_RGW_MEMSTORE_MIB:-2048} * 1024 * 1024 ))
osd crush update on start = false
osd class update on start = false
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
EOF
  fail() { printf 'rgw.sh: start failed: %s (logs: %s/log)\n' "$1" "$dir" >&2; FG_RGW_KEEP=1 cmd_stop "$dir" >/dev/null 2>&1 || true; exit 1; }
  local CEPH=(ceph -c "$conf" --connect-timeout 10)
  osd_up() { "${CEPH[@]}" osd dump 2>/dev/null | grep -q "^osd.$1 up"; }

  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null 2>&1 || fail "ceph-authtool"
  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null 2>&1 || fail "monmaptool"
  ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" >"$dir/log/mkfs-mon.out" 2>&1 || fail "ceph-mon --mkfs"
  ceph-mon -c "$conf" -i a >"$dir/log/start-mon.out" 2>&1 || fail "ceph-mon start"
  wait_for 30 mon "${CEPH[@]}" mon stat || fail "the mon did not answer within 30 s"

  # The mon answers `mon stat` before every command is served: `osd create` failed once here in a
  # full suite run (one of four on Node 24; 24 starts in a row, idle and loaded, never). Both are idempotent
  # (the same OSD uuid gets the same id; crush add of an item already there is a no-op), so a failed
  # attempt is retried for up to 30 s, and a final failure quotes ceph's last error line.
  local id="" deadline=$((SECONDS + 30))
  until id=$("${CEPH[@]}" osd create "$osd_uuid" 2>>"$dir/log/ceph.err"); do
    [ $SECONDS -lt $deadline ] || fail "ceph osd create: $(last_error "$dir")"
    sleep 1
  done
  ceph-osd -c "$conf" -i "$id" --mkfs --osd-uuid "$osd_uuid" >"$dir/log/mkfs-osd.out" 2>&1 || fail "ceph-osd --mkfs"
  deadline=$((SECONDS + 30))
  until "${CEPH[@]}" osd crush add "osd.$id" 1.0 host=fg-rgw-host root=default >/dev/null 2>>"$dir/log/ceph.err"; do
    [ $SECONDS -lt $deadline ] || fail "ceph osd crush add: $(last_error "$dir")"
    sleep 1
  done
  # the OSD's first contact can race the mon ("wrong fsid", exit 250): one retry
  local up=
  for _ in 1 2; do
    ceph-osd -c "$conf" -i "$id" >"$dir/log/start-osd.out" 2>&1 || continue
    if wait_for 30 osd osd_up "$id"; then up=1; break; fi
    stop_daemon "$dir" "osd.$id"
  done
  [ -n "$up" ] || fail "the OSD did not come up within 30 s (twice)"

  radosgw -c "$conf" -n client.rgw.a >"$dir/log/start-rgw.out" 2>&1 || fail "radosgw start"
  wait_for 60 rgw curl -sf -o /dev/null "http://127.0.0.1:$rgw_port/" || fail "radosgw did not answer on port $rgw_port within 60 s"
  timeout 30 radosgw-admin -c "$conf" user create --uid=fg-test --display-name=fg-test \
    --access-key="$access" --secret="$secret" >"$dir/log/user.out" 2>&1 || fail "radosgw-admin user create"
  printf '{"dir":"%s","endpoint":"http://127.0.0.1:%s","region":"us-east-1","accessKeyId":"%s","secretAccessKey":"%s","seconds":%s}\n' \
    "$dir" "$rgw_port" "$access" "$secret" "$((SECONDS - started))"
}

case "${1:-}" in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) die "usage: $0 install | start [DIR] | stop DIR" ;;
esac
