#!/usr/bin/env bash
# The manual blue-green switch, as an operator's script would do it with the stock tools
# (its figures beside Switchyard's: README "Performance"), on the local stack of
# hack/local-up.sh:
#
#   1. rewrite the nginx upstream file for TO and `nginx -s reload`;
#   2. `pg_ctl stop -m fast -w` the old primary FROM;
#   3. check that TO replayed FROM's shutdown checkpoint (pg_controldata, pkg/observe/README.md #5);
#   4. `SELECT pg_promote()` on TO (wait => true);
#   5. create FROM's replication slot on TO;
#   6. re-clone FROM from TO with `pg_basebackup -c fast -X stream`, then point it at TO
#      (primary_conninfo, primary_slot_name, standby.signal: pkg/observe/README.md #3);
#   7. `pg_ctl start -w` FROM as a standby;
#   8. wait until TO's pg_stat_replication shows FROM streaming (what "converged" means).
#
#   tests/bench/manual-switch.sh FROM TO      e.g. blue green
#
# Prints one line per step, "manual-switch: step=NAME ms=N", then
# "manual-switch: start_us=... end_us=... total_ms=N". Uses SWITCHYARD_LOCAL_DIR like the
# stack scripts. hack/bench.sh times it against Switchyard in the same run; nothing else may
# act on the stack meanwhile (the bench pauses the controller).
set -euo pipefail

# shellcheck source=hack/lib/local-stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/local-stack.sh"
SY_LOG_PREFIX=manual-switch

from=${1:-}
to=${2:-}
[[ ($from == blue && $to == green) || ($from == green && $to == blue) ]] ||
  sy_die "usage: manual-switch.sh FROM TO (blue green, or green blue)"

now_us() { printf '%s' "${EPOCHREALTIME/./}"; }
step_t0=0
step_begin() { step_t0=$(now_us); }
step_end() { printf 'manual-switch: step=%s ms=%d\n' "$1" $((($(now_us) - step_t0) / 1000)); }

psql_at() {
  "$SY_PG_BIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "$SY_HOST" -p "${SY_PG_PORT[$1]}" \
    -U "$SY_SUPERUSER" -d postgres -c "$2"
}

from_dir=$(sy_pg_datadir "$from")
start_us=$(now_us)

# 1. Traffic: the same upstream block local-up renders, then a graceful reload.
step_begin
tmp=$(mktemp "$SY_UPSTREAM_FILE.XXXXXX")
cat >"$tmp" <<EOF
# Switched by hand (tests/bench/manual-switch.sh): traffic goes to $to.
upstream shop {
    server $SY_HOST:${SY_APP_PORT[$to]};
    keepalive 16;
}
EOF
chmod 0644 "$tmp"
mv -f "$tmp" "$SY_UPSTREAM_FILE"
sy_nginx -s reload
step_end reload

# 2. Fence the old primary.
step_begin
sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$from_dir" -m fast -w -t 60 stop >/dev/null
step_end stop

# 3. The new primary must hold every byte of the old one's WAL before it is promoted.
step_begin
checkpoint=$(LC_ALL=C "$SY_PG_BIN/pg_controldata" -D "$from_dir" |
  sed -n 's/^Latest checkpoint location: *//p')
[[ -n $checkpoint ]] || sy_die "no checkpoint location in pg_controldata of $from_dir"
caught_up() { [[ $(psql_at "$to" "SELECT pg_last_wal_replay_lsn() > '$checkpoint'") == t ]]; }
deadline=$((SECONDS + 30))
until caught_up; do
  ((SECONDS < deadline)) || sy_die "$to did not replay $from's shutdown checkpoint $checkpoint in 30 s"
  sleep 0.01
done
step_end catch-up

# 4. Promote.
step_begin
[[ $(psql_at "$to" 'SELECT pg_promote()') == t ]] || sy_die "pg_promote() on $to failed"
step_end promote

# 5. The slot the old primary will stream from (slots are not copied: pkg/observe/README.md #4).
step_begin
psql_at "$to" "SELECT pg_create_physical_replication_slot('switchyard_$from', true)
  WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'switchyard_$from')" \
  >/dev/null
step_end create-slot

# 6. Re-clone the old primary from the new one.
step_begin
rm -rf "$from_dir"
sy_as_postgres "$SY_PG_BIN/pg_basebackup" -h "$SY_HOST" -p "${SY_PG_PORT[$to]}" \
  -U "$SY_REPLICATION_USER" -D "$from_dir" -c fast -X stream >/dev/null 2>&1 ||
  sy_die "pg_basebackup of $from from $to failed"
step_end basebackup

step_begin
auto="$from_dir/postgresql.auto.conf"
grep -Ev '^[[:space:]]*(primary_conninfo|primary_slot_name)[[:space:]]*=' "$auto" >"$auto.tmp" || true
cat >>"$auto.tmp" <<EOF
primary_conninfo = 'host=$SY_HOST port=${SY_PG_PORT[$to]} user=$SY_REPLICATION_USER application_name=$from'
primary_slot_name = 'switchyard_$from'
EOF
mv -f "$auto.tmp" "$auto"
chown "$SY_OS_USER:$SY_OS_USER" "$auto"
chmod 0600 "$auto"
install -o "$SY_OS_USER" -g "$SY_OS_USER" -m 0600 /dev/null "$from_dir/standby.signal"
step_end configure

# 7. Start it as a standby.
step_begin
sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$from_dir" -l "$(sy_pg_logfile "$from")" \
  -o "-c port=${SY_PG_PORT[$from]} -c listen_addresses=$SY_HOST" -w -t 60 start >/dev/null
step_end start

# 8. Converged: the old primary streams from the new one.
step_begin
streaming() {
  [[ $(psql_at "$to" "SELECT state FROM pg_stat_replication WHERE application_name = '$from'") == streaming ]]
}
deadline=$((SECONDS + 60))
until streaming; do
  ((SECONDS < deadline)) || sy_die "$from does not stream from $to 60 s after its start"
  sleep 0.01
done
step_end streaming

end_us=$(now_us)
printf 'manual-switch: start_us=%s end_us=%s total_ms=%d\n' "$start_us" "$end_us" \
  $(((end_us - start_us) / 1000))
