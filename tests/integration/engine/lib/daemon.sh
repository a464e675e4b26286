# shellcheck shell=bash
# shellcheck disable=SC2034  # once_rc, daemon_pid and spawned_pid are read by the tests
# Part of tests/integration/engine/lib.sh, which sources it: the manifest and the controller.
# set_active edits the manifest; run_once runs `switchyard --once`; spawn_daemon,
# start_daemon and stop_daemon run the daemon in the background; the rest reads what it did
# (its step lines, the stored status, the API).

set_active() {
  sed -i "s/^\(  activeColor:\) *[a-z]*/\1 $1/" "$IT_MANIFEST"
  grep -q "^  activeColor: $1\b" "$IT_MANIFEST" || fatal "could not set activeColor $1 in $IT_MANIFEST"
}

# run_once LABEL [FLAGS...]: runs `switchyard --once` on the manifest and state dir, without
# an HTTP endpoint; stdout and stderr go to $IT_ART/LABEL.{out,err}. Sets once_rc.
# Bounded: a run that hangs past its --once-timeout (default here 60) + 30 s is killed (124).
run_once() {
  local label=$1
  shift
  local timeout='' prev='' a
  for a in "$@"; do
    [[ $prev == --once-timeout ]] && timeout=$a
    prev=$a
  done
  local extra=()
  if [[ -z $timeout ]]; then
    timeout=60
    extra=(--once-timeout "$timeout")
  fi
  once_rc=0
  # The braces' 2>/dev/null silences bash's "Killed" notice for a run that SIGKILLs itself.
  {
    timeout -k 5 $((timeout + 30)) "$IT_SWITCHYARD" --manifests "$IT_MANIFEST" --state-dir "$IT_STATE" \
      --listen "" --once "${extra[@]}" "$@" \
      >"$IT_ART/$label.out" 2>"$IT_ART/$label.err" </dev/null || once_rc=$?
  } 2>/dev/null
  if ((once_rc == 124)); then
    fail "$label: switchyard --once hung (killed after $((timeout + 30)) s)"
  fi
}

# show_run LABEL: prints a run's stdout and its step lines, indented.
show_run() {
  sed 's/^/    | /' "$IT_ART/$1.out"
  step_summary <"$IT_ART/$1.err"
}

# The reconciler's line at the end of each step (the actuators log "postgres step ..." too).
IT_STEP_END=' (info|error) +step resource=.*outcome=(ok|error)'

# step_summary: reads daemon log lines on stdin, prints "step: outcome, N ms" per finished step.
step_summary() {
  grep -E "$IT_STEP_END" |
    sed -E 's/.*step="([^"]+)" outcome=([a-z]+) ms=([0-9]+)( detail="([^"]*)")?( error="([^"]*)")?.*/    \1: \2, \3 ms \5\7/'
}

# steps_taken FILE: the number of steps that ended (ok or error) in a log.
steps_taken() { grep -cE "$IT_STEP_END" "$1" || true; }

# json_true JSON [JQ ARGS...] FILTER: true if FILTER holds on JSON.
json_true() {
  local json=$1
  shift
  jq -e "$@" <<<"$json" >/dev/null 2>&1
}

# status_json: the resource as the state dir holds it (works with or without a daemon).
status_json() { cat "$IT_STATUS_FILE"; }

# api_json: the resource from the running daemon's API.
api_json() { curl -fsS -m 2 "$IT_API$IT_DC_PATH"; }

# spawn_daemon LOG API [FLAGS...]: starts switchyard with FLAGS in the background, its output
# in LOG, and waits until API/readyz answers (API: "http://host:port"); a daemon that does not
# within 20 s is fatal, with the end of LOG. Sets spawned_pid (killed at the end of the test).
spawn_daemon() {
  local log=$1 api=$2
  shift 2
  "$IT_SWITCHYARD" "$@" >"$log" 2>&1 </dev/null &
  spawned_pid=$!
  it_pids+=("$spawned_pid")
  if ! wait_until 20 "the daemon to answer $api/readyz" curl -fsS -m 1 "$api/readyz"; then
    tail -n 20 "$log" | sed 's/^/    | /'
    fatal "switchyard ($(basename "$log")) did not become ready"
  fi
}

# start_daemon LABEL [FLAGS...]: spawn_daemon on the manifest and state dir, with the API on
# $IT_API_PORT, logging to $IT_ART/LABEL.log. Sets daemon_pid.
start_daemon() {
  local label=$1
  shift
  spawn_daemon "$IT_ART/$label.log" "$IT_API" --manifests "$IT_MANIFEST" --state-dir "$IT_STATE" \
    --listen "$SY_HOST:$IT_API_PORT" "$@"
  daemon_pid=$spawned_pid
}

# stop_daemon: SIGTERM, wait (bounded), then it must have exited 0.
stop_daemon() {
  local rc=0
  kill -TERM "$daemon_pid" 2>/dev/null || true
  if ! wait_until 20 "the daemon (pid $daemon_pid) to stop" it_pid_gone "$daemon_pid"; then
    fail "the daemon did not stop within 20 s of SIGTERM; killing it"
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  wait "$daemon_pid" 2>/dev/null || rc=$?
  ((rc == 0)) || fail "the daemon exited $rc on SIGTERM (want 0)"
}
