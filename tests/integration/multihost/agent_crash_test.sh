#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# An agent killed mid-operation. During a flip to green, the agent of dbg (the promote
# target) gets SIGKILL the moment its audit log shows the promote operation's request (a
# watcher polls the log every 0.5 ms: the operation lasts some 25 ms), and is started again
# a second later. Expected: the flip converges on green; no operation id ran twice, no
# irreversible act under a stale epoch (the agents' audit logs); no acknowledged write lost,
# never two primaries (ledger writer, fast monitor). Prints how far the operation got before
# the kill (its commit points), whether the dead agent's journal held it in doubt
# (switchyard-agent show), whether the restarted agent said so (its log), and the figures.
# Where the kill lands varies from run to run by a millisecond or so: after the pg_promote
# commit point, the restarted agent sees a running primary and settles the operation at once;
# before it, nothing will ever show the operation's effect, and the agent holds it in doubt
# (every operation on the data directory refused) for the promote's whole budget (120 s)
# while there is no primary: the flip then misses its 60 s, and this test fails.
set -uo pipefail
export MULTIHOST_AGENTS=1 MULTIHOST_CONTROLLER=1
# shellcheck source=tests/integration/multihost/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

declare -A summary  # what mh_start_agent (hack/lib/multihost-control.sh) reports it did
AUDIT_WATCH="$IT_MH_LIB/audit_watch.py"
CONVERGE_S=${SY_MH_CONVERGE_S:-60}  # how long the flip may take after the restart

# root_pid HOST PID: the pid the root namespace gives HOST's process PID (/proc/*/status NSpid).
root_pid() {
  local p
  for p in $(mh_host_pids "$1"); do
    if [[ $(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null) == "$2" ]]; then
      printf '%s' "$p"
      return
    fi
  done
}

agent_show() { mh_exec dbg "$MH_AGENT_BIN" show --config "$(mh_agent_config_file dbg)" 2>&1; }

mh_begin agent_crash
require "the controller converges on blue through the agents" \
  wait_until 60 "Converged on blue" mh_converged_on blue
start_fast_monitor
start_ledger

agent_hpid=$(mh_agent_pid dbg)
agent_rpid=$(root_pid dbg "$agent_hpid")
[[ -n $agent_rpid ]] || fatal "dbg's agent (pid $agent_hpid in dbg) not found in the root namespace"
audit=$(mh_path dbg "$MH_AGENT_STATE/audit.jsonl")
agent_log="$MH_LOGS/agent-dbg.log"
log_lines_before=$(wc -l <"$agent_log")
rm -f "$IT_WORK/watch.ready"
/usr/bin/python3 "$AUDIT_WATCH" "$audit" 60 --type request --verb ops --op .promote.green \
  --ready "$IT_WORK/watch.ready" --kill "$agent_rpid" >"$IT_ART/watch.out" 2>&1 &
watcher=$!
it_pids+=("$watcher")
require "the audit watcher reads dbg's audit log" wait_until 5 "the watcher" test -f "$IT_WORK/watch.ready"

t0=$(it_ts)
require "the flip to green is declared" mh_declare green
if ! wait "$watcher"; then
  fatal "no promote request reached dbg's agent within 60 s: $(cat "$IT_ART/watch.out")"
fi
t_kill=$(it_ts)
read -r t_request t_killed op_id _ <"$IT_ART/watch.out"
it_log "SIGKILL to dbg's agent (pid $agent_hpid in dbg) $(((t_killed - t_request) / 1000)) us after its audit log showed $op_id"
check "dbg's agent is dead" wait_until 5 "dbg's agent to die" it_pid_gone "$agent_rpid"
acts=$(jq -r --arg op "$op_id" 'select(.op_id == $op and .type == "commit") | .act' "$audit" | paste -sd, -)
ended=$(jq -r --arg op "$op_id" 'select(.op_id == $op and .type == "op_end") | .state' "$audit" | paste -sd, -)
it_log "before the kill the operation passed the commit points [${acts}], ended: [${ended:-no}]"
show_dead=$(agent_show)
printf '%s\n' "$show_dead" | sed 's/^/    | show (agent dead): /'
in_doubt_dead=no
grep -qF "$op_id" <<<"$show_dead" && in_doubt_dead=yes

sleep 1  # the controller meets an agent that does not answer
rm -f "$(mh_path dbg "$MH_AGENT_PIDFILE")"
mh_start_agent dbg >>"$IT_ART/agent-restart.log" 2>&1 || fatal "dbg's agent starts again (see $agent_log)"
it_log "dbg's agent started again ${summary[agent-dbg]:-}, $(($(it_ts) - t_kill)) ms after the kill"

# (check returns 0 either way: the branch is on wait_until itself.)
converge_what="the flip converges on green within ${CONVERGE_S}s of the agent's restart"
if wait_until "$CONVERGE_S" "Converged on green" mh_converged_on green; then
  t1=$(it_ts)
  pass "$converge_what"
  check "green is the primary, blue a standby" test "$(in_recovery green)/$(in_recovery blue)" = f/t
  check "nginx in web serves green to cli" serves_only green
  it_log "flip to green: $((t1 - t0)) ms to Converged; write window seen by the writer: $(ledger_gap "$t0" "$t1") ms"
else
  fail "$converge_what"
  check "green is the primary, blue a standby" test "$(in_recovery green)/$(in_recovery blue)" = f/t
  it_log "not converged $(($(it_ts) - t0)) ms after the declaration; the writer's last acknowledgement" \
    "$(($(it_ts) - $(sort -k2,2n "$IT_ART/acks.txt" | tail -n 1 | awk '{ printf "%.0f", $2 / 1000 }'))) ms ago;" \
    "servers: blue in_recovery='$(in_recovery blue)', green in_recovery='$(in_recovery green)'"
  it_log "the resource's status: $(mh_status | jq -c '.status | {phase, primaryColor, servingColor, conditions: [.conditions[]? | select(.type == "Ready") | {reason, message}]}' 2>/dev/null | cut -c 1-600)"
fi

restart_log=$(tail -n +"$((log_lines_before + 1))" "$agent_log")
in_doubt_log=no
grep 'operation-in-doubt' <<<"$restart_log" | grep -qF "$op_id" && in_doubt_log=yes
grep -E 'operation-in-doubt|operation-ended' <<<"$restart_log" | grep -F "$op_id" | cut -c 1-400 |
  sed 's/^/    | agent-dbg.log: /'
it_log "the operation in doubt: in the dead agent's journal (show): $in_doubt_dead; in the restarted agent's log: $in_doubt_log"
check "no operation left in doubt on dbg at the end" grep -q '^in doubt: *none' <<<"$(agent_show)"
runs=$(jq -r --arg op "$op_id" 'select(.op_id == $op and .type == "commit" and .act == "pg_promote" and .allowed) | .t' "$audit" | wc -l)
it_log "pg_promote commit points of $op_id in dbg's audit log: $runs"

sleep 0.5  # the writer's acknowledgements after the window
stop_ledger
if [[ -z $(primary_color) ]]; then
  it_log "no server takes writes (no primary): the ledger cannot be verified, which check_ledger reports as a loss"
fi
check_ledger
check_fast_monitor
check_audit
mh_end
