# shellcheck shell=bash
# shellcheck disable=SC2154  # summary is multihost-up.sh's
# shellcheck disable=SC2004  # summary is an associative array: [agent-$h] is a key
# Part of hack/multihost-up.sh, which sources it after hack/lib/multihost.sh: what the
# controller needs. The certificates (mutual TLS between the controller and the agents), the
# manifest $MH_DIR/shop.yaml, one switchyard-agent on each of web, dbb and dbg (pinned to the
# controller's era before its first start), and the controller in ctl. The agent and the
# controller's agent flags are being written: each piece is skipped, saying why, when the
# binary or the flag is not there yet.

MH_AGENT_BIN="$SY_BUILD_DIR/cmd/switchyard-agent/switchyard-agent"
MH_SWITCHYARD="$SY_BUILD_DIR/cmd/switchyard/switchyard"
MH_YARDCTL="$SY_BUILD_DIR/cmd/yardctl/yardctl"
MH_AGENT_PIDFILE="$MH_SRV/agent.pid"
MH_CTL_PIDFILE="$MH_SRV/controller/switchyard.pid"
MH_CLI_TOKEN="$MH_DIR/hosts/cli/token"  # the API token, for yardctl in cli

# --- certificates ---------------------------------------------------------------------------

# mh_make_certs: in $MH_TLS, with `yardctl certs`: a CA (ca.crt, ca.key), the controller's
# client certificate (controller-ctl.crt: SAN URI switchyard://local/controller/ctl,
# clientAuth) and each agent's server certificate (agent-<h>.crt: SAN IP of its address,
# serverAuth). Made once: what exists is kept.
mh_make_certs() {
  local tls=$MH_TLS host args=()
  [[ -f $tls/ca.crt && -f $tls/controller-ctl.crt ]] && return 0
  [[ -x $MH_YARDCTL ]] || sy_die "$MH_YARDCTL is not built (it mints the certificates)"
  for host in "${MH_AGENT_HOSTS[@]}"; do
    args+=(--agent "$host=${MH_ADDR[$host]}")
  done
  "$MH_YARDCTL" certs --dir "$tls" --cluster local --controller ctl "${args[@]}" \
    >"$MH_LOGS/certs.log" 2>&1 || sy_fail certs "$MH_LOGS/certs.log" "yardctl certs --dir $tls failed"
}

# mh_install_certs HOST NAME: the CA certificate and NAME's pair into HOST's own tls/ (the
# only certificates HOST can see; $MH_TLS is hidden in every host).
mh_install_certs() {
  local dir
  dir="$(mh_host_dir "$1")/tls"
  install -d -m 0700 "$dir"
  install -m 0644 "$MH_TLS/ca.crt" "$MH_TLS/$2.crt" "$dir/"
  install -m 0600 "$MH_TLS/$2.key" "$dir/"
}

# --- the manifest ---------------------------------------------------------------------------

# mh_render_manifest: the DeploymentColor of the multi-host stack (activeColor blue).
mh_render_manifest() {
  local color host app
  cat <<EOF
# The DeploymentColor of the multi-host stack (hack/multihost-up.sh writes this file): nginx
# and its agent on web (${MH_ADDR[web]}), PostgreSQL 15 blue on dbb (${MH_ADDR[dbb]}) and green
# on dbg (${MH_ADDR[dbg]}), both on port $MH_PG_PORT in $MH_PG_DATADIR of their own host, each
# with an agent; the shop app on appb and appg.
apiVersion: switchyard.dev/v1alpha1
kind: DeploymentColor
metadata:
  name: shop
  namespace: default
  labels:
    app: shop
spec:
  activeColor: blue
  paused: false
  colors:
EOF
  for color in "${SY_COLORS[@]}"; do
    host=${MH_DB_HOST[$color]}
    app=${MH_APP_HOST[$color]}
    cat <<EOF
    $color:
      upstreams: ["${MH_ADDR[$app]}:$MH_APP_PORT"]
      database:
        host: ${MH_ADDR[$host]}
        port: $MH_PG_PORT
        dataDirectory: $MH_PG_DATADIR
        agent: "${MH_ADDR[$host]}:$MH_AGENT_PORT"
EOF
  done
  cat <<EOF
  nginx:
    agent: "${MH_ADDR[web]}:$MH_AGENT_PORT"
    upstreamFile: $MH_UPSTREAM_FILE
    upstreamName: shop
    binary: $SY_NGINX
    configFile: $MH_NGINX_DIR/nginx.conf
    probe:
      url: $MH_NGINX_URL/
      header: X-Switchyard-Color
      timeoutSeconds: 2
  database:
    user: $SY_SUPERUSER
    replicationUser: $SY_REPLICATION_USER
    osUser: $SY_OS_USER
    binDirectory: $SY_PG_BIN
    maxLagBytes: 16777216
    catchUpTimeoutSeconds: 30
    slotRetentionSeconds: 300
    rejoinMethod: auto
EOF
}

# --- agents ---------------------------------------------------------------------------------

mh_agent_config_file() { printf '%s/agent.yaml' "$(mh_host_dir "$1")"; }

# mh_render_agent_config HOST: HOST's agent configuration; what it manages is what HOST runs.
mh_render_agent_config() {
  local host=$1 tls
  tls="$(mh_host_dir "$host")/tls"
  cat <<EOF
# switchyard-agent of host $host (hack/multihost-up.sh writes this file).
id: $host
listen: ${MH_ADDR[$host]}:$MH_AGENT_PORT
stateDirectory: $MH_AGENT_STATE
tls:
  certFile: $tls/agent-$host.crt
  keyFile: $tls/agent-$host.key
  clientCAFile: $tls/ca.crt
  controllerPrefix: "switchyard://"
EOF
  if [[ $host == web ]]; then
    cat <<EOF
nginx:
  - binary: $SY_NGINX
    configFile: $MH_NGINX_DIR/nginx.conf
    upstreamFile: $MH_UPSTREAM_FILE
EOF
  else
    cat <<EOF
postgres:
  - dataDirectory: $MH_PG_DATADIR
    binDirectory: $SY_PG_BIN
    osUser: $SY_OS_USER
    port: $MH_PG_PORT
EOF
  fi
}

mh_agent_pid() { mh_daemon_pid "$1" "$MH_AGENT_PIDFILE" switchyard-agent; }

# mh_controller_era: the era of the controller's state in ctl (`switchyard epoch` makes the
# state, at epoch 0, if it is absent).
mh_controller_era() {
  local json era
  install -d -m 0700 "$(mh_path ctl "$MH_CTL_STATE")"
  json=$(mh_exec ctl "$MH_SWITCHYARD" epoch --state-dir "$MH_CTL_STATE" 2>&1) ||
    sy_die "switchyard epoch --state-dir $MH_CTL_STATE (in ctl) failed: $json"
  era=$(jq -r '.era // empty' <<<"$json" 2>/dev/null)
  [[ $era =~ ^[0-9a-f]+$ ]] || sy_die "switchyard epoch printed '$json'; expected {\"era\":\"<hex>\",...}"
  printf '%s' "$era"
}

# mh_pin_agent HOST ERA: before an agent's first start, its state gets the controller's era
# at rev 1, the rev of the controller's first start (recorded in the host's directory, so that it is done once).
mh_pin_agent() {
  local host=$1 era=$2 done_file
  done_file="$(mh_host_dir "$host")/agent.pinned"
  [[ -f $done_file ]] && return 0
  install -d -m 0700 "$(mh_path "$host" "$MH_AGENT_STATE")"
  mh_exec "$host" "$MH_AGENT_BIN" pin-epoch --config "$(mh_agent_config_file "$host")" \
    --era "$era" --epoch 1 >>"$MH_LOGS/agent-$host.log" 2>&1 ||
    sy_fail "agent $host" "$MH_LOGS/agent-$host.log" "pin-epoch failed"
  printf '%s\n' "$era" >"$done_file"
}

mh_start_agent() {
  local host=$1 pid
  pid=$(mh_agent_pid "$host")
  if [[ -n $pid ]]; then
    summary[agent-$host]="already running (pid $pid in $host)"
    return
  fi
  mh_spawn "$host" "$MH_AGENT_PIDFILE" "$MH_LOGS/agent-$host.log" \
    "$MH_AGENT_BIN" --config "$(mh_agent_config_file "$host")"
  sy_wait_for 10 "agent $host to listen on :$MH_AGENT_PORT" mh_listening "$host" "$MH_AGENT_PORT" ||
    sy_fail "agent $host" "$MH_LOGS/agent-$host.log" "not listening on ${MH_ADDR[$host]}:$MH_AGENT_PORT"
  summary[agent-$host]="started (pid $(mh_agent_pid "$host") in $host)"
}

# mh_up_agents: configuration, certificates, pin and start, on web, dbb and dbg. Returns 1
# (after saying why) when the agents are not started.
mh_up_agents() {
  if [[ ${MULTIHOST_AGENTS:-1} == 0 ]]; then
    sy_log "agents: skipped (MULTIHOST_AGENTS=0)"
    return 1
  fi
  if [[ ! -x $MH_AGENT_BIN ]]; then
    sy_log "agents: skipped: $MH_AGENT_BIN is not built (yet)"
    return 1
  fi
  local host era
  era=$(mh_controller_era)
  for host in "${MH_AGENT_HOSTS[@]}"; do
    mh_install_certs "$host" "agent-$host"
    mh_render_agent_config "$host" | sy_write_if_changed "$(mh_agent_config_file "$host")" || true
    mh_pin_agent "$host" "$era"
    mh_start_agent "$host"
  done
}

# --- the controller -------------------------------------------------------------------------

mh_controller_pid() { mh_daemon_pid ctl "$MH_CTL_PIDFILE" switchyard --state-dir; }
mh_controller_ready() { mh_client cli curl -fsS -m 1 -o /dev/null "$MH_API/readyz"; }

# mh_yardctl ARGS...: yardctl in cli against the controller in ctl, with its token.
mh_yardctl() {
  mh_client cli "$MH_YARDCTL" --server "$MH_API" --token-file "$MH_CLI_TOKEN" "$@"
}

# mh_up_controller AGENTS_UP: switchyard in ctl (API on ctl's address), then the manifest
# applied through the API from cli when the resource does not exist yet (through the API, not
# --manifests: a manifest-given resource is read-only through the API, and the flips are made
# with yardctl). Skipped, saying why, when MULTIHOST_CONTROLLER=0, when the agents do not run
# (unless MULTIHOST_CONTROLLER=1) or when switchyard has no --agent-ca flag yet.
mh_up_controller() {
  local agents_up=$1 want=${MULTIHOST_CONTROLLER:-auto}
  if [[ $want == 0 ]]; then
    sy_log "controller: skipped (MULTIHOST_CONTROLLER=0)"
    return
  fi
  if [[ $want == auto && $agents_up == 0 ]]; then
    sy_log "controller: skipped: it reaches the hosts only through the agents, which do not run" \
      "(MULTIHOST_CONTROLLER=1 starts it anyway)"
    return
  fi
  if ! "$MH_SWITCHYARD" --help 2>/dev/null | grep -q -- '--agent-ca'; then
    sy_log "controller: skipped: $MH_SWITCHYARD has no --agent-ca flag (the agent client is not built yet)"
    return
  fi
  local tls pid
  tls="$(mh_host_dir ctl)/tls"
  mh_install_certs ctl controller-ctl
  install -d -m 0700 "$(mh_path ctl "$MH_CTL_STATE")"
  pid=$(mh_controller_pid)
  if [[ -n $pid ]]; then
    summary[controller]="already running (pid $pid in ctl)"
  else
    mh_spawn ctl "$MH_CTL_PIDFILE" "$MH_LOGS/controller.log" "$MH_SWITCHYARD" \
      --state-dir "$MH_CTL_STATE" --listen "${MH_ADDR[ctl]}:$MH_API_PORT" \
      --agent-ca "$tls/ca.crt" --agent-cert "$tls/controller-ctl.crt" --agent-key "$tls/controller-ctl.key"
    summary[controller]=started
  fi
  sy_wait_for 20 "the controller to answer $MH_API/readyz" mh_controller_ready ||
    sy_fail controller "$MH_LOGS/controller.log" "not ready on $MH_API"
  [[ ${summary[controller]} != started ]] || summary[controller]="started (pid $(mh_controller_pid) in ctl)"
  install -m 0600 "$(mh_path ctl "$MH_CTL_STATE")/token" "$MH_CLI_TOKEN" ||
    sy_die "controller: no API token in $MH_CTL_STATE/token (ctl)"
  if ! mh_yardctl get dc shop >/dev/null 2>&1; then
    mh_yardctl apply -f "$MH_DIR/shop.yaml" || sy_die "controller: yardctl apply -f $MH_DIR/shop.yaml failed"
  fi
}
