#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# A new primary that crashes before its first checkpoint keeps its acknowledged writes, on
# the real stack. The daemon fences blue and dies (--fault-kill-after-steps 3); green's
# checkpointer is frozen (so the checkpoint a promotion asks for cannot run: pg_control keeps
# the old timeline), green is promoted by hand, takes 3 acknowledged rows and crashes (every
# process of it killed). pg_control of both servers then shows the same timeline, and blue's
# shutdown checkpoint looks newer; only green's pg_wal shows its new timeline. Rule: the
# newest data is started: green, never blue over it; blue stays fenced and rejoins green.
#  (a) the declaration stays green;  (b) the same crash with the declaration flipped back to
#  the fenced server: still the crashed new primary is started first, then the normal
#  switch. No acknowledged row may be lost, no moment with two primaries. Before the fix,
# blue was started as the primary and green rejoined under it: the rows were gone.
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"

# promote_and_crash FROM TO LABEL: from FROM primary, a run to TO killed after the fence;
# TO promoted by hand with its checkpointer frozen, 3 rows written on it, then TO crashes.
# Leaves the ids of the rows in rows_LABEL.
promote_and_crash() {
  local from=$1 to=$2 label=$3 ckpt
  set_active "$to"
  run_once "$label-fence" --fault-kill-after-steps 3
  check "($label) the run dies after switch-traffic, create-slot and fence (got $once_rc)" test "$once_rc" -eq 137
  check "($label) $from is stopped and fenced" \
    test -z "$(sy_pg_pid "$from")" -a -f "$(sy_pg_datadir "$from")/switchyard.fenced"
  ckpt=$(pg_aux_pid "$to" checkpointer)
  require "($label) $to's checkpointer runs (pid $ckpt)" test -n "$ckpt"
  faults_undo_on_exit "kill -CONT $ckpt"
  kill -STOP "$ckpt"
  pg "$to" postgres "SELECT pg_promote()" >/dev/null || fatal "($label) pg_promote() on $to"
  check "($label) $to is promoted" test "$(in_recovery "$to")" = f
  pg "$to" "$SY_DATABASE" "INSERT INTO orders (color, note) SELECT '$to', 'crash-$label-' || g
    FROM generate_series(1, 3) g" >/dev/null || fatal "($label) insert on $to"
  printf -v "rows_$label" '%s' "$(pg "$to" "$SY_DATABASE" \
    "SELECT string_agg(id::text, ',' ORDER BY id) FROM orders WHERE note LIKE 'crash-$label-%'")"
  local tli
  tli=$("$SY_PG_BIN/pg_controldata" -D "$(sy_pg_datadir "$to")" | awk -F: '/Latest checkpoint.s TimeLineID/ {gsub(/ /, "", $2); print $2}')
  it_log "($label) $to promoted, 3 rows written, pg_control still on timeline $tli; crashing it"
  crash_pg "$to"
}

# rows_on COLOR IDS: the rows IDS (comma separated) are all on COLOR.
rows_on() {
  [[ $(pg "$1" "$SY_DATABASE" "SELECT count(*) FROM orders WHERE id IN ($2)") == 3 ]]
}

faults_begin safety_crash

run_once converge
require "switchyard --once converges on blue (got $once_rc)" test "$once_rc" -eq 0
start_fast_monitor

echo "--- (a) green promoted, crashed before its first checkpoint; still desired"
promote_and_crash blue green a
run_once a-resume
check "(a) the next run converges on green (got $once_rc)" test "$once_rc" -eq 0
show_run a-resume
check "(a) it started green as the primary, never blue" \
  test -z "$(grep -E 'step="(start|lift-fence) blue" outcome=started.*(primary|lifting)' "$IT_ART/a-resume.err")"
assert_world green
# shellcheck disable=SC2154  # set by promote_and_crash
check "(a) green's 3 acknowledged rows are on green ($rows_a)" rows_on green "$rows_a"

echo "--- (b) blue promoted, crashed before its first checkpoint; the declaration flipped back"
promote_and_crash green blue b
set_active green
run_once b-resume
check "(b) the next run converges on green (got $once_rc)" test "$once_rc" -eq 0
show_run b-resume
check "(b) blue (newest data) was started first, green's fence was not lifted over it" \
  test -z "$(grep -E 'step="lift-fence green"' "$IT_ART/b-resume.err")"
assert_world green
# shellcheck disable=SC2154
check "(b) blue's 3 acknowledged rows are on green ($rows_b)" rows_on green "$rows_b"
check "no data directory was replaced" \
  test -z "$(cat "$IT_ART"/*-resume.err | grep -E 'step="(rewind|basebackup) ')"
check_fast_monitor

it_end
