#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Faults at the fence of the old primary, on the real stack, a writer posting orders through
# nginx and the fast monitor sampling both servers (never two primaries) throughout:
#  (a) the standby disconnected at fence time: green's WAL receiver is frozen (SIGSTOP) just
#      before the fence, so blue's shutdown checkpoint never reaches it (blue's walsender gives
#      up after wal_sender_timeout, 5 s here). Driven by `switchyard --once` runs: green must
#      not be promoted; once catchUpTimeoutSeconds (3 s) passed the switch is abandoned
#      (AbandoningSwitch): blue's fence is lifted (green was never asked to promote, so it may
#      keep running) and blue restarted as the primary unharmed (same timeline, writable, every
#      acknowledged write there); then Failed/SwitchAbandoned with status.abandonedSwitch
#      (CatchUpTimedOut), also while green cannot stream. The receiver thawed, green streams
#      from blue again, and the switch is not begun again for this generation; flipping back
#      to blue converges.
#  (b) the old primary refusing to stop: blue's postmaster frozen (SIGSTOP; its backends keep
#      serving, so blue keeps taking writes) before the daemon flips to green. The fence's fast
#      shutdown request is pending; after the 60 s stop timeout the fence fails, status
#      Degraded/StepFailed names the stop timeout, green is never promoted. Thawed, blue
#      finishes its shutdown and the flip completes with no acknowledged write lost.
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"

checkpoint_lsn() {  # checkpoint_lsn COLOR: "Latest checkpoint location" of a stopped server
  sy_as_postgres "$SY_PG_BIN/pg_controldata" -D "$(sy_pg_datadir "$1")" |
    sed -n 's/^Latest checkpoint location: *//p'
}

faults_begin faults_fence

set_spec catchUpTimeoutSeconds 3
run_once converge
require "switchyard --once on the fresh stack exits 0 (got $once_rc)" test "$once_rc" -eq 0
start_fast_monitor
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 10

# --- (a) the standby disconnected at fence time ---------------------------------------------
echo "--- (a) green's WAL receiver frozen at fence time, flip to green"
if ! pg blue postgres "ALTER SYSTEM SET wal_sender_timeout = '5s'" >/dev/null ||
  ! pg blue postgres 'SELECT pg_reload_conf()' >/dev/null; then
  fatal "setting wal_sender_timeout on blue"
fi
blue_tli=$(pg blue postgres 'SELECT timeline_id FROM pg_control_checkpoint()')
set_active green
run_once a1 --fault-kill-after-steps 1
check "(a) run 1: switch-traffic green, then SIGKILL (exit $once_rc): $(steps_of "$IT_ART/a1.err")" \
  test "$once_rc" -eq 137 -a "$(steps_of "$IT_ART/a1.err")" = "switch-traffic green:ok"
receiver=$(pg green postgres 'SELECT pid FROM pg_stat_wal_receiver')
[[ -n $receiver ]] || fatal "green has no WAL receiver"
faults_undo_on_exit "kill -CONT $receiver"
kill -STOP "$receiver"
t0=$(it_ts)
run_once a2 --fault-kill-after-steps 2 --once-timeout 30
show_run a2
check "(a) run 2: blue's slot, then fence blue with green's receiver frozen (exit $once_rc, $(($(it_ts) - t0)) ms): $(steps_of "$IT_ART/a2.err")" \
  test "$once_rc" -eq 137 -a "$(steps_of "$IT_ART/a2.err")" = "create-slot blue on green:ok;fence blue:ok"
c=$(checkpoint_lsn blue)
check "(a) blue is stopped (shutdown checkpoint $c)" test -z "$(sy_pg_pid blue)" -a -n "$c"
check "(a) green has not replayed blue's shutdown checkpoint ($(pg green postgres 'SELECT pg_last_wal_replay_lsn()') <= $c)" \
  test "$(pg green postgres "SELECT pg_last_wal_replay_lsn() <= '$c'::pg_lsn")" = t
run_once a3 --once-timeout 30
show_run a3
check "(a) run 3: once catchUpTimeoutSeconds passed, the switch is abandoned: blue's fence lifted, blue started, traffic and the slot put back (exit $once_rc): $(steps_of "$IT_ART/a3.err")" \
  test "$once_rc" -ne 0 -a "$once_rc" -ne 124 -a "$(steps_of "$IT_ART/a3.err")" = "lift-fence blue:ok;start blue:ok;switch-traffic blue:ok;drop-slot blue on green:ok"
check "(a) the lift-fence step gives up the switch (AbandoningSwitch: nothing was promoted)" \
  grep -Eq 'step="lift-fence blue" outcome=started .*reason="[^"]*did not catch up within catchUpTimeoutSeconds \(3 s\); nothing was promoted.*switch to green is abandoned' "$IT_ART/a3.err"
check "(a) green was not promoted" test "$(in_recovery green)" = t
check "(a) blue is the primary again" test "$(in_recovery blue)" = f
check "(a) blue is writable" pg blue "$SY_DATABASE" "INSERT INTO orders (color, note) VALUES ('blue', 'after-abandon')"
check "(a) blue is unharmed: still on timeline $blue_tli" \
  test "$(pg blue postgres 'SELECT timeline_id FROM pg_control_checkpoint()')" = "$blue_tli"
assert_not_two_primaries "(a) after the abandonment"
st=$(status_json)
check_ready "(a)" "$st" Failed SwitchAbandoned "switch to green was abandoned at .*blue is the primary again"
# shellcheck disable=SC2016  # $a is jq's
check "(a) status.abandonedSwitch: green, this generation, CatchUpTimedOut" json_true "$st" \
  '.status.abandonedSwitch as $a | $a.color == "green" and $a.generation == .metadata.generation and
   $a.reason == "CatchUpTimedOut" and ($a.abandonedAt | length) > 0'
check_no_write_lost blue "(a) blue restarted"
kill -CONT "$receiver"
check "(a) receiver thawed: green streams from blue again" wait_until 30 "green to stream" streaming blue green
run_once a4 --once-timeout 30
show_run a4
check "(a) the switch is not begun again for this generation: no step, Failed (exit $once_rc)" \
  test "$once_rc" -ne 0 -a "$once_rc" -ne 124 -a "$(steps_taken "$IT_ART/a4.err")" -eq 0
check_ready "(a) run 4" "$(status_json)" Failed SwitchAbandoned "abandoned"
set_active blue
run_once a5
show_run a5
check "(a) flipped back to blue: converges (exit $once_rc)" test "$once_rc" -eq 0
assert_world blue
check "(a) writes are acknowledged on blue" wait_for_acks "$(($(acked_count) + 10))"

# --- (b) the old primary refusing to stop -----------------------------------------------------
echo "--- (b) blue's postmaster frozen, the daemon flips to green"
start_daemon daemon
require "the daemon converges on blue" wait_until 30 "Converged on blue" converged_on blue
freeze_and_flip blue green "fence blue"
check_step_failed "fence blue" fence "still running [0-9]+ ms after a fast shutdown"
check "(b) green was not promoted" test "$(in_recovery green)" = t
check "(b) no promotion was attempted" test -z "$(log_steps_since "$mark" | grep 'promote')"
acks=$(acked_count)
kill -CONT "$frozen"
check_converges "(b) blue thawed" green 60
echo "  steps of (b):"
tail -n +"$((mark + 1))" "$IT_ART/daemon.log" | step_summary
stop_daemon
assert_world green
check "(b) writes are acknowledged on green" wait_for_acks "$((acks + 10))"
stop_writer
check_fast_monitor
check_no_write_lost green "at the end"
it_log "writes: $(acked_count) acknowledged, $(refused_count) refused"

it_end
