#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Dependency faults of nginx and of Switchyard's own state directory, on the real stack. Each
# fault is made for real, the flip blue -> green must take no unsafe step and say why, and once
# the fault is gone the flip completes:
#  (a) `nginx -t` fails: nginx.conf gets an unknown directive (an operator's bad edit; the
#      running nginx is unaffected). switch-traffic fails and is terminal (exit non-zero at
#      once); the upstream file is put back, nginx still serves blue, blue was never fenced,
#      status Failed/StepFailed names `nginx -t` and the directive.
#  (b) nginx not running (stopped with `nginx -s quit`): no step at all, blue untouched, status
#      Degraded/NginxNotRunning. nginx started again: the flip completes.
#  (c) the state directory unwritable (chattr +i: even root cannot create the temp file for the
#      status) after the first step of a flip: the daemon takes no further step, backs off and
#      counts switchyard_reconcile_errors_total{reason="StatusWriteFailed"}; its log names the
#      status file. chattr -i: the flip completes.
#  (d) the state directory unwritable when activeColor is edited: the edit cannot be stored,
#      so the stored spec stays in force (no step); the daemon's log names the file and the
#      resource is marked (Invalid, whose status write fails: StatusWriteFailed counted).
#      chattr -i: the manifest is read again (backstop poll, 30 s) and the flip completes.
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"

BAD_DIRECTIVE=switchyard_fault_injection

# more_errors: more failed status writes than $errors.
more_errors() {
  (($(metric switchyard_reconcile_errors_total 'reason="StatusWriteFailed",resource="default/shop"' |
    cut -d. -f1) > ${errors%.*}))
}

faults_begin faults_nginx_state

run_once converge
require "switchyard --once on the fresh stack exits 0 (got $once_rc)" test "$once_rc" -eq 0
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 10

# --- (a) nginx -t fails ----------------------------------------------------------------------
echo "--- (a) nginx -t fails (unknown directive in nginx.conf), flip to green"
cp -p "$SY_NGINX_CONF" "$IT_WORK/nginx.conf.good"
faults_undo_on_exit "cp -p '$IT_WORK/nginx.conf.good' '$SY_NGINX_CONF'"
echo "$BAD_DIRECTIVE on;" >>"$SY_NGINX_CONF"
require "nginx -t now fails" test "$(sy_nginx -t >/dev/null 2>&1; echo $?)" -ne 0
upstream_before=$(file_sum "$SY_UPSTREAM_FILE")
blue_since=$(since blue)
set_active green
run_once a-green --once-timeout 20
show_run a-green
steps=$(steps_of "$IT_ART/a-green.err")
check "(a) switchyard --once exits non-zero (got $once_rc)" test "$once_rc" -ne 0 -a "$once_rc" -ne 124
check "(a) one step, switch-traffic green, failed: $steps" test "$steps" = "switch-traffic green:error"
check "(a) the upstream file is restored (same content, still blue)" \
  test "$(file_sum "$SY_UPSTREAM_FILE")" = "$upstream_before"
check "(a) nginx still serves blue" serves_only blue
check "(a) blue is still the running primary, never fenced (since $blue_since)" \
  test "$(primary_probe blue)" = "f|$blue_since"
check "(a) green is still a standby" test "$(in_recovery green)" = t
st=$(status_json)
show_status "$st"
ready=$(ready_of "$st")
check "(a) status: phase Failed, Ready False, reason StepFailed" \
  json_true "$st" '.status.phase == "Failed" and ([.status.conditions[] | select(.type == "Ready")][0] |
    .status == "False" and .reason == "StepFailed")'
# shellcheck disable=SC2016  # $d is jq's
check "(a) status: the message names nginx -t, the directive and the restored file" \
  json_true "$ready" --arg d "$BAD_DIRECTIVE" \
  '.message | test("nginx -t") and contains($d) and test("previous file is restored")'
check "(a) status: servingColor and primaryColor are blue" \
  json_true "$st" '.status.servingColor == "blue" and .status.primaryColor == "blue"'

cp -p "$IT_WORK/nginx.conf.good" "$SY_NGINX_CONF"
run_once a-fixed
show_run a-fixed
check "(a) nginx.conf fixed: the flip to green completes (exit $once_rc)" test "$once_rc" -eq 0
assert_world green
check "(a) writes are acknowledged on green" wait_for_acks "$(($(acked_count) + 10))"
check_no_write_lost green "after (a)"

# --- (b) nginx not running -------------------------------------------------------------------
echo "--- (b) nginx stopped, flip to blue"
nginx_pid=$(sy_nginx_pid)
faults_undo_on_exit "[[ -n \$(sy_nginx_pid) ]] || sy_nginx"
sy_nginx -s quit
require "nginx (pid $nginx_pid) stopped" wait_until 15 "nginx to exit" it_pid_gone "$nginx_pid"
green_since=$(since green)
set_active blue
run_once b-blue --once-timeout 6
show_run b-blue
check "(b) switchyard --once exits non-zero (got $once_rc)" test "$once_rc" -ne 0 -a "$once_rc" -ne 124
check "(b) it took no step: $(steps_of "$IT_ART/b-blue.err")" test "$(steps_taken "$IT_ART/b-blue.err")" -eq 0
check "(b) green is still the running primary (since $green_since)" \
  test "$(primary_probe green)" = "f|$green_since"
check "(b) blue is still a standby" test "$(in_recovery blue)" = t
check_ready "(b)" "$(status_json)" Degraded NginxNotRunning "nginx is not running"
check "(b) the --once report says why it did not converge" grep -q 'nginx is not running' "$IT_ART/b-blue.out"

sy_nginx || fatal "starting nginx again"
require "nginx serves green again" wait_until 10 "nginx to serve green" serves_only green
run_once b-started
show_run b-started
check "(b) nginx started: the flip to blue completes (exit $once_rc)" test "$once_rc" -eq 0
assert_world blue
check "(b) writes are acknowledged on blue" wait_for_acks "$(($(acked_count) + 10))"

# --- (c) the state directory unwritable ------------------------------------------------------
echo "--- (c) state directory unwritable after the first step of a flip to green"
# A daemon run first, while the directory is writable, creates its API token file there.
start_daemon daemon-token
check "(c) a daemon on the writable state dir reports Converged on blue" \
  wait_until 30 "Converged on blue" converged_on blue
stop_daemon
require "the daemon created its token in $IT_STATE" test -s "$IT_STATE/token"
set_active green
run_once c-first --fault-kill-after-steps 1
check "(c) the first run took one step and died (exit $once_rc): $(steps_of "$IT_ART/c-first.err")" \
  test "$once_rc" -eq 137 -a "$(steps_of "$IT_ART/c-first.err")" = "switch-traffic green:ok"
blue_since=$(since blue)
status_before=$(file_sum "$IT_STATUS_FILE")
faults_undo_on_exit "chattr -i '$IT_STATE/objects' '$IT_STATE'"
chattr +i "$IT_STATE" "$IT_STATE/objects" || fatal "chattr +i $IT_STATE"
require "even root cannot create a file in $IT_STATE/objects now" \
  test "$(touch "$IT_STATE/objects/probe" 2>/dev/null; echo $?)" -ne 0
start_daemon daemon
sleep 12
errors=$(metric switchyard_reconcile_errors_total 'reason="StatusWriteFailed",resource="default/shop"')
n=$(passes)
echo "  in 12 s: $n passes, $errors StatusWriteFailed"
check "(c) switchyard_reconcile_errors_total{reason=\"StatusWriteFailed\"} counts the failed passes ($errors)" \
  test "${errors%.*}" -ge 1
check "(c) with backoff: at most 8 passes in 12 s ($n)" test "$n" -le 8
check "(c) the daemon took no step: $(log_steps_since 0 | head -n 3)" test -z "$(log_steps_since 0)"
check "(c) /readyz and the API still answer" curl -fsS -m 2 -o /dev/null "$IT_API/readyz"
check "(c) its log names the status file and the error" \
  grep -Eq "status .*objects/default_shop.json.*(not permitted|denied)" "$IT_ART/daemon.log"
check "(c) blue is still the running primary, never fenced (since $blue_since)" \
  test "$(primary_probe blue)" = "f|$blue_since"
check "(c) the status file is unchanged" test "$(file_sum "$IT_STATUS_FILE")" = "$status_before"

chattr -i "$IT_STATE" "$IT_STATE/objects"
check_converges "(c) writable again" green 30
assert_world green

# --- (d) a manifest edit that cannot be stored -----------------------------------------------
echo "--- (d) state directory unwritable, then activeColor edited to blue"
errors=$(metric switchyard_reconcile_errors_total 'reason="StatusWriteFailed",resource="default/shop"')
mark=$(log_mark)
chattr +i "$IT_STATE" "$IT_STATE/objects" || fatal "chattr +i $IT_STATE"
set_active blue
check "(d) the daemon's log says the edit cannot be stored" wait_until 15 "the manifest error" \
  grep -Eq "manifest .*objects/default_shop.json.*(not permitted|denied)" "$IT_ART/daemon.log"
check "(d) switchyard_reconcile_errors_total{reason=\"StatusWriteFailed\"} counts it (was $errors)" \
  wait_until 15 "more StatusWriteFailed" more_errors
check "(d) no step was taken" test -z "$(log_steps_since "$mark")"
check "(d) green is still the primary, nginx serves green" \
  test "$(in_recovery green)/$(served_color)" = f/green
chattr -i "$IT_STATE" "$IT_STATE/objects"
check_converges "(d) writable again (the manifest is read again within 30 s)" blue 60
stop_daemon
assert_world blue
stop_writer
check_no_write_lost blue "at the end"
it_log "writes: $(acked_count) acknowledged, $(refused_count) refused"

it_end
