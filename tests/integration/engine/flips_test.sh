#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# The daemon flips the live color back and forth under traffic: blue -> green -> blue ->
# green -> blue, each flip made by editing activeColor in the watched manifest, while a
# writer POSTs orders through nginx back to back and a reader GETs / through nginx on a new
# connection each time. Afterwards: no acknowledged write lost, no non-2xx read, both colors
# seen, one primary and one streaming standby, every flip recorded in status.lastSwitchover
# with a write-unavailability window. Then the idle pass: `switchyard --once` on the
# converged stack takes no step and does not reload nginx.
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FLIPS=(green blue green blue)

# converged_on COLOR: the API says Converged on COLOR for the current generation.
converged_on() {
  api_json | jq -e --arg c "$1" '.status.phase == "Converged" and .status.primaryColor == $c and
    .status.servingColor == $c and .status.observedGeneration == .metadata.generation' >/dev/null
}

start_reader() {
  : >"$IT_ART/reads.log"
  touch "$IT_WORK/reader.on"
  (
    while [[ -f $IT_WORK/reader.on ]]; do
      curl -s -m 5 -o /dev/null -w '%{http_code} %header{x-switchyard-color}\n' \
        "http://$SY_HOST:$SY_NGINX_PORT/" >>"$IT_ART/reads.log" 2>/dev/null
    done
  ) &
  reader_pid=$!
  it_pids+=("$reader_pid")
}
stop_reader() {
  rm -f "$IT_WORK/reader.on"
  wait_until 15 "the reader to stop" it_pid_gone "$reader_pid" || kill "$reader_pid" 2>/dev/null || true
  wait "$reader_pid" 2>/dev/null || true
}

# nginx_workers: the pids of the nginx master's children, sorted, one line.
nginx_workers() { pgrep -P "$(sy_nginx_pid)" | sort -n | tr '\n' ' '; }
nginx_settled() { (($(pgrep -P "$(sy_nginx_pid)" | wc -l) == 2)); }  # worker_processes 2

it_begin flips

start_daemon daemon --resync-ms 500
require "the daemon reports default/shop Converged on blue" \
  wait_until 30 "Converged on blue" converged_on blue
start_primary_monitor
start_writer
start_reader
require "the writer gets orders acknowledged through nginx" wait_for_acks 20

summary=()
windows=()
prev=blue
n=0
for color in "${FLIPS[@]}"; do
  n=$((n + 1))
  mark=$(wc -l <"$IT_ART/daemon.log")
  t0=$(it_ts)
  set_active "$color"
  if ! wait_until 60 "flip $n ($prev -> $color) to converge" converged_on "$color"; then
    api_json | jq . 2>/dev/null | sed 's/^/    | /'
    fatal "flip $n: $prev -> $color converges (API: Converged, primary = serving = $color, observedGeneration = generation)"
  fi
  took=$(($(it_ts) - t0))
  first=$(tail -n +"$((mark + 1))" "$IT_ART/daemon.log" | grep -m 1 -E ' info +step resource=.*outcome=started' | cut -d' ' -f1)
  noticed=$(($(date -d "$first" +%s%3N) - t0))
  ls=$(api_json | jq -c '.status.lastSwitchover')
  wu=$(jq -r '.writeUnavailableMs // 0' <<<"$ls")
  pass "flip $n: $prev -> $color converged in $took ms (manifest edit to API Converged; first step started $noticed ms after the edit)"
  echo "  steps of flip $n ($prev -> $color):"
  tail -n +"$((mark + 1))" "$IT_ART/daemon.log" | step_summary
  echo "  lastSwitchover: $ls"
  # shellcheck disable=SC2016  # $f and $t are jq's
  check "flip $n: lastSwitchover from $prev to $color" \
    json_true "$ls" --arg f "$prev" --arg t "$color" '.from == $f and .to == $t'
  check "flip $n: lastSwitchover has startedAt and finishedAt" \
    json_true "$ls" '(.startedAt // "") != "" and (.finishedAt // "") != ""'
  check "flip $n: writeUnavailableMs > 0 (got $wu)" test "$wu" -gt 0
  check "flip $n: no step failed" test "$(tail -n +"$((mark + 1))" "$IT_ART/daemon.log" | grep -c 'outcome=error')" -eq 0
  assert_world "$color"
  summary+=("flip $n $prev->$color: ${took} ms edit to Converged (first step after $noticed ms), writeUnavailableMs $wu, longest gap between acknowledged writes %s ms")
  windows+=("$t0 $((t0 + took))")
  # Writes must flow again on the new primary before the next flip.
  check "flip $n: writes are acknowledged after the flip" wait_for_acks "$(($(acked_count) + 10))"
  prev=$color
done

stop_writer
stop_reader
check_primary_monitor

final=${FLIPS[-1]}
other=green
[[ $final == green ]] && other=blue
acked=$(acked_count)
refused=$(refused_count)
check_no_write_lost "$final" "after ${#FLIPS[@]} flips"

reads=$(wc -l <"$IT_ART/reads.log")
non2xx=$(awk '$1 !~ /^2/ && $1 != "000"' "$IT_ART/reads.log" | wc -l)
conn_errors=$(awk '$1 == "000"' "$IT_ART/reads.log" | wc -l)
blue_reads=$(awk '$1 ~ /^2/ && $2 == "blue"' "$IT_ART/reads.log" | wc -l)
green_reads=$(awk '$1 ~ /^2/ && $2 == "green"' "$IT_ART/reads.log" | wc -l)
check "the reader saw no non-2xx status ($non2xx of $reads: $(awk '$1 !~ /^2/ && $1 != "000" {print $1}' "$IT_ART/reads.log" | sort | uniq -c | tr -s ' \n' ' '))" \
  test "$non2xx" -eq 0
check "the reader saw no connection error (curl 000: $conn_errors of $reads)" test "$conn_errors" -eq 0
check "the reader saw both colors (blue $blue_reads, green $green_reads)" \
  test "$blue_reads" -gt 0 -a "$green_reads" -gt 0
check "exactly one primary: $final (pg_is_in_recovery f), $other a standby (t)" \
  test "$(in_recovery "$final")/$(in_recovery "$other")" = f/t
check "$other streams from $final" streaming "$final" "$other"

echo "  figures:"
for i in "${!summary[@]}"; do
  # shellcheck disable=SC2059,SC2086  # the summary line is the format; the window is two numbers
  printf "    ${summary[$i]}\n" "$(longest_ack_gap ${windows[$i]})"
done
echo "    writes: $acked acknowledged, $refused refused (503 during the write windows are expected)"
echo "    reads: $reads ($blue_reads blue, $green_reads green, $non2xx non-2xx, $conn_errors connection errors)"

# --- idle pass: a converged resource plans no step and runs nothing -------------------------
stop_daemon
if wait_until 10 "nginx to run exactly its 2 workers" nginx_settled; then
  workers=$(nginx_workers)
else
  fail "nginx runs $(pgrep -P "$(sy_nginx_pid)" | wc -l) workers, expected 2"
  workers=$(nginx_workers)
fi
master=$(sy_nginx_pid)
orders=$(pg "$final" "$SY_DATABASE" 'SELECT count(*) FROM orders')
upstream_sum=$(stat -c '%Y %s' "$SY_UPSTREAM_FILE")$(md5sum <"$SY_UPSTREAM_FILE")
run_once idle
check "idle pass: switchyard --once exits 0 (got $once_rc)" test "$once_rc" -eq 0
check "idle pass: reports default/shop Converged" grep -q '^default/shop: Converged' "$IT_ART/idle.out"
check "idle pass: no 'step resource=' line in its output" \
  test "$(cat "$IT_ART/idle.out" "$IT_ART/idle.err" | grep -c 'step resource=')" -eq 0
check "idle pass: nginx master ($master) and workers ($workers) unchanged (no reload)" \
  test "$(sy_nginx_pid)|$(nginx_workers)" = "$master|$workers"
check "idle pass: upstream file untouched" \
  test "$(stat -c '%Y %s' "$SY_UPSTREAM_FILE")$(md5sum <"$SY_UPSTREAM_FILE")" = "$upstream_sum"
check "idle pass: orders count unchanged ($orders)" \
  test "$(pg "$final" "$SY_DATABASE" 'SELECT count(*) FROM orders')" = "$orders"
check "idle pass: still $final primary, $other standby" \
  test "$(in_recovery "$final")/$(in_recovery "$other")" = f/t

it_end
