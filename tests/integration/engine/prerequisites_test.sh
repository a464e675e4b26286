#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Prerequisites of a switch on the real stack (pkg/plan/preflight.h).
#
# 1. hot_standby = off on the standby (green): it runs but refuses every connection. A flip to
#    green holds with reason HotStandbyOff naming green and the setting; nothing moves (blue
#    stays the primary, traffic stays on blue). With hot_standby on again and the flip undone,
#    the stack converges on blue.
# 2. spec.database.user a non-superuser with REPLICATION, pg_checkpoint and pg_monitor but not
#    EXECUTE on pg_promote(): the flip to green holds with reason InsufficientPrivileges, the
#    message naming pg_promote and the GRANT; nothing moves. Once granted, the flip completes
#    as that user: Converged on green, the rows written on blue before it are on green.
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"

faults_begin prerequisites

ROLE=switchyard_limited
green_dir=$(sy_pg_datadir green)
status_reason() { jq -r '.status.conditions[]? | select(.type=="Ready") | .reason' "$IT_STATUS_FILE"; }
status_message() { jq -r '.status.conditions[]? | select(.type=="Ready") | .message' "$IT_STATUS_FILE"; }
# message_has [GREP FLAGS...] PATTERN: the Ready condition's message matches.
message_has() { status_message | grep -q "$@"; }
message_lacks() { ! status_message | grep -Eq "$1"; }
# nothing_moved LABEL: blue the primary, green a standby, nginx serving blue, no step taken.
nothing_moved() {
  check "$1: blue is still the primary" test "$(in_recovery blue)" = f
  check "$1: nginx still serves blue" serves_only blue
  check "$1: no step was taken ($(steps_of "$IT_ART/$1.err"))" test "$(steps_taken "$IT_ART/$1.err")" -eq 0
}

run_once converge
require "switchyard --once converges on blue (got $once_rc)" test "$once_rc" -eq 0

# --- 1: hot_standby = off on the standby ---
pg green postgres "ALTER SYSTEM SET hot_standby = off" >/dev/null || fatal "hot_standby off on green"
faults_undo_on_exit "sy_as_postgres sed -i '/^hot_standby/d' '$green_dir/postgresql.auto.conf'"
{ stop_pg green && pg_ctl_start green; } || fatal "restart green with hot_standby off"
require "green runs and refuses connections" test -z "$(in_recovery green)"
set_active green
run_once hot-standby-off --once-timeout 5
show_run hot-standby-off
check "the flip holds: HotStandbyOff (got $(status_reason))" test "$(status_reason)" = HotStandbyOff
check "the message names green and asks for hot_standby = on" \
  message_has -E "^green \(127\.0\.0\.1:${SY_PG_PORT[green]}\) .*Set hot_standby = on"
nothing_moved hot-standby-off
sy_as_postgres sed -i '/^hot_standby/d' "$green_dir/postgresql.auto.conf"
{ stop_pg green && pg_ctl_start green; } || fatal "restart green with hot_standby on"
set_active blue
run_once restored --once-timeout 30
check "with hot_standby on again it converges on blue (got $once_rc)" test "$once_rc" -eq 0
check "green streams from blue" wait_until 15 "green to stream" streaming blue green

# --- 2: a user without EXECUTE on pg_promote() ---
pg blue postgres "CREATE ROLE $ROLE LOGIN REPLICATION; GRANT pg_checkpoint, pg_monitor TO $ROLE" \
  >/dev/null || fatal "create $ROLE on blue"
require "green replays the role" wait_until 10 "$ROLE on green" \
  test "$(pg green postgres "SELECT count(*) FROM pg_roles WHERE rolname = '$ROLE'")" = 1
set_spec user "$ROLE"
for i in 1 2 3 4 5; do
  pg blue shop "INSERT INTO orders (color, note) VALUES ('blue', 'prereq-$i')" >/dev/null ||
    fatal "insert $i on blue"
done
set_active green
run_once no-promote --once-timeout 5
show_run no-promote
check "the flip holds: InsufficientPrivileges (got $(status_reason))" \
  test "$(status_reason)" = InsufficientPrivileges
check "the message names pg_promote and its GRANT" \
  message_has -F "GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO $ROLE"
check "the message asks for nothing else" message_lacks 'pg_checkpoint|REPLICATION|pg_monitor'
nothing_moved no-promote
check "green is still a standby" test "$(in_recovery green)" = t

pg blue postgres "GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO $ROLE" >/dev/null ||
  fatal "grant pg_promote"
# (A function: wait_until runs it again each time; a "$(...)" argument would be read once.)
green_has_the_grant() {
  test "$(pg green postgres \
    "SELECT has_function_privilege('$ROLE', 'pg_promote(boolean, integer)', 'EXECUTE')")" = t
}
require "green replays the grant" wait_until 10 "the grant on green" green_has_the_grant
run_once granted --once-timeout 30
show_run granted
check "as $ROLE the flip to green converges (got $once_rc)" test "$once_rc" -eq 0
check "the status says Converged on green" json_true "$(status_json)" \
  '.status.phase == "Converged" and .status.primaryColor == "green"'
assert_world green
check "the rows written on blue before the flip are on green" \
  test "$(pg green shop "SELECT count(*) FROM orders WHERE note LIKE 'prereq-%'")" = 5
it_end
