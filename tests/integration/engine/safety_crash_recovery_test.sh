#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# A fenced old primary that crashed before its clean shutdown, then was started by someone
# else and stopped again in the middle of its crash recovery, on the real stack. Blue holds
# acknowledged commits green never received (blue's walsender frozen); the fence is written
# but its CHECKPOINT never finishes (checkpointer frozen); blue crashes; a second actor
# starts it (it enters crash recovery as a standby, its startup process is frozen to hold it
# there) and stops it (pg_ctl stop -m fast). pg_control then reads "shut down in recovery"
# with minimum recovery point 0/0. Rule: that proves nothing about how far blue's WAL goes,
# so green must not be promoted over it: blue comes back as the primary (crash recovery to
# its end), then the switch runs again and green gets every acknowledged commit. Before the
# fix green was promoted at once and blue re-cloned or rejoined over its last commits (57 of
# 69 lost in one run).
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"

faults_begin safety_crash_recovery
run_once converge
require "switchyard --once converges on blue" test "$once_rc" -eq 0
# ~100 MB of WAL after blue's last checkpoint: crash recovery takes a moment
pg blue "$SY_DATABASE" "CREATE TABLE bulk AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 400000) g" >/dev/null
caught_up() { [[ $(pg green postgres "SELECT pg_last_wal_replay_lsn() >= '$(pg blue postgres 'SELECT pg_current_wal_lsn()')'") == t ]]; }
require "green caught up" wait_until 60 "green to catch up" caught_up
start_writer
require "acks" wait_for_acks 10
ws=$(pg_aux_pid blue walsender); require "blue's walsender ($ws)" test -n "$ws"
kill -STOP "$ws"; faults_undo_on_exit "kill -CONT $ws"
n=$(acked_count); wait_for_acks $((n + 30))
ck=$(pg_aux_pid blue checkpointer); kill -STOP "$ck"; faults_undo_on_exit "kill -CONT $ck"
set_active green
"$IT_SWITCHYARD" --manifests "$IT_MANIFEST" --state-dir "$IT_STATE" --listen "" --once \
  --once-timeout 40 >"$IT_ART/fence.out" 2>"$IT_ART/fence.err" </dev/null &
sy=$!
bdir=$(sy_pg_datadir blue)
require "blue's fence is written (CHECKPOINT blocked)" wait_until 30 "the fence marker" test -f "$bdir/switchyard.fenced"
n=$(acked_count); wait_for_acks $((n + 10))
stop_writer
acked_before_crash=$(acked_count)
kill -KILL "$sy" 2>/dev/null; wait "$sy" 2>/dev/null
oldpm=$(sy_pg_pid blue)
crash_pg blue
wait_until 20 "the old postmaster to be reaped" sh -c "! kill -0 $oldpm 2>/dev/null"
ls "$bdir" | grep -E 'standby.signal|fenced' | sed 's/^/    blue dir: /'
it_log "blue crashed with $acked_before_crash acknowledged writes; green replay: $(pg green postgres 'SELECT pg_last_wal_replay_lsn()')"
"$SY_PG_BIN/pg_controldata" -D "$bdir" | grep -E 'cluster state|Latest checkpoint location|Minimum recovery ending' | sed 's/^/    blue before: /'
# second actor: pg_ctl start, then pg_ctl stop -m fast while it is still in crash recovery
sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$bdir" -l "$(sy_pg_logfile blue)" \
  -o "-c port=${SY_PG_PORT[blue]} -c listen_addresses=$SY_HOST" -W start >/dev/null 2>&1 || fail "pg_ctl start of blue"
st=''
for ((i = 0; i < 2000; i++)); do st=$(pg_aux_pid blue startup); [[ -n $st ]] && break; done
check "caught blue's startup process ($st)" test -n "$st"
[[ -n $st ]] && kill -STOP "$st"
sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$bdir" -m fast -W stop >/dev/null 2>&1
sleep 0.3; [[ -n $st ]] && kill -CONT "$st"
wait_until 30 "blue to stop" test ! -f "$bdir/postmaster.pid"
grep -E 'standby mode|automatic recovery|redo|fast shutdown|shut down' "$(sy_pg_logfile blue)" | tail -6 | sed 's/^/    blue log: /'
"$SY_PG_BIN/pg_controldata" -D "$bdir" | grep -E 'cluster state|Latest checkpoint location|Minimum recovery ending' | sed 's/^/    blue after: /'
check "blue's pg_control proves nothing: shut down in recovery, no minimum recovery point" \
  test "$("$SY_PG_BIN/pg_controldata" -D "$bdir" | sed -n 's/^Minimum recovery ending location: *//p')" = 0/0
run_once resume
show_run resume
check "the run converges on green (got $once_rc)" test "$once_rc" -eq 0
steps=$(grep -E "$IT_STEP_END" "$IT_ART/resume.err" | sed -E 's/.*step="([^"]+)" outcome=([a-z]+).*/\1:\2/' | paste -sd ';' -)
check "blue came back as the primary (its fence lifted, started) before green was promoted: $steps" \
  grep -qE '^lift-fence blue:ok;start blue:ok;.*promote green:ok' <<<"$steps"
assert_world green
check_no_write_lost green "blue's last commits, never shipped before it crashed"
it_end
