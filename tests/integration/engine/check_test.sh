#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# `yardctl check` on the real stack (pkg/plan/preflight.h): the preflight of a switch and its
# steps, as observed now, changing nothing.
#
# 1. Converged on blue, activeColor green: exit 0, every check ✓, the steps from
#    switch-traffic through fence and promote to blue starting as green's standby; the world
#    is as it was (blue the primary, nginx on blue).
# 2. recovery_min_apply_delay = '5s' on green (ALTER SYSTEM, reload): exit 1, apply-delay ✗
#    and its message naming recovery_min_apply_delay.
# 3. Reset: exit 0 again.
# 4. A manifest with an invalid field: exit 2, naming the field.
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_begin check

# yardctl_check LABEL [FILE]: `yardctl check -f FILE` (default the manifest), its output in
# $IT_ART/LABEL.{out,err}, printed indented. Sets check_rc.
yardctl_check() {
  local label=$1 file=${2:-$IT_MANIFEST}
  check_rc=0
  timeout 30 "$IT_YARDCTL" check -f "$file" >"$IT_ART/$label.out" 2>"$IT_ART/$label.err" ||
    check_rc=$?
  sed 's/^/    | /' "$IT_ART/$label.out" "$IT_ART/$label.err"
}
# has LABEL TEXT: the output of LABEL holds TEXT (fixed string).
has() { grep -qF -- "$2" "$IT_ART/$1.out"; }
# apply_delay VALUE: recovery_min_apply_delay on green (ALTER SYSTEM; DEFAULT resets it),
# reloaded and in effect.
apply_delay() {
  local value=$1 want=$2
  pg green postgres "ALTER SYSTEM SET recovery_min_apply_delay = $value" >/dev/null ||
    fatal "ALTER SYSTEM SET recovery_min_apply_delay = $value on green"
  pg green postgres 'SELECT pg_reload_conf()' >/dev/null || fatal "reloading green"
  require "green's recovery_min_apply_delay is $want" wait_until 10 "the reload" \
    test "$(pg green postgres 'SHOW recovery_min_apply_delay')" = "$want"
}

run_once converge
require "switchyard --once converges on blue (got $once_rc)" test "$once_rc" -eq 0
require "blue streams to green" wait_until 30 "green to stream" streaming blue green
set_active green

# --- 1: everything passes ---
yardctl_check pass
check "exit 0 (got $check_rc)" test "$check_rc" -eq 0
check "the header names the switch" has pass "default/shop: switch blue → green"
for name in hosts-known same-cluster server-version hot-standby privileges replay-not-paused \
  apply-delay lag-bytes replay-lag upstreams-healthy nginx-running; do
  check "$name ✓" grep -qE "^  ✓ $name " "$IT_ART/pass.out"
done
check "no check fails" bash -c "! grep -q '✗' '$IT_ART/pass.out'"
check "the steps: switch-traffic, create-slot, fence, promote, configure-standby, start" \
  bash -c "grep -oE '^    [0-9]+\. [a-z-]+ [a-z]+' '$IT_ART/pass.out' | sed -E 's/^ +[0-9]+\. //' |
    paste -sd, - | grep -qx 'switch-traffic green,create-slot blue,fence blue,promote green,configure-standby blue,start blue'"
check "it would go ahead" has pass "result: the switch to green would go ahead"
check "nothing changed: blue is the primary" test "$(in_recovery blue)" = f
check "nothing changed: nginx serves blue" serves_only blue

# --- 2: an apply delay on green blocks the switch ---
apply_delay "'5s'" 5s
yardctl_check delay
check "exit 1 (got $check_rc)" test "$check_rc" -eq 1
check "apply-delay ✗ (5000 ms)" grep -qE '^  ✗ apply-delay +5000 ms' "$IT_ART/delay.out"
check "its message names recovery_min_apply_delay" \
  has delay "✗ apply-delay (ApplyDelay): green has recovery_min_apply_delay = 5000 ms"
check "it would not go ahead: apply-delay" \
  has delay "result: the switch to green would not go ahead: apply-delay fails"

# --- 3: reset, it passes again ---
apply_delay DEFAULT 0
yardctl_check reset
check "exit 0 again (got $check_rc)" test "$check_rc" -eq 0
check "apply-delay ✓" grep -qE '^  ✓ apply-delay +0 ms' "$IT_ART/reset.out"

# --- 4: an invalid manifest is an error ---
sed 's/^\(  activeColor:\).*/\1 purple/' "$IT_MANIFEST" >"$IT_WORK/invalid.yaml"
yardctl_check invalid "$IT_WORK/invalid.yaml"
check "exit 2 (got $check_rc)" test "$check_rc" -eq 2
check "the error names the field" grep -qF 'spec.activeColor: must be "blue" or "green"' \
  "$IT_ART/invalid.err"
check "nothing printed on stdout" test ! -s "$IT_ART/invalid.out"
it_end
