#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# The fault kit of tests/integration/multihost/lib/faults.sh, each fault and its undo, seen
# from cli on the stack without agents and controller: a link cut isolates web (nginx stops
# answering) until the port is up again; an nft drop in dbg of what comes from cli hides
# green from cli only; a frozen dbg does not answer and a thawed one does; a signal kills
# one process in a host; a host powered off has no process left, blue keeps serving, and
# multihost-up powers it on again with green streaming.
set -uo pipefail
export MULTIHOST_AGENTS=0 MULTIHOST_CONTROLLER=0
# shellcheck source=tests/integration/multihost/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# answers COLOR: COLOR's server answers pg_is_in_recovery() from cli within 1 s.
answers() { [[ -n $(PGCONNECT_TIMEOUT=1 in_recovery "$1") ]]; }
silent() { ! answers "$1"; }
nginx_answers() { [[ $("${IT_CLIENT[@]}" curl -s -m 1 -o /dev/null -w '%{http_code}' "$IT_NGINX_URL/") == 200 ]]; }
nginx_silent() { ! nginx_answers; }
app_down() { ! mh_app_healthy "$1"; }
all_gone() {
  local pid
  for pid in "$@"; do
    if sy_pid_alive "$pid"; then return 1; fi
  done
}

mh_begin faultkit

# --- link cut --------------------------------------------------------------------------------
cut_link web
check "web's link cut: nginx does not answer cli" nginx_silent
restore_link web
check "web's link restored: nginx answers cli again" wait_until 10 "nginx to answer" nginx_answers

# --- one-way drop ----------------------------------------------------------------------------
if command -v nft >/dev/null; then
  drop dbg in "${MH_ADDR[cli]}"
  check "dbg drops what comes from cli: green does not answer cli" silent green
  check "  ... blue still does" answers blue
  check "  ... and green still streams from blue" mh_streaming dbb dbg green
  undrop dbg
  check "drop undone: green answers cli" wait_until 10 "green to answer" answers green
else
  fail "nft is not installed (hack/install-deps.sh installs nftables): one-way drops untested"
fi

# --- freeze ----------------------------------------------------------------------------------
freeze_host dbg
check "dbg frozen: green does not answer cli" silent green
check "  ... blue does" answers blue
thaw_host dbg
check "dbg thawed: green answers cli" wait_until 10 "green to answer" answers green

# --- a signal to one process -----------------------------------------------------------------
app_pid=$(mh_app_pid green)
require "appg runs the green shop app (pid $app_pid in appg)" test -n "$app_pid"
kill_in_host appg TERM "$app_pid"
check "SIGTERM in appg: the green app stops answering" wait_until 10 "green's app to stop" app_down green
check "  ... and the blue app still answers" mh_app_healthy blue

# --- power off and on ------------------------------------------------------------------------
mapfile -t dbg_pids < <(mh_host_pids dbg)
mh_power_off dbg
check "dbg powered off: none of its ${#dbg_pids[@]} processes is left" all_gone "${dbg_pids[@]}"
check "  ... green does not answer" silent green
check "  ... blue is still the primary and nginx still serves blue" \
  test "$(in_recovery blue)/$(served_color)" = f/blue
mh_power_on dbg appg
check "powered on: green streams from blue again" wait_until 30 "green to stream" mh_streaming dbb dbg green
check "  ... and the green app answers" mh_app_healthy green
check "the root namespace has no 10.200.0.0/24 address or route" eval '(mh_check_root_clean) >/dev/null 2>&1'

mh_end
