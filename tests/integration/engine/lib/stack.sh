# shellcheck shell=bash
# shellcheck disable=SC2034  # IT_* are used by the tests and the other helpers
# shellcheck disable=SC2154  # it_name, it_pids, it_failures are lib.sh's
# Part of tests/integration/engine/lib.sh, which sources it: a test's life on the local
# stack. it_begin brings the stack up (hack/local-up.sh) and writes the manifest; the EXIT
# trap it installs (it_cleanup) kills every process the test started, keeps the logs of a
# failure and brings the stack down (hack/local-down.sh --purge).

# it_begin NAME: checks prerequisites, waits for the ports, brings the stack up (blue primary,
# green streaming, nginx on blue) and writes the manifest $IT_MANIFEST (activeColor blue).
it_begin() {
  it_name=$1
  it_t0=$(it_ts)
  IT_ART=${SY_IT_ARTIFACTS:-$SY_DIR.artifacts}/$it_name
  IT_WORK="$SY_DIR/engine"             # manifest and state dir (inside the purged stack dir)
  IT_MANIFEST="$IT_WORK/shop.yaml"
  IT_STATE="$IT_WORK/state"
  IT_STATUS_FILE="$IT_STATE/objects/default_shop.json"
  [[ $(id -u) -eq 0 ]] || fatal "must run as root (PostgreSQL runs as the postgres OS user)"
  local tool
  for tool in "$IT_SWITCHYARD" "$IT_YARDCTL" "$SY_SHOP_APP"; do
    [[ -x $tool ]] || fatal "$tool is missing: build it (BUILD_TARGETS=\"switchyard yardctl shop-app\" hack/build.sh)"
  done
  for tool in jq curl psql runuser pgrep timeout; do
    command -v "$tool" >/dev/null || fatal "'$tool' not found (apt-get install $tool)"
  done
  rm -rf "$IT_ART"
  mkdir -p "$IT_ART"
  trap it_cleanup EXIT
  trap 'exit 130' INT TERM  # so that the EXIT trap runs when CTest or a user stops the test
  # A leftover of an earlier, killed run of ours; then someone else's stack must go away.
  "$IT_ROOT/hack/local-down.sh" --purge >/dev/null 2>&1 || true
  local waited=${SY_IT_PORT_WAIT:-90}
  if ! sy_ports_free; then
    it_log "the stack's ports are busy ($(sy_busy_ports)); waiting up to ${waited}s"
    wait_until "$waited" "ports ${SY_PORTS[*]} to be free" sy_ports_free ||
      fatal "ports still in use by another stack: $(sy_busy_ports)"
  fi
  local out t0
  t0=$(it_ts)
  if ! out=$("$IT_ROOT/hack/local-up.sh" 2>&1); then
    printf '%s\n' "$out"
    fatal "hack/local-up.sh brings the stack up"
  fi
  it_log "stack up in $(($(it_ts) - t0)) ms ($SY_DIR)"
  mkdir -p "$IT_WORK"
  sed "s#/tmp/switchyard-local#$SY_DIR#g" "$IT_ROOT/examples/local.yaml" >"$IT_MANIFEST"
  set_active blue
  "$IT_YARDCTL" validate -f "$IT_MANIFEST" >/dev/null || fatal "yardctl validate $IT_MANIFEST"
}

it_cleanup() {
  local rc=$? status=$?
  trap - EXIT INT TERM
  it_stop_all
  rm -f "$SY_DIR"/engine/*.on 2>/dev/null || true
  if ((rc != 0 || it_failures > 0)); then
    rc=1
    # Keep what explains the failure: the servers' and nginx's logs, the status.
    cp -f "$SY_PG_DIR"/*.log "$SY_NGINX_ERROR_LOG" "$SY_APPS_DIR"/*.log "$IT_ART/" 2>/dev/null || true
    cp -f "$IT_STATUS_FILE" "$IT_ART/" 2>/dev/null || true
    it_log "logs kept in $IT_ART"
  fi
  if [[ ${SY_IT_KEEP:-0} == 1 ]]; then
    it_log "SY_IT_KEEP=1: the stack stays up in $SY_DIR"
  elif ! "$IT_ROOT/hack/local-down.sh" --purge >"$IT_ART/local-down.log" 2>&1; then
    echo "FAIL: $it_name: cleanup: hack/local-down.sh failed:" >&2
    cat "$IT_ART/local-down.log" >&2
    rc=1
  fi
  it_verdict "$rc" "$status"
  exit "$rc"
}

# it_end: the test's last line; the verdict is printed by the EXIT trap.
it_end() {
  exit 0
}
