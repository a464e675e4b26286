# shellcheck shell=bash
# shellcheck disable=SC2154  # it_name, it_pids, IT_ART, IT_WORK are lib.sh's
# Part of tests/integration/multihost/lib.sh, which sources it: the controller and the agents
# of the multi-host stack, seen from the tests. Flips through the API from cli (yardctl
# apply), the resource's status, the ledger writer (tests/bench/writer.cc: one commit every
# 5 ms through the two-host connection string, each acknowledged id recorded) and the
# invariants read from the agents' audit logs (lib/audit_check.py).

MH_WRITER="$SY_BUILD_DIR/tests/bench/bench_writer"

# mh_status: the resource as the API has it (JSON), or nothing.
mh_status() { mh_yardctl get dc shop -o json 2>/dev/null; }

# mh_converged_on COLOR: Converged on COLOR for the current generation (primary and traffic).
mh_converged_on() {
  mh_status | jq -e --arg c "$1" '.status.phase == "Converged"
    and .status.primaryColor == $c and .status.servingColor == $c
    and .status.observedGeneration == .metadata.generation' >/dev/null
}

# mh_condition_says TEXT: the Ready condition's reason or message contains TEXT.
mh_condition_says() {
  mh_status | jq -e --arg t "$1" '.status.conditions[]? | select(.type == "Ready")
    | ((.reason // "") + " " + (.message // "")) | contains($t)' >/dev/null
}

# mh_declare COLOR: spec.activeColor = COLOR, applied from cli (returns at once).
mh_declare() {
  local manifest="$IT_WORK/shop-$1.yaml"
  sed "s/^  activeColor: .*/  activeColor: $1/" "$MH_DIR/shop.yaml" >"$manifest"
  mh_yardctl apply -f "$manifest" >/dev/null
}

# mh_flip COLOR [SECONDS]: declares COLOR and waits until the resource converged on it.
mh_flip() {
  local color=$1 limit=${2:-60}
  mh_declare "$color" || return 1
  wait_until "$limit" "shop to converge on $color across hosts" mh_converged_on "$color"
}

# start_ledger: the ledger writer in cli (its table made on blue first).
start_ledger() {
  [[ -x $MH_WRITER ]] || fatal "$MH_WRITER is missing: build the bench_writer target"
  host_psql dbb "$SY_DATABASE" 'CREATE TABLE IF NOT EXISTS bench_writes (id bigint PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now())' >/dev/null || fatal "creating bench_writes on blue"
  : >"$IT_ART/acks.txt"
  "${IT_CLIENT[@]}" "$MH_WRITER" --conninfo "$MH_APP_CONNINFO" --acks "$IT_ART/acks.txt" \
    --interval-ms 5 >"$IT_ART/writer.out" 2>"$IT_ART/writer.err" &
  ledger_pid=$!
  it_pids+=("$ledger_pid")
  wait_until 20 "the ledger writer's first acknowledgements" ledger_acks_over 20 ||
    fatal "the ledger writer gets no acknowledgement (see $IT_ART/writer.err)"
}
ledger_acks() { wc -l <"$IT_ART/acks.txt" 2>/dev/null || echo 0; }
ledger_acks_over() { (($(ledger_acks) > $1)); }
stop_ledger() {
  kill -TERM "$ledger_pid" 2>/dev/null || true
  wait_until 10 "the ledger writer to stop" it_pid_gone "$ledger_pid" || kill -9 "$ledger_pid" 2>/dev/null
  wait "$ledger_pid" 2>/dev/null || true
}

# check_ledger: every acknowledged id is on the primary (the writer connects to whichever
# server takes writes); prints the count.
check_ledger() {
  local out
  if out=$("${IT_CLIENT[@]}" "$MH_WRITER" --conninfo "$MH_APP_CONNINFO" --verify "$IT_ART/acks.txt" 2>&1); then
    pass "ledger writer: no acknowledged write lost ($out)"
  else
    fail "ledger writer: acknowledged writes LOST: $out"
  fi
}

# ledger_gap FROM_MS TO_MS: the longest time between two acknowledged commits overlapping
# [FROM_MS, TO_MS] (epoch ms): the write window a client saw.
ledger_gap() {
  sort -k2,2n "$IT_ART/acks.txt" | awk -v from="$1" -v to="$2" '{
      t = $2 / 1000
      if (prev != "" && t >= from && prev <= to && t - prev > max) max = t - prev
      prev = t
    } END { printf "%d\n", max }'
}

# audit_logs: HOST=PATH of every agent's audit log (as the root namespace sees it).
audit_logs() {
  local host
  for host in "${MH_AGENT_HOSTS[@]}"; do
    printf '%s=%s\n' "$host" "$(mh_path "$host" "$MH_AGENT_STATE/audit.jsonl")"
  done
}

# check_audit [MIN_STALE]: no irreversible act under a stale epoch, epochs never going back,
# no operation run twice (lib/audit_check.py over every agent's audit log); with MIN_STALE,
# at least that many calls refused as STALE_EPOCH (the scenario provoked them).
check_audit() {
  local min_stale=${1:-0} out stale logs
  mapfile -t logs < <(audit_logs)
  if out=$(/usr/bin/python3 "$IT_MH_LIB/audit_check.py" "${logs[@]}" 2>&1); then
    pass "agents' audit logs: $out"
  else
    fail "agents' audit logs: $out"
  fi
  local log
  for log in "${logs[@]}"; do
    cp -f "${log#*=}" "$IT_ART/audit-${log%%=*}.jsonl" 2>/dev/null || true
  done
  if ((min_stale > 0)); then
    stale=$(grep -o 'refused STALE_EPOCH [0-9]*' <<<"$out" | grep -o '[0-9]*$' || echo 0)
    check "at least $min_stale call(s) refused as STALE_EPOCH (got ${stale:-0})" test "${stale:-0}" -ge "$min_stale"
  fi
}
