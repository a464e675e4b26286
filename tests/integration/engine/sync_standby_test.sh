#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# synchronous_standby_names on the real stack (README "PostgreSQL configurations"; the rules:
# pkg/plan/README.md §17).
#  (a) 'green' in both servers' postgresql.conf (a standby's configuration is a copy of its
#      primary's): blue's commits complete (green streams), and the flip to green is refused
#      before anything moves (SynchronousStandbyUnsatisfiable, naming the setting and its
#      file); blue stays the primary behind nginx and its commits still complete.
#  (b) 'ANY 1 (blue, green)' on both: flips to green and back under a writer through nginx
#      (curl gives each request 5 s): no commit hung, none lost, Converged, and a commit on
#      each new primary completes.
#  (c) a name no standby has, set on the running primary (ALTER SYSTEM): a commit hangs, and
#      the status says CommitsBlocked naming synchronous_standby_names and postgresql.auto.conf,
#      never Converged; reset, the waiting commit completes and the status is Converged.
#  (d) spec.database.synchronousReplication: required, with 'green' on both again: Switchyard
#      makes each primary name the other color ("blue" on green before the flip, while green
#      is a standby); flips to green and back under the writer: no commit hung, none lost,
#      Converged, and each primary's commits wait for its standby (sync_state sync).
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# set_sync_names VALUE: synchronous_standby_names = VALUE in both servers' postgresql.conf,
# reloaded, waiting until both show it.
set_sync_names() {
  local c conf
  for c in blue green; do
    conf="$(sy_pg_datadir "$c")/postgresql.conf"
    sed -i '/^synchronous_standby_names/d' "$conf"
    printf "synchronous_standby_names = '%s'\n" "$1" >>"$conf"
    pg "$c" postgres 'SELECT pg_reload_conf()' >/dev/null || fatal "reloading $c's configuration"
    wait_until 10 "$c to show synchronous_standby_names '$1'" sync_names_are "$c" "$1" ||
      fatal "$c does not take synchronous_standby_names '$1'"
  done
}
sync_names_are() { [[ $(pg "$1" postgres 'SHOW synchronous_standby_names') == "$2" ]]; }

# commit_within COLOR SECONDS: an INSERT into orders on COLOR commits within SECONDS.
commit_within() {
  timeout -k 1 "$2" "$SY_PG_BIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "$SY_HOST" \
    -p "${SY_PG_PORT[$1]}" -U "$SY_SUPERUSER" -d "$SY_DATABASE" \
    -c "INSERT INTO orders (color, note) VALUES ('$1', 'sync_standby')" >/dev/null 2>&1
}
# Requests the writer gave up on after 5 s (curl's exit 28): a commit that hung.
hung_count() { grep -c '^[0-9.]* curl-error 28' "$IT_ART/writes.log" || true; }
sync_waiters() { pg "$1" postgres "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'"; }
has_sync_waiter() { (($(sync_waiters "$1") > 0)); }
ready_of() { status_json | jq -c '[.status.conditions[]? | select(.type == "Ready")][0]'; }

it_begin sync_standby

run_once converge
require "switchyard --once on the fresh stack exits 0 (got $once_rc)" test "$once_rc" -eq 0

# --- (a) 'green' on both: the flip to green is refused before anything moves -----------------
echo "--- (a) synchronous_standby_names = 'green' on both, flip to green"
set_sync_names green
check "(a) blue's commits complete (green streams as its synchronous standby)" commit_within blue 5
blue_since=$(pg blue postgres 'SELECT pg_postmaster_start_time()')
set_active green
run_once a-green --once-timeout 8
show_run a-green
ready=$(ready_of)
echo "  status: phase $(status_json | jq -r .status.phase), Ready: $ready"
check "(a) switchyard --once does not converge (exit $once_rc)" test "$once_rc" -ne 0 -a "$once_rc" -ne 124
check "(a) it took no step" test "$(steps_taken "$IT_ART/a-green.err")" -eq 0
check "(a) status: Ready False, reason SynchronousStandbyUnsatisfiable" \
  json_true "$ready" '.status == "False" and .reason == "SynchronousStandbyUnsatisfiable"'
check "(a) status: the message names the setting and its file" \
  json_true "$ready" ".message | test(\"synchronous_standby_names = 'green' \\\\(from .*postgresql.conf\\\\)\")"
check "(a) nginx still serves blue" serves_only blue
check "(a) blue is still the running primary, never restarted" \
  test "$(primary_probe blue)" = "f|$blue_since"
check "(a) blue's commits still complete" commit_within blue 5

# --- (b) a setting the other color satisfies: flips under writes, nothing hangs -------------
echo "--- (b) synchronous_standby_names = 'ANY 1 (blue, green)' on both, flips under writes"
set_sync_names 'ANY 1 (blue, green)'
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 20
# flips LABEL: flips to green and back under the writer; checks each converges with a commit
# on the new primary completing, then that no commit hung and none was lost.
flips() {
  local label=$1 color acks
  start_writer
  require "the writer gets orders acknowledged through nginx" wait_for_acks 20
  for color in green blue; do
    set_active "$color"
    run_once "$label-$color"
    show_run "$label-$color"
    check "($label) the flip to $color converges (exit $once_rc)" test "$once_rc" -eq 0
    check "($label) status: Converged on $color" \
      json_true "$(status_json)" --arg c "$color" '.status.phase == "Converged" and .status.primaryColor == $c'
    check "($label) a commit on $color completes within 5 s" commit_within "$color" 5
    acks=$(acked_count)
    wait_for_acks $((acks + 10)) || fail "($label) the writer makes no progress on $color"
  done
  stop_writer
  assert_world blue
  acked=$(acked_count)
  hung=$(hung_count)
  refused=$(refused_count)
  echo "  writes during the flips: $acked acknowledged, $refused refused, $hung hung (curl timed out after 5 s)"
  check "($label) no commit hung during the flips ($hung of $((acked + refused)) requests)" test "$hung" -eq 0
  check_no_write_lost blue "($label) after the flips with synchronous_standby_names set"
  figures+=("($label) 2 flips: $acked commits acknowledged, $refused refused, $hung hung")
}
figures=()
flips b

# --- (c) commits that hang on the primary are reported, never Converged -------------------
echo "--- (c) synchronous_standby_names = 'nobody' set on the primary blue (ALTER SYSTEM)"
pg blue postgres "ALTER SYSTEM SET synchronous_standby_names = 'nobody'" >/dev/null || fatal "ALTER SYSTEM on blue"
pg blue postgres 'SELECT pg_reload_conf()' >/dev/null
wait_until 10 "blue to take 'nobody'" sync_names_are blue nobody || fatal "blue does not take 'nobody'"
before=$(pg blue "$SY_DATABASE" "SELECT count(*) FROM orders WHERE note = 'sync_standby'")
commit_within blue 60 &
waiter=$!
it_pids+=("$waiter")
check "(c) a commit on blue waits (wait event SyncRep)" wait_until 10 "a commit waiting on blue" has_sync_waiter blue
run_once c-hang --once-timeout 8
show_run c-hang
ready=$(ready_of)
echo "  status: phase $(status_json | jq -r .status.phase), Ready: $ready"
check "(c) switchyard --once does not report convergence (exit $once_rc)" test "$once_rc" -ne 0 -a "$once_rc" -ne 124
check "(c) status: phase Degraded, Ready False, reason CommitsBlocked" \
  json_true "$(status_json)" '.status.phase == "Degraded" and ([.status.conditions[] | select(.type == "Ready")][0] | .status == "False" and .reason == "CommitsBlocked")'
check "(c) status: the message names synchronous_standby_names and postgresql.auto.conf" \
  json_true "$ready" ".message | test(\"synchronous_standby_names = 'nobody' \\\\(from .*postgresql.auto.conf\\\\)\")"
check "(c) it took no step" test "$(steps_taken "$IT_ART/c-hang.err")" -eq 0
pg blue postgres 'ALTER SYSTEM RESET synchronous_standby_names' >/dev/null || fatal "ALTER SYSTEM RESET on blue"
pg blue postgres 'SELECT pg_reload_conf()' >/dev/null
check "(c) reset, the waiting commit completes" wait_until 10 "the waiting commit" it_pid_gone "$waiter"
wait "$waiter"
waiter_rc=$?
check "(c) ... and psql saw it committed (exit $waiter_rc)" test "$waiter_rc" -eq 0
check "(c) ... one more order on blue" \
  test "$(pg blue "$SY_DATABASE" "SELECT count(*) FROM orders WHERE note = 'sync_standby'")" -eq $((before + 1))
run_once c-reset
check "(c) then Converged again (exit $once_rc)" \
  json_true "$(status_json)" '.status.phase == "Converged" and .status.primaryColor == "blue"'

# --- (d) required: Switchyard names the other color ----------------------------------------
echo "--- (d) spec.database.synchronousReplication: required, 'green' on both, flips under writes"
set_sync_names green
sed -i 's/^\(    rejoinMethod:.*\)$/\1\n    synchronousReplication: required/' "$IT_MANIFEST"
grep -q '^    synchronousReplication: required$' "$IT_MANIFEST" || fatal "could not set synchronousReplication"
run_once d-blue
show_run d-blue
check "(d) blue converges and is made to name green (exit $once_rc)" test "$once_rc" -eq 0
check "(d) blue shows synchronous_standby_names \"green\"" sync_names_are blue '"green"'
check "(d) green streams as blue's synchronous standby (sync_state sync)" \
  test "$(pg blue postgres "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'green'")" = sync
flips d
check "(d) a sync-standby step named blue on green before the flip's first switch step" \
  grep -Eq 'sync-standby green names blue: ok.*' <(step_summary <"$IT_ART/d-green.err" | head -n 1 | sed 's/^ *//')
check "(d) green, then blue, names the other color (blue shows \"green\")" sync_names_are blue '"green"'
check "(d) green shows \"blue\" (its postgresql.auto.conf, kept through its rejoin)" sync_names_are green '"blue"'
check "(d) blue's commits wait for green (sync_state sync)" \
  test "$(pg blue postgres "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'green'")" = sync
printf '  FIGURE %s\n' "${figures[@]}"

it_end
