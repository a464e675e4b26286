#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Switchyard's metrics through a real Prometheus (Debian's prometheus package), on the real
# local stack: Prometheus runs on 127.0.0.1 with a temporary config that scrapes the daemon
# every second and loads manifests/prometheus-rules.yaml, and a temporary storage directory.
#   1. flip blue -> green: Prometheus's HTTP API shows switchyard_switchover_total increased,
#      switchyard_drift == 0 for every component, the write window and the steps;
#   2. pause the resource and point nginx back at blue behind Switchyard's back: Prometheus
#      shows switchyard_drift{component="traffic"} == 1 with its onset in
#      switchyard_drift_since_timestamp_seconds (the Drifted condition's lastTransitionTime),
#      SwitchyardDrift pending, and Switchyard leaves the world alone;
#   3. every expression of manifests/grafana-dashboard.json and of the rules evaluates without
#      error against that Prometheus; the rules are loaded and healthy; `promtool check
#      metrics` passes on the daemon's live /metrics.
# Everything (daemon, Prometheus, the stack) is stopped and removed at the end, whatever
# happens (the engine tests' lib.sh trap).
set -uo pipefail
export SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-it-prom}
export SY_IT_API_PORT=${SY_IT_API_PORT:-19771}
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../engine/lib.sh"

PROMETHEUS=${SY_PROMETHEUS:-/usr/bin/prometheus}
PROMTOOL=${SY_PROMTOOL:-/usr/bin/promtool}
RULES="$IT_ROOT/manifests/prometheus-rules.yaml"
DASHBOARD="$IT_ROOT/manifests/grafana-dashboard.json"
SEL='resource="default/shop"'

# --- Prometheus ------------------------------------------------------------------------------

# prom_query EXPR: Prometheus's JSON answer to an instant query of EXPR (errors included).
prom_query() { curl -sS -m 5 --data-urlencode "query=$1" "$PROM/api/v1/query" 2>&1; }
# prom_has EXPR: the query succeeds with at least one sample.
prom_has() { prom_query "$1" | jq -e '.status == "success" and (.data.result | length) > 0' >/dev/null 2>&1; }
# prom_value EXPR: the value of the query's first sample, or nothing.
prom_value() { prom_query "$1" | jq -r '.data.result[0].value[1] // empty' 2>/dev/null; }

prom_ready() { curl -fsS -m 1 "$PROM/-/ready" >/dev/null 2>&1; }

# start_prometheus: on the first free port from 19790, scraping the daemon every second.
start_prometheus() {
  local dir="$IT_WORK/prometheus" port=19790
  while sy_port_listening "$port" && ((port < 19799)); do port=$((port + 1)); done
  PROM="http://$SY_HOST:$port"
  mkdir -p "$dir/data"
  cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: switchyard
    static_configs:
      - targets: ["$SY_HOST:$IT_API_PORT"]
EOF
  "$PROMETHEUS" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="$SY_HOST:$port" --log.level=warn \
    >"$IT_ART/prometheus.log" 2>&1 </dev/null &
  prom_pid=$!
  it_pids+=("$prom_pid")
  if ! wait_until 30 "Prometheus to be ready on $PROM" prom_ready; then
    tail -n 20 "$IT_ART/prometheus.log" | sed 's/^/    | /'
    fatal "Prometheus starts on $PROM"
  fi
  it_log "Prometheus (pid $prom_pid) on $PROM, storage $dir/data"
}

# --- the resource ------------------------------------------------------------------------------

converged_on() {
  api_json | jq -e --arg c "$1" '.status.phase == "Converged" and .status.primaryColor == $c and
    .status.servingColor == $c and .status.observedGeneration == .metadata.generation' >/dev/null
}
paused() {
  api_json | jq -e '.status.phase == "Paused" and .status.observedGeneration == .metadata.generation' >/dev/null
}
set_paused() {
  sed -i "s/^\(  paused:\) *[a-z]*/\1 $1/" "$IT_MANIFEST"
  grep -q "^  paused: $1\b" "$IT_MANIFEST" || fatal "could not set paused: $1 in $IT_MANIFEST"
}
# condition_epoch TYPE: the lastTransitionTime of condition TYPE, in Unix seconds.
condition_epoch() {
  local t
  t=$(api_json | jq -r --arg t "$1" '.status.conditions[] | select(.type == $t) | .lastTransitionTime')
  date -u -d "$t" +%s 2>/dev/null
}
condition_status() {
  api_json | jq -r --arg t "$1" '.status.conditions[] | select(.type == $t) | .status'
}

# --- the test ----------------------------------------------------------------------------------

it_begin prometheus
for tool in "$PROMETHEUS" "$PROMTOOL"; do
  [[ -x $tool ]] || fatal "$tool is missing (apt-get install prometheus; hack/install-deps.sh does)"
done

start_daemon daemon --resync-ms 500
require "the daemon reports default/shop Converged on blue" \
  wait_until 30 "Converged on blue" converged_on blue
start_prometheus
require "Prometheus scrapes the daemon (up{job=\"switchyard\"} == 1)" \
  wait_until 20 "the first scrape" prom_has 'up{job="switchyard"} == 1'
OK_BG="switchyard_switchover_total{$SEL,from=\"blue\",to=\"green\",result=\"ok\"}"
require "Prometheus holds switchyard_switchover_total blue->green ok = 0 before the flip" \
  wait_until 10 "the switchover series" prom_has "$OK_BG == 0"
require "Prometheus shows no drift before the flip" \
  wait_until 10 "no drift" prom_has "count(switchyard_drift{$SEL} == 0) == 3"

# 1. A flip.
t0=$(it_ts)
set_active green
require "the flip blue -> green converges" wait_until 60 "Converged on green" converged_on green
it_log "flip converged in $(($(it_ts) - t0)) ms"
check "Prometheus: switchyard_switchover_total blue->green ok increased (increase()[1m] > 0)" \
  wait_until 15 "the switchover in Prometheus" prom_has "increase(${OK_BG}[1m]) > 0"
check "Prometheus: switchyard_drift == 0 for traffic, primary and standby after the flip" \
  wait_until 15 "no drift after the flip" prom_has "count(switchyard_drift{$SEL} == 0) == 3"
check "Prometheus: serving, primary and desired color green" prom_has \
  "switchyard_serving_color{$SEL,color=\"green\"} == 1 and on (resource) switchyard_primary_color{$SEL,color=\"green\"} == 1 and on (resource) switchyard_desired_color{$SEL,color=\"green\"} == 1"
check "Prometheus: the write window of the switchover was recorded (> 0 s)" \
  prom_has "switchyard_write_unavailable_seconds{$SEL} > 0"
check "Prometheus: one switchover duration observed" \
  prom_has 'switchyard_switchover_duration_seconds_count == 1'
for step in switch-traffic fence promote; do
  check "Prometheus: step $step counted ok, its duration observed" prom_has \
    "switchyard_step_total{$SEL,step=\"$step\",result=\"ok\"} > 0 and on (step) switchyard_step_duration_seconds_count{step=\"$step\"} > 0"
done
it_log "write window $(prom_value "switchyard_write_unavailable_seconds{$SEL}") s, switchover $(prom_value 'switchyard_switchover_duration_seconds_sum') s"

# 2. Drift behind the back of a paused resource.
set_paused true
require "the paused resource reports phase Paused" wait_until 15 "phase Paused" paused
passes_before=$(prom_value "sum(switchyard_reconcile_total{$SEL})")
t_change=$(date +%s)
sed -i 's/127\.0\.0\.1:18082/127.0.0.1:18081/; s/traffic goes to green/traffic goes to blue/' "$SY_UPSTREAM_FILE"
"$SY_NGINX" -s reload -c "$SY_NGINX_CONF" >>"$IT_ART/nginx-reload.log" 2>&1 ||
  fatal "nginx -s reload -c $SY_NGINX_CONF"
require "nginx serves blue again, changed by hand" wait_until 15 "nginx to serve blue" serves_only blue
check "Prometheus: switchyard_drift{component=\"traffic\"} == 1" \
  wait_until 20 "traffic drift in Prometheus" prom_has "switchyard_drift{$SEL,component=\"traffic\"} == 1"
t_seen=$(date +%s)
since=$(prom_value "switchyard_drift_since_timestamp_seconds{$SEL,component=\"traffic\"}")
since=${since%%.*}
check "Prometheus: drift since $since is set, between the change ($t_change) and now ($t_seen)" \
  test "${since:-0}" -ge $((t_change - 1)) -a "${since:-0}" -le "$t_seen"
check "status: Drifted is True" test "$(condition_status Drifted)" = True
check "status: the Drifted condition's lastTransitionTime is the drift onset ($since)" \
  test "$(condition_epoch Drifted)" = "$since"
check "status: the TrafficSwitched condition's lastTransitionTime is the drift onset" \
  test "$(condition_epoch TrafficSwitched)" = "$since"
out=$("$IT_YARDCTL" --server "$IT_API" --state-dir "$IT_STATE" get dc shop 2>&1)
printf '%s\n' "$out" | sed 's/^/    | /'
check "yardctl get: DRIFT says traffic and for how long" \
  grep -Eq '^shop +green +blue +green +Paused +traffic for [0-9]+s +[0-9]+[smh]' <<<"$out"
check "Prometheus: primary and standby do not drift" \
  prom_has "count(switchyard_drift{$SEL,component=~\"primary|standby\"} == 0) == 2"
check "Prometheus: serving blue, desired green, phase Paused" prom_has \
  "switchyard_serving_color{$SEL,color=\"blue\"} == 1 and on (resource) switchyard_desired_color{$SEL,color=\"green\"} == 1 and on (resource) switchyard_resource_phase{$SEL,phase=\"Paused\"} == 1"
check "Prometheus: the SwitchyardDrift alert is pending for traffic" \
  wait_until 10 "SwitchyardDrift pending" \
  prom_has 'ALERTS{alertname="SwitchyardDrift",alertstate="pending",component="traffic",resource="default/shop"}'
# Paused means hands off: passes go on, nginx stays as the person left it.
check "the daemon keeps observing (3 more passes) without acting" wait_until 15 "3 more passes" \
  prom_has "sum(switchyard_reconcile_total{$SEL}) >= $((${passes_before%%.*} + 3))"
check "nginx still serves blue (paused: Switchyard did not switch it back)" serves_only blue

# 3. Every expression of the dashboard and of the rules evaluates without error.
exprs=()
while IFS= read -r e; do
  e=${e//\$__rate_interval/1m}
  e=${e//\$__range/5m}
  e=${e//\$__interval/15s}
  e=${e//\$resource/.*}
  exprs+=("$e")
done < <(jq -r '(.panels[].targets[]?.expr), (.annotations.list[].expr) | select(. != null)' "$DASHBOARD")
bad=0
with_data=0
for e in "${exprs[@]}"; do
  ans=$(prom_query "$e")
  if jq -e '.status == "success"' >/dev/null 2>&1 <<<"$ans"; then
    if jq -e '(.data.result | length) > 0' >/dev/null 2>&1 <<<"$ans"; then with_data=$((with_data + 1)); fi
  else
    bad=$((bad + 1))
    fail "dashboard expression fails: $e: $(jq -r '.error // .' <<<"$ans" 2>/dev/null || echo "$ans")"
  fi
done
check "all ${#exprs[@]} dashboard expressions evaluate without error ($with_data return samples now)" \
  test "$bad" -eq 0 -a "${#exprs[@]}" -ge 20
want_rules=$(grep -c '^ *- alert:' "$RULES")
rules_evaluated() {
  curl -fsS -m 5 "$PROM/api/v1/rules" | jq -e --argjson n "$want_rules" '[.data.groups[].rules[]] |
    length == $n and all(.[]; .lastEvaluation != "0001-01-01T00:00:00Z")' >/dev/null
}
check "Prometheus loaded and evaluated all $want_rules rules of manifests/prometheus-rules.yaml" \
  wait_until 10 "the rules to be evaluated" rules_evaluated
unhealthy=$(curl -fsS -m 5 "$PROM/api/v1/rules" |
  jq -r '.data.groups[].rules[] | select(.health != "ok") | "\(.name): \(.lastError)"')
check "every rule is healthy (evaluated without error)${unhealthy:+: $unhealthy}" test -z "$unhealthy"
bad=0
mapfile -t rule_exprs < <(curl -fsS -m 5 "$PROM/api/v1/rules" | jq -r '.data.groups[].rules[].query')
for e in "${rule_exprs[@]}"; do
  ans=$(prom_query "$e")
  if ! jq -e '.status == "success"' >/dev/null 2>&1 <<<"$ans"; then
    bad=$((bad + 1))
    fail "rule expression fails: $e: $(jq -r '.error // .' <<<"$ans" 2>/dev/null || echo "$ans")"
  fi
done
check "all ${#rule_exprs[@]} rule expressions evaluate without error as queries" \
  test "$bad" -eq 0 -a "${#rule_exprs[@]}" -eq "$want_rules"

# The live exposition, as Prometheus's own linter sees it.
curl -sS -m 5 -D "$IT_ART/metrics.headers" -o "$IT_ART/metrics.txt" "$IT_API/metrics"
check "GET /metrics answers with the text exposition content type" \
  grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$IT_ART/metrics.headers"
lint=$("$PROMTOOL" check metrics <"$IT_ART/metrics.txt" 2>&1)
check "promtool check metrics passes on the daemon's /metrics${lint:+: $lint}" test -z "$lint"

stop_daemon
stop_pid "$prom_pid" 20
check "Prometheus stopped" it_pid_gone "$prom_pid"
it_end
