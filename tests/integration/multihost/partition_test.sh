#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# The old primary's host cut off during a flip, and a one-way loss of its agent's replies.
#
# 1. Flip to green; the moment dbb's agent ends the fence of blue (a watcher polls its audit
#    log every 0.5 ms: blue is fenced and stopped), dbb's link is cut (as cut_link does:
#    silent, no refusal). Blue's host is then unknown, and the rule is no promotion while the other
#    database's host is unknown: for 10 s green must stay a standby (no promote request
#    reaches dbg's agent, pg_is_in_recovery() stays t) and the status must say that blue's
#    agent is unreachable (AgentUnreachable, naming blue's address). Then the link is
#    restored and the flip converges on green.
# 2. Flip back to blue; right after dbb's agent receives the promote of blue, everything dbb
#    sends to ctl is dropped for 5 s (drop dbb out <ctl>: the agent hears the controller, the
#    controller hears nothing back), then restored. The flip converges on blue and no
#    operation ran twice (the controller asks about, or resends, the same operation id).
# Throughout: no acknowledged write lost (ledger writer), never two primaries (fast
# monitor), no irreversible act under a stale epoch and no operation run twice (audit logs).
set -uo pipefail
export MULTIHOST_AGENTS=1 MULTIHOST_CONTROLLER=1
# shellcheck source=tests/integration/multihost/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AUDIT_WATCH="$IT_MH_LIB/audit_watch.py"
CUT_S=10
DROP_S=5

# mono_ns: now on the audit logs' clock (CLOCK_MONOTONIC), from bash's $EPOCHREALTIME and
# an offset taken once (a python start costs some 100 ms here: too slow to time a fault).
mono_offset_ns=$(/usr/bin/python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) - time.time_ns())')
mono_ns() {
  local us=${EPOCHREALTIME//[.,]/}
  printf '%s' "$((us * 1000 + mono_offset_ns))"
}

# watch_audit HOST TIMEOUT ARGS...: audit_watch.py on HOST's audit log in the background
# (watcher=its pid), returning once it reads; its output goes to $IT_ART/watch.out.
watch_audit() {
  local host=$1 timeout=$2
  shift 2
  rm -f "$IT_WORK/watch.ready"
  /usr/bin/python3 "$AUDIT_WATCH" "$(mh_path "$host" "$MH_AGENT_STATE/audit.jsonl")" "$timeout" \
    --ready "$IT_WORK/watch.ready" "$@" >"$IT_ART/watch.out" 2>&1 &
  watcher=$!
  it_pids+=("$watcher")
  wait_until 5 "the audit watcher" test -f "$IT_WORK/watch.ready"
}

# op_lines HOST TYPE OP [FROM_NS [TO_NS]]: how many lines of HOST's audit log have type TYPE
# (and verb ops for requests) for an op id containing OP, with t in [FROM_NS, TO_NS).
op_lines() {
  jq -r --arg type "$2" --arg op "$3" --argjson from "${4:-0}" --argjson to "${5:-0}" \
    'select(.type == $type and (.op_id | contains($op)) and (.verb // "ops") == "ops"
      and .t >= $from and ($to == 0 or .t < $to)) | .op_id' \
    "$(mh_path "$1" "$MH_AGENT_STATE/audit.jsonl")" | wc -l
}

flip_figures() {  # NAME T0 T1
  it_log "$1: $(($3 - $2)) ms to Converged; write window seen by the writer: $(ledger_gap "$2" "$3") ms"
}

mh_begin partition
require "the controller converges on blue through the agents" \
  wait_until 60 "Converged on blue" mh_converged_on blue
start_fast_monitor
start_ledger

# --- 1. dbb cut off after blue's fence -------------------------------------------------------
# The watcher cuts the link itself (what cut_link does), the moment the fence's end shows in
# the audit log: the promotion's record is asked of dbb some 100 ms later.
require "the audit watcher reads dbb's audit log" \
  watch_audit dbb 60 --type op_end --op .fence.blue --state "done" \
  --run ip -n "$MH_BRIDGE_NS" link set v-dbb down
t0=$(it_ts)
require "the flip to green is declared" mh_declare green
wait "$watcher" || fatal "dbb's agent did not end a fence of blue within 60 s, or the cut failed: $(cat "$IT_ART/watch.out")"
read -r t_fenced _ fence_op t_cut <"$IT_ART/watch.out"
it_log "dbb cut off $(((t_cut - t_fenced) / 1000)) us after its agent ended $fence_op;" \
  "blue answers: '$(in_recovery blue)'"
early=$(op_lines dbg request .promote.green 0 "$t_cut")
check "no promote of green was requested before the cut (the scenario is provoked: $early)" test "$early" -eq 0

looks=0 promoted=0 said_unreachable=0 named_dbb=0
deadline=$(($(it_ts) + CUT_S * 1000))
while (($(it_ts) < deadline)); do
  looks=$((looks + 1))
  r=$(in_recovery green)
  if [[ $r != t ]]; then
    promoted=$((promoted + 1))
    it_log "while dbb is cut: green in_recovery='$r' at look $looks"
  fi
  mh_condition_says AgentUnreachable && said_unreachable=$((said_unreachable + 1))
  mh_condition_says "${MH_ADDR[dbb]}" && named_dbb=$((named_dbb + 1))
  sleep 0.5
done
t_restore=$(mono_ns)
ready=$(mh_status | jq -c '.status.conditions[]? | select(.type == "Ready") | {reason, message}' 2>/dev/null)
restore_link dbb
it_log "while dbb was cut (${CUT_S}s, $looks looks): Ready condition $(cut -c 1-500 <<<"$ready")"
during=$(op_lines dbg request .promote.green "$t_cut" "$t_restore")
check "no promote of green reached dbg's agent while blue's host was unknown ($during requests)" \
  test "$during" -eq 0
check "green stayed a standby while dbb was cut ($looks looks, $promoted otherwise)" test "$promoted" -eq 0
check "the status said AgentUnreachable while dbb was cut ($said_unreachable of $looks looks)" \
  test "$said_unreachable" -gt 0
check "the status named blue's host ${MH_ADDR[dbb]} while dbb was cut ($named_dbb of $looks looks)" \
  test "$named_dbb" -gt 0

t_back=$(it_ts)
# (check returns 0 either way: the branch is on wait_until itself.)
if wait_until 60 "Converged on green" mh_converged_on green; then
  t1=$(it_ts)
  pass "after dbb's link is restored the flip converges on green"
  check "green is the primary, blue a standby" test "$(in_recovery green)/$(in_recovery blue)" = f/t
  check "nginx in web serves green to cli" serves_only green
  it_log "after the restore: $((t1 - t_back)) ms to Converged"
  flip_figures "flip to green with dbb cut for ${CUT_S}s" "$t0" "$t1"
else
  fail "after dbb's link is restored the flip converges on green"
  it_log "the resource's status: $(mh_status | jq -c '.status' 2>/dev/null | cut -c 1-800)"
  fatal "the flip to green does not converge after the restore; part 2 not run"
fi
sleep 0.5

# --- 2. dbb's replies to ctl dropped after the promote of blue -------------------------------
# The promote's reply leaves dbb 10 to 40 ms after its request, when pg_promote() is done: the
# drop must land before. drop (lib/faults.sh) makes dbb's table and chain now, with a rule for
# an address nothing uses; the watcher adds the rule for ctl's address itself, in dbb's
# network, the moment the request shows in the audit log. undrop removes the table.
drop dbb out 10.200.0.254
require "the audit watcher reads dbb's audit log again" \
  watch_audit dbb 60 --type request --verb ops --op .promote.blue \
  --run nsenter "--net=/run/netns/$(mh_ns dbb)" -- nft add rule inet "$MH_NFT_TABLE" output ip daddr "${MH_ADDR[ctl]}" drop
t0=$(it_ts)
require "the flip back to blue is declared" mh_declare blue
wait "$watcher" || fatal "no promote of blue reached dbb's agent, or the drop failed: $(cat "$IT_ART/watch.out")"
read -r t_promote _ promote_op t_drop <"$IT_ART/watch.out"
ended_before=$(op_lines dbb op_end "$promote_op" 0 "$t_drop")
it_log "dbb's packets to ctl dropped $(((t_drop - t_promote) / 1000)) us after its agent received" \
  "$promote_op (the operation ended before the drop: $ended_before)"
sleep "$DROP_S"
undrop dbb
t_undrop=$(it_ts)
if wait_until 60 "Converged on blue" mh_converged_on blue; then
  t1=$(it_ts)
  pass "after the drop ends the flip converges on blue"
  check "blue is the primary, green a standby" test "$(in_recovery blue)/$(in_recovery green)" = f/t
  check "nginx in web serves blue to cli" serves_only blue
  it_log "after the undrop: $((t1 - t_undrop)) ms to Converged"
  flip_figures "flip to blue with dbb's replies dropped for ${DROP_S}s" "$t0" "$t1"
else
  fail "after the drop ends the flip converges on blue"
  it_log "the resource's status: $(mh_status | jq -c '.status' 2>/dev/null | cut -c 1-800)"
fi
asked=$(op_lines dbb request "$promote_op")
ended=$(op_lines dbb op_end "$promote_op")
pg_promotes=$(jq -r --arg op "$promote_op" 'select(.type == "commit" and .op_id == $op and .act == "pg_promote" and .allowed) | .t' \
  "$(mh_path dbb "$MH_AGENT_STATE/audit.jsonl")" | wc -l)
cp -f "$MH_LOGS/controller.log" "$IT_ART/controller.log"
unknown=$(grep -F "$promote_op" "$IT_ART/controller.log" | grep -c 'outcome unknown')
grep -F "$promote_op" "$IT_ART/controller.log" | cut -c 1-400 | sed 's/^/    | controller.log: /'
it_log "the promote of blue: submitted $asked time(s), ended $ended time(s), pg_promote $pg_promotes time(s);" \
  "controller log lines with its outcome unknown: ${unknown:-0}"
check "the drop hid the promote's reply from the controller: its outcome unknown (the scenario is provoked: ${unknown:-0} log lines)" \
  test "${unknown:-0}" -gt 0
check "the promote of blue ran once ($ended end(s), $pg_promotes pg_promote)" test "$ended/$pg_promotes" = 1/1

sleep 0.5  # the writer's acknowledgements after the window
stop_ledger
check_ledger
check_fast_monitor
check_audit
mh_end
