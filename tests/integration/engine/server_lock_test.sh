#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Two daemons on the same servers (README "How a switch goes": one actor per pair): two
# switchyard daemons, each with its own state directory and API port, watch the same
# manifest. The servers' lock (<dataDirectory>.switchyard-lock, held for a whole pass) lets
# only one act at a time:
#  (a) while daemon A re-clones green (pg_basebackup throttled to take seconds), daemon B takes
#      no step and its status says Ready=False ServersLocked, naming A's pid;
#  (b) two flips with both daemons running: never two primaries, every flip converges, no step
#      of one daemon overlaps a step of the other, none fails, and none is taken twice.
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT_A=$IT_API_PORT
PORT_B=$((IT_API_PORT + 1))
COPY_SECONDS=16 # how long the throttled copy of blue should take

# dc_json PORT: the resource from the daemon answering on PORT.
dc_json() { curl -fsS -m 2 "http://$SY_HOST:$1$IT_DC_PATH"; }
ready_reason() { dc_json "$1" | jq -r '[.status.conditions[]? | select(.type == "Ready")][0].reason'; }
ready_message() { dc_json "$1" | jq -r '[.status.conditions[]? | select(.type == "Ready")][0].message'; }
# converged_on PORT COLOR: that daemon's status shows the world converged on COLOR.
converged_on() {
  dc_json "$1" | jq -e --arg c "$2" '.status.phase == "Converged" and .status.servingColor == $c and
    .status.primaryColor == $c and .status.observedGeneration == .metadata.generation' >/dev/null
}
locked_out() { [[ $(ready_reason "$1") == ServersLocked ]]; }
copying() { grep -Eq 'step="basebackup green from blue" outcome=started' "$IT_ART/a.log"; }

# start_named LABEL PORT: a daemon with state directory $IT_WORK/state-LABEL; sets named_pid.
start_named() {
  spawn_daemon "$IT_ART/$1.log" "http://$SY_HOST:$2" --manifests "$IT_MANIFEST" \
    --state-dir "$IT_WORK/state-$1" --listen "$SY_HOST:$2" --resync-ms 500
  named_pid=$spawned_pid
}

# step_intervals LOG: "start_ms end_ms step" for each finished step of a daemon's log (the
# timestamps of its started and ok/error lines; ms within the month, enough to compare).
step_intervals() {
  awk '
    function ms(ts,   d, t) {
      d = substr(ts, 9, 2); t = substr(ts, 12, 12)
      split(t, p, ":")
      return ((d * 24 + p[1]) * 60 + p[2]) * 60000 + p[3] * 1000
    }
    / step resource=/ && /outcome=started/ { match($0, /step="[^"]*"/); s = substr($0, RSTART, RLENGTH); start[s] = ms($1) }
    / step resource=/ && /outcome=(ok|error)/ {
      match($0, /step="[^"]*"/); s = substr($0, RSTART, RLENGTH)
      if (s in start) { printf "%d %d %s\n", start[s], ms($1), s; delete start[s] }
    }' "$1"
}

it_begin server_lock

# The stack's binDirectory, but pg_basebackup throttled: symlinks to every program of it.
slow="$IT_WORK/slow-bin"
mkdir -p "$slow"
for f in "$SY_PG_BIN"/*; do ln -sf "$f" "$slow/"; done
rm -f "$slow/pg_basebackup"
kb=$(du -sk "$(sy_pg_datadir blue)" | cut -f1)
rate=$((kb / COPY_SECONDS))
((rate >= 32)) || rate=32
printf '#!/bin/sh\nexec %s/pg_basebackup --max-rate=%sk "$@"\n' "$SY_PG_BIN" "$rate" >"$slow/pg_basebackup"
chmod 755 "$slow" "$slow/pg_basebackup"
sed -i "s#^\(    binDirectory:\).*#\1 $slow#" "$IT_MANIFEST"
grep -q "binDirectory: $slow" "$IT_MANIFEST" || fatal "could not set binDirectory in $IT_MANIFEST"
it_log "blue holds $kb KiB; pg_basebackup throttled to ${rate} KiB/s"

# --- (a) one copies, the other waits ---------------------------------------------------------
echo "--- (a) daemon A re-clones green; daemon B starts meanwhile"
green_dir=$(sy_pg_datadir green)
stop_pg green || fatal "pg_ctl stop green"
rm -rf "$green_dir"
start_named a "$PORT_A"
pid_a=$named_pid
require "daemon A starts the basebackup of green" wait_until 30 "A's basebackup" copying
start_named b "$PORT_B"
check "daemon B reports ServersLocked while A copies" wait_until 10 "B's ServersLocked" locked_out "$PORT_B"
msg=$(ready_message "$PORT_B")
echo "  B: $msg"
check "B's condition names A (pid $pid_a) as the holder" \
  grep -q "is held by pid $pid_a resource default/shop" <<<"$msg"
check "B has taken no step while A copies" test "$(steps_taken "$IT_ART/b.log")" -eq 0
check "A is still copying then (its basebackup has not ended)" \
  test -z "$(grep -E 'step="basebackup green from blue" outcome=(ok|error)' "$IT_ART/a.log")"
check "the re-clone completes and both daemons see blue converged" \
  wait_until 90 "convergence on blue" converged_on "$PORT_A" blue
check "B too" wait_until 20 "B's convergence on blue" converged_on "$PORT_B" blue
assert_world blue

# --- (b) flips with both running --------------------------------------------------------------
echo "--- (b) flips with both daemons watching the manifest"
start_primary_monitor
for color in green blue; do
  set_active "$color"
  check "flip to $color: A sees it converge" wait_until 60 "A on $color" converged_on "$PORT_A" "$color"
  check "flip to $color: B sees it converge" wait_until 30 "B on $color" converged_on "$PORT_B" "$color"
  assert_world "$color"
done
check_primary_monitor

{
  step_intervals "$IT_ART/a.log" | sed 's/^/a /'
  step_intervals "$IT_ART/b.log" | sed 's/^/b /'
} | sort -k2,2n >"$IT_ART/steps.txt"
echo "  steps (daemon start_ms end_ms step):"
sed 's/^/    /' "$IT_ART/steps.txt"
# Sorted by start: a step overlaps when the other daemon's latest end is after its start.
overlaps=$(awk '{ o = ($1 == "a") ? "b" : "a"; if ($2 < last[o]) n++; if ($3 > last[$1]) last[$1] = $3 }
  END { print n + 0 }' "$IT_ART/steps.txt")
check "no step of one daemon overlaps a step of the other ($(wc -l <"$IT_ART/steps.txt") steps)" \
  test "$overlaps" -eq 0
check "no step failed" test -z "$(cat "$IT_ART/a.log" "$IT_ART/b.log" | grep -E ' step resource=.*outcome=error')"
for s in "basebackup green from blue" "fence blue" "promote green" "fence green" "promote blue"; do
  n=$(cat "$IT_ART/a.log" "$IT_ART/b.log" | grep -cE "step=\"$s\" outcome=ok")
  check "\"$s\" was taken once, by either daemon (got $n)" test "$n" -eq 1
done
echo "  steps by daemon: A $(steps_taken "$IT_ART/a.log"), B $(steps_taken "$IT_ART/b.log")"

it_end
