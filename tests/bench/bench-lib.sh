# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # globals shared with run.sh and the phase files
# Helpers of the benchmark (tests/bench/run.sh), on top of tests/integration/engine/lib.sh
# (the stack's lifecycle, psql helpers, namespaces): samples, manifests, the daemon, one
# measured flip (Switchyard or manual), the HTTP clients and the writer.
#
# Every figure is a sample line "KEY<TAB>UNIT<TAB>VALUE" in $B_SAMPLES; report.sh turns
# them into n / min / median / p90 / max.

B_BIN="$SY_BUILD_DIR/tests/bench"
B_WRITER="$B_BIN/bench_writer"
B_HTTP_CLIENT="$B_BIN/bench_http_client"
B_MANUAL="$IT_ROOT/tests/bench/manual-switch.sh"
B_API_PORT=${BENCH_API_PORT:-19781}
B_API="http://$SY_HOST:$B_API_PORT"
B_SAMPLES="$B_OUT/samples.tsv"
B_FLIPS_LOG="$B_OUT/flips.tsv"  # one line per flip, for people

now_ms() {
  local t=${EPOCHREALTIME/./}
  printf '%s' $((t / 1000))
}

# sample KEY UNIT VALUE
sample() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$B_SAMPLES"; }

blog() { printf '%s bench: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# meta_load PHASE: the machine's load averages when PHASE starts, for the report; the
# sampler (others_start) files what it sees from then on under PHASE.
meta_load() {
  printf '%s\t%s\n' "$1" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$B_OUT/load.tsv"
  printf '%s' "$1" >"$B_OUT/.phase"
}

# others_cpu: the CPU (% of one core, as top counts) that processes outside the benchmark's
# network namespace used over the last second: other people's builds and tests. The load
# average cannot tell those from the benchmark's own servers, wrk and writer.
others_cpu() {
  local mine pid pct sum=0
  mine=$(readlink /proc/self/ns/net)
  while read -r pid pct; do
    [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "$mine" ]] && continue
    sum=$(awk -v a="$sum" -v b="$pct" 'BEGIN { print a + b }')
  done < <(top -b -n 2 -d 1 | awk '/^top -/ { f++ } f == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 > 0 { print $1, $9 }')
  printf '%.0f' "$sum"
}

# others_start: samples others_cpu every 5 s into $B_OUT/others.tsv ("PHASE<TAB>PERCENT")
# while the benchmark runs (only in private namespaces, where "outside" is well defined).
others_start() {
  : >"$B_OUT/others.tsv"
  ((${SY_IT_ISOLATED:-0})) || return 0
  (
    while [[ -f $B_OUT/.phase ]]; do
      printf '%s\t%s\n' "$(cat "$B_OUT/.phase" 2>/dev/null)" "$(others_cpu)" >>"$B_OUT/others.tsv"
      sleep 4
    done
  ) &
  b_others_pid=$!
  it_pids+=("$b_others_pid")
}

other_color() { if [[ $1 == blue ]]; then echo green; else echo blue; fi; }

# --- manifests -----------------------------------------------------------------------------

# manifest_text ACTIVE [PAUSED [CONSENT [REJOIN_METHOD [NAME]]]]: examples/local.yaml for
# this stack, with activeColor, paused, rejoinMethod, the name and, when CONSENT is set, the
# annotation that allows discarding the diverged writes of that incident ("green@tli=...").
manifest_text() {
  local active=$1 paused=${2:-false} discard=${3:-} method=${4:-auto} name=${5:-shop}
  sed -e "s#/tmp/switchyard-local#$SY_DIR#g" \
    -e "s/^\(  activeColor:\) *[a-z]*/\1 $active/" \
    -e "s/^\(  paused:\) *[a-z]*/\1 $paused/" \
    -e "s/^\(    rejoinMethod:\) *[a-z]*/\1 $method/" \
    -e "s/^\(  name:\) *shop$/\1 $name/" \
    "$IT_ROOT/examples/local.yaml" |
    awk -v discard="$discard" '{ print }
      /^  namespace: default$/ && discard != "" {
        print "  annotations:"
        print "    switchyard.dev/allow-discard-diverged-writes: \"" discard "\""
      }'
}

# write_manifest FILE ARGS...: manifest_text ARGS, written atomically (a rename, as git does).
# Sets b_written_ms: epoch ms just before the rename (the change a watcher can see).
write_manifest() {
  local file=$1 tmp
  shift
  tmp="$(dirname "$file")/.$(basename "$file").tmp"
  manifest_text "$@" >"$tmp"
  b_written_ms=$(now_ms)
  mv -f "$tmp" "$file"
}

# --- the daemon ----------------------------------------------------------------------------

# daemon_start LABEL MANIFESTS STATE_DIR [FLAGS...]: switchyard in the background, logging to
# $IT_ART/LABEL.log, API on $B_API_PORT; waits for /readyz (spawn_daemon). Sets b_daemon_pid,
# b_daemon_log, b_state_dir.
daemon_start() {
  local label=$1 manifests=$2 state=$3
  shift 3
  b_daemon_log="$IT_ART/$label.log"
  b_state_dir=$state
  spawn_daemon "$b_daemon_log" "$B_API" --manifests "$manifests" --state-dir "$state" \
    --listen "$SY_HOST:$B_API_PORT" "$@"
  b_daemon_pid=$spawned_pid
}

# daemon_stop: SIGTERM; once the daemon has logged "stopped" it gets 2 s to exit, then SIGKILL
# (a daemon that hangs in exit is reported, but costs the benchmark no more time).
daemon_stop() {
  local pid=$b_daemon_pid
  kill -TERM "$pid" 2>/dev/null || true
  wait_until 30 "the daemon to log stopped" daemon_stopped "$pid" || true
  if ! wait_until 2 "pid $pid to exit" it_pid_gone "$pid"; then
    blog "WARNING: switchyard (pid $pid) logged 'stopped' but did not exit within 2 s: killed"
    sample daemon.hung_at_exit count 1
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  b_daemon_pid=''
}
daemon_stopped() { it_pid_gone "$1" || grep -q ' info  stopped$' "$b_daemon_log"; }

# The resource as the daemon persisted it (read from its state dir: no request to the daemon,
# so watching it costs the daemon nothing).
state_json() { cat "$b_state_dir/objects/default_shop.json" 2>/dev/null; }

converged_on() {
  state_json | jq -e --arg c "$1" '.status.phase == "Converged" and .status.primaryColor == $c and
    .status.servingColor == $c and .status.observedGeneration == .metadata.generation' >/dev/null
}
phase_is() {
  state_json | jq -e --arg p "$1" '.status.phase == $p and
    .status.observedGeneration == .metadata.generation' >/dev/null
}

# rfc3339_ms TIMESTAMP: epoch milliseconds of "2026-11-26T17:30:00.123Z".
rfc3339_ms() { date -u -d "$1" +%s%3N; }

# steps_of LOGFILE: one line per finished step of default/shop in a slice of the daemon's log,
# "NAME START_MS END_MS MS OBSERVE_MS OUTCOME DETAIL" (NAME: the step's kind, e.g. fence;
# START_MS and END_MS: epoch ms of its start and end lines; OBSERVE_MS: the observation that
# preceded it; DETAIL: the step's detail text).
steps_of() {
  TZ=UTC awk '
    function epoch_ms(ts,   s, a, b) {
      s = ts; gsub(/[-T:Z]/, " ", s); split(s, a, " "); split(a[6], b, ".")
      return mktime(a[1] " " a[2] " " a[3] " " a[4] " " a[5] " " b[1]) * 1000 + b[2]
    }
    / step resource=default\/shop / {
      name = $0; sub(/.* step="/, "", name); sub(/[ "].*/, "", name)
      outcome = $0; sub(/.* outcome=/, "", outcome); sub(/ .*/, "", outcome)
      if (outcome == "started") {
        start = epoch_ms($1)
        obs = $0; sub(/.* observe_ms=/, "", obs); sub(/ .*/, "", obs)
      } else {
        ms = $0; sub(/.* ms=/, "", ms); sub(/ .*/, "", ms)
        detail = ""
        if (index($0, " detail=\"")) { detail = $0; sub(/.* detail="/, "", detail); sub(/"$/, "", detail) }
        printf "%s %.0f %.0f %d %d %s %s\n", name, start, epoch_ms($1), ms, obs, outcome, detail
      }
    }' "$1"
}

# --- the writer ----------------------------------------------------------------------------

# writer_start: bench_writer through the apps' multi-host connection string, one INSERT every
# $BENCH_WRITER_MS ms, acknowledgements in $IT_ART/acks.txt.
writer_start() {
  b_acks="$IT_ART/acks.txt"
  "$B_WRITER" --conninfo "$SY_APP_CONNINFO" --acks "$b_acks" --interval-ms "${BENCH_WRITER_MS:-5}" \
    >"$IT_ART/writer.out" 2>"$IT_ART/writer.err" </dev/null &
  b_writer_pid=$!
  it_pids+=("$b_writer_pid")
  wait_until 20 "the writer's first acknowledged commit" test -s "$b_acks" ||
    fatal "the writer commits nothing: $(cat "$IT_ART/writer.err")"
}

writer_stop() {
  kill -TERM "$b_writer_pid" 2>/dev/null || true
  wait "$b_writer_pid" 2>/dev/null || true
}

last_ack_ms() { tail -n 1 "$b_acks" | awk '{ printf "%.0f", $2 / 1000 }'; }
acked_after() { (($(last_ack_ms) > $1)); }

# longest_gap FROM_MS TO_MS: the longest time between two consecutive acknowledged commits
# among the pairs that overlap [FROM_MS, TO_MS]: the write outage a client saw.
longest_gap() {
  awk -v from="$1" -v to="$2" '{
      t = $2 / 1000
      if (prev != "" && t >= from && prev <= to && t - prev > max) max = t - prev
      prev = t
    } END { printf "%.0f\n", max }' "$b_acks"
}

# verify_writes COLOR PREFIX: every acknowledged id is in bench_writes on COLOR; records
# PREFIX.lost_writes and PREFIX.acked_writes. A loss is reported loudly and fails the benchmark.
verify_writes() {
  local color=$1 key=$2.lost_writes out rc=0 acked missing
  out=$("$B_WRITER" --verify "$b_acks" --conninfo "host=$SY_HOST port=${SY_PG_PORT[$color]} \
dbname=$SY_DATABASE user=$SY_SUPERUSER") || rc=$?
  acked=$(sed -n 's/^acked=\([0-9]*\).*/\1/p' <<<"$out")
  missing=$(sed -n 's/.* missing=\([0-9]*\).*/\1/p' <<<"$out")
  if ((rc == 2)) || [[ -z $missing ]]; then
    fatal "could not verify the acknowledged writes on $color: $out"
  fi
  sample "$key" count "$missing"
  sample "$2.acked_writes" count "$acked"
  if ((missing > 0)); then
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
    printf '!!! LOST ACKNOWLEDGED WRITES: %s of %s acknowledged commits are not on %s\n' "$missing" "$acked" "$color"
    printf '!!! %s\n' "$out"
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n'
    fail "acknowledged writes lost ($key): $missing of $acked"
  else
    pass "no acknowledged write lost ($key): all $acked acknowledged commits are on $color"
  fi
}

# --- HTTP clients --------------------------------------------------------------------------

# clients_start LOAD: the connection-per-request client always (one request every 10 ms);
# with LOAD=1 also wrk with $BENCH_WRK_CONNECTIONS keep-alive connections, unthrottled.
clients_start() {
  b_load=$1
  "$B_HTTP_CLIENT" --host "$SY_HOST" --port "$SY_NGINX_PORT" --interval-ms 10 \
    --log "$IT_ART/http-client.errors" >"$IT_ART/http-client.json" 2>&1 </dev/null &
  b_client_pid=$!
  it_pids+=("$b_client_pid")
  b_wrk_pid=''
  if ((b_load)); then
    wrk -t 2 -c "${BENCH_WRK_CONNECTIONS:-50}" -d 300s "http://$SY_HOST:$SY_NGINX_PORT/" \
      >"$IT_ART/wrk.out" 2>&1 </dev/null &
    b_wrk_pid=$!
    it_pids+=("$b_wrk_pid")
  fi
}

# clients_stop PREFIX: stops them (SIGINT: both print their counters) and records
# PREFIX.http.* samples.
clients_stop() {
  local prefix=$1 j
  kill -INT "$b_client_pid" 2>/dev/null || true
  [[ -z $b_wrk_pid ]] || kill -INT "$b_wrk_pid" 2>/dev/null || true
  wait "$b_client_pid" 2>/dev/null || true
  [[ -z $b_wrk_pid ]] || wait "$b_wrk_pid" 2>/dev/null || true
  j=$(tail -n 1 "$IT_ART/http-client.json")
  sample "$prefix.http.cpr.requests" count "$(jq '.requests' <<<"$j")"
  sample "$prefix.http.cpr.non2xx" count "$(jq '.non2xx' <<<"$j")"
  sample "$prefix.http.cpr.socket_errors" count \
    "$(jq '.connect_errors + .write_errors + .read_errors + .timeouts' <<<"$j")"
  if [[ -n $b_wrk_pid ]]; then
    local out=$IT_ART/wrk.out requests non2xx errors
    requests=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$out")
    non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$out")
    # "Socket errors: connect 0, read 23, write 0, timeout 0" (absent when there were none)
    errors=$(sed -n 's/^ *Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$out" |
      awk '{ print $1 + $2 + $3 + $4 }')
    [[ -n $requests ]] || fatal "wrk printed no summary: $(tail -n 5 "$out")"
    sample "$prefix.http.wrk.requests" count "$requests"
    sample "$prefix.http.wrk.non2xx" count "${non2xx:-0}"
    sample "$prefix.http.wrk.socket_errors" count "${errors:-0}"
    cp -f "$out" "$IT_ART/wrk-last.out"
  fi
}

# --- one flip ------------------------------------------------------------------------------

# consent_asked_for COLOR: the Ready condition asks for consent to discard COLOR's diverged
# writes; sets b_consent to the value it gives (the incident).
consent_asked_for() {
  b_consent=$(state_json | jq -r '.status.conditions[]? | select(.type == "Ready") | .message' |
    grep -o "annotate switchyard.dev/allow-discard-diverged-writes=$1@[^ ]*" | sed 's/.*=//')
  [[ -n $b_consent ]]
}

# flip_switchyard PREFIX TO [DISCARD_COLOR [REJOIN_METHOD]]: writes the manifest with
# activeColor TO and waits for Converged. With DISCARD_COLOR, acts as the operator: once
# SplitBrain asks for consent to discard that color's diverged writes, annotates the
# manifest with the incident it names (the wait for that is part of total_ms). Records PREFIX.total_ms (manifest written ->
# status.lastSwitchover.finishedAt: the pass that saw the old primary streaming again),
# .detect_ms (-> first step started), .steps.NAME_ms, .between_steps_ms (observation and
# planning between steps), .stream_wait_ms (last step done -> finishedAt), .window_status_ms
# (status.lastSwitchover.writeUnavailableMs). Sets flip_t0, flip_t1 (epoch ms), flip_steps.
flip_switchyard() {
  local prefix=$1 to=$2 discard=${3:-} method=${4:-auto}
  local mark json finished first last_end gaps
  mark=$(wc -l <"$b_daemon_log")
  write_manifest "$b_manifest" "$to" false "" "$method"
  flip_t0=$b_written_ms
  if [[ -n $discard ]]; then
    wait_until 180 "SplitBrain to ask for consent for $discard" consent_asked_for "$discard" ||
      fatal "$prefix: no consent for $discard's diverged writes was asked for"
    write_manifest "$b_manifest" "$to" false "$b_consent" "$method"
  fi
  if ! wait_until 180 "Converged on $to" converged_on "$to"; then
    state_json | jq '.status' | sed 's/^/    | /'
    tail -n +"$((mark + 1))" "$b_daemon_log" | tail -n 20 | sed 's/^/    | /'
    fatal "$prefix: the flip to $to did not converge"
  fi
  json=$(state_json)
  finished=$(jq -r --arg c "$to" '.status.lastSwitchover | select(.to == $c) | .finishedAt // ""' <<<"$json")
  flip_t1=$(now_ms)
  [[ -z $finished ]] || flip_t1=$(rfc3339_ms "$finished")
  tail -n +"$((mark + 1))" "$b_daemon_log" >"$IT_ART/flip.log"
  flip_steps=$(steps_of "$IT_ART/flip.log")
  if grep -q ' outcome=error' "$IT_ART/flip.log"; then
    blog "WARNING: $prefix: a step failed during the flip (counted as is):"
    grep ' outcome=error' "$IT_ART/flip.log" | sed 's/^/    | /'
    sample "$prefix.step_errors" count "$(grep -c ' outcome=error' "$IT_ART/flip.log")"
  fi
  sample "$prefix.total_ms" ms $((flip_t1 - flip_t0))
  first=$(awk 'NR == 1 { print $2 }' <<<"$flip_steps")
  [[ -z $first ]] || sample "$prefix.detect_ms" ms $((first - flip_t0))
  local name start end ms obs outcome detail fence_end=''
  gaps=0
  last_end=''
  while read -r name start end ms obs outcome detail; do
    [[ -n $name ]] || continue
    sample "$prefix.steps.${name}_ms" ms "$ms"
    sample "$prefix.observe_ms" ms "$obs"
    [[ -z $last_end ]] || gaps=$((gaps + start - last_end))
    last_end=$end
    step_details "$prefix.steps.$name" "$detail"
    [[ $name != fence ]] || fence_end=$end
    # The pass between the fence and the promotion lies inside the write window.
    [[ $name != promote || -z $fence_end ]] || sample "$prefix.fence_to_promote_ms" ms $((start - fence_end))
  done <<<"$flip_steps"
  sample "$prefix.between_steps_ms" ms "$gaps"
  [[ -z $last_end ]] || sample "$prefix.stream_wait_ms" ms $((flip_t1 - last_end))
  local wu
  wu=$(jq -r --arg c "$to" '.status.lastSwitchover | select(.to == $c) | .writeUnavailableMs // empty' <<<"$json")
  [[ -z $wu || $wu == 0 ]] || sample "$prefix.window_status_ms" ms "$wu"
  printf '%s\tswitchyard\t%s\ttotal=%s\tsteps=%s\n' "$prefix" "$to" $((flip_t1 - flip_t0)) \
    "$(awk '{ printf "%s%s:%s", (NR > 1 ? "," : ""), $1, $4 }' <<<"$flip_steps")" >>"$B_FLIPS_LOG"
}

# step_details KEY DETAIL: the parts of a step that its detail text times, as KEY.PART_ms:
#   fence:          "fenced blue (checkpoint 12 ms, fast shutdown 40 ms)"
#   promote:        "promoted green (writable after 35 ms), checkpoint 20 ms"
#   switch-traffic: "...; nginx -t 6 ms; reloaded: blue served after 104 ms, 2 old workers
#                   retired after 104 ms; 128 ms in all)"
step_details() {
  local key=$1 detail=$2 v
  v=$(sed -n 's/.*(checkpoint \([0-9]*\) ms, fast shutdown \([0-9]*\) ms).*/\1 \2/p' <<<"$detail")
  [[ -z $v ]] || { sample "$key.checkpoint_ms" ms "${v% *}"; sample "$key.shutdown_ms" ms "${v#* }"; }
  v=$(sed -n 's/.*(writable after \([0-9]*\) ms).*/\1/p' <<<"$detail")
  [[ -z $v ]] || sample "$key.writable_ms" ms "$v"
  v=$(sed -n 's/.*writable after [0-9]* ms), checkpoint \([0-9]*\) ms.*/\1/p' <<<"$detail")
  [[ -z $v ]] || sample "$key.checkpoint_ms" ms "$v"
  v=$(sed -n 's/.*nginx -t \([0-9]*\) ms.*served after \([0-9]*\) ms.*retired after \([0-9]*\) ms.*/\1 \2 \3/p' <<<"$detail")
  if [[ -n $v ]]; then
    read -r a b c <<<"$v"
    sample "$key.nginx_t_ms" ms "$a"
    sample "$key.served_after_reload_ms" ms "$b"
    sample "$key.retired_after_reload_ms" ms "$c"
  fi
}

# pause_daemon COLOR / resume_daemon COLOR: while the manual procedure runs, the controller
# only observes (paused: true); afterwards it is told the color the manual switch made live,
# which must then be Converged without any step.
pause_daemon() {
  write_manifest "$b_manifest" "$1" true
  wait_until 30 "the controller to report Paused" phase_is Paused || fatal "the controller did not pause"
}
resume_daemon() {
  local mark
  mark=$(wc -l <"$b_daemon_log")
  write_manifest "$b_manifest" "$1" false
  wait_until 60 "Converged on $1 after the manual switch" converged_on "$1" ||
    fatal "the controller is not Converged on $1 after the manual switch: $(state_json | jq -c '.status.conditions')"
  if tail -n +"$((mark + 1))" "$b_daemon_log" | grep -q ' step resource=default/shop '; then
    blog "WARNING: the controller took a step after the manual switch to $1:"
    tail -n +"$((mark + 1))" "$b_daemon_log" | grep ' step resource=' | sed 's/^/    | /'
  fi
}

# flip_manual PREFIX FROM TO: tests/bench/manual-switch.sh with the controller paused. Records
# PREFIX.total_ms and PREFIX.steps.NAME_ms. Sets flip_t0, flip_t1.
flip_manual() {
  local prefix=$1 from=$2 to=$3 out
  pause_daemon "$from"
  if ! out=$(bash "$B_MANUAL" "$from" "$to" 2>&1); then
    printf '%s\n' "$out" | sed 's/^/    | /'
    fatal "$prefix: the manual switch $from -> $to failed"
  fi
  printf '%s\n' "$out" >"$IT_ART/manual.out"
  flip_t0=$(($(sed -n 's/.*start_us=\([0-9]*\).*/\1/p' <<<"$out") / 1000))
  flip_t1=$(($(sed -n 's/.*end_us=\([0-9]*\).*/\1/p' <<<"$out") / 1000))
  sample "$prefix.total_ms" ms $((flip_t1 - flip_t0))
  local name ms
  while read -r name ms; do
    sample "$prefix.steps.${name}_ms" ms "$ms"
  done < <(sed -n 's/^manual-switch: step=\([^ ]*\) ms=\([0-9]*\)$/\1 \2/p' <<<"$out")
  printf '%s\tmanual\t%s\ttotal=%s\tsteps=%s\n' "$prefix" "$to" $((flip_t1 - flip_t0)) \
    "$(sed -n 's/^manual-switch: step=\([^ ]*\) ms=\([0-9]*\)$/\1:\2/p' <<<"$out" | paste -sd,)" \
    >>"$B_FLIPS_LOG"
  resume_daemon "$to"
}
