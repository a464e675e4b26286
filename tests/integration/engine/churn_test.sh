#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Crash safety under churn (README "Reliability"), on the real stack. The switchyard daemon
# flips the live color back and forth SY_CHURN_FLIPS times (default 20) while a writer POSTs
# orders through nginx back to back; during each flip the daemon is killed with SIGKILL at a
# random moment (before its first step; a random delay after the flip's first step started; or
# just after a step of a randomly chosen kind started, so that kills land in every step),
# restarted, sometimes killed and restarted once more, and must converge. A monitor samples
# both PostgreSQL servers every few ms (one psql session per server running \watch);
# afterwards no two primary periods may overlap. Then SIGTERM in the middle of a step, for
# several steps: the daemon finishes (or abandons) the step, exits 0, and a restarted daemon
# converges. Asserted: every flip converges, 0 acknowledged writes lost, 0 overlaps, SIGTERM
# exits 0. The figures (flips, kills, where they landed, overlaps, writes) are printed at the
# end. About a minute on 2 cores with 20 flips.
#
#   SY_CHURN_FLIPS     flips under SIGKILL (default 20)
#   SY_CHURN_SEED      seed of the random kill moments (default: random; printed, to replay)
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FLIPS=${SY_CHURN_FLIPS:-20}
SEED=${SY_CHURN_SEED:-$((($$ + $(date +%s)) % 32768))}
RANDOM=$SEED
KILL_WINDOW_MS=700    # after the first step started: a switch takes ~600 ms here
STEP_KINDS=(switch-traffic fence promote create-slot configure-standby start)
TERM_STEPS=(switch-traffic fence promote start)

# --- the daemon --------------------------------------------------------------------------------

converged_on() {
  api_json | jq -e --arg c "$1" '.status.phase == "Converged" and .status.primaryColor == $c and
    .status.servingColor == $c and .status.observedGeneration == .metadata.generation' >/dev/null
}

# poll_step LOG FROM [KIND]: step_started, polled every 5 ms for up to 10 s.
poll_step() {
  local i
  for ((i = 0; i < 2000; i++)); do
    step_started "$@" && return 0
    sleep 0.005
  done
  return 1
}

# step_started LOG FROM [KIND]: LOG, after its first FROM lines, shows a step of KIND (any
# step if none) started.
step_started() {
  tail -n +"$(($2 + 1))" "$1" | grep -qE " step resource=.* step=\"${3:-[a-z-]+}[ \"].*outcome=started"
}

# where_stopped LOG FROM: what the daemon of LOG was doing when it died, judged from the lines
# after the first FROM: "during <step>", "between steps (after <step>)" or "before any step".
where_stopped() {
  local last
  last=$(tail -n +"$(($2 + 1))" "$1" | grep -E ' step resource=' | tail -n 1)
  if [[ -z $last ]]; then
    echo "before any step"
  elif [[ $last == *outcome=started* ]]; then
    echo "during $(sed -E 's/.* step="([^"]+)".*/\1/' <<<"$last")"
  else
    echo "between steps (after $(sed -E 's/.* step="([^"]+)".*/\1/' <<<"$last"))"
  fi
}

ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# kill_daemon WHEN FROM: SIGKILL now; records where it landed (in the log after line FROM).
kill_daemon() {
  local rc=0 where
  kill -KILL "$daemon_pid" 2>/dev/null
  { wait "$daemon_pid"; } 2>/dev/null || rc=$?
  where=$(where_stopped "$IT_ART/$daemon_label.log" "$2")
  kills=$((kills + 1))
  kill_where+=("$where")
  it_log "flip $n ($prev -> $color): SIGKILL $1: $where (exit $rc)"
  ((rc == 137)) || fail "flip $n: the daemon died of SIGKILL (exit $rc, want 137)"
}

run_daemon() {
  daemon_runs=$((daemon_runs + 1))
  daemon_label="daemon$daemon_runs"
  start_daemon "$daemon_label" --resync-ms 500
}

other_of() { if [[ $1 == blue ]]; then echo green; else echo blue; fi; }

# flip_converges: waits for the flip to $color to converge on the running daemon.
flip_converges() {
  if ! wait_until 60 "flip $n ($prev -> $color) to converge" converged_on "$color"; then
    api_json | jq -c .status 2>/dev/null | sed 's/^/    | /'
    fail "flip $n: $prev -> $color converged"
    return 1
  fi
  converged=$((converged + 1))
  check "flip $n: $color primary, $(other_of "$color") standby, nginx serves $color" \
    test "$(in_recovery "$color")/$(in_recovery "$(other_of "$color")")/$(served_color)" = "f/t/$color"
  check "flip $n: writes are acknowledged after it" wait_for_acks "$(($(acked_count) + 5))"
}

it_begin churn
it_log "flips: $FLIPS, seed: $SEED (SY_CHURN_SEED=$SEED replays the kill moments)"
daemon_runs=0
kills=0
kill_where=()
converged=0
n=0
prev=blue
color=blue

run_daemon
require "the daemon reports default/shop Converged on blue" \
  wait_until 30 "Converged on blue" converged_on blue
start_fast_monitor
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 20

# --- SIGKILL at random moments ---------------------------------------------------------------
t_churn=$(it_ts)
for ((n = 1; n <= FLIPS; n++)); do
  color=$(other_of "$prev")
  mark=$(wc -l <"$IT_ART/$daemon_label.log")
  set_active "$color"
  r=$((RANDOM % 10))
  if ((r < 2)); then
    # Before the daemon took a step (maybe before it saw the edit).
    delay=$((RANDOM % 300))
    ms_sleep "$delay"
    kill_daemon "$delay ms after the edit" "$mark"
  elif ((r < 6)); then
    # Aimed at a step: the short ones would rarely be hit otherwise.
    kind=${STEP_KINDS[RANDOM % ${#STEP_KINDS[@]}]}
    poll_step "$IT_ART/$daemon_label.log" "$mark" "$kind" || it_log "flip $n: no $kind step came"
    delay=$((RANDOM % 50))
    ms_sleep "$delay"
    kill_daemon "$delay ms after a $kind step started" "$mark"
  else
    poll_step "$IT_ART/$daemon_label.log" "$mark" || fail "flip $n: no step within 10 s of the edit"
    delay=$((RANDOM % KILL_WINDOW_MS))
    ms_sleep "$delay"
    kill_daemon "$delay ms after the first step started" "$mark"
  fi
  run_daemon
  if ((RANDOM % 2 == 0)) && ! converged_on "$color" && poll_step "$IT_ART/$daemon_label.log" 0; then
    # Once more, in whatever step the restarted daemon resumed with.
    delay=$((RANDOM % (KILL_WINDOW_MS / 2)))
    ms_sleep "$delay"
    kill_daemon "again, $delay ms after the restarted daemon's first step started" 0
    run_daemon
  fi
  flip_converges || break
  prev=$color
done
n=$((n > FLIPS ? FLIPS : n))
churn_s=$((($(it_ts) - t_churn) / 1000))
check "every flip converged ($converged of $FLIPS, $kills SIGKILLs, ${churn_s}s)" \
  test "$converged" -eq "$FLIPS"

# --- SIGTERM in the middle of a step -----------------------------------------------------------
term_results=()
for kind in "${TERM_STEPS[@]}"; do
  n=$((n + 1))
  color=$(other_of "$prev")
  mark=$(wc -l <"$IT_ART/$daemon_label.log")
  set_active "$color"
  if ! poll_step "$IT_ART/$daemon_label.log" "$mark" "$kind"; then  # these take >= 80 ms
    fail "flip $n: no $kind step started within 10 s"
    break
  fi
  t0=$(it_ts)
  kill -TERM "$daemon_pid"
  rc=0
  if ! wait_until 30 "the daemon to exit on SIGTERM" it_pid_gone "$daemon_pid"; then
    fail "flip $n: the daemon did not exit within 30 s of SIGTERM during $kind"
    kill -KILL "$daemon_pid" 2>/dev/null
  fi
  { wait "$daemon_pid"; } 2>/dev/null || rc=$?
  took=$(($(it_ts) - t0))
  step=$(tail -n +"$((mark + 1))" "$IT_ART/$daemon_label.log" | grep -E " step=\"${kind}[ \"].*outcome=started" |
    tail -n 1 | sed -E 's/.* step="([^"]+)".*/\1/')
  ended=$(tail -n +"$((mark + 1))" "$IT_ART/$daemon_label.log" |
    grep -E " step=\"$step\" outcome=(ok|error)" | tail -n 1)
  outcome=abandoned
  if [[ -n $ended ]]; then
    outcome=${ended#* outcome=}
    outcome="finished (${outcome%% *})"
    (($(date -d "${ended%% *}" +%s%3N) >= t0)) || outcome="$outcome (before the signal: not mid-step)"
  fi
  check "flip $n: SIGTERM during '$step': exit 0 (got $rc) after $took ms; the step $outcome" \
    test "$rc" -eq 0
  check "flip $n: the daemon logged its orderly stop" \
    grep -qE '^[^ ]+ info +stopped' "$IT_ART/$daemon_label.log"
  term_results+=("during '$step': exit $rc after $took ms; the step $outcome")
  run_daemon
  flip_converges || break
  prev=$color
done

stop_writer
stop_fast_monitor
assert_world "$prev"
check_no_write_lost "$prev" "after $n flips, $kills SIGKILLs and ${#TERM_STEPS[@]} SIGTERMs" \
  >"$IT_ART/lost.txt"
cat "$IT_ART/lost.txt"
lost=0
grep -q '^FAIL' "$IT_ART/lost.txt" && lost='?'
grep -qE '[0-9]+ of [0-9]+ acknowledged ids missing' "$IT_ART/lost.txt" &&
  lost=$(grep -oE '[0-9]+ of [0-9]+ acknowledged ids missing' "$IT_ART/lost.txt" | cut -d' ' -f1)
stop_daemon

mapfile -t overlaps < <(primary_overlaps)
read -r _ blue_samples green_samples covered <<<"${overlaps[-1]}"
unset 'overlaps[-1]'
interval=$(awk -v n="$((blue_samples + green_samples))" -v s="$covered" 'BEGIN { if (n) printf "%.1f", 2000 * s / n }')
check "the monitor sampled both servers ($blue_samples blue, $green_samples green samples)" \
  test "$blue_samples" -gt 100 -a "$green_samples" -gt 100
check "never two primaries: ${#overlaps[@]} overlapping primary periods (${covered}s watched, a sample every $interval ms per server)" \
  test "${#overlaps[@]}" -eq 0
((${#overlaps[@]} == 0)) || printf '    %s\n' "${overlaps[@]:0:5}"

acked=$(acked_count)
echo "  figures (seed $SEED):"
echo "    flips: $n ($FLIPS under SIGKILL, ${#TERM_STEPS[@]} under SIGTERM), $converged converged"
echo "    SIGKILLs: $kills (daemon runs: $daemon_runs); where they landed:"
printf '%s\n' "${kill_where[@]}" |
  sed -E 's/^during ([a-z-]+).*/during \1/; s/^between steps \(after ([a-z-]+).*/between steps, after \1/' |
  sort | uniq -c | sort -rn | sed 's/^ */      /'
echo "    SIGTERM mid-step:"
printf '      %s\n' "${term_results[@]}"
echo "    overlaps (two writable primaries): ${#overlaps[@]} ($blue_samples + $green_samples samples, every $interval ms per server)"
echo "    writes: $acked acknowledged, $(refused_count) refused (503 in write windows), $lost lost"

it_end
