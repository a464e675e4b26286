#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# The nemesis: Switchyard's promise tried hard on the real stack. The daemon flips the live
# color SY_NEMESIS_FLIPS times (default 30; 500 and more for a long run) while a ledger
# writer commits one row every 5 ms through the apps' multi-host connection string and a
# monitor samples both servers every 3 ms. During each flip a seeded random schedule
# injects faults at random moments, or aimed at a step of a given kind:
#   - the daemon SIGKILLed (then restarted), also during pg_basebackup;
#   - SIGKILL of either server's postmaster, checkpointer or walreceiver;
#   - SIGSTOP/SIGCONT of either server's postmaster, checkpointer or walreceiver;
#   - a second actor starting whatever server is stopped with pg_ctl (fenced ones included);
#   - a flip back at a random moment, also during a stalled promotion (the promoted
#     server's postmaster frozen until its pg_promote() timed out);
#   - pg_controldata failing or warning that its output is untrustworthy (a wrapper in the
#     binDirectory);
#   - nginx stopped; the idle color's app answering 503;
#   - rejoinMethod basebackup for some flips (every rejoin is then a full re-clone).
# Then the faults stop and the flip must converge. A switch given up after its fence (the
# standby missed the old primary's last WAL, e.g. its walreceiver frozen through the fence:
# the old primary comes back, Failed/SwitchAbandoned) is retried as its message asks, by a
# spec change (maxReplayLagSeconds toggled between 5 and 6: a new generation), and must then
# converge on the same color. Invariants: no moment with two
# writable primaries; no acknowledged write lost; no data directory replaced but a re-clone
# that rejoinMethod basebackup asked for (no consent is ever given, nothing is ever wiped);
# no copy process outlives its daemon. The seed is printed: SY_NEMESIS_SEED replays the
# schedule (the timing of the real processes varies). A table of figures ends the run.
#
#   SY_NEMESIS_FLIPS     flips (default 30)
#   SY_NEMESIS_SEED      seed of the schedule (default: random, printed)
set -uo pipefail
export SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-it-nemesis}
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../engine/faults_lib.sh"

FLIPS=${SY_NEMESIS_FLIPS:-30}
SEED=${SY_NEMESIS_SEED:-$((($$ + $(date +%s)) % 32768))}
RANDOM=$SEED
STEP_TIMEOUT_S=3
WRITER="$SY_BUILD_DIR/tests/bench/bench_writer"
FAULT_KINDS=(daemon-kill pg-kill pg-freeze second-actor flip-back stalled-promotion
  controldata nginx-stop app-503)

declare -A faults_done=()   # kind -> count
declare -A frozen_pids=()   # pid -> what, thawed when the faults stop
converge_ms=()              # per flip: from the faults' end to convergence
daemon_runs=0
operator_retries=0          # abandoned switches retried by a spec change
copies_ok=0                 # re-clones asked for by rejoinMethod basebackup
copies_bad=()               # any other replacement of a data directory
flip=0

# --- the daemon: one log for all its runs, so that marks are line numbers -------------------
run_daemon() {
  daemon_runs=$((daemon_runs + 1))
  echo "=== daemon run $daemon_runs" >>"$IT_ART/daemon.log"
  "$IT_SWITCHYARD" --manifests "$IT_MANIFEST" --state-dir "$IT_STATE" \
    --listen "$SY_HOST:$IT_API_PORT" --resync-ms 300 --step-timeout-seconds "$STEP_TIMEOUT_S" \
    >>"$IT_ART/daemon.log" 2>&1 </dev/null &
  daemon_pid=$!
  it_pids+=("$daemon_pid")
  wait_until 15 "the daemon to answer /readyz" curl -fsS -m 1 "$IT_API/readyz" ||
    fatal "the daemon (run $daemon_runs) did not become ready"
}
kill_daemon() {
  kill -KILL "$daemon_pid" 2>/dev/null
  { wait "$daemon_pid"; } 2>/dev/null
  daemon_pid=''
}
daemon_up() { [[ -n ${daemon_pid:-} ]] && ! it_pid_gone "$daemon_pid"; }

# --- faults -----------------------------------------------------------------------------
other_of() { if [[ $1 == blue ]]; then echo green; else echo blue; fi; }
pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
note() { faults_done[$1]=$((${faults_done[$1]:-0} + 1)); it_log "flip $flip: $*"; }

# proc_pid COLOR PROC: the pid of COLOR's postmaster, checkpointer or walreceiver.
proc_pid() {
  if [[ $2 == postmaster ]]; then sy_pg_pid "$1"; else pg_aux_pid "$1" "$2"; fi
}

# wait_step KIND [SECONDS]: until the daemon log (after line $flip_mark) shows a step of
# KIND started; false on timeout.
wait_step() {
  local i
  for ((i = 0; i < ${2:-5} * 100; i++)); do
    tail -n +"$((flip_mark + 1))" "$IT_ART/daemon.log" |
      grep -qE " step resource=.* step=\"$1[ \"].*outcome=started" && return 0
    sleep 0.01
  done
  return 1
}

fault_daemon_kill() {
  if [[ $method == basebackup ]] && ((RANDOM % 2 == 0)); then
    wait_step basebackup 5 || true
    ms_sleep $((RANDOM % 300))
    note daemon-kill "SIGKILL of the daemon during a re-clone"
  elif ((RANDOM % 3 == 0)); then
    local kind
    kind=$(pick fence promote start stop configure-standby lift-fence switch-traffic)
    wait_step "$kind" 3 || true
    ms_sleep $((RANDOM % 60))
    note daemon-kill "SIGKILL of the daemon near a $kind step"
  else
    ms_sleep $((RANDOM % 900))
    note daemon-kill "SIGKILL of the daemon"
  fi
  kill_daemon
  ms_sleep $((RANDOM % 400))
  run_daemon
}

fault_pg_kill() {
  local c p pid
  c=$(pick blue green)
  p=$(pick postmaster checkpointer walreceiver)
  ms_sleep $((RANDOM % 900))
  pid=$(proc_pid "$c" "$p")
  [[ -n $pid ]] || return 0
  note pg-kill "SIGKILL of $c's $p ($pid)"
  kill -KILL "$pid" 2>/dev/null || true
}

fault_pg_freeze() {
  local c p pid
  c=$(pick blue green)
  p=$(pick postmaster checkpointer walreceiver)
  ms_sleep $((RANDOM % 900))
  pid=$(proc_pid "$c" "$p")
  [[ -n $pid ]] || { c=$(other_of "$c") && pid=$(proc_pid "$c" "$p"); }
  [[ -n $pid ]] || return 0
  note pg-freeze "SIGSTOP of $c's $p ($pid)"
  kill -STOP "$pid" 2>/dev/null && frozen_pids[$pid]="$c $p"
}

fault_second_actor() {
  local c
  ms_sleep $((RANDOM % 1500))
  for c in blue green; do
    if [[ -z $(sy_pg_pid "$c") ]]; then
      note second-actor "pg_ctl start of stopped $c (fenced: $([[ -f $(sy_pg_datadir "$c")/switchyard.fenced ]] && echo yes || echo no))"
      pg_ctl_start "$c" || true
    fi
  done
}

fault_flip_back() {
  ms_sleep $((RANDOM % 700))
  note flip-back "flip back to $prev"
  set_active "$prev"
  desired=$prev
  if ((RANDOM % 2 == 0)); then
    ms_sleep $((RANDOM % 700))
    note flip-back "and forward again to $target"
    set_active "$target"
    desired=$target
  fi
}

# Freezes the target's postmaster, then flips to it; once its promotion times out (left
# pending), flips back.
fault_stalled_promotion() {
  local pid
  pid=$(sy_pg_pid "$target")
  if [[ -n $pid ]]; then
    kill -STOP "$pid" 2>/dev/null && frozen_pids[$pid]="$target postmaster"
    note stalled-promotion "SIGSTOP of $target's postmaster before its promotion"
  fi
  set_active "$target"
  if [[ -n $pid ]] && wait_step "promote $target" 10; then
    wait_until $((STEP_TIMEOUT_S + 5)) "the promotion to time out" \
      grep -qE "step=\"promote $target\" outcome=error" <(tail -n +"$((flip_mark + 1))" "$IT_ART/daemon.log") || true
  fi
  note flip-back "flip back to $prev during the stalled promotion"
  set_active "$prev"
  desired=$prev
  ms_sleep $((1000 + RANDOM % 2000))
}

fault_controldata() {
  local how
  how=$(pick fail warn)
  ms_sleep $((RANDOM % 900))
  note controldata "pg_controldata ${how}s"
  touch "$IT_WORK/controldata.$how"
}

fault_nginx_stop() {
  ms_sleep $((RANDOM % 900))
  note nginx-stop "nginx stopped"
  sy_nginx -s stop 2>/dev/null || true
}

fault_app_503() {
  note app-503 "$target's app answers 503"
  touch "$SY_APPS_DIR/$target.fail"
}

# Lifts every fault: thaw, pg_controldata and the apps healthy, nginx up, a daemon running.
clear_faults() {
  local pid
  for pid in "${!frozen_pids[@]}"; do
    kill -CONT "$pid" 2>/dev/null || true
  done
  frozen_pids=()
  rm -f "$IT_WORK/controldata.fail" "$IT_WORK/controldata.warn" "$SY_APPS_DIR"/*.fail
  if [[ -z $(sy_nginx_pid) ]]; then
    sy_nginx 2>>"$IT_ART/nginx-restarts.log" || fail "flip $flip: nginx restarts"
  fi
  daemon_up || run_daemon
}

converged_on() {
  api_json | jq -e --arg c "$1" '.status.phase == "Converged" and .status.primaryColor == $c and
    .status.servingColor == $c and .status.observedGeneration == .metadata.generation' >/dev/null
}

# abandoned_on COLOR: Failed/SwitchAbandoned, the switch to COLOR given up for the current
# generation.
abandoned_on() {
  api_json | jq -e --arg c "$1" '.status.abandonedSwitch.color == $c and
    .status.abandonedSwitch.generation == .metadata.generation and
    ([.status.conditions[]? | select(.type == "Ready")][0].reason == "SwitchAbandoned")' >/dev/null
}
settled_on() { converged_on "$1" || abandoned_on "$1"; }
generation_above() { (($(api_json | jq -r '.metadata.generation // 0') > $1)); }

# settle: waits (bounded) for convergence on $desired; a switch abandoned after its fence is
# retried with a new generation of the spec (the old primary is back meanwhile), at most 3
# times. Records the time from the faults' end.
settle() {
  local t0=$1 retries=0 gen lag
  while true; do
    if ! wait_until 90 "flip $flip to converge on $desired (or be abandoned)" settled_on "$desired"; then
      show_status "$(api_json)"
      fail "flip $flip: converged on $desired within 90 s of the faults' end (held: $(ready_of "$(api_json)" | jq -r '.reason // ""'))"
      return 1
    fi
    converged_on "$desired" && break
    if ((retries == 3)); then
      show_status "$(api_json)"
      fail "flip $flip: the switch to $desired was abandoned 3 times after the faults' end"
      return 1
    fi
    retries=$((retries + 1))
    operator_retries=$((operator_retries + 1))
    it_log "flip $flip: the switch to $desired was abandoned ($(api_json | jq -r .status.abandonedSwitch.reason)); retrying with a new generation, as the status says"
    gen=$(api_json | jq -r .metadata.generation)
    lag=$(sed -n 's/^ *maxReplayLagSeconds: *\([0-9]*\).*/\1/p' "$IT_MANIFEST")
    set_spec maxReplayLagSeconds $((lag == 5 ? 6 : 5))
    wait_until 15 "a generation after $gen" generation_above "$gen" ||
      fatal "flip $flip: the spec change was not picked up"
  done
  converge_ms+=($(($(it_ts) - t0)))
}

# check_copies FROM METHOD: the data directory replacements since log line FROM.
check_copies() {
  local line
  while read -r line; do
    [[ -n $line ]] || continue
    if [[ $2 == basebackup && $line == *'step="basebackup '* ]]; then
      copies_ok=$((copies_ok + 1))
    else
      copies_bad+=("flip $flip (rejoinMethod $2): ${line:0:200}")
    fi
  done < <(tail -n +"$(($1 + 1))" "$IT_ART/daemon.log" | grep -E 'step="(rewind|basebackup) [a-z]+ from [a-z]+" outcome=ok')
}

# --- the run ------------------------------------------------------------------------------
faults_begin nemesis
FAULTS_API=1
[[ -x $WRITER ]] || fatal "$WRITER is missing: build the bench_writer target"
it_log "flips: $FLIPS, seed: $SEED (SY_NEMESIS_SEED=$SEED replays the schedule)"
controldata_wrapper "$IT_WORK/bin"
set_spec binDirectory "$bin"
set_spec catchUpTimeoutSeconds 5
# maxReplayLagSeconds (default 5) written out, for the retries of abandoned switches.
sed -i 's/^\(    catchUpTimeoutSeconds:.*\)$/\1\n    maxReplayLagSeconds: 5/' "$IT_MANIFEST"
grep -q '^    maxReplayLagSeconds: 5' "$IT_MANIFEST" || fatal "could not add maxReplayLagSeconds"
pg blue "$SY_DATABASE" 'CREATE TABLE IF NOT EXISTS bench_writes (id bigint PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now())' >/dev/null || fatal "creating bench_writes"
: >"$IT_ART/daemon.log"
run_daemon
require "the daemon converges on blue" wait_until 30 "Converged on blue" converged_on blue
start_fast_monitor
"$WRITER" --conninfo "$SY_APP_CONNINFO" --acks "$IT_ART/acks.txt" --interval-ms 5 \
  >"$IT_ART/writer.out" 2>"$IT_ART/writer.err" &
writer_pid=$!
it_pids+=("$writer_pid")
acks_over() { (($(wc -l <"$IT_ART/acks.txt" 2>/dev/null || echo 0) > $1)); }
wait_until 15 "the ledger writer's first acknowledgements" acks_over 20 ||
  fatal "the ledger writer gets no acknowledgement"

prev=blue
t_start=$(it_ts)
for ((flip = 1; flip <= FLIPS; flip++)); do
  target=$(other_of "$prev")
  desired=$target
  method=auto
  ((RANDOM % 5 == 0)) && method=basebackup
  set_spec rejoinMethod "$method"
  flip_mark=$(wc -l <"$IT_ART/daemon.log")
  # 1-3 faults (one flip in six none), drawn with the flip (replayable), run in this order.
  plan=()
  if ((RANDOM % 6 != 0)); then
    for ((k = 1 + RANDOM % 3; k > 0; k--)); do plan+=("$(pick "${FAULT_KINDS[@]}")"); done
  fi
  it_log "flip $flip: $prev -> $target (rejoinMethod $method; faults: ${plan[*]:-none})"
  [[ " ${plan[*]} " == *" app-503 "* ]] && fault_app_503
  if [[ " ${plan[*]} " == *" stalled-promotion "* ]]; then
    fault_stalled_promotion
  else
    set_active "$target"
  fi
  for kind in "${plan[@]}"; do
    case $kind in
      stalled-promotion | app-503) ;;
      *) "fault_${kind//-/_}" ;;
    esac
  done
  ((${#plan[@]} > 0)) && ms_sleep $((RANDOM % 2500))
  clear_faults
  t_clear=$(it_ts)
  settle "$t_clear" || break
  check_copies "$flip_mark" "$method"
  prev=$desired
done
flips_done=$((flip > FLIPS ? FLIPS : flip))
run_s=$((($(it_ts) - t_start) / 1000))

kill -TERM "$writer_pid" 2>/dev/null
wait "$writer_pid" 2>/dev/null
check_fast_monitor
final=$(primary_color)
if [[ -n $final ]]; then
  verify=$("$WRITER" --verify "$IT_ART/acks.txt" --conninfo "host=$SY_HOST port=${SY_PG_PORT[$final]} dbname=$SY_DATABASE user=$SY_SUPERUSER" 2>&1)
else
  verify="no primary runs: the acknowledged writes cannot be checked"
fi
acked=$(sed -n 's/^acked=\([0-9]*\).*/\1/p' <<<"$verify")
lost=$(sed -n 's/.* missing=\([0-9]*\).*/\1/p' <<<"$verify")
check "no acknowledged write lost: ${verify%%$'\n'*} (on $final)" test "${lost:-x}" = 0
check "no data directory replaced but the re-clones rejoinMethod basebackup asked for (${#copies_bad[@]} others)" \
  test "${#copies_bad[@]}" -eq 0
((${#copies_bad[@]} == 0)) || printf '    %s\n' "${copies_bad[@]:0:5}"
leftovers=$(pgrep -f 'pg_basebackup|pg_rewind' | tr '\n' ' ')
check "no copy process outlived its daemon (${leftovers:-none})" test -z "$leftovers"
check "every flip converged ($flips_done of $FLIPS)" test "$flips_done" -eq "$FLIPS" -a "${#converge_ms[@]}" -eq "$FLIPS"
assert_world "$prev"
kill -TERM "$daemon_pid" 2>/dev/null

sorted=$(printf '%s\n' "${converge_ms[@]}" | sort -n)
median=$(awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : 0}' <<<"$sorted")
max=$(tail -n 1 <<<"$sorted")
echo
echo "  nemesis figures (seed $SEED, ${run_s}s):"
printf '    %-44s %s\n' "flips converged" "$flips_done of $FLIPS"
for kind in "${FAULT_KINDS[@]}"; do
  printf '    %-44s %s\n' "faults: $kind" "${faults_done[$kind]:-0}"
done
printf '    %-44s %s\n' "daemon runs" "$daemon_runs" \
  "lift-fence steps giving a switch up" "$(grep -cE 'step="lift-fence [a-z]+" outcome=started .*is abandoned' "$IT_ART/daemon.log" || true)" \
  "abandoned switches retried (operator)" "$operator_retries" \
  "two-primary overlaps" "$overlaps_found ($monitor_samples)" \
  "acknowledged writes" "${acked:-?}" \
  "acknowledged writes lost" "${lost:-?}" \
  "directories replaced (rejoinMethod basebackup)" "$copies_ok" \
  "directories replaced otherwise" "${#copies_bad[@]}" \
  "converge after the faults end, median / max" "${median:-?} ms / ${max:-?} ms"

it_end
