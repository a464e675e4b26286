#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# A split brain that crashed is left alone, on the real stack, even once the primary has
# recycled the WAL it would need. Green is restarted without standby.signal (a second
# primary on blue's timeline 1), acknowledges 20 writes of its own and is killed (pg_control
# "in production"). Blue's slot for green is gone (as slotRetentionSeconds drops it) and blue
# recycles its WAL. Green's WAL end is unknown and, on one shared timeline, would prove nothing
# anyway: Switchyard must report SplitBrain and take no step on green (not configure it, not
# start it, not copy over it), and green's 20 rows must still be there. Before the rule
# (pkg/model/topology.cc, LineageOf: crashed as a primary on the primary's timeline), green was
# started as a standby, read as a follower whose WAL was gone, and re-cloned: 0 of 20 rows left
# (found by an adversarial review).
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_begin safety_crashed_split_brain

ready_reason() { jq -r '.status.conditions[]? | select(.type=="Ready") | .reason' "$IT_STATUS_FILE"; }
green_rows() { pg green shop "SELECT count(*) FROM orders WHERE note LIKE 'green-only-%'"; }

run_once converge
require "switchyard --once converges on blue (got $once_rc)" test "$once_rc" -eq 0
green_dir=$(sy_pg_datadir green)

stop_pg green
rm -f "$green_dir/standby.signal"
pg_ctl_start green
require "green runs as a second primary on blue's timeline" test "$(in_recovery green)" = f
own_writes green 1 20
require "green acknowledged 20 writes of its own" test "$(green_rows)" = 20
crash_pg green
controldata() { runuser -u postgres -- "$SY_PG_BIN/pg_controldata" -D "$green_dir" | grep -E '^(Database cluster state|Latest checkpoint location)'; }
before=$(controldata)
check "green's pg_control says it crashed as a primary" grep -q 'in production' <<<"$before"

# Blue moves on and recycles its WAL: no slot, no wal_keep_size, segment switches, checkpoints.
pg blue postgres "SELECT pg_drop_replication_slot('switchyard_green')" >/dev/null
pg blue postgres "ALTER SYSTEM SET wal_keep_size = 0" >/dev/null
pg blue postgres "SELECT pg_reload_conf()" >/dev/null
pg blue shop "CREATE TABLE ballast (t text)" >/dev/null
for _ in 1 2 3 4 5; do
  pg blue shop "INSERT INTO ballast SELECT repeat('x', 1000) FROM generate_series(1, 3000)" >/dev/null
  pg blue postgres "SELECT pg_switch_wal()" >/dev/null
done
pg blue postgres "CHECKPOINT" >/dev/null
pg blue postgres "CHECKPOINT" >/dev/null
check "blue no longer holds the segment green's WAL would resume from" \
  test "$(pg blue postgres "SELECT min(name) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}\$'")" \> 000000010000000000000003

for n in 1 2 3; do
  run_once "hold$n" --once-timeout 20
  show_run "hold$n"
done
check "the status says SplitBrain (got $(ready_reason))" test "$(ready_reason)" = SplitBrain
check "no step touched green (no configure-standby, start, stop, rewind or basebackup)" \
  bash -c "! grep -hE 'step=\"[a-z-]+ green' '$IT_ART'/hold*.err"
check "green's data directory is as the crash left it" test "$(controldata)" = "$before"

# The operator's view: green, started by hand, still has its 20 rows.
pg_ctl_start green
check "green's 20 acknowledged writes are all there" test "$(green_rows)" = 20
stop_pg green
pg blue postgres "ALTER SYSTEM RESET wal_keep_size" >/dev/null
pg blue postgres "SELECT pg_reload_conf()" >/dev/null

it_end
