#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# A controller with a lower epoch is refused. The controller of the multi-host stack starts
# at rev 1; it is stopped and its state directory copied aside (the copy says rev 1, blue).
# It is started again twice (rev 2, rev 3: each start takes the next rev) and the rev 3
# controller flips to green. Then a controller is started on the copy: it takes rev 2, below
# the 3 the agents have accepted, and a flip back to blue is declared through its API (its
# own store says blue while the world is green: it would flip if it could). It must change
# nothing: for 10 s green stays the primary and nginx serves green, its log says the agents
# refuse its epoch, and the agents' audit logs show STALE_EPOCH refusals and no act under a
# stale epoch. The real controller started again (rev 4) converges on green, what its store
# says. Under the ledger writer and the fast two-primaries monitor throughout.
set -uo pipefail
export MULTIHOST_AGENTS=1 MULTIHOST_CONTROLLER=1
# shellcheck source=tests/integration/multihost/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# shellcheck disable=SC2034  # read by mh_up_controller (hack/lib/multihost-control.sh)
declare -A summary  # what mh_up_controller reports it did

STALE_STATE="$MH_SRV/controller/state-stale"  # in ctl: the copy of the rev 1 state
STALE_PIDFILE="$MH_SRV/controller/stale.pid"
STALE_LOG="$MH_LOGS/controller-stale.log"
STALE_TOKEN="$MH_DIR/hosts/cli/token-stale"  # its API token, for yardctl in cli
REAL_TOKEN=$MH_CLI_TOKEN
STALE_WATCH_S=10

# ctl_rev STATE_DIR: the rev of the controller epoch in STATE_DIR (a path in ctl).
ctl_rev() { mh_exec ctl "$MH_SWITCHYARD" epoch --state-dir "$1" 2>/dev/null | jq -r '.epoch // empty'; }

ctl_pid() { mh_daemon_pid ctl "$1" switchyard --state-dir; }
ctl_gone() { [[ -z $(ctl_pid "$1") ]]; }

# stop_controller PIDFILE: SIGTERM to the controller whose pid (in ctl) PIDFILE holds; waits.
stop_controller() {
  local pid
  pid=$(ctl_pid "$1")
  [[ -n $pid ]] || return 0
  kill_in_host ctl TERM "$pid"
  wait_until 30 "the controller (pid $pid in ctl) to exit" ctl_gone "$1"
}

# start_real_controller WANT_REV: the stack's controller started again as hack/multihost-up.sh
# starts it; checks that this start took WANT_REV.
start_real_controller() {
  mh_up_controller 1 >>"$IT_ART/controller-starts.log" 2>&1 ||
    fatal "the controller starts again (see $IT_ART/controller-starts.log)"
  check "the controller's start took rev $1 (switchyard epoch --state-dir $MH_CTL_STATE)" \
    test "$(ctl_rev "$MH_CTL_STATE")" = "$1"
}

# start_stale_controller: a controller on the copy, with the same flags as the real one
# (mh_up_controller), its own pid file and log; its API token copied to cli.
start_stale_controller() {
  local tls
  tls="$(mh_host_dir ctl)/tls"
  mh_spawn ctl "$STALE_PIDFILE" "$STALE_LOG" "$MH_SWITCHYARD" \
    --state-dir "$STALE_STATE" --listen "${MH_ADDR[ctl]}:$MH_API_PORT" \
    --agent-ca "$tls/ca.crt" --agent-cert "$tls/controller-ctl.crt" --agent-key "$tls/controller-ctl.key"
  wait_until 20 "the stale controller to answer $MH_API/readyz" mh_controller_ready ||
    fatal "the controller on the copy is not ready (see $STALE_LOG)"
  install -m 0600 "$(mh_path ctl "$STALE_STATE")/token" "$STALE_TOKEN" ||
    fatal "no API token in the copy ($STALE_STATE/token in ctl)"
}

# agent_revs: "host=rev ..." of every agent's highest accepted rev (switchyard-agent show).
agent_revs() {
  local host rev out=()
  for host in "${MH_AGENT_HOSTS[@]}"; do
    rev=$(mh_exec "$host" "$MH_AGENT_BIN" show --config "$(mh_agent_config_file "$host")" 2>/dev/null |
      awk -F': *' '/^highest rev/ { print $2 }')
    out+=("$host=${rev:-?}")
  done
  printf '%s' "${out[*]}"
}

# world_green: green the primary, blue a standby, nginx serving green (one look).
world_green() {
  [[ $(in_recovery green)/$(in_recovery blue)/$(served_color) == f/t/green ]]
}

mh_begin stale_controller
require "the controller (rev 1) converges on blue through the agents" \
  wait_until 60 "Converged on blue" mh_converged_on blue
check "the first start took rev 1" test "$(ctl_rev "$MH_CTL_STATE")" = 1
start_fast_monitor
start_ledger

# The state of rev 1, kept aside with the controller stopped (its lock released).
require "the controller (rev 1) stops on SIGTERM" stop_controller "$MH_CTL_PIDFILE"
rm -rf "$(mh_path ctl "$STALE_STATE")"
require "the rev 1 state directory is copied aside" \
  cp -a "$(mh_path ctl "$MH_CTL_STATE")" "$(mh_path ctl "$STALE_STATE")"
check "the copy says rev 1" test "$(ctl_rev "$STALE_STATE")" = 1

start_real_controller 2
require "the controller (rev 2) stops on SIGTERM" stop_controller "$MH_CTL_PIDFILE"
start_real_controller 3
t0=$(it_ts)
require "the controller (rev 3) flips to green" mh_flip green 60
t1=$(it_ts)
check "green is the primary, blue a standby, nginx serves green" world_green
it_log "flip to green by rev 3: $((t1 - t0)) ms to Converged; write window seen by the writer: $(ledger_gap "$t0" "$t1") ms"
require "the controller (rev 3) stops on SIGTERM" stop_controller "$MH_CTL_PIDFILE"
revs_before=$(agent_revs)
it_log "agents' highest rev after rev 3 stopped: $revs_before"

# The stale controller: rev 2 < 3.
start_stale_controller
stale_rev=$(ctl_rev "$STALE_STATE")
check "the controller on the copy took rev 2 (below the agents' 3)" test "$stale_rev" = 2
MH_CLI_TOKEN=$STALE_TOKEN
check "the stale controller's API takes the flip back to blue" mh_declare blue
bad=0 looks=0
deadline=$(($(it_ts) + STALE_WATCH_S * 1000))
while (($(it_ts) < deadline)); do
  looks=$((looks + 1))
  if ! world_green; then
    bad=$((bad + 1))
    it_log "world not green at look $looks: green in_recovery=$(in_recovery green)," \
      "blue in_recovery=$(in_recovery blue), nginx serves '$(served_color)'"
  fi
  sleep 0.5
done
check "for ${STALE_WATCH_S}s the world stays green under the stale controller ($looks looks, $bad otherwise)" \
  test "$bad" -eq 0
refusals=$(grep -c 'agent-refused-epoch' "$STALE_LOG" 2>/dev/null)
check "the stale controller's log says the agents refuse its epoch (agent-refused-epoch: ${refusals:-0} lines)" \
  test "${refusals:-0}" -gt 0
grep -m 1 'agent-refused-epoch' "$STALE_LOG" | cut -c 1-400 | sed 's/^/    | /'
it_log "the stale controller's Ready condition: $(mh_status | jq -c '.status.conditions[]? | select(.type == "Ready") | {status, reason, message}' 2>/dev/null | cut -c 1-400)"
revs_after=$(agent_revs)
check "the agents' highest rev is unchanged by the stale controller ($revs_after)" \
  test "$revs_after" = "$revs_before"
require "the stale controller stops on SIGTERM" stop_controller "$STALE_PIDFILE"
MH_CLI_TOKEN=$REAL_TOKEN

# The real controller again: rev 4, its own store says green.
start_real_controller 4
check "the controller (rev 4) converges on green, what its store says" \
  wait_until 60 "Converged on green" mh_converged_on green
check "green is the primary, blue a standby, nginx serves green (rev 4)" world_green
it_log "agents' highest rev at the end: $(agent_revs)"

sleep 0.5  # the writer's acknowledgements after the last restart
stop_ledger
check_ledger
check_fast_monitor
check_audit 1
mh_end
