# shellcheck shell=bash
# shellcheck disable=SC2154  # IT_*, MH_*, SY_* and it_pids come from the stack libraries
# shellcheck disable=SC2317  # the phases' hooks (b_declare, b_status, b_verify) are called indirectly
# The two phases of hack/bench-multihost.sh, each run as its own process (the engine's and the
# multi-host test libraries define the same names):
#   bench_single OUT  the local stack (hack/local-up.sh) in private network and mount
#                     namespaces (tests/integration/engine/lib.sh re-executes the script under
#                     unshare), the daemon on it, BENCH_FLIPS flips under the ledger writer
#   bench_multi OUT   the multi-host stack (hack/multihost-up.sh: agents and the controller)
#                     under MULTIHOST_PREFIX, BENCH_FLIPS flips under the ledger writer from cli,
#                     then the agent calls: the controller's histogram and direct calls from ctl
# Both flip the same way: spec.activeColor applied through the API with yardctl, the status
# read through the API until Converged on the new color. Every figure is a sample line
# "KEY<TAB>UNIT<TAB>VALUE" in OUT/samples.tsv; OUT/.mine gets the network namespaces (inodes)
# of the phase, so that the CPU sampler can tell the benchmark's processes from the others'.

b_now_ms() {
  local t=${EPOCHREALTIME/./}
  printf '%s' $((t / 1000))
}
b_sample() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$B_OUT/samples.tsv"; }
b_log() { printf '%s bench-multihost: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
b_other() { if [[ $1 == blue ]]; then echo green; else echo blue; fi; }

# The phase's hooks, set by bench_single and bench_multi:
#   b_declare COLOR   applies spec.activeColor = COLOR through the API (returns at once)
#   b_status          the resource as the API has it (JSON)
#   b_verify FILE     bench_writer --verify FILE against the current primary
b_converged_on() {
  b_status | jq -e --arg c "$1" '.status.phase == "Converged" and .status.primaryColor == $c
    and .status.servingColor == $c and .status.observedGeneration == .metadata.generation' >/dev/null
}

# b_gap FROM_MS TO_MS: the longest time between two consecutive acknowledged commits among the
# pairs that overlap [FROM_MS, TO_MS] (the write window a client saw), as bench.sh measures it.
b_gap() {
  sort -k2,2n "$b_acks" | awk -v from="$1" -v to="$2" '{
      t = $2 / 1000
      if (prev != "" && t >= from && prev <= to && t - prev > max) max = t - prev
      prev = t
    } END { printf "%.0f\n", max }'
}
b_acks_between() { awk -v from="$1" -v to="$2" '$2 / 1000 >= from && $2 / 1000 <= to { n++ } END { print n + 0 }' "$b_acks"; }
b_last_ack_ms() { sort -k2,2n "$b_acks" | tail -n 1 | awk '{ printf "%.0f", $2 / 1000 }'; }
b_acked_after() { (($(b_last_ack_ms) > $1)); }

# b_missing: how many acknowledged ids so far are not on the primary (a snapshot of the acks).
b_missing() {
  local out
  cp -f "$b_acks" "$b_acks.snap"
  out=$(b_verify "$b_acks.snap" 2>&1) || true
  sed -n 's/.* missing=\([0-9]*\).*/\1/p' <<<"$out" | head -n 1
}

# b_flip PREFIX N TO: one measured flip. Records PREFIX.total_ms (declared -> the
# lastSwitchover's finishedAt, the pass that saw Converged on TO), .seen_ms (declared -> the API
# read Converged, polled every 50 ms), .write_gap_ms (the ledger), .window_status_ms (what the
# status reports), .acked_writes (acknowledged during the flip) and .lost_writes.
b_flip() {
  local prefix=$1 n=$2 to=$3 t0 t_seen t1 json finished gap missing
  t0=$(b_now_ms)
  b_declare "$to" || fatal "$prefix flip $n: applying activeColor $to failed"
  if ! wait_until "${BENCH_FLIP_TIMEOUT_S:-120}" "flip $n to converge on $to" b_converged_on "$to"; then
    b_status | jq '.status' | sed 's/^/    | /'
    fatal "$prefix flip $n: not Converged on $to within ${BENCH_FLIP_TIMEOUT_S:-120} s"
  fi
  t_seen=$(b_now_ms)
  json=$(b_status)
  finished=$(jq -r --arg c "$to" '.status.lastSwitchover | select(.to == $c) | .finishedAt // ""' <<<"$json")
  t1=$t_seen
  [[ -z $finished ]] || t1=$(date -u -d "$finished" +%s%3N)
  wait_until 20 "an acknowledged commit after flip $n" b_acked_after "$t_seen" ||
    fatal "$prefix flip $n: the writer commits nothing after the flip to $to"
  gap=$(b_gap "$t0" "$t1")
  missing=$(b_missing)
  [[ -n $missing ]] || fatal "$prefix flip $n: could not verify the acknowledged writes"
  b_sample "$prefix.total_ms" ms $((t1 - t0))
  b_sample "$prefix.seen_ms" ms $((t_seen - t0))
  b_sample "$prefix.write_gap_ms" ms "$gap"
  b_sample "$prefix.window_status_ms" ms "$(jq -r '.status.lastSwitchover.writeUnavailableMs // empty' <<<"$json")"
  b_sample "$prefix.acked_writes" count "$(b_acks_between "$t0" "$t1")"
  b_sample "$prefix.lost_writes" count $((missing - b_lost_so_far))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$prefix" "$n" "$to" $((t1 - t0)) $((t_seen - t0)) "$gap" \
    $((missing - b_lost_so_far)) >>"$B_OUT/flips.tsv"
  b_lost_so_far=$missing
  b_log "$prefix flip $n -> $to: $((t1 - t0)) ms to Converged (seen after $((t_seen - t0))), write window $gap ms, lost so far $missing"
  sleep "${BENCH_SETTLE_S:-1}"
}

# b_flips PREFIX: BENCH_FLIPS flips from blue, alternately, the ledger writer running.
b_flips() {
  local prefix=$1 i color=blue
  b_lost_so_far=0
  printf '%s' "$prefix" >"$B_OUT/.phase"
  for ((i = 1; i <= ${BENCH_FLIPS:-10}; i++)); do
    color=$(b_other "$color")
    b_flip "$prefix" "$i" "$color"
  done
  rm -f "$B_OUT/.phase"
}

b_writer_done() {
  local out=$1 w
  w=$(tail -n 1 "$out" 2>/dev/null)
  b_sample "$2.writer.refused" count "$(jq '.failed + .connect_failures' <<<"$w" 2>/dev/null || echo 0)"
  b_sample "$2.writer.acked_total" count "$(wc -l <"$b_acks")"
}

# --- single host ---------------------------------------------------------------------------

# bench_single: call after sourcing tests/integration/engine/lib.sh at the top level (its
# declare -A must not become a function's locals).
bench_single() {
  it_begin bench-single
  readlink /proc/self/ns/net | tr -dc '0-9' >>"$B_OUT/.mine"
  echo >>"$B_OUT/.mine"
  local api="http://$SY_HOST:${BENCH_API_PORT:-19791}" token="$IT_STATE/token"
  local path=/apis/switchyard.dev/v1alpha1/namespaces/default/deploymentcolors/shop
  mkdir -p "$IT_STATE"
  spawn_daemon "$IT_ART/daemon.log" "$api" --state-dir "$IT_STATE" --listen "$SY_HOST:${BENCH_API_PORT:-19791}"
  b_declare() {
    sed "s/^  activeColor: .*/  activeColor: $1/" "$IT_MANIFEST" >"$IT_WORK/shop-$1.yaml"
    "$IT_YARDCTL" --server "$api" --token-file "$token" apply -f "$IT_WORK/shop-$1.yaml" >/dev/null
  }
  b_status() { curl -fsS -m 2 -H "Authorization: Bearer $(<"$token")" "$api$path"; }
  b_verify() {
    "$SY_BUILD_DIR/tests/bench/bench_writer" --conninfo "$SY_APP_CONNINFO" --verify "$1"
  }
  b_declare blue || fatal "yardctl apply of the manifest"
  wait_until 60 "Converged on blue" b_converged_on blue || fatal "the daemon did not converge on blue"
  "$SY_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SY_HOST" -p "${SY_PG_PORT[blue]}" -U "$SY_SUPERUSER" \
    -d "$SY_DATABASE" -c 'CREATE TABLE IF NOT EXISTS bench_writes (id bigint PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now())' >/dev/null || fatal "creating bench_writes on blue"
  b_acks="$IT_ART/acks.txt"
  : >"$b_acks"
  "$SY_BUILD_DIR/tests/bench/bench_writer" --conninfo "$SY_APP_CONNINFO" --acks "$b_acks" \
    --interval-ms "${BENCH_WRITER_MS:-5}" >"$IT_ART/writer.out" 2>"$IT_ART/writer.err" </dev/null &
  local writer=$!
  it_pids+=("$writer")
  wait_until 20 "the writer's first acknowledgement" test -s "$b_acks" || fatal "the writer commits nothing"
  sleep 1
  b_flips single
  kill -TERM "$writer" 2>/dev/null || true
  wait "$writer" 2>/dev/null || true
  b_writer_done "$IT_ART/writer.out" single
  it_end
}

# --- several hosts ---------------------------------------------------------------------------

# b_metrics FILE: the controller's /metrics, read from cli.
b_metrics() {
  mh_client cli curl -fsS -m 5 -H "Authorization: Bearer $(<"$MH_CLI_TOKEN")" "$MH_API/metrics" >"$1"
}

# b_agent_calls NAME URL [BODY_FILE]: BENCH_AGENT_CALLS + 1 sequential requests from ctl with
# the controller's certificate, in ONE curl (one connection cache: a connection is reused as
# long as the agent keeps it open). The first is the warm-up (TCP + TLS handshake) and is not
# counted (.first_ms). Records agent.direct.NAME.ms per request, .reconnects (new connections
# after the first) and .ms_reused (requests on a reused connection only); the last reply must
# be the agent's, code OK.
b_agent_calls() {
  local name=$1 url=$2 body=${3:-} tls cfg="$B_OUT/curl-$1.cfg" i
  tls="$(mh_host_dir ctl)/tls"
  : >"$cfg"
  for ((i = 0; i <= ${BENCH_AGENT_CALLS:-200}; i++)); do
    {
      ((i == 0)) || echo next
      printf 'url = "%s"\ncert = "%s"\nkey = "%s"\ncacert = "%s"\noutput = "%s"\nsilent\n' \
        "$url" "$tls/controller-ctl.crt" "$tls/controller-ctl.key" "$tls/ca.crt" "$B_OUT/agent-$name.reply.json"
      printf 'write-out = "%%{time_total} %%{num_connects} %%{http_code}\\n"\n'
      if [[ -n $body ]]; then
        printf 'data-binary = "@%s"\nheader = "Content-Type: application/json"\n' "$body"
      fi
    } >>"$cfg"
  done
  mh_client ctl curl -K "$cfg" >"$B_OUT/agent-$name.txt" 2>"$B_OUT/agent-$name.err" ||
    fatal "curl from ctl to $url: $(head -c 300 "$B_OUT/agent-$name.err")"
  local bad
  bad=$(awk '$3 != 200' "$B_OUT/agent-$name.txt" | wc -l)
  ((bad == 0)) || fatal "$bad of the direct $name calls were not answered 200: $(awk '$3 != 200' "$B_OUT/agent-$name.txt" | head -n 3)"
  jq -e '(.code // "OK") == "OK" and (.agent.id // .id // "") != ""' "$B_OUT/agent-$name.reply.json" >/dev/null ||
    fatal "the direct $name calls are not answered as they should: $(head -c 300 "$B_OUT/agent-$name.reply.json")"
  awk -v n="$name" '
    NR == 1 { printf "agent.direct.%s.first_ms\tms\t%.3f\n", n, $1 * 1000; next }
    { printf "agent.direct.%s.ms\tms\t%.3f\n", n, $1 * 1000 }
    $2 == 0 { printf "agent.direct.%s.ms_reused\tms\t%.3f\n", n, $1 * 1000 }' \
    "$B_OUT/agent-$name.txt" >>"$B_OUT/samples.tsv"
  b_sample "agent.direct.$name.reconnects" count "$(awk 'NR > 1 && $2 > 0' "$B_OUT/agent-$name.txt" | wc -l)"
}

# bench_multi: call after sourcing tests/integration/multihost/lib.sh at the top level, with
# MULTIHOST_AGENTS=1 MULTIHOST_CONTROLLER=1.
bench_multi() {
  mh_begin bench-multi
  local host
  for host in sw "${MH_HOSTS[@]}"; do
    stat -c %i "/run/netns/$(mh_ns "$host")" >>"$B_OUT/.mine"
  done
  require "the controller converges on blue through the agents" \
    wait_until 60 "Converged on blue" mh_converged_on blue
  b_declare() { mh_declare "$1"; }
  b_status() { mh_status; }
  b_verify() { "${IT_CLIENT[@]}" "$MH_WRITER" --conninfo "$MH_APP_CONNINFO" --verify "$1"; }
  start_ledger
  b_acks="$IT_ART/acks.txt"
  sleep 1
  b_metrics "$B_OUT/metrics-before.txt" || fatal "reading $MH_API/metrics from cli"
  b_flips multi
  b_metrics "$B_OUT/metrics-after.txt" || fatal "reading $MH_API/metrics from cli"
  stop_ledger
  b_writer_done "$IT_ART/writer.out" multi

  # Direct calls from ctl, the controller's host, with its certificate: GET /v1/info (the
  # transport alone) and a read-only POST /v1/observe of blue's database on dbb (what each
  # pass asks: the agent observes its PostgreSQL).
  printf 'agents' >"$B_OUT/.phase"
  local info era rev
  info=$(mh_client ctl curl -fsS -m 5 --cert "$(mh_host_dir ctl)/tls/controller-ctl.crt" \
    --key "$(mh_host_dir ctl)/tls/controller-ctl.key" --cacert "$(mh_host_dir ctl)/tls/ca.crt" \
    "https://${MH_ADDR[dbb]}:$MH_AGENT_PORT/v1/info") || fatal "GET /v1/info of dbb's agent from ctl"
  era=$(jq -r '.highest.era // .agent.highest.era // empty' <<<"$info")
  rev=$(jq -r '.highest.rev // .agent.highest.rev // empty' <<<"$info")
  [[ -n $era && -n $rev ]] || fatal "no era/rev in dbb's /v1/info: $info"
  mh_status | jq -c --arg era "$era" --arg rev "$rev" \
    '{epoch: {era: $era, rev: $rev}, leader: "bench-multihost", readonly: true,
      object: ., machine: "blue", wait_ms: 1000}' >"$B_OUT/observe-blue.json"
  b_agent_calls info "https://${MH_ADDR[dbb]}:$MH_AGENT_PORT/v1/info"
  b_agent_calls observe "https://${MH_ADDR[dbb]}:$MH_AGENT_PORT/v1/observe" "$B_OUT/observe-blue.json"
  rm -f "$B_OUT/.phase"
  mh_keep_logs  # the controller's and the agents' logs, PostgreSQL's and nginx's
  mh_end
}
