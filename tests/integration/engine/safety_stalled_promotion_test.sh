#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# A flip back during a stalled promotion, on the real stack. Green's postmaster is frozen
# (SIGSTOP) and the live color flipped to green: the fence of blue works, pg_promote() on
# green cannot be acted on and the step times out, leaving the request pending (the
# `promote` file). Then the color is flipped back to blue. Rule: nothing starts as a primary
# while another server may still promote. So blue must stay stopped and fenced for as long as
# green's postmaster is frozen (a fast monitor watches both servers every few ms); once green
# is thawed it acts on the shutdown request before the promotion, and blue comes back as the
# primary with green as its standby, no acknowledged write lost, no moment with two
# primaries. Reproduced two primaries before the fix (blue was started at once; thawed,
# green promoted itself).
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"

HOLD_S=${SY_SAFETY_HOLD_S:-12}  # how long the frozen state is watched after the flip back

faults_begin safety_stalled_promotion
FAULTS_API=1

start_daemon daemon --step-timeout-seconds 4 --resync-ms 500
require "the daemon converges on blue" wait_until 30 "Converged on blue" converged_on blue
start_fast_monitor
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 10

freeze_and_flip green green "promote green"
green_dir=$(sy_pg_datadir green)
blue_dir=$(sy_pg_datadir blue)
check "green's promotion request is pending (promote file)" test -f "$green_dir/promote"
check "blue is stopped and fenced (standby.signal and the fence marker)" \
  test -z "$(sy_pg_pid blue)" -a -f "$blue_dir/standby.signal" -a -f "$blue_dir/switchyard.fenced"

mark=$(log_mark)
set_active blue
it_log "flipped back to blue; watching for ${HOLD_S}s while green stays frozen"
t_end=$(($(it_ts) + HOLD_S * 1000))
blue_started=0
while (($(it_ts) < t_end)); do
  [[ -n $(sy_pg_pid blue) ]] && blue_started=1
  sleep 0.1
done
check "blue was not started while green's promotion could still complete" test "$blue_started" -eq 0
check "blue is still fenced" test -f "$blue_dir/switchyard.fenced"
st=$(api_json)
show_status "$st"
check "the daemon cancels green's promotion first (a stop of green was asked for)" \
  grep -Eq 'step="stop green".*reason="[^"]*pending promotion' <(tail -n +"$((mark + 1))" "$IT_ART/daemon.log")
check "green's promotion request was removed" test ! -f "$green_dir/promote"

kill -CONT "$frozen"
it_log "green thawed"
check_converges "after the thaw" blue 90
echo "  steps since the flip back:"
tail -n +"$((mark + 1))" "$IT_ART/daemon.log" | step_summary
stop_writer
check_fast_monitor
assert_world blue
check "green did not promote: it is blue's standby on blue's timeline" \
  test "$(pg green postgres 'SELECT pg_is_in_recovery()')" = t
check_no_write_lost blue "after the flip back"
check "no data directory was replaced (no rewind or basebackup step)" \
  test -z "$(grep -E 'step="(rewind|basebackup) ' "$IT_ART/daemon.log")"
stop_daemon
it_log "writes: $(acked_count) acknowledged, $(refused_count) refused"

it_end
