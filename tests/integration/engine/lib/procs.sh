# shellcheck shell=bash
# shellcheck disable=SC2154  # it_pids is set by the lib.sh that sources this file
# Part of tests/integration/engine/lib.sh (and tests/integration/multihost/lib.sh), which source
# it: stopping and watching single processes the test started.

# stop_pid PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 10); waits for it.
stop_pid() {
  local pid=$1 seconds=${2:-10}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  if ! wait_until "$seconds" "pid $pid to exit" it_pid_gone "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 5 "pid $pid to die" it_pid_gone "$pid" || true
  fi
  wait "$pid" 2>/dev/null || true
}
it_pid_gone() { ! sy_pid_alive "$1"; }

# it_stop_all: stops every process of it_pids (the test's background processes).
it_stop_all() {
  local pid
  for pid in "${it_pids[@]}"; do
    stop_pid "$pid" 10
  done
}
