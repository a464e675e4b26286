#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Catch-up by time, on the real stack, the daemon running, a writer posting orders through
# nginx and the fast monitor sampling both servers throughout:
#  1. recovery_min_apply_delay = 10s on green: the flip to green moves nothing; Ready says
#     ApplyDelay and names the setting; blue stays the primary and nginx serves blue.
#  2. green's replay frozen: max_standby_streaming_delay = -1 on green, a session on green
#     idle in a transaction that read table catchup_t, and blue takes an ACCESS EXCLUSIVE
#     lock on it, which green cannot replay while the session holds its lock. Once blue's
#     pg_stat_replication shows a replay lag above 5 s, the flip to green moves nothing:
#     ReplayLagging, naming maxReplayLagSeconds.
#  3. The same frozen replay with maxReplayLagSeconds 600 (catchUpTimeoutSeconds 4): the
#     switch fences blue, green cannot replay past blue's shutdown checkpoint, and 4 s later
#     the switch is abandoned: blue's fence is lifted and blue started again as the primary
#     (writable), green still its standby and never asked to promote; traffic goes back to
#     blue and blue's slot on green is dropped; Failed/SwitchAbandoned with
#     status.abandonedSwitch (CatchUpTimedOut, this generation), and the switch is not begun
#     again for this generation. The write-unavailable window (fence to blue writable
#     again) is logged.
#  4. The session ends (green replays on) and the spec changes (a new generation): the switch
#     to green completes.
# Throughout: never two writable primaries, no acknowledged write lost.
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"

# logged_since MARK REGEX: a line of daemon.log after line MARK matches REGEX.
logged_since() { tail -n +"$(($1 + 1))" "$IT_ART/daemon.log" | grep -Eq "$2"; }
# count_since MARK REGEX: how many lines of daemon.log after line MARK match REGEX.
count_since() { tail -n +"$(($1 + 1))" "$IT_ART/daemon.log" | grep -Ec "$2" || true; }
# step_ms MARK STEP OUTCOME: the epoch ms of the first such step line after line MARK.
step_ms() {
  local ts
  ts=$(tail -n +"$(($1 + 1))" "$IT_ART/daemon.log" |
    grep -E -m 1 " step resource=.* step=\"$2\" outcome=$3" | cut -d' ' -f1)
  [[ -n $ts ]] && date -d "$ts" +%s%3N
}
# replay_lag_over SECONDS: blue's pg_stat_replication shows green's replay_lag above SECONDS.
replay_lag_over() {
  [[ $(pg blue postgres "SELECT extract(epoch FROM replay_lag) > $1 FROM pg_stat_replication
    WHERE application_name = 'green'") == t ]]
}
# replay_blocked: green's startup process waits for a lock (its replay stands still).
replay_blocked() {
  [[ $(pg green postgres "SELECT count(*) FROM pg_stat_activity
    WHERE backend_type = 'startup' AND wait_event_type = 'Lock'") == 1 ]]
}
replay_unblocked() { ! replay_blocked; }
# reading: the session on green is idle in its transaction, having read catchup_t.
reading() {
  [[ $(pg green postgres "SELECT count(*) FROM pg_stat_activity
    WHERE state = 'idle in transaction' AND query LIKE '%catchup_t%'") == 1 ]]
}
blue_writable() { pg blue "$SY_DATABASE" 'INSERT INTO catchup_t VALUES (2)' >/dev/null; }
set_green() {  # set_green SQL: ALTER SYSTEM on green, then reload
  pg green postgres "$1" >/dev/null && pg green postgres 'SELECT pg_reload_conf()' >/dev/null
}

faults_begin catch_up
FAULTS_API=1

# maxReplayLagSeconds (default 5) is not in the example manifest: written out, set_spec can
# change it.
sed -i 's/^\(    catchUpTimeoutSeconds:.*\)$/\1\n    maxReplayLagSeconds: 5/' "$IT_MANIFEST"
grep -q '^    maxReplayLagSeconds: 5' "$IT_MANIFEST" || fatal "could not add maxReplayLagSeconds"
set_spec catchUpTimeoutSeconds 4
pg blue "$SY_DATABASE" 'CREATE TABLE catchup_t (x int); INSERT INTO catchup_t VALUES (1)' >/dev/null ||
  fatal "creating catchup_t on blue"

start_daemon daemon --resync-ms 300
require "the daemon converges on blue" wait_until 30 "Converged on blue" converged_on blue
start_fast_monitor
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 10

# --- 1: an apply delay -----------------------------------------------------------------------
echo "--- 1: recovery_min_apply_delay = 10s on green, flip to green"
set_green "ALTER SYSTEM SET recovery_min_apply_delay = '10s'" || fatal "setting recovery_min_apply_delay"
mark=$(log_mark)
set_active green
check "1: the preflight refuses within 20 s (ApplyDelay)" \
  wait_until 20 "Ready reason ApplyDelay" ready_reason_is ApplyDelay
check_ready "1:" "$(api_json)" Degraded ApplyDelay "recovery_min_apply_delay = 10000 ms"
check "1: no step was taken ($(log_steps_since "$mark" | wc -l) step lines)" test -z "$(log_steps_since "$mark")"
check "1: blue is still the primary" test "$(in_recovery blue)" = f
check "1: green is still a standby" test "$(in_recovery green)" = t
check "1: nginx still serves blue" serves_only blue
set_active blue
require "1: flipped back, the daemon reports Converged on blue" \
  wait_until 20 "Converged on blue" converged_on blue
set_green 'ALTER SYSTEM RESET recovery_min_apply_delay' || fatal "resetting recovery_min_apply_delay"

# --- 2: a replay that stands still -------------------------------------------------------------
echo "--- 2: green's replay frozen by a lock conflict, flip to green"
set_green 'ALTER SYSTEM SET max_standby_streaming_delay = -1' || fatal "setting max_standby_streaming_delay"
# (A function: wait_until runs it again each time; a "$(...)" argument would be read once.)
green_waits_for_ever() { test "$(pg green postgres 'SHOW max_standby_streaming_delay')" = -1; }
require "green waits for ever on replay conflicts" \
  wait_until 10 "max_standby_streaming_delay -1" green_waits_for_ever
mkfifo "$IT_WORK/reader.fifo"
"$SY_PG_BIN/psql" -X -q -h "$SY_HOST" -p "${SY_PG_PORT[green]}" -U "$SY_SUPERUSER" -d "$SY_DATABASE" \
  <"$IT_WORK/reader.fifo" >"$IT_ART/reader.out" 2>&1 &
reader_pid=$!
it_pids+=("$reader_pid")
exec 7>"$IT_WORK/reader.fifo"
echo 'BEGIN; SELECT count(*) FROM catchup_t;' >&7
require "a session on green holds a lock on catchup_t (idle in transaction)" \
  wait_until 10 "the session on green" reading
pg blue "$SY_DATABASE" 'BEGIN; LOCK TABLE catchup_t IN ACCESS EXCLUSIVE MODE; COMMIT' >/dev/null ||
  fatal "LOCK TABLE on blue"
require "green's replay waits for the session's lock" wait_until 10 "green's replay to block" replay_blocked
t0=$(it_ts)
require "blue reports green's replay lag above 6 s" wait_until 30 "replay_lag > 6 s" replay_lag_over 6
it_log "2: replay_lag above 6 s $(($(it_ts) - t0)) ms after the lock"
mark=$(log_mark)
set_active green
check "2: the preflight refuses within 20 s (ReplayLagging)" \
  wait_until 20 "Ready reason ReplayLagging" ready_reason_is ReplayLagging
check_ready "2:" "$(api_json)" Degraded ReplayLagging "replay is [0-9.]+ s behind blue.*maxReplayLagSeconds 5"
check "2: no step was taken" test -z "$(log_steps_since "$mark")"
check "2: blue is still the primary" test "$(in_recovery blue)" = f
check "2: nginx still serves blue" serves_only blue

# --- 3: the switch fences, green cannot catch up, the switch is abandoned ----------------------
echo "--- 3: maxReplayLagSeconds 600, catchUpTimeoutSeconds 4: the switch fences blue"
mark=$(log_mark)
set_spec maxReplayLagSeconds 600
require "3: blue is fenced within 30 s" \
  wait_until 30 "the fence of blue" logged_since "$mark" 'step="fence blue" outcome=ok'
t_fence=$(step_ms "$mark" "fence blue" started)
require "3: blue is writable again within 30 s of the fence" wait_until 30 "blue writable" blue_writable
t_writable=$(it_ts)
t_started=$(step_ms "$mark" "start blue" ok)
check "3: the switch is abandoned: Failed/SwitchAbandoned within 10 s" \
  wait_until 10 "Ready reason SwitchAbandoned" ready_reason_is SwitchAbandoned
st=$(api_json)
check_ready "3:" "$st" Failed SwitchAbandoned "switch to green was abandoned at .*blue is the primary again"
jq -c .status.abandonedSwitch <<<"$st" | sed 's/^/  abandonedSwitch: /'
# shellcheck disable=SC2016  # $a is jq's
check "3: status.abandonedSwitch: green, this generation, CatchUpTimedOut, dated, why" json_true "$st" \
  '.status.abandonedSwitch as $a | $a.color == "green" and $a.generation == .metadata.generation and
   $a.reason == "CatchUpTimedOut" and ($a.abandonedAt | length) > 0 and
   ($a.message | test("did not catch up within catchUpTimeoutSeconds \\(4 s\\)"))'
check "3: blue's fence was lifted as the switch was abandoned (AbandoningSwitch), then blue started" \
  logged_since "$mark" 'step="lift-fence blue" outcome=started .*reason="[^"]*switch to green is abandoned'
check "3: blue is the primary" test "$(in_recovery blue)" = f
check "3: green is a standby and was never asked to promote" \
  test "$(in_recovery green)" = t -a "$(count_since "$mark" 'step="promote ')" -eq 0
# Its replay held by the lock, green does not restart its WAL receiver: it streams again only
# in 4, once the session ends.
check "3: traffic went back to blue, the primary again" wait_until 15 "nginx to serve blue" serves_only blue
check "3: blue's slot on green (made before the fence) was dropped" \
  logged_since "$mark" 'step="drop-slot blue on green" outcome=ok'
check "3: green's replay still waits for the session's lock" replay_blocked
it_log "3: write-unavailable window: fence requested to blue writable again $((t_writable - t_fence)) ms" \
  "(to the end of the start of blue: $((${t_started:-0} - t_fence)) ms; longest gap between" \
  "acknowledged orders: $(longest_ack_gap "$t_fence" "$t_writable") ms)"
check "3: the write-unavailable window is under 15 s (catchUpTimeoutSeconds 4)" \
  test $((t_writable - t_fence)) -lt 15000
sleep 3
check "3: not begun again for this generation: one fence in all, still SwitchAbandoned 3 s later" \
  test "$(count_since "$mark" 'step="fence blue" outcome=started')" -eq 1 -a "$(in_recovery blue)" = f
check "3: Ready still says SwitchAbandoned" ready_reason_is SwitchAbandoned
echo "  steps of 3:"
log_steps_since "$mark" | step_summary
check_no_write_lost blue "3: blue the primary again"

# --- 4: the cause gone, a new generation retries the switch -------------------------------
echo "--- 4: the session ends; the spec changes (a new generation): the switch completes"
echo 'COMMIT;' >&7
exec 7>&-
check "4: green's replay goes on" wait_until 10 "green's replay to resume" replay_unblocked
mark=$(log_mark)
set_spec maxReplayLagSeconds 5
check_converges "4: a new generation" green 60
check "4: green was promoted once" test "$(count_since "$mark" 'step="promote green" outcome=ok')" -eq 1
check "4: status.abandonedSwitch is gone" json_true "$(api_json)" '.status.abandonedSwitch == null'
echo "  steps of 4:"
log_steps_since "$mark" | step_summary
check "4: writes are acknowledged on green" wait_for_acks "$(($(acked_count) + 10))"
stop_writer
check_fast_monitor
assert_world green
check_no_write_lost green "at the end"
stop_daemon
it_log "writes: $(acked_count) acknowledged, $(refused_count) refused"

it_end
