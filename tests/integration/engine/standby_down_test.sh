#!/usr/bin/env bash
# The standby of the color to switch to is down.
#  (a) green merely stopped: the flip to green restarts it (a standby: harmless to start) and
#      completes; converged on green. Then back to blue.
#  (b) green cannot start (an invalid setting in its postgresql.auto.conf): the flip to green
#      fails (`--once --once-timeout 15` exits non-zero) and changes nothing: nginx still
#      serves blue, blue is still the same running primary, the upstream file is untouched,
#      and the status says why (Ready False, naming green and the failure). Once the setting
#      is fixed, the flip completes.
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BAD_SETTING="shared_buffers = '128MBB'"  # a typo: PostgreSQL refuses to start

steps_of() {  # steps_of LOG: the finished steps as "name:outcome;..."
  grep -E "$IT_STEP_END" "$1" |
    sed -E 's/.*step="([^"]+)" outcome=([a-z]+).*/\1:\2/' | paste -sd ';' -
}
file_sum() { printf '%s %s' "$(stat -c '%Y.%y %s' "$1")" "$(md5sum <"$1")"; }

it_begin standby_down

run_once converge
require "switchyard --once on the fresh stack exits 0 (got $once_rc)" test "$once_rc" -eq 0

# --- (a) a stopped standby is started, then the flip completes ------------------------------
echo "--- (a) green stopped, flip to green"
stop_pg green || fatal "pg_ctl stop green"
require "green is stopped" test -z "$(in_recovery green)"
set_active green
t0=$(it_ts)
run_once a-green
took=$(($(it_ts) - t0))
show_run a-green
steps=$(steps_of "$IT_ART/a-green.err")
check "(a) switchyard --once exits 0 (got $once_rc, $took ms)" test "$once_rc" -eq 0
check "(a) it started green as a standby first: $steps" \
  test "${steps%%;*}" = "start green:ok"
check "(a) then switched: traffic, blue's slot, fence blue, promote green" \
  grep -q 'switch-traffic green:ok;create-slot blue on green:ok;fence blue:ok;promote green:ok' <<<"$steps"
assert_world green

set_active blue
run_once a-blue
check "(a) and back to blue: exit 0 (got $once_rc)" test "$once_rc" -eq 0
assert_world blue

# --- (b) a standby that cannot start: no change at all --------------------------------------
echo "--- (b) green unable to start, flip to green"
green_auto="$(sy_pg_datadir green)/postgresql.auto.conf"
stop_pg green || fatal "pg_ctl stop green"
cp -p "$green_auto" "$IT_WORK/green.auto.conf.good"
echo "$BAD_SETTING" >>"$green_auto"
blue_since=$(pg blue postgres 'SELECT pg_postmaster_start_time()')
upstream_before=$(file_sum "$SY_UPSTREAM_FILE")
blue_orders=$(pg blue "$SY_DATABASE" 'SELECT count(*) FROM orders')
set_active green
t0=$(it_ts)
run_once b-green --once-timeout 15
took=$(($(it_ts) - t0))
show_run b-green
steps=$(steps_of "$IT_ART/b-green.err")
check "(b) switchyard --once --once-timeout 15 exits non-zero (got $once_rc, $took ms)" \
  test "$once_rc" -ne 0 -a "$once_rc" -ne 124
check "(b) it tried to start green and that failed: $steps" grep -q '^start green:error' <<<"$steps"
check "(b) it took no other step (no traffic switch, no fence, no promotion)" \
  test -z "$(tr ';' '\n' <<<"$steps" | grep -v '^start green:')"
check "(b) nginx still serves blue" serves_only blue
check "(b) the upstream file is untouched" test "$(file_sum "$SY_UPSTREAM_FILE")" = "$upstream_before"
check "(b) blue is still the running primary, never restarted (since $blue_since)" \
  test "$(primary_probe blue)" = "f|$blue_since"
check "(b) blue still takes writes" \
  test -n "$(pg blue "$SY_DATABASE" "INSERT INTO orders (color, note) VALUES ('blue', 'standby_down') RETURNING id")"
check "(b) blue's orders are all there ($blue_orders + 1)" \
  test "$(pg blue "$SY_DATABASE" 'SELECT count(*) FROM orders')" -eq $((blue_orders + 1))
check "(b) green is still down" test -z "$(in_recovery green)"
ready=$(status_json | jq -c '[.status.conditions[]? | select(.type == "Ready")][0]')
echo "  status: phase $(status_json | jq -r .status.phase), Ready: $ready"
check "(b) status: Ready is False" json_true "$ready" '.status == "False"'
check "(b) status: the Ready message names green" json_true "$ready" '.message | test("green")'
check "(b) status: the Ready message names the failure (start ... failed)" \
  json_true "$ready" '.message | test("start"; "i") and test("fail"; "i")'
if json_true "$ready" '.message | test("shared_buffers|128MBB")'; then
  pass "(b) status: the Ready message names the cause (shared_buffers)"
else
  it_log "NOTE: (b) the Ready message does not name the cause (invalid shared_buffers)"
fi
check "(b) status: primaryColor and servingColor are blue" \
  json_true "$(status_json)" '.status.primaryColor == "blue" and .status.servingColor == "blue"'

# Fixed: the flip completes.
cp -p "$IT_WORK/green.auto.conf.good" "$green_auto"
run_once b-fixed
show_run b-fixed
check "(b) with the setting fixed, the flip to green completes (exit $once_rc)" test "$once_rc" -eq 0
assert_world green

it_end
