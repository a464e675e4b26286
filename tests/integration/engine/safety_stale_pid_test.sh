#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# A clean shutdown with a stale postmaster.pid is no crash, on the real stack. A postmaster
# killed after its shutdown checkpoint and before it removed postmaster.pid leaves
# pg_control saying "shut down" beside a postmaster.pid whose process is gone. Here blue, the
# primary, is stopped cleanly and its postmaster.pid put back as it was. A flip to green must
# fence blue, take its shutdown checkpoint as the promotion threshold and promote green: the
# shutdown checkpoint is blue's last record, whatever the stale file says. Before the fix
# the stale file made blue "not cleanly shut down": the daemon alternated fence and
# lift-fence for ever (found by the 500-flip nemesis).
# A fast monitor watches for two primaries throughout; no acknowledged write may be lost.
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_begin safety_stale_pid

run_once converge
require "switchyard --once converges on blue (got $once_rc)" test "$once_rc" -eq 0
start_fast_monitor
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 10

blue_dir=$(sy_pg_datadir blue)
cp -p "$blue_dir/postmaster.pid" "$IT_WORK/blue-postmaster.pid"
stop_pg blue
check "blue stopped cleanly: pg_control says \"shut down\"" \
  bash -c "runuser -u postgres -- '$SY_PG_BIN/pg_controldata' -D '$blue_dir' | grep -q '^Database cluster state: *shut down$'"
cp -p "$IT_WORK/blue-postmaster.pid" "$blue_dir/postmaster.pid"
# Gone or a zombie (in the test's PID namespace nobody may have reaped it yet).
check "blue's postmaster.pid is back, naming a process that is gone" \
  bash -c "! ps -o stat= -p \$(head -n 1 '$blue_dir/postmaster.pid') | grep -vq Z"

set_active green
run_once stale --once-timeout 40
show_run stale
check "the run converges on green (got $once_rc)" test "$once_rc" -eq 0
check "blue's fence was never lifted (no fence / lift-fence loop)" \
  bash -c "! grep -q 'step=\"lift-fence blue\"' '$IT_ART/stale.err'"
check "green was promoted over blue's shutdown checkpoint" \
  grep -Eq 'step="promote green" outcome=ok' "$IT_ART/stale.err"
assert_world green
check "writes are acknowledged on green" wait_for_acks "$(($(acked_count) + 10))"
stop_writer
check_fast_monitor
check_no_write_lost green "after the flip"

it_end
