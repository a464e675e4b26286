#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# WAL archiving on the real stack (pkg/observe/README.md #30 and #31, pkg/plan/README.md §6).
#
# 1. archive_mode on both servers, archive_command copying into a directory. The command is
#    made to fail and blue completes two segments: they stay .ready. Flipping to green fences
#    and stops blue with them still .ready (its shutdown's last archiver pass fails too), and
#    green is not promoted over them: once archiveTimeoutSeconds (3 s) passed since the fence
#    the switch is abandoned (status.abandonedSwitch reason ArchiveGap, naming how many
#    segments blue left) and blue becomes the primary again.
# 2. A leftover recovery.signal in blue's fenced directory, put there before the abandonment
#    lifts the fence: the file goes with the fence, and blue comes up as the primary on
#    timeline 1 (left, the file would have made it refuse to start, or promote itself after
#    an archive recovery). The command works again: blue's archiver archives what was pending.
# 3. The switch is not begun again for this generation; a spec change (a new generation)
#    retries it: green is promoted, and the archive holds every segment of timeline 1 from the
#    first archived one up to the fork: no gap.
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"

faults_begin archive

blue_dir=$(sy_pg_datadir blue)
green_dir=$(sy_pg_datadir green)
arch=$IT_WORK/archive
install -d -o postgres -g postgres -m 700 "$arch"
for dir in "$blue_dir" "$green_dir"; do
  printf "archive_mode = on\narchive_command = 'test ! -f %s/archive.fail && cp %%p %s/%%f'\n" \
    "$IT_WORK" "$arch" >>"$dir/postgresql.conf"
done
if ! { stop_pg green && stop_pg blue && pg_ctl_start blue && pg_ctl_start green; }; then
  fatal "restarting the servers with archive_mode on"
fi
sed -i 's/^\(    catchUpTimeoutSeconds:.*\)$/\1\n    archiveTimeoutSeconds: 3/' "$IT_MANIFEST"
grep -q 'archiveTimeoutSeconds: 3' "$IT_MANIFEST" || fatal "could not set archiveTimeoutSeconds"
run_once converge
require "switchyard --once converges on blue (got $once_rc)" test "$once_rc" -eq 0
require "blue streams to green" wait_until 30 "green to stream" streaming blue green

ready_count() { find "$1/pg_wal/archive_status" -name '*.ready' | wc -l; }
status_reason() { jq -r '.status.conditions[]? | select(.type=="Ready") | .reason' "$IT_STATUS_FILE"; }
# switch_segment COLOR: some WAL, then the segment is completed.
switch_segment() {
  pg "$1" postgres "CREATE TABLE IF NOT EXISTS arch (x int); INSERT INTO arch VALUES (1)" >/dev/null &&
    pg "$1" postgres "SELECT pg_switch_wal()" >/dev/null
}

# --- 1: segments blue could not archive hold the promotion ---
touch "$IT_WORK/archive.fail"
if ! { switch_segment blue && switch_segment blue; }; then fatal "completing segments on blue"; fi
require "blue's archiver fails" wait_until 20 "a failed archive_command" \
  test "$(pg blue postgres 'SELECT failed_count > 0 FROM pg_stat_archiver')" = t
check "blue holds 2 .ready segments" test "$(ready_count "$blue_dir")" -eq 2
set_active green
run_once gap --fault-kill-after-steps 3 --once-timeout 30
show_run gap
check "the flip moves traffic, makes blue's slot and fences blue, then SIGKILL (exit $once_rc): $(steps_of "$IT_ART/gap.err")" \
  test "$once_rc" -eq 137 -a "$(steps_of "$IT_ART/gap.err")" = "switch-traffic green:ok;create-slot blue on green:ok;fence blue:ok"
check "blue was fenced and stopped" test -z "$(in_recovery blue)" -a -f "$blue_dir/switchyard.fenced"
left=$(ready_count "$blue_dir")  # the fence may complete one more segment
check "its shutdown archived nothing: $left .ready segments left" test "$left" -ge 2

# --- 2: a leftover recovery.signal goes with the fence the abandonment lifts ---
sy_as_postgres touch "$blue_dir/recovery.signal"
run_once abandon --once-timeout 30
show_run abandon
check "once archiveTimeoutSeconds passed the switch is abandoned: blue's fence lifted, blue started, traffic and the slot put back, then Failed (exit $once_rc): $(steps_of "$IT_ART/abandon.err")" \
  test "$once_rc" -ne 0 -a "$once_rc" -ne 124 -a "$(steps_of "$IT_ART/abandon.err")" = "lift-fence blue:ok;start blue:ok;switch-traffic blue:ok;drop-slot blue on green:ok"
fenced_at=$(date -d "$(grep -m 1 'step="fence blue" outcome=ok' "$IT_ART/gap.err" | cut -d' ' -f1)" +%s%3N)
lifted_at=$(date -d "$(grep -m 1 'step="lift-fence blue" outcome=started' "$IT_ART/abandon.err" | cut -d' ' -f1)" +%s%3N)
# fencedAt has second precision: the wait may end up to a second early.
check "the promotion waited archiveTimeoutSeconds first ($((lifted_at - fenced_at)) ms from the fence)" \
  test $((lifted_at - fenced_at)) -ge 2000
check "green was not promoted (got $(in_recovery green))" test "$(in_recovery green)" = t
st=$(status_json)
check_ready "" "$st" Failed SwitchAbandoned "switch to green was abandoned at .*blue is the primary again"
# shellcheck disable=SC2016  # $a and $n are jq's
check "status.abandonedSwitch: green, this generation, ArchiveGap, naming the $left segments" \
  json_true "$st" --arg n "$left" '.status.abandonedSwitch as $a | $a.color == "green" and
    $a.generation == .metadata.generation and $a.reason == "ArchiveGap" and
    ($a.message | startswith($n + " WAL segments of blue were not archived"))'
check "recovery.signal was removed with the fence" test ! -e "$blue_dir/recovery.signal"
check "blue is the primary on timeline 1 (not promoted by an archive recovery)" test \
  "$(pg blue postgres 'SELECT pg_is_in_recovery()::text || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)')" = \
  false00000001
check "while archive_command fails the segments stay .ready on blue" test "$(ready_count "$blue_dir")" -ge "$left"
rm -f "$IT_WORK/archive.fail"
# After failing, the archiver may wait for its timed wake-up (60 s) before it tries again.
check "blue reloads its configuration (waking its archiver)" pg blue postgres 'SELECT pg_reload_conf()'
check "blue is writable (it completes a segment)" switch_segment blue
# (A function: wait_until runs it again each time; a "$(...)" argument would be read once.)
blue_has_no_ready() { test "$(ready_count "$blue_dir")" -eq 0; }
check "blue's archiver archives what was pending" wait_until 75 "blue's .ready files to go" \
  blue_has_no_ready

# --- 3: the same generation is not retried; a new one promotes and leaves no gap ---
require "blue streams to green" wait_until 30 "green to stream" streaming blue green
run_once same --once-timeout 30
check "the switch is not begun again for this generation: no step, Failed (exit $once_rc)" \
  test "$once_rc" -ne 0 -a "$once_rc" -ne 124 -a "$(steps_taken "$IT_ART/same.err")" -eq 0
check "Ready still says SwitchAbandoned" test "$(status_reason)" = SwitchAbandoned
set_spec archiveTimeoutSeconds 10  # any spec change is a new generation
run_once flip --once-timeout 30
show_run flip
check "the new generation retries the switch: it converges on green (got $once_rc)" test "$once_rc" -eq 0
check "green was promoted" grep -q 'step="promote green" outcome=ok' "$IT_ART/flip.err"
check "status.abandonedSwitch is gone" test "$(jq -r '.status.abandonedSwitch // "none"' "$IT_STATUS_FILE")" = none
# Every segment of timeline 1 from the first archived one up to the fork (its last, partial
# segment is archived by green as .partial) is in the archive.
fork=$(sed -n 's/^1\t\([0-9A-F]*\/[0-9A-F]*\).*/\1/p' "$green_dir/pg_wal/00000002.history")
fork_seg=$(pg green postgres "SELECT substr(pg_walfile_name('$fork'), 9)")
no_gap() {
  local first n want
  first=$(find "$arch" -name '00000001????????????????' -printf '%f\n' | sort | head -1)
  [[ -n $first && -n $fork_seg ]] || return 1
  for ((n = 16#${first:16}; n < 16#${fork_seg:8}; n++)); do
    want=$(printf '00000001%s%08X' "${first:8:8}" "$n")
    [[ -e $arch/$want ]] || return 1
  done
}
check "the archive holds every segment of timeline 1 up to the fork at $fork (no gap)" no_gap
check "blue is green's standby" wait_until 30 "blue to stream" streaming green blue
it_end
