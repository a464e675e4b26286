# shellcheck shell=bash
# shellcheck disable=SC2154  # it_t0 is set by the lib.sh that sources this file
# Part of tests/integration/engine/lib.sh, which sources it: how a test reports. Each check
# prints PASS or FAIL with the test's name and counts failures; it_cleanup (lib/stack.sh)
# prints the verdict at exit. wait_until is the one way to wait for something.

it_ts() { date +%s%3N; }
it_log() { printf '%s: %s\n' "${it_name:-engine}" "$*"; }
pass() { printf 'PASS: %s: %s\n' "$it_name" "$*"; }
fail() {
  printf 'FAIL: %s: %s\n' "$it_name" "$*"
  it_failures=$((it_failures + 1))
}
# fatal MESSAGE: a failure after which the test cannot go on.
fatal() {
  fail "$*"
  exit 1
}
# check DESCRIPTION COMMAND...: PASS or FAIL by the command's exit status.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
# require DESCRIPTION COMMAND...: like check, but stops the test on failure.
require() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fatal "$what"; fi
}

# it_verdict RC STATUS: the test's last line, from its exit code RC after cleanup (0: passed)
# and the exit status STATUS it stopped with.
it_verdict() {
  local rc=$1 status=$2 secs=$((($(it_ts) - it_t0) / 1000))
  if ((rc == 0)); then
    echo "PASS: $it_name (${secs}s)"
  elif ((it_failures > 0)); then
    echo "FAIL: $it_name: $it_failures check(s) failed (${secs}s)"
  else
    echo "FAIL: $it_name: stopped with exit status $status (${secs}s)"
  fi
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND (every 0.05 s) until it succeeds; returns 1
# with a message naming WHAT if it did not within SECONDS.
wait_until() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$(($(it_ts) + seconds * 1000))
  until "$@" >/dev/null 2>&1; do
    if (($(it_ts) >= deadline)); then
      printf '%s: timed out after %ss waiting for %s\n' "$it_name" "$seconds" "$what" >&2
      return 1
    fi
    sleep 0.05
  done
}
