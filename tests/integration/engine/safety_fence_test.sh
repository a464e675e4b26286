#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# The fence is durable, and nothing waits for HTTP after it, on the real stack:
#  (a) the daemon dies right after promoting green (--fault-kill-after-steps 4); someone
#      starts blue, the fenced old primary, with pg_ctl (what systemd, an operator or
#      hack/local-up.sh does). Blue must come up read-only (a standby with no upstream), never
#      a second writable primary; the next run rejoins it as green's standby. Reproduced two
#      primaries before the fix (the fence left blue primary-configured).
#  (b) the daemon dies right after fencing green (--fault-kill-after-steps 3, on the way back
#      to blue); blue's app is stopped. The next run must still promote blue: after the fence
#      nothing waits for nginx or the app (an app that needs a writable database would wait
#      for ever). Reproduced no writable primary at all before the fix.
# A fast monitor watches for two primaries throughout; no acknowledged write may be lost.
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_begin safety_fence

run_once converge
require "switchyard --once converges on blue (got $once_rc)" test "$once_rc" -eq 0
start_fast_monitor
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 10

echo "--- (a) the daemon dies after the promotion; blue is started by someone else"
set_active green
run_once a-killed --fault-kill-after-steps 4
check "(a) the run dies after switch-traffic, create-slot, fence, promote (exit 137, got $once_rc)" \
  test "$once_rc" -eq 137
show_run a-killed
blue_dir=$(sy_pg_datadir blue)
check "(a) blue's data directory is fenced (standby.signal and the marker)" \
  test -f "$blue_dir/standby.signal" -a -f "$blue_dir/switchyard.fenced"
check "(a) pg_ctl start of blue works (a second actor)" pg_ctl_start blue
check "(a) blue came up read-only: pg_is_in_recovery() = t" test "$(in_recovery blue)" = t
check "(a) green is the only primary" test "$(in_recovery green)" = f
assert_not_two_primaries "(a) after blue was started by someone else"
run_once a-resume
check "(a) the next run converges on green (got $once_rc)" test "$once_rc" -eq 0
show_run a-resume
assert_world green
check_no_write_lost green "(a)"

echo "--- (b) the daemon dies after the fence; blue's app is down"
set_active blue
run_once b-killed --fault-kill-after-steps 3
check "(b) the run dies after switch-traffic, create-slot and fence (exit 137, got $once_rc)" \
  test "$once_rc" -eq 137
show_run b-killed
app_pid=$(sy_app_pid blue)
check "(b) blue's app is stopped" stop_pid "$app_pid" 10
run_once b-resume --once-timeout 15
show_run b-resume
check "(b) blue was promoted although its app is down: pg_is_in_recovery() = f" \
  test "$(in_recovery blue)" = f
check "(b) the promotion did not wait for the app" \
  grep -Eq 'step="promote blue" outcome=ok' "$IT_ART/b-resume.err"
check "(b) green is blue's standby again" wait_until 20 "green to stream from blue" streaming blue green
st=$(status_json)
echo "  status: phase $(jq -r .status.phase <<<"$st"), Ready: $(jq -c '[.status.conditions[] | select(.type == "Ready")][0] | {reason, message}' <<<"$st")"
check "(b) the status says why traffic is not on blue (UpstreamsUnhealthy)" \
  json_true "$st" '[.status.conditions[] | select(.type == "Ready")][0].reason == "UpstreamsUnhealthy"'
it_log "restarting blue's app (hack/local-up.sh starts what is missing)"
"$IT_ROOT/hack/local-up.sh" >"$IT_ART/local-up-again.log" 2>&1 || fail "(b) hack/local-up.sh restarts blue's app"
run_once b-converge
check "(b) with the app back the run converges on blue (got $once_rc)" test "$once_rc" -eq 0
assert_world blue
check "writes are acknowledged on blue" wait_for_acks "$(($(acked_count) + 10))"
stop_writer
check_fast_monitor
check_no_write_lost blue "(b)"

it_end
