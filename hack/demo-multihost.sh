#!/usr/bin/env bash
# The demo of hack/demo.sh on the multi-host stack, as root: installs the dependencies, builds
# switchyard, yardctl, switchyard-agent and the shop app, brings up the multi-host stack with
# the agents and the controller (hack/multihost-up.sh), and from the cli host flips the live
# color to green and back to blue with yardctl while a writer in cli POSTs orders through
# nginx. After each flip it prints `yardctl get dc`; at the end, how many writes were
# acknowledged and that every one is on the primary. The stack stays up afterwards.
#
# Written against the agent and the controller's agent client as they are planned
# (switchyard-agent --config, switchyard --agent-ca/--agent-cert/--agent-key, the manifest's
# `agent` fields): it stops with a message saying which piece is missing until they exist.
#
# Environment: SWITCHYARD_BUILD_DIR (default ./build), SWITCHYARD_MULTIHOST_DIR,
# MULTIHOST_PREFIX, DEMO_BUILD=0 (use the build dir as it is: no install, no build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export SWITCHYARD_BUILD_DIR=${SWITCHYARD_BUILD_DIR:-$root/build}
SY_LOG_PREFIX=demo-multihost
# shellcheck source=hack/lib/multihost.sh
source hack/lib/multihost.sh
# shellcheck source=hack/lib/multihost-services.sh
source hack/lib/multihost-services.sh
# shellcheck source=hack/lib/multihost-control.sh
source hack/lib/multihost-control.sh

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# converged_on COLOR: the controller says Converged on COLOR for the current generation.
converged_on() {
  mh_yardctl get dc shop -o json 2>/dev/null | jq -e --arg c "$1" '.status.phase == "Converged"
    and .status.primaryColor == $c and .status.servingColor == $c
    and .status.observedGeneration == .metadata.generation' >/dev/null
}

# flip COLOR: applies the manifest with activeColor COLOR from cli, waits for convergence.
flip() {
  local color=$1 manifest="$MH_DIR/shop-$1.yaml"
  say "flipping to $color (yardctl apply in cli)"
  sed "s/^  activeColor: .*/  activeColor: $color/" "$MH_DIR/shop.yaml" >"$manifest"
  mh_yardctl apply -f "$manifest"
  if ! sy_wait_for 90 "shop to converge on $color" converged_on "$color"; then
    mh_yardctl get dc shop -o yaml >&2 || true
    sy_die "shop did not converge on $color (controller log: $MH_LOGS/controller.log)"
  fi
  mh_yardctl get dc
  mh_yardctl get dc shop -o json | jq -c '.status.lastSwitchover // empty'
}

# The writer: POST /orders through nginx from cli, back to back, until writer.on goes.
start_writer() {
  : >"$MH_DIR/writes.log"
  touch "$MH_DIR/writer.on"
  (
    while [[ -f $MH_DIR/writer.on ]]; do
      mh_client cli curl -s -m 5 -w '\n' -X POST -d note=demo "$MH_NGINX_URL/orders" \
        >>"$MH_DIR/writes.log" 2>/dev/null || true
    done
  ) &
  writer_pid=$!
}

check_writes() {
  local ids acked found refused
  ids=$(grep -o '"id":[0-9]*' "$MH_DIR/writes.log" | grep -o '[0-9]*' | paste -sd, -)
  [[ -n $ids ]] || sy_die "no write was acknowledged"
  acked=$(tr ',' '\n' <<<"$ids" | wc -l)
  refused=$(grep -vc '"id":' "$MH_DIR/writes.log" || true)
  found=$(mh_psql "${MH_DB_HOST[blue]}" -At -U "$SY_SUPERUSER" -d "$SY_DATABASE" \
    -c "SELECT count(*) FROM orders WHERE id IN ($ids)")
  echo "acknowledged writes: $acked, found on the primary (blue): $found, refused (retry-able): $refused"
  ((found == acked)) || sy_die "LOST $((acked - found)) acknowledged writes"
}

main() {
  [[ $(id -u) -eq 0 ]] || sy_die "run as root"
  if [[ ${DEMO_BUILD:-1} != 0 ]]; then
    say "installing dependencies and building"
    bash hack/install-deps.sh
    BUILD_TARGETS="switchyard yardctl shop-app switchyard-agent" bash hack/build.sh
  fi
  [[ -x $MH_AGENT_BIN ]] || sy_die "$MH_AGENT_BIN is not built: the demo needs the agents"

  say "bringing up the multi-host stack with agents and controller"
  MULTIHOST_AGENTS=1 MULTIHOST_CONTROLLER=1 bash hack/multihost-up.sh
  mh_controller_ready || sy_die "the controller is not up in ctl (see the lines above)"
  sy_wait_for 60 "shop to converge on blue" converged_on blue ||
    sy_die "shop is not Converged on blue (yardctl get dc in cli tells why)"
  mh_yardctl get dc

  say "starting a writer in cli: POST /orders through nginx, back to back"
  start_writer
  sleep 1
  flip green
  sleep 1
  flip blue
  sleep 1
  rm -f "$MH_DIR/writer.on"
  wait "$writer_pid" || true

  say "checking the writes"
  check_writes
  cat <<EOF

The multi-host stack and its controller stay up (logs: $MH_LOGS/).
  status: hack/multihost-exec.sh cli $MH_YARDCTL --server $MH_API --token-file $MH_CLI_TOKEN get dc
  a host: hack/multihost-exec.sh dbg bash
  stop:   hack/multihost-down.sh [--purge]
EOF
}

main "$@"
