# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file
# Shared by hack/local-up.sh, hack/local-down.sh, the integration tests (through
# tests/integration/engine/lib.sh, and tests/integration/local_stack_test.sh) and the
# benchmark's manual switch: the names, ports and paths of the local blue/green stack, and
# small helpers. It sources hack/lib/stack-config.sh: how the servers are configured (shared
# with the multi-host stack, hack/lib/multihost.sh).
# Source it; it defines variables and functions only.
#
# Ports and colors are fixed: examples/local.yaml and the integration tests use them.
# Switchyard's own conventions are followed: the standby of color C uses slot switchyard_C
# and application_name C, with primary_conninfo 'host=H port=P user=replicator application_name=C'.

SY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SY_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-local}
SY_BUILD_DIR=${SWITCHYARD_BUILD_DIR:-$SY_ROOT/build}
SY_PG_BIN=${SWITCHYARD_PG_BIN:-/usr/lib/postgresql/15/bin}
SY_NGINX=${SWITCHYARD_NGINX:-/usr/sbin/nginx}
SY_SHOP_APP="$SY_BUILD_DIR/examples/shop-app/shop-app"

SY_HOST=127.0.0.1
SY_COLORS=(blue green)
declare -A SY_PG_PORT=([blue]=15433 [green]=15434)
declare -A SY_APP_PORT=([blue]=18081 [green]=18082)
SY_NGINX_PORT=18080
SY_PORTS=(15433 15434 18080 18081 18082)
SY_OS_USER=postgres
SY_SUPERUSER=switchyard
SY_REPLICATION_USER=replicator
SY_DATABASE=shop
# What the apps use: libpq tries both servers and keeps the one that accepts writes.
SY_APP_CONNINFO="host=$SY_HOST,$SY_HOST port=${SY_PG_PORT[blue]},${SY_PG_PORT[green]} dbname=$SY_DATABASE user=$SY_SUPERUSER target_session_attrs=read-write connect_timeout=2"

SY_PG_DIR="$SY_DIR/pg"
SY_NGINX_DIR="$SY_DIR/nginx"
SY_APPS_DIR="$SY_DIR/apps"
SY_NGINX_CONF="$SY_NGINX_DIR/nginx.conf"
SY_NGINX_PID="$SY_NGINX_DIR/nginx.pid"
SY_NGINX_ERROR_LOG="$SY_NGINX_DIR/error.log"
SY_UPSTREAM_FILE="$SY_NGINX_DIR/switchyard/shop.conf"
# Written by local-up into the work dir; local-down --purge deletes only a dir that has it.
SY_MARKER="$SY_DIR/.switchyard-local-stack"

# Fail fast on a psql that would wait for a server that is not there.
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-3}

sy_log() { printf '%s %s\n' "${SY_LOG_PREFIX:-stack}:" "$*"; }
sy_warn() { printf '%s %s\n' "${SY_LOG_PREFIX:-stack}: WARNING:" "$*" >&2; }
sy_die() {
  printf '%s %s\n' "${SY_LOG_PREFIX:-stack}: ERROR:" "$*" >&2
  exit 1
}

# sy_fail PIECE LOGFILE MESSAGE: names the piece that failed, shows the end of its log, exits.
sy_fail() {
  local piece=$1 logfile=$2
  shift 2
  printf '%s ERROR: %s: %s\n' "${SY_LOG_PREFIX:-stack}:" "$piece" "$*" >&2
  if [[ -f $logfile ]]; then
    printf -- '--- last lines of %s ---\n' "$logfile" >&2
    tail -n 25 "$logfile" >&2 || true
    printf -- '---\n' >&2
  fi
  exit 1
}

# Runs a PostgreSQL tool as the postgres OS user (they refuse root: pkg/observe/README.md #1),
# from a directory that user can read.
sy_as_postgres() {
  (cd / && runuser -u "$SY_OS_USER" -- "$@")
}

sy_pg_datadir() { printf '%s/%s' "$SY_PG_DIR" "$1"; }
sy_pg_logfile() { printf '%s/%s.log' "$SY_PG_DIR" "$1"; }

# True if a postmaster runs in COLOR's data directory (pg_ctl reads postmaster.pid).
sy_pg_running() {
  local datadir
  datadir=$(sy_pg_datadir "$1")
  [[ -f $datadir/postmaster.pid ]] || return 1
  sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$datadir" status >/dev/null 2>&1
}

# The postmaster's pid of COLOR (first line of postmaster.pid), or nothing.
sy_pg_pid() {
  local pidfile
  pidfile="$(sy_pg_datadir "$1")/postmaster.pid"
  if [[ -f $pidfile ]]; then
    head -n 1 "$pidfile" 2>/dev/null || true
  fi
}

# True if something listens on TCP PORT on any address.
sy_port_listening() {
  [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

# Who listens on PORT, for error messages.
sy_port_owner() {
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(\(.*\))$/\1/p' | head -n 1
}

# sy_check_server_prerequisites WHY: root (WHY says what for), the postgres OS user, and the
# PostgreSQL tools and nginx the stacks run; dies naming what is missing.
sy_check_server_prerequisites() {
  [[ $(id -u) -eq 0 ]] || sy_die "run as root ($1)"
  id "$SY_OS_USER" >/dev/null 2>&1 || sy_die "OS user '$SY_OS_USER' missing (hack/install-deps.sh)"
  local tool
  for tool in "$SY_PG_BIN/initdb" "$SY_PG_BIN/pg_ctl" "$SY_PG_BIN/psql" "$SY_PG_BIN/pg_basebackup" \
    "$SY_NGINX"; do
    [[ -x $tool ]] || sy_die "$tool not found (hack/install-deps.sh installs it)"
  done
}

# True if PID runs and its command line contains every further argument (guards against a
# pid file whose process died and whose number was reused by something else).
sy_pid_matches() {
  local pid=$1 cmdline
  shift
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ -n $cmdline ]] || return 1
  local want
  for want in "$@"; do
    [[ $cmdline == *"$want"* ]] || return 1
  done
}

# True if PID exists and is not a zombie (an exited child whose parent has not reaped it yet
# no longer holds anything, but kill -0 still succeeds on it).
sy_pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }  # the state letter follows the command name in parentheses
  [[ -n $stat && ${stat:0:1} != Z ]]
}

# The stack's ports something listens on, each with its listener ("15433 (...) 18080 (...)"),
# or nothing.
sy_busy_ports() {
  local port busy=()
  for port in "${SY_PORTS[@]}"; do
    if sy_port_listening "$port"; then
      busy+=("$port ($(sy_port_owner "$port"))")
    fi
  done
  printf '%s' "${busy[*]}"
}

# True if nothing listens on any of the stack's ports.
sy_ports_free() {
  local port
  for port in "${SY_PORTS[@]}"; do
    if sy_port_listening "$port"; then
      return 1
    fi
  done
}

sy_app_pidfile() { printf '%s/%s.pid' "$SY_APPS_DIR" "$1"; }
sy_app_logfile() { printf '%s/%s.log' "$SY_APPS_DIR" "$1"; }

# The pid of COLOR's shop app if it runs (per its pid file), else nothing.
sy_app_pid() {
  local pidfile pid
  pidfile=$(sy_app_pidfile "$1")
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  if sy_pid_matches "$pid" shop-app "--color $1"; then
    printf '%s' "$pid"
  fi
}

# The nginx master's pid if it runs with our config, else nothing.
sy_nginx_pid() {
  [[ -f $SY_NGINX_PID ]] || return 0
  local pid
  pid=$(<"$SY_NGINX_PID")
  if sy_pid_matches "$pid" "nginx: master process" "$SY_NGINX_CONF"; then
    printf '%s' "$pid"
  fi
}

# The flags nginx needs to find its own files (pkg/observe/README.md #25).
sy_nginx() {
  "$SY_NGINX" -p "$SY_NGINX_DIR" -e "$SY_NGINX_ERROR_LOG" -c "$SY_NGINX_CONF" "$@"
}

# Writes FILE from stdin only when its content changes (atomically). Returns 1 if unchanged.
sy_write_if_changed() {
  local file=$1 tmp
  tmp=$(mktemp "$file.XXXXXX")
  cat >"$tmp"
  if [[ -f $file ]] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  chmod 0644 "$tmp"
  mv -f "$tmp" "$file"
}

# sy_wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s until it succeeds.
# Returns 1 (after saying what it waited for) if it did not within SECONDS.
sy_wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      sy_warn "timed out after ${seconds}s waiting for $what"
      return 1
    fi
    sleep 0.1
  done
}

# shellcheck source=hack/lib/stack-config.sh
source "$SY_ROOT/hack/lib/stack-config.sh"
