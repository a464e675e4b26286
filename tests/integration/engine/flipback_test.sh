#!/usr/bin/env bash
# A flip back during a switch is just a new desired state (pkg/plan/README.md §2).
# For N = 1..5, from a converged blue: set green and let
# `switchyard --once --fault-kill-after-steps N` die after N steps (1 traffic switched, 2 the
# old primary's slot made on green, 3 old primary fenced, 4 promoted, 5 old primary configured
# as standby); then set
# blue again and run `switchyard --once`: it must converge on blue (blue primary, green
# streaming, nginx on blue) with no acknowledged write lost and never two primaries (a writer
# runs throughout; a monitor watches for two primaries).
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The steps of a switch blue -> green, in order.
SWITCH_STEPS=("switch-traffic green" "create-slot blue on green" "fence blue" "promote green"
  "configure-standby blue from green" "start blue")

steps_of() {  # steps_of LOG: the finished steps' names, "a;b;c"
  grep -E "$IT_STEP_END" "$1" | sed -E 's/.*step="([^"]+)".*/\1/' | paste -sd ';' -
}

it_begin flipback

run_once converge
require "switchyard --once on the fresh stack exits 0 (got $once_rc)" test "$once_rc" -eq 0
start_primary_monitor
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 20

for n in 1 2 3 4 5; do
  echo "--- N=$n: flip to green, die after $n step(s), flip back to blue"
  set_active green
  run_once "n$n-green" --fault-kill-after-steps "$n"
  want=$(IFS=';'; echo "${SWITCH_STEPS[*]:0:n}")
  got=$(steps_of "$IT_ART/n$n-green.err")
  check "N=$n: the run to green exits 137 (SIGKILL after $n steps; got $once_rc)" test "$once_rc" -eq 137
  check "N=$n: it took the first $n steps of the switch: $got" test "$got" = "$want"
  echo "  to green (killed):"
  show_run "n$n-green"
  assert_not_two_primaries "N=$n, after the partial switch"

  set_active blue
  t0=$(it_ts)
  run_once "n$n-blue"
  took=$(($(it_ts) - t0))
  echo "  back to blue ($took ms):"
  show_run "n$n-blue"
  check "N=$n: switchyard --once back to blue exits 0 (got $once_rc)" test "$once_rc" -eq 0
  check "N=$n: it reports default/shop Converged" grep -q '^default/shop: Converged' "$IT_ART/n$n-blue.out"
  check "N=$n: no step failed" test "$(grep -c 'outcome=error' "$IT_ART/n$n-blue.err")" -eq 0
  assert_not_two_primaries "N=$n, after the flip back"
  assert_world blue
  check "N=$n: writes are acknowledged on blue afterwards" wait_for_acks "$(($(acked_count) + 10))"
  check_no_write_lost blue "N=$n"
  # A clean blue before the next N: a further pass has nothing to do.
  run_once "n$n-idle"
  check "N=$n: a further --once exits 0 and takes no step" \
    test "$once_rc/$(steps_taken "$IT_ART/n$n-idle.err")" = 0/0
done

stop_writer
check_primary_monitor
it_log "writes: $(acked_count) acknowledged, $(refused_count) refused"

it_end
