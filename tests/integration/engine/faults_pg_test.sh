#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Dependency faults of PostgreSQL seen by observation, on the real stack, with the daemon
# running (default resync, 10 s) and a writer posting orders through nginx:
#  (a) the standby lags beyond maxLagBytes: replay paused on green (pg_wal_replay_pause()),
#      then ~4 MB of WAL written on blue with maxLagBytes at 1 MiB. The flip to green must take
#      no step; the status says ReplayPaused on green (Degraded) and /metrics shows the lag
#      above maxLagBytes. pg_wal_replay_resume(): the flip completes and green holds every
#      row written while it lagged.
#  (b) the primary (green) unreachable for Switchyard: a pg_hba.conf rule rejects its role and
#      its open connection is terminated (the server keeps running and streaming). No step;
#      the status says ServerUnreachable naming green and the rejection; the passes back off
#      (switchyard_reconcile_total over 20 s, no hot loop). The rule removed: Converged again.
#  (c) the standby (blue) frozen: its postmaster and all its processes stopped (SIGSTOP), as
#      a hung host or a silent network would leave it: Switchyard's open connection gets no
#      reply, which libpq alone waits for forever. The pass gives up after its statement
#      timeout (30 s): ServerUnreachable naming blue, no step, the passes go on with backoff.
#      Thawed: Converged again.
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"

MAX_LAG=1048576
FILLER_ROWS=8000  # ~4 MB of WAL

# pg_sock COLOR DB SQL: like pg, over the Unix socket (pg_hba.conf's "local" lines trust all).
pg_sock() {
  "$SY_PG_BIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -p "${SY_PG_PORT[$1]}" \
    -U "$SY_SUPERUSER" -d "$2" -c "$3" 2>/dev/null
}
lag_of() { metric switchyard_replication_lag_bytes "color=\"$1\",resource=\"default/shop\"" | cut -d. -f1; }
lag_above() { (($(lag_of "$1") > MAX_LAG)); }

faults_begin faults_pg
FAULTS_API=1

set_spec maxLagBytes "$MAX_LAG"
start_daemon daemon
require "the daemon converges on blue" wait_until 30 "Converged on blue" converged_on blue
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 10

# --- (a) replay paused, lag beyond maxLagBytes -------------------------------------------------
echo "--- (a) green's replay paused and $FILLER_ROWS rows (~4 MB of WAL) written on blue; flip to green"
faults_undo_on_exit "pg green postgres 'SELECT pg_wal_replay_resume()'"
require "pg_wal_replay_pause() on green" pg green postgres 'SELECT pg_wal_replay_pause()'
require "filler rows written on blue" pg blue "$SY_DATABASE" \
  "CREATE TABLE fault_filler AS SELECT g, repeat(md5(g::text), 16) AS pad FROM generate_series(1, $FILLER_ROWS) g"
blue_since=$(since blue)
mark=$(log_mark)
set_active green
check "(a) the status says ReplayPaused" wait_until 20 "Ready reason ReplayPaused" ready_reason_is ReplayPaused
check "(a) /metrics: green's replication lag is above maxLagBytes ($MAX_LAG)" \
  wait_until 20 "the lag metric above $MAX_LAG" lag_above green
sleep 3
echo "  lag of green: $(lag_of green) B, maxLagBytes $MAX_LAG"
check_ready "(a)" "$(api_json)" Degraded ReplayPaused "paused on green.*pg_wal_replay_resume"
check "(a) /metrics: switchyard_resource_reason{reason=\"ReplayPaused\"} is 1" \
  test "$(metric switchyard_resource_reason 'reason="ReplayPaused",resource="default/shop"')" = 1
check "(a) no step was taken: $(log_steps_since "$mark" | head -n 2)" test -z "$(log_steps_since "$mark")"
check "(a) nginx still serves blue" serves_only blue
check "(a) blue is still the running primary (since $blue_since)" \
  test "$(primary_probe blue)" = "f|$blue_since"
check "(a) green is still a standby, replay paused" \
  test "$(pg green postgres 'SELECT pg_get_wal_replay_pause_state()')" = paused

pg green postgres 'SELECT pg_wal_replay_resume()' >/dev/null || fail "pg_wal_replay_resume() on green"
check_converges "(a) replay resumed" green 40
echo "  steps after the resume:"
tail -n +"$((mark + 1))" "$IT_ART/daemon.log" | step_summary
assert_world green
check "(a) green holds all $FILLER_ROWS filler rows" \
  test "$(pg green "$SY_DATABASE" 'SELECT count(*) FROM fault_filler')" = "$FILLER_ROWS"
check "(a) writes are acknowledged on green" wait_for_acks "$(($(acked_count) + 10))"
check_no_write_lost green "after (a)"

# --- (b) the primary unreachable for Switchyard --------------------------------------------
echo "--- (b) green (primary) rejects Switchyard's connections (pg_hba.conf), converged on green"
hba="$(sy_pg_datadir green)/pg_hba.conf"
cp -p "$hba" "$IT_WORK/green.hba.good"
faults_undo_on_exit "cp -p '$IT_WORK/green.hba.good' '$hba' && pg_sock green postgres 'SELECT pg_reload_conf()'"
sed -i "1i host all $SY_SUPERUSER $SY_HOST/32 reject" "$hba"
require "green reloads pg_hba.conf" pg_sock green postgres 'SELECT pg_reload_conf()'
# (A function: wait_until runs it again each time; a "$(...)" argument would be read once.)
green_rejects() { test -z "$(in_recovery green)"; }
require "green rejects new TCP connections of $SY_SUPERUSER" \
  wait_until 5 "the rejection" green_rejects
pg_sock green postgres \
  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'switchyard'" >/dev/null
green_since=$(pg_sock green postgres 'SELECT pg_postmaster_start_time()')
mark=$(log_mark)
check "(b) the status says ServerUnreachable" \
  wait_until 20 "Ready reason ServerUnreachable" ready_reason_is ServerUnreachable
p1=$(passes)
sleep 20
p2=$(passes)
st=$(api_json)
show_status "$st"
echo "  passes in 20 s: $((p2 - p1))"
check "(b) status: the message names green and the rejection" \
  json_true "$(ready_of "$st")" '.message | test("green") and test("pg_hba.conf rejects")'
check "(b) /metrics: switchyard_resource_reason{reason=\"ServerUnreachable\"} is 1" \
  test "$(metric switchyard_resource_reason 'reason="ServerUnreachable",resource="default/shop"')" = 1
check "(b) backoff, no hot loop: 1 to 8 passes in 20 s (got $((p2 - p1)))" \
  test $((p2 - p1)) -ge 1 -a $((p2 - p1)) -le 8
check "(b) no step was taken: $(log_steps_since "$mark" | head -n 2)" test -z "$(log_steps_since "$mark")"
check "(b) green is still the same running primary (since $green_since)" \
  test "$(pg_sock green postgres "SELECT pg_is_in_recovery()::text || ' ' || pg_postmaster_start_time()")" = "false $green_since"
check "(b) blue is still a standby" test "$(in_recovery blue)" = t
check "(b) nginx still serves green" serves_only green

cp -p "$IT_WORK/green.hba.good" "$hba"
pg_sock green postgres 'SELECT pg_reload_conf()' >/dev/null || fail "green reloads pg_hba.conf"
check_converges "(b) the rule removed" green 30
check "(b) still no step was taken" test -z "$(log_steps_since "$mark")"

# --- (c) the standby frozen -----------------------------------------------------------------
echo "--- (c) blue (standby) frozen: its postmaster and every child stopped (SIGSTOP)"
blue_pids="$(sy_pg_pid blue) $(pgrep -P "$(sy_pg_pid blue)" | tr '\n' ' ')"
faults_undo_on_exit "kill -CONT $blue_pids"
mark=$(log_mark)
t0=$(it_ts)
# shellcheck disable=SC2086  # a list of pids
kill -STOP $blue_pids
if check "(c) the status says ServerUnreachable within 60 s (the open connection gives up)" \
  wait_until 60 "Ready reason ServerUnreachable" ready_reason_is ServerUnreachable; then
  it_log "(c) reported $(($(it_ts) - t0)) ms after the freeze"
fi
st=$(api_json)
show_status "$st"
check "(c) status: the message names blue" json_true "$(ready_of "$st")" '.message | test("blue")'
p1=$(passes)
sleep 15
p2=$(passes)
echo "  passes in 15 s: $((p2 - p1))"
check "(c) the daemon is not stuck and does not spin: 1 to 8 passes in 15 s (got $((p2 - p1)))" \
  test $((p2 - p1)) -ge 1 -a $((p2 - p1)) -le 8
check "(c) no step was taken" test -z "$(log_steps_since "$mark")"
check "(c) green is still the primary" test "$(in_recovery green)" = f
check "(c) nginx still serves green" serves_only green
# shellcheck disable=SC2086  # a list of pids
kill -CONT $blue_pids
check_converges "(c) thawed" green 40
check "(c) still no step was taken" test -z "$(log_steps_since "$mark")"
stop_daemon
stop_writer
assert_world green
check_no_write_lost green "at the end"
it_log "writes: $(acked_count) acknowledged, $(refused_count) refused"

it_end
