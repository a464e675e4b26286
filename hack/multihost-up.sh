#!/usr/bin/env bash
# Brings up the multi-host blue/green stack on this machine, as root: one network namespace
# per "host" (each with its own mount, PID and UTS namespaces), joined by a bridge that has no
# uplink, on the private network 10.200.0.0/24, which exists only inside these namespaces:
#
#   web  10.200.0.20  nginx (:80, upstream file /srv/switchyard/nginx/switchyard/shop.conf) + agent
#   dbb  10.200.0.21  PostgreSQL 15 blue, primary (:5432, /srv/switchyard/pg/shop) + agent
#   dbg  10.200.0.22  PostgreSQL 15 green, streaming standby of blue (same port, same path) + agent
#   appb 10.200.0.31  shop app blue (:8080)      appg 10.200.0.32  shop app green (:8080)
#   ctl  10.200.0.11  the controller (API :9753)  cli  10.200.0.50  clients: psql, curl, yardctl
#
# Why: Switchyard's controller is growing agents on the servers' machines (switchyard-agent,
# HTTPS with mutual TLS); this stack makes those machines real enough to test that: a server
# is reached by host and port, a data directory and a process table are visible only on their
# own host, and a host can be cut off, frozen or powered off (tests/integration/multihost).
#
# Everything lives in ${SWITCHYARD_MULTIHOST_DIR:-/tmp/switchyard-multihost}: hosts/<h>/
# (each host's private files, on a tmpfs by default; hosts/<h>/srv is its /srv), run/ (the
# hosts' init pids), logs/, tls/ (the CA and the certificates), shop.yaml (the manifest).
# hack/lib/multihost.sh tells the layout; hack/multihost-exec.sh HOST COMMAND runs a command
# in a host.
#
# Idempotent: what runs is left alone, what is down is started again (a host powered off by a
# test comes back with its servers). The agents start only if cmd/switchyard-agent is built,
# the controller only if they run and switchyard has its agent flags.
#
# Environment: SWITCHYARD_MULTIHOST_DIR, MULTIHOST_PREFIX (namespace names, default sy-),
# MULTIHOST_AGENTS=0 (no agents), MULTIHOST_CONTROLLER=0|1 (default: with the agents),
# MULTIHOST_TMPFS=0 (the hosts' files on disk, not on a tmpfs; MULTIHOST_TMPFS_SIZE: 2g),
# SWITCHYARD_BUILD_DIR (default ./build: shop-app, switchyard, yardctl, switchyard-agent),
# SWITCHYARD_PG_BIN, SWITCHYARD_NGINX.
set -euo pipefail

hack=$(dirname "${BASH_SOURCE[0]}")
SY_LOG_PREFIX=multihost-up
# shellcheck source=hack/lib/multihost.sh
source "$hack/lib/multihost.sh"
# shellcheck source=hack/lib/multihost-hosts.sh
source "$hack/lib/multihost-hosts.sh"
# shellcheck source=hack/lib/multihost-services.sh
source "$hack/lib/multihost-services.sh"
# shellcheck source=hack/lib/multihost-control.sh
source "$hack/lib/multihost-control.sh"

declare -A summary=()  # piece -> "started (...)" | "already running (...)"

check_prerequisites() {
  sy_check_server_prerequisites "namespaces; PostgreSQL runs as '$SY_OS_USER'"
  local tool
  for tool in ip nsenter unshare setsid runuser curl ss openssl jq; do
    command -v "$tool" >/dev/null || sy_die "'$tool' not found (hack/install-deps.sh)"
  done
  [[ -x $SY_SHOP_APP ]] ||
    sy_die "$SY_SHOP_APP is not built (BUILD_TARGETS=shop-app hack/build.sh, or set SWITCHYARD_BUILD_DIR)"
  [[ -d /srv && -d /run/postgresql ]] ||
    sy_die "/srv and /run/postgresql must exist (every host mounts its own over them)"
}

check_work_dir() {
  [[ $MH_DIR == /?* && $MH_DIR != *..* ]] ||
    sy_die "SWITCHYARD_MULTIHOST_DIR must be an absolute path other than / (got '$MH_DIR')"
  # Only an empty directory or one of ours: multihost-down --purge deletes it.
  if [[ -d $MH_DIR && ! -f $MH_MARKER && -n $(ls -A "$MH_DIR") ]]; then
    sy_die "$MH_DIR exists, is not empty and was not made by multihost-up; choose another SWITCHYARD_MULTIHOST_DIR"
  fi
  install -d -m 0755 "$MH_DIR" "$MH_RUN"
  touch "$MH_MARKER"
  printf '%s\n' "$MH_PREFIX" >"$MH_RUN/prefix"
}

print_summary() {
  local elapsed=$1 piece
  sy_log "stack is up in $MH_DIR (${elapsed}s; namespaces $(mh_ns '*'))"
  printf '  %-17s %-18s %s\n' "PostgreSQL blue" "${MH_ADDR[dbb]}:$MH_PG_PORT" "${summary[pg-blue]}"
  printf '  %-17s %-18s %s\n' "PostgreSQL green" "${MH_ADDR[dbg]}:$MH_PG_PORT" "${summary[pg-green]}"
  printf '  %-17s %s is the primary, %s streams from it (slot switchyard_%s)\n' "" "$primary" "$standby" "$standby"
  printf '  %-17s %-18s %s\n' "shop app blue" "${MH_ADDR[appb]}:$MH_APP_PORT" "${summary[app-blue]}"
  printf '  %-17s %-18s %s\n' "shop app green" "${MH_ADDR[appg]}:$MH_APP_PORT" "${summary[app-green]}"
  printf '  %-17s %-18s %s, serving %s\n' nginx "${MH_ADDR[web]}:$MH_NGINX_PORT" "${summary[nginx]}" "$serving"
  for piece in agent-web agent-dbb agent-dbg controller; do
    if [[ -n ${summary[$piece]:-} ]]; then printf '  %-17s %s\n' "$piece" "${summary[$piece]}"; fi
  done
  cat <<EOF
  manifest: $MH_DIR/shop.yaml   logs: $MH_LOGS/, PostgreSQL's in each db host at $MH_PG_DATADIR.log
Run a command in a host (every client runs in cli; nothing reaches 10.200.0.0/24 from outside):
  hack/multihost-exec.sh cli curl -si $MH_NGINX_URL/
  hack/multihost-exec.sh cli curl -s -X POST $MH_NGINX_URL/orders -d note=hello
  hack/multihost-exec.sh cli psql -h ${MH_ADDR[dbb]} -U $SY_SUPERUSER $SY_DATABASE -c 'SELECT * FROM orders'
  hack/multihost-exec.sh cli psql -h ${MH_ADDR[dbb]} -U $SY_SUPERUSER postgres -c 'SELECT application_name, client_addr, state FROM pg_stat_replication'
  hack/multihost-exec.sh dbg ls $MH_PG_DATADIR          # dbg's own data directory
  hack/multihost-exec.sh dbb bash                        # a shell on dbb
EOF
  if [[ -n ${summary[controller]:-} ]]; then
    echo "  hack/multihost-exec.sh cli $MH_YARDCTL --server $MH_API --token-file $MH_CLI_TOKEN get dc"
  fi
  echo "Stop: SWITCHYARD_MULTIHOST_DIR=$MH_DIR hack/multihost-down.sh [--purge]"
}

main() {
  local start_ms agents_up=0
  start_ms=$(date +%s%3N)
  check_prerequisites
  check_work_dir
  mh_check_root_clean
  primary='' standby='' serving=''
  mh_up_hosts
  mh_up_postgres
  local color
  for color in "${SY_COLORS[@]}"; do
    mh_start_app "$color"
  done
  mh_up_nginx
  mh_make_certs
  mh_render_manifest | sy_write_if_changed "$MH_DIR/shop.yaml" || true
  if mh_up_agents; then
    agents_up=1
  fi
  mh_up_controller "$agents_up"
  mh_check_root_clean
  local elapsed_ms=$(($(date +%s%3N) - start_ms))
  print_summary "$((elapsed_ms / 1000)).$((elapsed_ms % 1000 / 100))"
}

main "$@"
