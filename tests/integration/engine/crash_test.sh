#!/usr/bin/env bash
# Level-triggered means crash-proof: the switch blue -> green and back is driven by
# `switchyard --once --fault-kill-after-steps 1` runs, each of which takes exactly one step
# and then SIGKILLs itself (exit 137), until a run finds the resource converged (exit 0).
# Between runs: never two primaries; at the end of each direction: converged on the real
# stack and no acknowledged write lost (a writer runs throughout). Then: a second switchyard
# on the same --state-dir as a running one refuses to start (exit 2, naming the lock).
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MAX_RUNS=20

# crash_loop COLOR: flips to COLOR one step per process.
crash_loop() {
  local color=$1 run label steps step converged=0 sequence=()
  set_active "$color"
  for ((run = 1; run <= MAX_RUNS; run++)); do
    label="to-$color-run$run"
    run_once "$label" --fault-kill-after-steps 1
    steps=$(steps_taken "$IT_ART/$label.err")
    step=$(grep -E "$IT_STEP_END" "$IT_ART/$label.err" |
      sed -E 's/.*step="([^"]+)" outcome=([a-z]+) ms=([0-9]+).*/\1 (\2, \3 ms)/' | head -n 1)
    if ((once_rc == 0)); then
      check "to $color, run $run: exit 0 (converged) after taking no step (took $steps)" test "$steps" -eq 0
      converged=1
      break
    fi
    if ((once_rc != 137)); then
      sed 's/^/    | /' "$IT_ART/$label.out"
      tail -n 5 "$IT_ART/$label.err" | sed 's/^/    | /'
      fail "to $color, run $run: exit $once_rc (want 137: SIGKILL after one step, or 0: converged)"
      break
    fi
    check "to $color, run $run: one step, then SIGKILL (137): ${step:-no step}" test "$steps" -eq 1
    sequence+=("${step%% (*}")
    assert_not_two_primaries "to $color, after run $run"
  done
  ((converged)) || fail "to $color: not converged after $MAX_RUNS runs (steps: $(IFS=';'; echo "${sequence[*]}"))"
  it_log "to $color: $((${#sequence[@]})) steps in $((${#sequence[@]} + 1)) processes: $(IFS=';'; echo "${sequence[*]}")"
  assert_world "$color"
  check "to $color: writes are acknowledged on $color afterwards" wait_for_acks "$(($(acked_count) + 10))"
  check_no_write_lost "$color" "after the crash loop to $color"
}

it_begin crash

run_once converge
require "switchyard --once on the fresh stack exits 0 (got $once_rc)" test "$once_rc" -eq 0
start_primary_monitor
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 20

crash_loop green
crash_loop blue

stop_writer
check_primary_monitor
it_log "writes: $(acked_count) acknowledged, $(refused_count) refused"

# --- the state lock -----------------------------------------------------------------------
start_daemon daemon
lock_out=$(timeout 20 "$IT_SWITCHYARD" --manifests "$IT_MANIFEST" --state-dir "$IT_STATE" \
  --listen "" --once 2>&1)
rc=$?
echo "    | $lock_out"
check "a second switchyard --once on the same state dir exits 2 (got $rc)" test "$rc" -eq 2
check "its message names the lock and the holder (pid $daemon_pid)" \
  grep -Eq "state directory $IT_STATE is locked by pid $daemon_pid" <<<"$lock_out"
check "it took no step" test "$(grep -c 'step resource=' <<<"$lock_out")" -eq 0
lock_out=$(timeout 20 "$IT_SWITCHYARD" --manifests "$IT_MANIFEST" --state-dir "$IT_STATE" \
  --listen "" 2>&1)
rc=$?
check "a second switchyard daemon on the same state dir exits 2 (got $rc)" test "$rc" -eq 2
check "its message names the lock too" grep -q "locked by pid $daemon_pid" <<<"$lock_out"
check "the first daemon still serves /readyz" curl -fsS -m 2 -o /dev/null "$IT_API/readyz"
stop_daemon
run_once after-lock
check "once the daemon stopped, switchyard --once takes the state dir (exit $once_rc)" test "$once_rc" -eq 0

it_end
