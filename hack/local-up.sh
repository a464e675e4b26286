#!/usr/bin/env bash
# Brings up the local blue/green stack on 127.0.0.1, as root:
#   PostgreSQL 15 blue (primary, :15433) and green (streaming hot standby, :15434),
#   the shop app twice (blue :18081, green :18082), nginx (:18080) serving blue.
# Everything lives in ${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-local}:
#   pg/blue pg/green (data dirs) pg/blue.log pg/green.log, apps/<color>.{pid,log},
#   nginx/ (nginx.conf, nginx.pid, error.log, switchyard/shop.conf: the file Switchyard owns).
#
# Idempotent: what already runs is reported and left alone; what is down is (re)started.
# It also accepts a stack whose roles a controller has switched (green primary, blue standby,
# traffic on green): it never rewrites the upstream file or re-clones an existing data dir.
# Do not run it while a switchover is in progress: it would restart a fenced primary.
#
# Environment: SWITCHYARD_LOCAL_DIR, SWITCHYARD_BUILD_DIR (default ./build; the shop app is
# built there if missing), SWITCHYARD_PG_BIN, SWITCHYARD_NGINX.
set -euo pipefail

# shellcheck source=hack/lib/local-stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/local-stack.sh"
SY_LOG_PREFIX=local-up

declare -A summary=()  # piece -> "started" | "already running" | ...

check_prerequisites() {
  sy_check_server_prerequisites "PostgreSQL runs as the '$SY_OS_USER' OS user via runuser"
  local tool
  for tool in curl ss runuser; do
    command -v "$tool" >/dev/null || sy_die "'$tool' not found"
  done
}

build_app() {
  if [[ -x $SY_SHOP_APP ]]; then
    return
  fi
  sy_log "building shop-app in $SY_BUILD_DIR (missing $SY_SHOP_APP)"
  cmake -S "$SY_ROOT" -B "$SY_BUILD_DIR" >/dev/null || sy_die "shop-app: cmake configure failed"
  cmake --build "$SY_BUILD_DIR" -j2 --target shop-app || sy_die "shop-app: build failed"
  [[ -x $SY_SHOP_APP ]] || sy_die "build finished but $SY_SHOP_APP is missing"
}

check_work_dir() {
  [[ $SY_DIR == /?* && $SY_DIR != *..* ]] ||
    sy_die "SWITCHYARD_LOCAL_DIR must be an absolute path other than / (got '$SY_DIR')"
  # Only ever take over an empty directory or one of ours: local-down --purge deletes it.
  if [[ -d $SY_DIR && ! -f $SY_MARKER && -n $(ls -A "$SY_DIR") ]]; then
    sy_die "$SY_DIR exists, is not empty and was not made by local-up; choose another SWITCHYARD_LOCAL_DIR"
  fi
}

make_dirs() {
  mkdir -p "$SY_DIR" "$SY_APPS_DIR" "$SY_NGINX_DIR/switchyard" "$SY_NGINX_DIR/tmp"
  touch "$SY_MARKER"
  # PostgreSQL writes its data dirs and logs here as postgres; data dirs themselves are 0700.
  install -d -o "$SY_OS_USER" -g "$SY_OS_USER" -m 0750 "$SY_PG_DIR"
  # The logs collect initdb/pg_basebackup output (written by this script) and the server's
  # (opened by pg_ctl as postgres): postgres must own them.
  local c
  for c in "${SY_COLORS[@]}"; do
    touch "$(sy_pg_logfile "$c")"
    chown "$SY_OS_USER:$SY_OS_USER" "$(sy_pg_logfile "$c")"
  done
  # The server's Unix socket goes to the packaged default directory; it lives on a tmpfs
  # that a container may not have set up.
  install -d -o "$SY_OS_USER" -g "$SY_OS_USER" -m 2775 /var/run/postgresql
}

# --- PostgreSQL ----------------------------------------------------------------------------

pg_initialized() { [[ -f "$(sy_pg_datadir "$1")/PG_VERSION" ]]; }

init_blue() {
  local datadir logfile
  datadir=$(sy_pg_datadir blue)
  logfile=$(sy_pg_logfile blue)
  if pg_initialized green; then
    # A fresh blue would be a second, unrelated primary beside green's cluster.
    sy_die "PostgreSQL blue: $datadir is missing or empty but green's data dir exists; not" \
      "re-initializing (a controller re-clones a missing standby; or start over with" \
      "hack/local-down.sh --purge)"
  fi
  rm -rf "$datadir"
  sy_log "PostgreSQL blue: initdb $datadir"
  sy_as_postgres "$SY_PG_BIN/initdb" -D "$datadir" -U postgres --no-locale -E UTF8 \
    --auth-local=trust --auth-host=trust >>"$logfile" 2>&1 ||
    sy_fail "PostgreSQL blue" "$logfile" "initdb failed"
  sy_pg_write_config "$datadir" "$SY_HOST/32"
  summary[pg-blue-init]=1
}

# start_pg COLOR: starts COLOR's server unless it runs; waits until it accepts connections.
start_pg() {
  local color=$1 datadir logfile port
  datadir=$(sy_pg_datadir "$color")
  logfile=$(sy_pg_logfile "$color")
  port=${SY_PG_PORT[$color]}
  if sy_pg_running "$color"; then
    summary[pg-$color]="already running (pid $(sy_pg_pid "$color"))"
  else
    if sy_port_listening "$port"; then
      sy_fail "PostgreSQL $color" "$logfile" \
        "port $port is taken by another process: $(sy_port_owner "$port")"
    fi
    sy_log "PostgreSQL $color: starting on $SY_HOST:$port"
    sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$datadir" -l "$logfile" \
      -o "-c port=$port -c listen_addresses=$SY_HOST" -w -t 60 start >/dev/null ||
      sy_fail "PostgreSQL $color" "$logfile" "pg_ctl start failed"
    summary[pg-$color]="started (pid $(sy_pg_pid "$color"))"
  fi
  sy_wait_for 30 "PostgreSQL $color to accept connections" \
    "$SY_PG_BIN/pg_isready" -q -h "$SY_HOST" -p "$port" -U postgres -d postgres ||
    sy_fail "PostgreSQL $color" "$logfile" "not accepting connections on $SY_HOST:$port"
}

# in_recovery COLOR: prints t (standby) or f (primary).
in_recovery() {
  "$SY_PG_BIN/psql" -X -At -h "$SY_HOST" -p "${SY_PG_PORT[$1]}" -U postgres -d postgres \
    -c 'SELECT pg_is_in_recovery()'
}

# Roles, database, table and green's slot on blue. Every statement is a no-op when its
# object exists, so this runs on every local-up while blue is the primary.
bootstrap_blue() {
  local port=${SY_PG_PORT[blue]}
  # Quiet "already exists, skipping" notices of the idempotent statements.
  local -x PGOPTIONS='-c client_min_messages=warning'
  sy_bootstrap_sql | "$SY_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SY_HOST" -p "$port" \
    -U postgres -d postgres >/dev/null ||
    sy_fail "PostgreSQL blue" "$(sy_pg_logfile blue)" "bootstrap SQL failed"
  sy_orders_sql | "$SY_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SY_HOST" -p "$port" \
    -U "$SY_SUPERUSER" -d "$SY_DATABASE" >/dev/null ||
    sy_fail "PostgreSQL blue" "$(sy_pg_logfile blue)" "creating table orders failed"
}

clone_green() {
  local datadir logfile
  datadir=$(sy_pg_datadir green)
  logfile=$(sy_pg_logfile green)
  # pg_basebackup needs an empty target (pkg/observe/README.md #19); a dir without PG_VERSION is a
  # clone that did not finish.
  rm -rf "$datadir"
  sy_log "PostgreSQL green: pg_basebackup from blue into $datadir"
  sy_as_postgres "$SY_PG_BIN/pg_basebackup" -h "$SY_HOST" -p "${SY_PG_PORT[blue]}" \
    -U "$SY_REPLICATION_USER" -D "$datadir" -c fast -X stream -R >>"$logfile" 2>&1 ||
    sy_fail "PostgreSQL green" "$logfile" "pg_basebackup from blue failed"
  sy_configure_standby "$datadir" green "$SY_HOST" "${SY_PG_PORT[blue]}"
  summary[pg-green-init]=1
}

# standby_streaming PRIMARY STANDBY: true if PRIMARY sees STANDBY's walreceiver streaming.
standby_streaming() {
  local state
  state=$("$SY_PG_BIN/psql" -X -At -h "$SY_HOST" -p "${SY_PG_PORT[$1]}" -U postgres -d postgres \
    -c "SELECT state FROM pg_stat_replication WHERE application_name = '$2'") || return 1
  [[ $state == *streaming* ]]
}

is_standby_dir() { [[ -f "$(sy_pg_datadir "$1")/standby.signal" ]]; }

up_postgres() {
  pg_initialized blue || init_blue
  if ! pg_initialized green; then
    start_pg blue
    [[ $(in_recovery blue) == f ]] ||
      sy_die "PostgreSQL green: data dir missing and blue is not a primary to clone from"
    bootstrap_blue
    clone_green
  fi
  # The primary first: a standby started before it waits wal_retrieve_retry_interval (5 s)
  # before it tries to connect again.
  local color standbys=()
  for color in "${SY_COLORS[@]}"; do
    if is_standby_dir "$color"; then
      standbys+=("$color")
    else
      start_pg "$color"
    fi
  done
  for color in "${standbys[@]}"; do
    start_pg "$color"
  done
  if [[ $(in_recovery blue) == f ]]; then
    bootstrap_blue
  fi

  # Roles may have been switched by a controller: find the primary, expect the other to
  # stream from it.
  local blue_standby green_standby
  blue_standby=$(in_recovery blue)
  green_standby=$(in_recovery green)
  if [[ $blue_standby == f && $green_standby == f ]]; then
    sy_die "PostgreSQL: blue and green are BOTH primaries (split brain); fix it before use"
  elif [[ $blue_standby == t && $green_standby == t ]]; then
    sy_die "PostgreSQL: neither blue nor green is a primary (a switchover in progress?)"
  fi
  if [[ $blue_standby == f ]]; then primary=blue standby=green; else primary=green standby=blue; fi
  sy_wait_for 30 "$standby to stream from $primary" standby_streaming "$primary" "$standby" ||
    sy_fail "PostgreSQL $standby" "$(sy_pg_logfile "$standby")" \
      "not streaming from $primary (see $primary's pg_stat_replication)"
}

# --- shop apps ------------------------------------------------------------------------------

app_healthy() { curl -fsS -m 2 -o /dev/null "http://$SY_HOST:${SY_APP_PORT[$1]}/healthz"; }

start_app() {
  local color=$1 port pid pidfile logfile
  port=${SY_APP_PORT[$color]}
  pidfile=$(sy_app_pidfile "$color")
  logfile=$(sy_app_logfile "$color")
  pid=$(sy_app_pid "$color")
  if [[ -n $pid ]]; then
    summary[app-$color]="already running (pid $pid)"
  else
    if sy_port_listening "$port"; then
      sy_fail "shop app $color" "$logfile" "port $port is taken by another process: $(sy_port_owner "$port")"
    fi
    # A new session, no terminal, output to the log: it outlives this script. The inner shell
    # writes its own pid, which exec hands to the app, so the pid file is right even if
    # setsid has to fork.
    # shellcheck disable=SC2016  # $$, $0 and $@ are the inner shell's
    setsid sh -c 'echo $$ >"$0" && exec "$@"' "$pidfile" \
      "$SY_SHOP_APP" --color "$color" --listen "$SY_HOST:$port" --db "$SY_APP_CONNINFO" \
      --fail-file "$SY_APPS_DIR/$color.fail" \
      </dev/null >>"$logfile" 2>&1 &
    summary[app-$color]=started
  fi
  sy_wait_for 10 "shop app $color to answer /healthz" app_healthy "$color" ||
    sy_fail "shop app $color" "$logfile" "not answering http://$SY_HOST:$port/healthz"
  [[ ${summary[app-$color]} != started ]] || summary[app-$color]="started (pid $(sy_app_pid "$color"))"
}

# --- nginx ----------------------------------------------------------------------------------

# The color the upstream file sends traffic to (by its server port), or nothing.
upstream_color() {
  local color
  for color in "${SY_COLORS[@]}"; do
    if grep -Eq "^[[:space:]]*server[[:space:]]+$SY_HOST:${SY_APP_PORT[$color]};" "$SY_UPSTREAM_FILE"; then
      printf '%s' "$color"
      return
    fi
  done
}

# The color nginx answers with (X-Switchyard-Color), on a new connection.
served_color() {
  curl -fsS -m 2 -o /dev/null -w '%header{x-switchyard-color}' "http://$SY_HOST:$SY_NGINX_PORT/"
}

nginx_serves() { [[ $(served_color 2>/dev/null) == "$1" ]]; }

up_nginx() {
  local conf_changed=0 pid expected
  if sy_render_nginx_conf "$SY_NGINX_DIR" "$SY_HOST:$SY_NGINX_PORT" | sy_write_if_changed "$SY_NGINX_CONF"; then
    conf_changed=1
  fi
  if [[ ! -f $SY_UPSTREAM_FILE ]]; then
    sy_render_upstream blue "$SY_HOST:${SY_APP_PORT[blue]}" | sy_write_if_changed "$SY_UPSTREAM_FILE" || true
  fi
  expected=$(upstream_color)
  [[ -n $expected ]] || sy_fail nginx "$SY_UPSTREAM_FILE" "cannot tell which color $SY_UPSTREAM_FILE serves"
  sy_nginx -t -q >>"$SY_NGINX_ERROR_LOG" 2>&1 ||
    sy_fail nginx "$SY_NGINX_ERROR_LOG" "configuration test failed ($SY_NGINX_CONF)"

  pid=$(sy_nginx_pid)
  if [[ -n $pid ]]; then
    if ((conf_changed)); then
      sy_nginx -s reload || sy_fail nginx "$SY_NGINX_ERROR_LOG" "reload failed"
      summary[nginx]="already running (pid $pid), reloaded for a changed nginx.conf"
    else
      summary[nginx]="already running (pid $pid)"
    fi
  else
    if sy_port_listening "$SY_NGINX_PORT"; then
      sy_fail nginx "$SY_NGINX_ERROR_LOG" \
        "port $SY_NGINX_PORT is taken by another process: $(sy_port_owner "$SY_NGINX_PORT")"
    fi
    rm -f "$SY_NGINX_PID"  # stale: its process is gone
    sy_nginx || sy_fail nginx "$SY_NGINX_ERROR_LOG" "nginx failed to start"
    summary[nginx]=started
  fi
  if ! sy_wait_for 10 "nginx to serve $expected on :$SY_NGINX_PORT" nginx_serves "$expected"; then
    sy_fail nginx "$SY_NGINX_ERROR_LOG" "http://$SY_HOST:$SY_NGINX_PORT/ answers" \
      "'$(served_color 2>&1 || true)', expected $expected"
  fi
  [[ ${summary[nginx]} != started ]] || summary[nginx]="started (pid $(sy_nginx_pid))"
  serving=$expected
}

print_summary() {
  local elapsed=$1 c role
  sy_log "stack is up in $SY_DIR (${elapsed}s)"
  for c in "${SY_COLORS[@]}"; do
    if [[ $c == "$primary" ]]; then role="primary"; else role="standby of $primary, streaming (slot switchyard_$c)"; fi
    printf '  %-17s %-16s %-29s %s\n' "PostgreSQL $c" "$SY_HOST:${SY_PG_PORT[$c]}" "${summary[pg-$c]}" "$role"
  done
  for c in "${SY_COLORS[@]}"; do
    printf '  %-17s %-16s %-29s %s\n' "shop app $c" "$SY_HOST:${SY_APP_PORT[$c]}" "${summary[app-$c]}" "log apps/$c.log"
  done
  printf '  %-17s %-16s %-29s %s\n' nginx "$SY_HOST:$SY_NGINX_PORT" "${summary[nginx]}" "serving $serving"
  cat <<EOF
  data: $SY_PG_DIR/{blue,green} (logs pg/blue.log pg/green.log); upstream file: $SY_UPSTREAM_FILE
Try:
  curl -si http://$SY_HOST:$SY_NGINX_PORT/
  curl -s -X POST http://$SY_HOST:$SY_NGINX_PORT/orders -d note=hello
  psql -h $SY_HOST -p ${SY_PG_PORT[$primary]} -U $SY_SUPERUSER $SY_DATABASE -c 'SELECT * FROM orders'
  psql -h $SY_HOST -p ${SY_PG_PORT[$primary]} -U $SY_SUPERUSER postgres -c 'SELECT application_name, state FROM pg_stat_replication'
  psql -h $SY_HOST -p ${SY_PG_PORT[$standby]} -U $SY_SUPERUSER postgres -c 'SELECT pg_is_in_recovery()'
Stop: SWITCHYARD_LOCAL_DIR=$SY_DIR $SY_ROOT/hack/local-down.sh [--purge]
EOF
}

main() {
  local start_ms
  start_ms=$(date +%s%3N)
  check_prerequisites
  check_work_dir
  build_app
  make_dirs
  primary='' standby='' serving=''
  up_postgres
  local c
  for c in "${SY_COLORS[@]}"; do
    start_app "$c"
  done
  up_nginx
  local elapsed_ms=$(($(date +%s%3N) - start_ms))
  print_summary "$((elapsed_ms / 1000)).$((elapsed_ms % 1000 / 100))"
}

main "$@"
