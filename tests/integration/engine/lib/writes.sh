# shellcheck shell=bash
# shellcheck disable=SC2154  # it_name is lib.sh's
# Part of tests/integration/engine/lib.sh, which sources it: write traffic through nginx.
# start_writer POSTs orders back to back into $IT_ART/writes.log; the rest counts what was
# acknowledged or refused, measures the longest gap between acknowledgements, and checks
# that every acknowledged order is on a given server.

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
      r=$("${IT_CLIENT[@]}" curl -s -m 5 -w '\n' -X POST "$IT_NGINX_URL/orders" -d "note=$it_name-$i" \
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
    } | "${IT_CLIENT[@]}" "$SY_PG_BIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "${IT_PG_HOST[$color]}" \
      -p "${IT_PG_PORT[$color]}" -U "$SY_SUPERUSER" -d "$SY_DATABASE" 2>&1
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
