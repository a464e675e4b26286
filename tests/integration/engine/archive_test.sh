#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# WAL archiving on the real stack (pkg/observe/README.md #30 and #31, pkg/plan/README.md §6).
#
# 1. archive_mode on both servers, archive_command copying into a directory. The command is
#    made to fail and blue completes two segments: they stay .ready. Flipping to green fences
#    and stops blue with them still .ready (its shutdown's last archiver pass fails too), and
#    green is not promoted: ArchiveGap, naming how many segments blue left, once
#    archiveTimeoutSeconds (3 s) passed since the fence.
# 2. A leftover recovery.signal in blue's fenced directory. Flipping back lifts the fence and
#    the file with it: blue comes up as the primary on timeline 1 (left, the file would have
#    made it refuse to start, or promote itself after an archive recovery). The command works
#    again: blue's archiver archives what was pending.
# 3. The flip to green now promotes green, and the archive holds every segment of timeline 1
#    from the first archived one up to the fork: no gap.
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
status_message() { jq -r '.status.conditions[]? | select(.type=="Ready") | .message' "$IT_STATUS_FILE"; }
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
run_once gap --once-timeout 10
show_run gap
check "blue was fenced and stopped" bash -c "grep -q 'step=\"fence blue\" outcome=ok' '$IT_ART/gap.err' && test -z \"\$(in_recovery blue)\""
left=$(ready_count "$blue_dir")  # the fence may complete one more segment
check "its shutdown archived nothing: $left .ready segments left" test "$left" -ge 2
check "green was not promoted (got $(in_recovery green))" test "$(in_recovery green)" = t
check "ArchiveGap once archiveTimeoutSeconds passed (got $(status_reason))" test "$(status_reason)" = ArchiveGap
check "the condition names the $left segments" \
  bash -c "grep -q '^$left WAL segments of blue were not archived' <<<'$(status_message)'"

# --- 2: a leftover recovery.signal goes with the fence; the archiver catches up ---
sy_as_postgres touch "$blue_dir/recovery.signal"
rm -f "$IT_WORK/archive.fail"
set_active blue
run_once back --once-timeout 30
show_run back
check "the flip back converges (got $once_rc)" test "$once_rc" -eq 0
check "recovery.signal was removed with the fence" test ! -e "$blue_dir/recovery.signal"
check "blue is the primary on timeline 1 (not promoted by an archive recovery)" test \
  "$(pg blue postgres 'SELECT pg_is_in_recovery()::text || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)')" = \
  false00000001
check "blue's archiver archives what was pending" wait_until 30 "blue's .ready files to go" \
  test "$(ready_count "$blue_dir")" -eq 0

# --- 3: with archiving working, the switch promotes and leaves no gap ---
require "blue streams to green" wait_until 30 "green to stream" streaming blue green
set_active green
run_once flip --once-timeout 30
show_run flip
check "the flip to green converges (got $once_rc)" test "$once_rc" -eq 0
check "green was promoted" grep -q 'step="promote green" outcome=ok' "$IT_ART/flip.err"
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
