# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the tests that source this file
# Shared by the engine's integration tests (tests/integration/engine/*_test.sh): they drive
# the real switchyard binary against the real local stack (hack/local-up.sh: PostgreSQL 15
# blue and green, the shop app twice, nginx) and assert on the state of the world: psql on
# both servers, curl through nginx, the controller's status.
#
# A test sources this file, calls it_begin NAME, does its work with the helpers below and
# ends with it_end. it_begin installs a trap that, whatever happens (failure, set -e, ^C,
# CTest's timeout SIGTERM), kills every process the test started (by pid) and brings the
# stack down with hack/local-down.sh --purge.
#
# Environment:
#   SWITCHYARD_BUILD_DIR  where switchyard, yardctl and shop-app are built (default ./build)
#   SWITCHYARD_LOCAL_DIR  the stack's work dir (default /tmp/switchyard-it-engine); purged
#   SY_IT_ARTIFACTS       where each test keeps its logs (default $SWITCHYARD_LOCAL_DIR.artifacts);
#                         kept after the run, with the servers' logs copied in on failure
#   SY_IT_PORT_WAIT       seconds to wait for the stack's fixed ports to be free (default 90):
#                         the ports are shared with anyone else's local stack on the machine
#   SY_IT_KEEP=1          leave the stack up at the end (for debugging; nothing is purged)
#   SY_IT_ISOLATE         auto (default): if another stack holds the fixed ports (another
#                         user's hack/local-up.sh on this machine), run the test in its own
#                         network and mount namespaces (unshare): a private loopback where the
#                         ports are free and a private /var/run/postgresql for the servers'
#                         sockets. 1: always do so. 0: never; wait for the ports instead.

export SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-it-engine}
IT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
export SWITCHYARD_BUILD_DIR=${SWITCHYARD_BUILD_DIR:-$IT_ROOT/build}
# shellcheck source=hack/lib/local-stack.sh
source "$IT_ROOT/hack/lib/local-stack.sh"

# Our own leftover stack (an earlier run that was killed) is not "another stack".
it_ports_held_by_others() {
  ! sy_ports_free && [[ ! -f $SY_MARKER || -z $(sy_nginx_pid)$(sy_app_pid blue)$(sy_pg_pid blue) ]]
}
if [[ -z ${SY_IT_ISOLATED:-} ]]; then
  case ${SY_IT_ISOLATE:-auto} in
    1) it_isolate=1 ;;
    0) it_isolate=0 ;;
    *)
      it_isolate=0
      if it_ports_held_by_others && unshare --net --mount true 2>/dev/null; then
        printf 'engine: ports %s are held by another stack; running in private network and mount namespaces (SY_IT_ISOLATE=0 waits for the ports instead)\n' "${SY_PORTS[*]}"
        it_isolate=1
      fi
      ;;
  esac
  if ((it_isolate)); then
    export SY_IT_ISOLATED=1
    # unshare execs (no fork): same pid, so CTest's signals reach the test and its EXIT trap.
    # shellcheck disable=SC2016  # expanded by the inner shell
    exec unshare --net --mount --propagation private bash -c \
      'ip link set lo up && mkdir -p /var/run/postgresql &&
       mount -t tmpfs -o mode=2775 tmpfs /var/run/postgresql && exec bash "$@"' \
      isolate "$0" "$@"
  fi
fi

IT_SWITCHYARD="$SY_BUILD_DIR/cmd/switchyard/switchyard"
IT_YARDCTL="$SY_BUILD_DIR/cmd/yardctl/yardctl"
IT_API_PORT=${SY_IT_API_PORT:-19761}  # the daemon's HTTP endpoint in the tests that run one
IT_API="http://$SY_HOST:$IT_API_PORT"
IT_DC_PATH=/apis/switchyard.dev/v1alpha1/namespaces/default/deploymentcolors/shop

it_name=''
it_failures=0
it_pids=()            # background processes to kill at the end (writer, reader, daemons...)
it_t0=0

# --- reporting ------------------------------------------------------------------------------

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

# --- lifecycle ------------------------------------------------------------------------------

# it_begin NAME: checks prerequisites, waits for the ports, brings the stack up (blue primary,
# green streaming, nginx on blue) and writes the manifest $IT_MANIFEST (activeColor blue).
it_begin() {
  it_name=$1
  it_t0=$(it_ts)
  IT_ART=${SY_IT_ARTIFACTS:-$SY_DIR.artifacts}/$it_name
  IT_WORK="$SY_DIR/engine"             # manifest and state dir (inside the purged stack dir)
  IT_MANIFEST="$IT_WORK/shop.yaml"
  IT_STATE="$IT_WORK/state"
  IT_STATUS_FILE="$IT_STATE/objects/default_shop.json"
  [[ $(id -u) -eq 0 ]] || fatal "must run as root (PostgreSQL runs as the postgres OS user)"
  local tool
  for tool in "$IT_SWITCHYARD" "$IT_YARDCTL" "$SY_SHOP_APP"; do
    [[ -x $tool ]] || fatal "$tool is missing: build it (BUILD_TARGETS=\"switchyard yardctl shop-app\" hack/build.sh)"
  done
  for tool in jq curl psql runuser pgrep timeout; do
    command -v "$tool" >/dev/null || fatal "'$tool' not found (apt-get install $tool)"
  done
  rm -rf "$IT_ART"
  mkdir -p "$IT_ART"
  trap it_cleanup EXIT
  trap 'exit 130' INT TERM  # so that the EXIT trap runs when CTest or a user stops the test
  # A leftover of an earlier, killed run of ours; then someone else's stack must go away.
  "$IT_ROOT/hack/local-down.sh" --purge >/dev/null 2>&1 || true
  local waited=${SY_IT_PORT_WAIT:-90}
  if ! sy_ports_free; then
    it_log "the stack's ports are busy ($(sy_busy_ports)); waiting up to ${waited}s"
    wait_until "$waited" "ports ${SY_PORTS[*]} to be free" sy_ports_free ||
      fatal "ports still in use by another stack: $(sy_busy_ports)"
  fi
  local out t0
  t0=$(it_ts)
  if ! out=$("$IT_ROOT/hack/local-up.sh" 2>&1); then
    printf '%s\n' "$out"
    fatal "hack/local-up.sh brings the stack up"
  fi
  it_log "stack up in $(($(it_ts) - t0)) ms ($SY_DIR)"
  mkdir -p "$IT_WORK"
  sed "s#/tmp/switchyard-local#$SY_DIR#g" "$IT_ROOT/examples/local.yaml" >"$IT_MANIFEST"
  set_active blue
  "$IT_YARDCTL" validate -f "$IT_MANIFEST" >/dev/null || fatal "yardctl validate $IT_MANIFEST"
}

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

it_cleanup() {
  local rc=$? status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${it_pids[@]}"; do
    stop_pid "$pid" 10
  done
  rm -f "$SY_DIR"/engine/*.on 2>/dev/null || true
  if ((rc != 0 || it_failures > 0)); then
    rc=1
    # Keep what explains the failure: the servers' and nginx's logs, the status.
    cp -f "$SY_PG_DIR"/*.log "$SY_NGINX_ERROR_LOG" "$SY_APPS_DIR"/*.log "$IT_ART/" 2>/dev/null || true
    cp -f "$IT_STATUS_FILE" "$IT_ART/" 2>/dev/null || true
    it_log "logs kept in $IT_ART"
  fi
  if [[ ${SY_IT_KEEP:-0} == 1 ]]; then
    it_log "SY_IT_KEEP=1: the stack stays up in $SY_DIR"
  elif ! "$IT_ROOT/hack/local-down.sh" --purge >"$IT_ART/local-down.log" 2>&1; then
    echo "FAIL: $it_name: cleanup: hack/local-down.sh failed:" >&2
    cat "$IT_ART/local-down.log" >&2
    rc=1
  fi
  local secs=$((($(it_ts) - it_t0) / 1000))
  if ((rc == 0)); then
    echo "PASS: $it_name (${secs}s)"
  else
    if ((it_failures > 0)); then
      echo "FAIL: $it_name: $it_failures check(s) failed (${secs}s)"
    else
      echo "FAIL: $it_name: stopped with exit status $status (${secs}s)"
    fi
  fi
  exit "$rc"
}

# it_end: the test's last line; the verdict is printed by the EXIT trap.
it_end() {
  exit 0
}

# --- the manifest and the controller ---------------------------------------------------------

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

# start_daemon LABEL [FLAGS...]: starts switchyard in the background with the API on
# $IT_API_PORT, logging to $IT_ART/LABEL.log; waits until /readyz answers. Sets daemon_pid.
start_daemon() {
  local label=$1
  shift
  "$IT_SWITCHYARD" --manifests "$IT_MANIFEST" --state-dir "$IT_STATE" \
    --listen "$SY_HOST:$IT_API_PORT" "$@" >"$IT_ART/$label.log" 2>&1 </dev/null &
  daemon_pid=$!
  it_pids+=("$daemon_pid")
  if ! wait_until 15 "the daemon to answer $IT_API/readyz" curl -fsS -m 1 "$IT_API/readyz"; then
    tail -n 20 "$IT_ART/$label.log" | sed 's/^/    | /'
    fatal "switchyard daemon ($label) did not become ready"
  fi
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

# --- PostgreSQL -----------------------------------------------------------------------------

# pg COLOR DB SQL: one value (psql -At) from COLOR's server, as the superuser.
pg() {
  "$SY_PG_BIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "$SY_HOST" -p "${SY_PG_PORT[$1]}" \
    -U "$SY_SUPERUSER" -d "$2" -c "$3" 2>/dev/null
}

# in_recovery COLOR: t (standby), f (primary) or nothing (not answering).
in_recovery() { pg "$1" postgres 'SELECT pg_is_in_recovery()' || true; }

# primary_probe COLOR: "f|<postmaster start>" for a primary, "t|..." for a standby, "" if down.
primary_probe() {
  pg "$1" postgres "SELECT CASE WHEN pg_is_in_recovery() THEN 't' ELSE 'f' END || '|' ||
    pg_postmaster_start_time()" || true
}

# two_primaries: true (and prints evidence) if blue and green are writable primaries at the
# same time. Sound despite asking one after the other: blue is asked before and after green,
# and a postmaster that answers "primary" twice with the same start time was a primary the
# whole time in between (a primary becomes a standby only by a restart).
two_primaries() {
  local b1 g b2
  b1=$(primary_probe blue)
  [[ $b1 == f\|* ]] || return 1
  g=$(primary_probe green)
  [[ $g == f\|* ]] || return 1
  b2=$(primary_probe blue)
  [[ $b2 == "$b1" ]] || return 1
  printf 'blue primary since %s and green primary since %s, both at %s\n' \
    "${b1#f|}" "${g#f|}" "$(date -u +%H:%M:%S.%3N)"
}

# assert_not_two_primaries WHEN: a check, between steps.
assert_not_two_primaries() {
  local evidence
  if evidence=$(two_primaries); then
    fail "never two primaries ($1): $evidence"
  else
    pass "not two primaries ($1)"
  fi
}

# start_primary_monitor: polls two_primaries in the background until the test ends; any
# sighting goes to $IT_ART/two-primaries.log (checked by check_primary_monitor).
start_primary_monitor() {
  : >"$IT_ART/two-primaries.log"
  touch "$IT_WORK/monitor.on"
  (
    n=0
    while [[ -f $IT_WORK/monitor.on ]]; do
      two_primaries >>"$IT_ART/two-primaries.log" || true
      n=$((n + 1))
      echo "$n" >"$IT_ART/monitor.count"
      sleep 0.05
    done
  ) &
  monitor_pid=$!
  it_pids+=("$monitor_pid")
}
check_primary_monitor() {
  local n
  rm -f "$IT_WORK/monitor.on"
  wait_until 15 "the primary monitor to stop" it_pid_gone "$monitor_pid" || kill "$monitor_pid" 2>/dev/null
  n=$(cat "$IT_ART/monitor.count" 2>/dev/null || echo 0)
  if [[ -s $IT_ART/two-primaries.log ]]; then
    fail "never two primaries (continuous monitor, $n samples): $(head -n 3 "$IT_ART/two-primaries.log" | tr '\n' ';')"
  else
    pass "never two primaries (continuous monitor: $n samples, none saw both)"
  fi
}

# streaming PRIMARY STANDBY: PRIMARY's pg_stat_replication shows STANDBY streaming.
streaming() {
  [[ $(pg "$1" postgres "SELECT state FROM pg_stat_replication WHERE application_name = '$2'") == streaming ]]
}

# served_color: the color nginx answers with on a new connection, or nothing.
served_color() {
  curl -sS -m 3 -o /dev/null -w '%header{x-switchyard-color}' "http://$SY_HOST:$SY_NGINX_PORT/" 2>/dev/null || true
}

# serves_only COLOR: 10 fresh connections through nginx all answer COLOR.
serves_only() {
  local i c
  for i in 1 2 3 4 5 6 7 8 9 10; do
    c=$(served_color)
    [[ $c == "$1" ]] || return 1
  done
}

# assert_world COLOR: the converged world for COLOR, checked on the real parts: COLOR the
# only primary, the other a standby streaming from it (waiting up to 15 s for the stream),
# nginx serving COLOR only, the upstream file rendered for COLOR.
assert_world() {
  local d=$1 o
  if [[ $d == blue ]]; then o=green; else o=blue; fi
  check "$d is the primary (pg_is_in_recovery() = f on :${SY_PG_PORT[$d]})" test "$(in_recovery "$d")" = f
  check "$o is a standby (pg_is_in_recovery() = t on :${SY_PG_PORT[$o]})" test "$(in_recovery "$o")" = t
  check "$d's pg_stat_replication shows $o streaming" \
    wait_until 15 "$o to stream from $d" streaming "$d" "$o"
  check "nginx serves $d on 10 new connections" serves_only "$d"
  check "the upstream file points at $d's app (:${SY_APP_PORT[$d]})" \
    grep -Eq "^[[:space:]]*server[[:space:]]+$SY_HOST:${SY_APP_PORT[$d]};" "$SY_UPSTREAM_FILE"
}

# primary_color: the color whose server answers pg_is_in_recovery() = f (the first, if two).
primary_color() {
  local c
  for c in blue green; do
    if [[ $(in_recovery "$c") == f ]]; then
      printf '%s' "$c"
      return
    fi
  done
}

# stop_pg COLOR: a fast shutdown as the stack does it (pg_ctl as postgres), waiting.
stop_pg() {
  sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$(sy_pg_datadir "$1")" -m fast -w -t 60 stop >/dev/null
}

# --- the fast two-primaries monitor ---------------------------------------------------------
# start_fast_monitor ... stop_fast_monitor, then primary_overlaps: each server is sampled
# every SY_IT_SAMPLE_S (default 0.003) seconds by one long-lived psql session (\watch) --
# which keeps sampling a server whose postmaster is frozen (its backend still runs) --
# reconnecting when the server
# goes away: "<server clock epoch>|<pg_is_in_recovery>|<postmaster start time>" per sample.
SAMPLE_SQL="SELECT extract(epoch FROM clock_timestamp()), pg_is_in_recovery(), pg_postmaster_start_time()"

sampler() {
  local c=$1
  while [[ -f $IT_WORK/monitor.on ]]; do
    printf '%s\n\\watch %s\n' "$SAMPLE_SQL" "${SY_IT_SAMPLE_S:-0.003}" |
      "$SY_PG_BIN/psql" -X -At -q -h "$SY_HOST" -p "${SY_PG_PORT[$c]}" -U "$SY_SUPERUSER" \
        -d postgres >>"$IT_ART/samples-$c.log" 2>/dev/null &
    echo "$!" >"$IT_WORK/sampler-$c.pid"
    wait "$!"
    sleep 0.005
  done
}

declare -A sampler_pids
start_fast_monitor() {
  touch "$IT_WORK/monitor.on"
  local c
  for c in blue green; do
    : >"$IT_ART/samples-$c.log"
    sampler "$c" &
    sampler_pids[$c]=$!
    it_pids+=("$!")
  done
}

stop_fast_monitor() {
  rm -f "$IT_WORK/monitor.on"
  local c i pid
  for c in blue green; do
    for ((i = 0; i < 100; i++)); do
      it_pid_gone "${sampler_pids[$c]}" && break
      pid=$(cat "$IT_WORK/sampler-$c.pid" 2>/dev/null)
      # Only while it is still the sampler's psql (a pid can be reused).
      if [[ -n $pid && $(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ') == "${sampler_pids[$c]}" ]]; then
        kill -TERM "$pid" 2>/dev/null
      fi
      sleep 0.05
    done
    wait "${sampler_pids[$c]}" 2>/dev/null
  done
}

# primary_overlaps: prints one line per overlap of a blue and a green primary period, then a
# last line "samples <blue> <green> <seconds covered>". A period is a run of samples of one
# server answering "primary" with the same postmaster start time: a primary becomes a standby
# only by a restart, so it was a primary all along between the run's first and last sample.
primary_overlaps() {
  awk -F'|' '
    function close_run(c) {
      if (open[c]) { n = ++runs[c]; s[c, n] = first[c]; e[c, n] = last[c]; open[c] = 0 }
    }
    FNR == 1 { c = FILENAME ~ /samples-blue/ ? "blue" : "green" }
    NF == 3 && $1 ~ /^[0-9]+(\.[0-9]+)?$/ {
      t = $1 + 0; count[c]++
      if (lo == "" || t < lo) lo = t
      if (t > hi) hi = t
      if ($2 == "f" && open[c] && start[c] == $3) { last[c] = t; next }
      close_run(c)
      if ($2 == "f") { open[c] = 1; first[c] = last[c] = t; start[c] = $3 }
    }
    END {
      close_run("blue"); close_run("green")
      for (i = 1; i <= runs["blue"]; i++) for (j = 1; j <= runs["green"]; j++) {
        a = s["blue", i] > s["green", j] ? s["blue", i] : s["green", j]
        b = e["blue", i] < e["green", j] ? e["blue", i] : e["green", j]
        if (a <= b) printf "overlap: blue primary %.3f..%.3f, green primary %.3f..%.3f\n",
          s["blue", i], e["blue", i], s["green", j], e["green", j]
      }
      printf "samples %d %d %.1f\n", count["blue"], count["green"], hi - lo
    }' "$IT_ART/samples-blue.log" "$IT_ART/samples-green.log"
}

# check_fast_monitor: stops the fast monitor and checks that no two primary periods
# overlapped; sets overlaps_found and monitor_samples for the test's figures.
check_fast_monitor() {
  local lines summary b g covered
  stop_fast_monitor
  mapfile -t lines < <(primary_overlaps)
  summary=${lines[-1]}
  unset 'lines[-1]'
  read -r _ b g covered <<<"$summary"
  overlaps_found=${#lines[@]}
  monitor_samples="$b blue + $g green samples over ${covered}s"
  check "the fast monitor sampled both servers ($monitor_samples)" test "$b" -gt 100 -a "$g" -gt 100
  check "never two primaries: $overlaps_found overlapping primary periods ($monitor_samples)" \
    test "$overlaps_found" -eq 0
  ((overlaps_found == 0)) || printf '    %s\n' "${lines[@]:0:5}"
}

# pg_ctl_start COLOR: what an operator, systemd or a boot script does: pg_ctl start of COLOR's
# data directory as it is configured, as the postgres user, waiting (a second actor).
pg_ctl_start() {
  sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$(sy_pg_datadir "$1")" -l "$(sy_pg_logfile "$1")" \
    -o "-c port=${SY_PG_PORT[$1]} -c listen_addresses=$SY_HOST" -w -t 30 start >/dev/null 2>&1
}

# pg_aux_pid COLOR NAME: the pid of one of COLOR's server processes by its title
# (checkpointer, walreceiver, startup, ...), or nothing.
pg_aux_pid() {
  local pm
  pm=$(sy_pg_pid "$1")
  [[ -n $pm ]] || return 0
  pgrep -P "$pm" -f "postgres: .*$2" | head -n 1
}

# crash_pg COLOR: kill -9 of COLOR's postmaster and every process of it (a machine crash
# of that server), waiting until they are gone.
crash_pg() {
  local pm pids
  pm=$(sy_pg_pid "$1")
  [[ -n $pm ]] || return 0
  pids="$pm $(pgrep -P "$pm" | tr '\n' ' ')"
  # shellcheck disable=SC2086  # a list of pids
  kill -KILL $pids 2>/dev/null || true
  for pid in $pids; do
    wait_until 10 "pid $pid to die" it_pid_gone "$pid" || true
  done
}

# --- traffic ---------------------------------------------------------------------------------

# start_writer: POST /orders through nginx back to back (a new curl each time), one line per
# request in $IT_ART/writes.log: "<epoch seconds.micros when answered> <response>", the
# response {"id":N,...} when acknowledged, {"error":...} when refused (503), or curl-error N.
start_writer() {
  : >"$IT_ART/writes.log"
  touch "$IT_WORK/writer.on"
  (
    i=0
    while [[ -f $IT_WORK/writer.on ]]; do
      i=$((i + 1))
      r=$(curl -s -m 5 -w '\n' -X POST "http://$SY_HOST:$SY_NGINX_PORT/orders" -d "note=$it_name-$i" \
        2>/dev/null) || r="curl-error $? $r"
      printf '%s %s\n' "$EPOCHREALTIME" "${r//$'\n'/ }" >>"$IT_ART/writes.log"
    done
  ) &
  writer_pid=$!
  it_pids+=("$writer_pid")
}
stop_writer() {
  rm -f "$IT_WORK/writer.on"
  wait_until 15 "the writer to stop" it_pid_gone "$writer_pid" || kill "$writer_pid" 2>/dev/null || true
  wait "$writer_pid" 2>/dev/null || true
}
acked_ids() { grep -o '"id":[0-9]*' "$IT_ART/writes.log" | grep -o '[0-9]*' || true; }
acked_count() { acked_ids | wc -l; }
refused_count() { grep -vc '"id":[0-9]' "$IT_ART/writes.log" || true; }

# longest_ack_gap FROM_MS TO_MS: the longest time (ms) between two consecutive acknowledged
# writes, among the pairs that overlap [FROM_MS, TO_MS] (epoch ms): what a client saw of a
# switch's write window (resolution: one request of the writer, tens of ms).
longest_ack_gap() {
  awk -v from="$1" -v to="$2" '/"id":[0-9]/ {
      t = $1 * 1000
      if (prev != "" && t >= from && prev <= to && t - prev > max) max = t - prev
      prev = t
    } END { printf "%d\n", max }' "$IT_ART/writes.log"
}

# wait_for_acks N: until the writer has at least N acknowledged writes (it is making progress).
wait_for_acks() {
  local want=$1
  wait_until 30 "$want acknowledged writes" test_acks_at_least "$want"
}
test_acks_at_least() { (($(acked_count) >= $1)); }

# check_no_write_lost COLOR WHEN: every acknowledged id of writes.log is in orders on COLOR.
check_no_write_lost() {
  local color=$1 when=$2 acked missing
  acked=$(acked_count)
  if ((acked == 0)); then
    fail "no acknowledged write to check ($when)"
    return
  fi
  acked_ids >"$IT_ART/acked.ids"
  missing=$(
    {
      echo 'CREATE TEMP TABLE acked (id bigint);'
      echo 'COPY acked FROM STDIN;'
      cat "$IT_ART/acked.ids"
      echo '\.'
      echo 'SELECT id FROM acked EXCEPT SELECT id FROM orders ORDER BY 1;'
    } | "$SY_PG_BIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "$SY_HOST" -p "${SY_PG_PORT[$color]}" \
      -U "$SY_SUPERUSER" -d "$SY_DATABASE" 2>&1
  ) || {
    fail "no acknowledged write lost ($when): querying $color failed: $missing"
    return
  }
  if [[ -z $missing ]]; then
    pass "no acknowledged write lost ($when): all $acked acknowledged ids are in orders on $color"
  else
    fail "no acknowledged write lost ($when): $(wc -l <<<"$missing") of $acked acknowledged ids missing on $color: $(head -n 10 <<<"$missing" | tr '\n' ' ')"
  fi
}
