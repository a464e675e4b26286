#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Debian's packaged clusters, on the real stack: the local stack's two servers are turned
# into clusters of postgresql-common (pg_createcluster on the existing data directories moves
# postgresql.conf, pg_hba.conf and pg_ident.conf to /etc/postgresql/15/<cluster>/, so that
# `postgres -D <dataDirectory>` alone can no longer start them) and started with
# pg_ctlcluster, the way the package does. With spec.colors.<color>.database.configFile
# naming each one's /etc file, flips both ways must converge: the old primary is started
# again as a standby from its own configuration, no acknowledged write is lost, and never two
# primaries. The test always runs in private network and mount namespaces, with tmpfs over
# /etc/postgresql and /var/log/postgresql, so the machine's own clusters are never touched.
set -uo pipefail
export SY_IT_ISOLATE=1
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v pg_createcluster >/dev/null ||
  fatal "pg_createcluster not found (apt-get install postgresql-common)"
[[ -n ${SY_IT_ISOLATED:-} ]] || fatal "needs its own mount namespace (SY_IT_ISOLATE=1)"
mount -t tmpfs -o mode=0755 tmpfs /etc/postgresql || fatal "tmpfs over /etc/postgresql"
mkdir -p /var/log/postgresql
mount -t tmpfs -o mode=1775 tmpfs /var/log/postgresql || fatal "tmpfs over /var/log/postgresql"
chown postgres:postgres /var/log/postgresql

it_begin packaged

other() { if [[ $1 == blue ]]; then echo green; else echo blue; fi; }
conf_of() { printf '/etc/postgresql/15/sy-%s/postgresql.conf' "$1"; }
# packaged COLOR: stops COLOR, makes its data directory a packaged cluster, starts it with
# pg_ctlcluster.
packaged() {
  local dir
  dir=$(sy_pg_datadir "$1")
  stop_pg "$1"
  pg_createcluster 15 "sy-$1" -d "$dir" -p "${SY_PG_PORT[$1]}" --start-conf manual \
    >"$IT_ART/createcluster-$1.log" 2>&1 || return 1
  # The stack listens on 127.0.0.1 only; so does the cluster.
  printf "listen_addresses = '%s'\n" "$SY_HOST" >"/etc/postgresql/15/sy-$1/conf.d/listen.conf"
  pg_ctlcluster 15 "sy-$1" start >>"$IT_ART/createcluster-$1.log" 2>&1
}
# The main configuration lives in /etc, not in the data directory, and the server runs on it.
runs_on_packaged_conf() {
  [[ ! -e $(sy_pg_datadir "$1")/postgresql.conf ]] &&
    [[ $(pg "$1" postgres 'SHOW config_file') == "$(conf_of "$1")" ]]
}

require "blue becomes a packaged cluster, started by pg_ctlcluster" packaged blue
require "green becomes a packaged cluster, started by pg_ctlcluster" packaged green
check "blue runs on /etc/postgresql/15/sy-blue/postgresql.conf" runs_on_packaged_conf blue
check "green runs on its own file" runs_on_packaged_conf green
check "green streams from blue again" wait_until 30 "green to stream" streaming blue green
for color in blue green; do
  sed -i "s#^\(        dataDirectory: $(sy_pg_datadir "$color")\)\$#\1\n        configFile: $(conf_of "$color")#" "$IT_MANIFEST"
done
require "the manifest names both configFiles" test "$(grep -c 'configFile: /etc/postgresql' "$IT_MANIFEST")" -eq 2
"$IT_YARDCTL" validate -f "$IT_MANIFEST" >/dev/null || fatal "yardctl validate $IT_MANIFEST"

run_once converge
require "switchyard --once converges on blue (got $once_rc)" test "$once_rc" -eq 0
start_fast_monitor
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 10

for target in green blue; do
  set_active "$target"
  run_once "to-$target"
  show_run "to-$target"
  check "the flip to $target converges (got $once_rc)" test "$once_rc" -eq 0
  assert_world "$target"
  check "the old primary $(other "$target") was started again from its own /etc file" \
    runs_on_packaged_conf "$(other "$target")"
  check "$target runs on its own /etc file" runs_on_packaged_conf "$target"
  check "$(other "$target") streams from $target" \
    wait_until 30 "$(other "$target") to stream" streaming "$target" "$(other "$target")"
  check "writes are acknowledged on $target" wait_for_acks "$(($(acked_count) + 10))"
done
stop_writer
check_fast_monitor
check_no_write_lost blue "after two flips"

it_end
