#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Flips across hosts: the multi-host stack with its three agents (web, dbb, dbg) and the
# controller in ctl, which reaches the machines only through the agents. Under the ledger
# writer (one commit every 5 ms from cli through the two-host connection string) and the fast
# two-primaries monitor, the resource is flipped to green, blue, green and blue with
# yardctl from cli. Checked after each flip: converged on the color (traffic from cli through
# nginx, primary and standby as the servers say); at the end: no acknowledged write lost,
# never two writable primaries, and from the agents' audit logs no irreversible act under a
# stale epoch and no operation run twice. Prints the write window each flip showed the
# writer.
set -uo pipefail
export MULTIHOST_AGENTS=1 MULTIHOST_CONTROLLER=1
# shellcheck source=tests/integration/multihost/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FLIPS=${SY_MH_FLIPS:-4}

mh_begin flips
require "the controller converges on blue through the agents" wait_until 60 "Converged on blue" mh_converged_on blue
start_fast_monitor
start_ledger

color=blue
for ((i = 1; i <= FLIPS; i++)); do
  color=$([[ $color == blue ]] && echo green || echo blue)
  t0=$(it_ts)
  # check reports and goes on: the flip's own result decides whether the next one is tried.
  if mh_flip "$color" 60; then
    pass "flip $i: converged on $color across hosts"
  else
    fail "flip $i: converged on $color across hosts"
    mh_status | jq '.status' >"$IT_ART/status-flip-$i.json" 2>/dev/null || true
    break
  fi
  t1=$(it_ts)
  check "flip $i: nginx in web serves $color to cli" serves_only "$color"
  check "flip $i: $color is the primary, the other a standby" \
    test "$(in_recovery "$color")/$(in_recovery "$([[ $color == blue ]] && echo green || echo blue)")" = f/t
  sleep 0.5  # the writer's acknowledgements after the window
  it_log "flip $i to $color: $((t1 - t0)) ms to Converged; write window seen by the writer: $(ledger_gap "$t0" "$t1") ms"
done

stop_ledger
check_ledger
check_fast_monitor
check_audit
mh_end
