#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# A pg_controldata that fails, or warns that its output is untrustworthy, never leads to a
# data directory being replaced, on the real stack. Blue, the primary, takes acknowledged
# writes that never reach green (green's walreceiver is frozen) and crashes; an operator
# promotes green by hand (a failover). Then the daemon runs with a binDirectory whose
# pg_controldata is a wrapper that fails (as on EIO, a timeout or a fork failure), then warns
# "Calculated CRC checksum does not match ... untrustworthy" as on a corrupt control file.
# Rule: what cannot be read is unknown, never "missing": blue's directory must stay as it is
# (no basebackup, no rewind, its files untouched), the status must say why (ServerUnreadable),
# and passes must back off instead of looping. With pg_controldata working again, blue (which
# did not shut down cleanly, so how far its WAL goes is unknown) may be started as a standby
# to show it, and is then reported diverged (SplitBrain: its rows kept, readable on it, until
# an operator gives them up). Before the fix, blue counted as "missing" and was re-cloned
# about once a second, its rows gone.
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"

WATCH_S=${SY_SAFETY_WATCH_S:-10}

faults_begin safety_controldata
FAULTS_API=1

# binDirectory: the real server programs, but pg_controldata fails or warns on demand.
controldata_wrapper "$IT_WORK/bin"
set_spec binDirectory "$bin"

# Blue's acknowledged writes that green never receives (green's walreceiver stopped by
# clearing its primary_conninfo); blue crashes; green is promoted.
pg green postgres "ALTER SYSTEM SET primary_conninfo = ''" >/dev/null &&
  pg green postgres "SELECT pg_reload_conf()" >/dev/null || fatal "stopping green's walreceiver"
no_receiver() { [[ -z $(pg green postgres "SELECT pid FROM pg_stat_wal_receiver") ]]; }
require "green's walreceiver stopped" wait_until 15 "green's walreceiver to stop" no_receiver
for i in 1 2 3; do
  pg blue "$SY_DATABASE" "INSERT INTO orders (color, note) VALUES ('blue', 'only-on-blue-$i')" >/dev/null ||
    fatal "insert on blue"
done
only_blue=$(pg blue "$SY_DATABASE" "SELECT count(*) FROM orders WHERE note LIKE 'only-on-blue-%'")
check "blue acknowledged 3 rows green has not received" test "$only_blue" = 3
crash_pg blue
sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$(sy_pg_datadir green)" -w -t 30 promote >/dev/null ||
  fatal "pg_ctl promote green (the operator's failover)"
check "green is the primary after the failover" test "$(in_recovery green)" = f
blue_dir=$(sy_pg_datadir blue)
blue_inode=$(stat -c %i "$blue_dir/PG_VERSION")

set_active green
touch "$IT_WORK/controldata.fail"
start_daemon daemon
# Every pass looks at blue (stopped): pg_controldata fails each time.
sleep "$WATCH_S"
st=$(api_json)
check_ready "pg_controldata failing:" "$st" Degraded ServerUnreadable "blue .*cannot be read.*(Input/output error|exited)"
copies=$(grep -cE 'step="(basebackup|rewind) blue' "$IT_ART/daemon.log" || true)
check "no copy over blue in ${WATCH_S}s (basebackup/rewind steps: $copies)" test "$copies" -eq 0
n=$(passes)
check "passes back off instead of looping (${n} passes in ${WATCH_S}s)" test "$n" -lt 10

rm -f "$IT_WORK/controldata.fail"
touch "$IT_WORK/controldata.warn"
says_untrustworthy() { ready_of "$(api_json)" | grep -q untrustworthy; }
wait_until 60 "the status to say untrustworthy" says_untrustworthy || true
st=$(api_json)
check_ready "pg_controldata untrustworthy:" "$st" Degraded ServerUnreadable "blue .*untrustworthy"
copies=$(grep -cE 'step="(basebackup|rewind) blue' "$IT_ART/daemon.log" || true)
check "no copy over blue while pg_controldata warns (basebackup/rewind steps: $copies)" \
  test "$copies" -eq 0

rm -f "$IT_WORK/controldata.warn"
check "with pg_controldata working, blue is reported diverged (SplitBrain), its writes kept" \
  wait_until 60 "SplitBrain" ready_reason_is SplitBrain
show_status "$(api_json)"
copies=$(grep -cE 'step="(basebackup|rewind) blue' "$IT_ART/daemon.log" || true)
check "blue's data directory was never replaced ($copies copies, PG_VERSION inode $blue_inode)" \
  test "$copies" -eq 0 -a "$(stat -c %i "$blue_dir/PG_VERSION")" = "$blue_inode"
check "blue is no primary" test "$(in_recovery blue)" != f
check "green is the only primary" test "$(in_recovery green)" = f
if [[ $(in_recovery blue) == t ]]; then
  check "blue, started as a standby to show its WAL, still holds its 3 rows" \
    test "$(pg blue "$SY_DATABASE" "SELECT count(*) FROM orders WHERE note LIKE 'only-on-blue-%'")" = 3
fi
stop_daemon

it_end
