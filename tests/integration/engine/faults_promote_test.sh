#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Promotion failing, on the real stack, with the daemon and a writer posting orders through
# nginx: green's postmaster is frozen (SIGSTOP) before the flip to green. Its backends keep
# serving (Switchyard's open connection observes it) and its WAL receiver and startup process
# keep streaming and replaying, so the switch runs up to the promotion; pg_promote() signals
# a postmaster that cannot act on it, and green stays in recovery. After the 60 s promote
# timeout the step fails: status Degraded/StepFailed names the promotion, blue stays stopped
# (never restarted: no second primary), green stays a standby. Thawed, green's postmaster
# finishes the promotion and the flip converges with no acknowledged write lost.
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"


faults_begin faults_promote
FAULTS_API=1

start_daemon daemon
require "the daemon converges on blue" wait_until 30 "Converged on blue" converged_on blue
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 10

freeze_and_flip green green "promote green"
echo "  steps so far:"
tail -n +"$((mark + 1))" "$IT_ART/daemon.log" | step_summary
check_step_failed "promote green" promote "still in recovery [0-9]+ ms after pg_promote"
st=$(api_json)
# A new connection would wait for the frozen postmaster: look at the data directory and at
# what the daemon observes through its open connection.
check "green is still a standby (standby.signal in its data directory)" \
  test -f "$(sy_pg_datadir green)/standby.signal"
check "status: no primary (primaryColor empty)" json_true "$st" '(.status.primaryColor // "") == ""'
check "no step but the switch's: $(log_steps_since "$mark" | sed -E 's/.*step="([^"]+)" outcome=([a-z]+).*/\1:\2/' | sort -u | paste -sd ' ')" \
  test -z "$(log_steps_since "$mark" | grep -Ev 'step="(switch-traffic green|create-slot blue on green|fence blue|promote green)"')"

kill -CONT "$frozen"
check_converges "green thawed" green 60
echo "  steps after the thaw:"
tail -n +"$((mark + 1))" "$IT_ART/daemon.log" | step_summary | tail -n +4
stop_daemon
assert_world green
check "writes are acknowledged on green" wait_for_acks "$(($(acked_count) + 10))"
stop_writer
check_no_write_lost green "at the end"
it_log "writes: $(acked_count) acknowledged, $(refused_count) refused"

it_end
