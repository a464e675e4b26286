#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# The multi-host stack itself, without agents and controller: hack/multihost-up.sh, checks
# from the hosts' points of view, a second (idempotent) multihost-up, hack/multihost-down.sh
# --purge and that nothing is left. Checked: both servers listen on port 5432 with the data
# directory /srv/switchyard/pg/shop, each in its own host, and only there; green streams
# from blue's address; nginx in web serves blue to cli; the root namespace has no
# 10.200.0.0/24 address or route and its /srv is untouched; no host has a default route; a
# writer in cli gets orders acknowledged through nginx and none is lost, while the fast
# monitor sees one primary; after multihost-down no namespace, process or file remains.
set -uo pipefail
export MULTIHOST_AGENTS=0 MULTIHOST_CONTROLLER=0
# shellcheck source=tests/integration/multihost/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# server_identity HOST: "<data directory> <server address> <port>" as HOST's server says.
server_identity() {
  host_psql "$1" postgres \
    "SELECT current_setting('data_directory') || ' ' || host(inet_server_addr()) || ' ' || current_setting('port')"
}
root_clean() { (mh_check_root_clean) >/dev/null 2>&1; }
no_default_route() { [[ -z $(ip -n "$(mh_ns "$1")" route show default) ]]; }
in_host() { mh_exec "$@" >/dev/null 2>&1; }
ours_left() { ip netns list | grep -E "^$MH_PREFIX(sw|web|dbb|dbg|appb|appg|ctl|cli)( |$)"; }
all_gone() {
  local pid
  for pid in "$@"; do
    sy_pid_alive "$pid" && return 1
  done
  return 0
}
root_srv_before=$(ls -A /srv)

mh_begin stack

# --- the two database hosts ------------------------------------------------------------------
check "blue's server, asked from cli: $MH_PG_DATADIR on ${MH_ADDR[dbb]} port $MH_PG_PORT" \
  test "$(server_identity dbb)" = "$MH_PG_DATADIR ${MH_ADDR[dbb]} $MH_PG_PORT"
check "green's server, asked from cli: $MH_PG_DATADIR on ${MH_ADDR[dbg]} port $MH_PG_PORT" \
  test "$(server_identity dbg)" = "$MH_PG_DATADIR ${MH_ADDR[dbg]} $MH_PG_PORT"
check "blue is the primary, green a standby" test "$(in_recovery blue)/$(in_recovery green)" = f/t
check "the same path shows each host its own cluster: no standby.signal on dbb, one on dbg" \
  in_host dbb test ! -e "$MH_PG_DATADIR/standby.signal" -a -f "$MH_PG_DATADIR/PG_VERSION"
check "  ... and on dbg" in_host dbg test -f "$MH_PG_DATADIR/standby.signal"
check "each postmaster is in its own host's PID namespace (dbb sees one postgres -D, web none)" \
  test "$(mh_exec dbb pgrep -cx postgres -P 1)/$(mh_exec web pgrep -c postgres || true)" = 1/0
for h in web appb appg ctl cli; do
  check "$h cannot see $MH_SRV/pg" in_host "$h" test ! -e "$MH_SRV/pg"
done
check "web sees nothing of dbb's private directory (hidden)" \
  test -z "$(mh_exec web ls -A "$(mh_host_dir dbb)")"
check "web cannot see the CA's key (the TLS directory is hidden)" \
  in_host web test ! -e "$MH_TLS/ca.key"
check "green streams from blue: blue's pg_stat_replication shows green streaming from ${MH_ADDR[dbg]}" \
  wait_until 15 "green to stream" mh_streaming dbb dbg green
check "green's primary_conninfo names blue's address and port" \
  grep -q "^primary_conninfo = 'host=${MH_ADDR[dbb]} port=$MH_PG_PORT user=$SY_REPLICATION_USER application_name=green'" \
  "$(mh_path dbg "$MH_PG_DATADIR")/postgresql.auto.conf"

# --- traffic ---------------------------------------------------------------------------------
check "nginx in web serves blue to cli on 10 new connections ($MH_NGINX_URL/)" serves_only blue
check "the upstream file in web names blue's app (${IT_APP_ADDR[blue]})" \
  grep -Eq "^[[:space:]]*server[[:space:]]+${IT_APP_ADDR[blue]};" "$IT_UPSTREAM_FILE"

# --- the root namespace and the network ------------------------------------------------------
check "the root namespace has no 10.200.0.0/24 address or route" root_clean
check "the root namespace's /srv is untouched (no $MH_SRV)" test ! -e "$MH_SRV" -a "$(ls -A /srv)" = "$root_srv_before"
for h in sw "${MH_HOSTS[@]}"; do
  check "$(mh_ns "$h") has no default route" no_default_route "$h"
done

# --- writes through nginx, watched by the fast monitor ---------------------------------------
start_fast_monitor
start_writer
require "the writer in cli gets orders acknowledged through nginx" wait_for_acks 30
sleep 1
stop_writer
check_fast_monitor
check_no_write_lost blue "writer in cli through nginx"

# --- idempotent bring-up, then down ----------------------------------------------------------
out=$("$IT_ROOT/hack/multihost-up.sh" 2>&1)
check "a second multihost-up starts nothing" \
  test "$(grep -c 'already running' <<<"$out")/$(grep -c ' started ' <<<"$out")" = 5/0
pids=()
for h in "${MH_HOSTS[@]}"; do
  mapfile -t -O "${#pids[@]}" pids < <(mh_host_pids "$h")
done
check "every host has processes to take down (${#pids[@]} in all)" test "${#pids[@]}" -gt 14
t0=$(it_ts)
require "hack/multihost-down.sh --purge" "$IT_ROOT/hack/multihost-down.sh" --purge
it_log "stack down in $(($(it_ts) - t0)) ms"
check "no namespace of the stack left ($(ours_left | tr '\n' ' '))" test -z "$(ours_left)"
check "none of the hosts' ${#pids[@]} processes left" all_gone "${pids[@]}"
check "the work dir is gone" test ! -e "$MH_DIR"
check "the root namespace has no 10.200.0.0/24 address or route" root_clean
check "the root namespace's /srv is as before" test "$(ls -A /srv)" = "$root_srv_before"
check "no freezer cgroup of the stack left" \
  test -z "$(ls -d /sys/fs/cgroup/freezer/"$MH_PREFIX"* 2>/dev/null)"

mh_end
