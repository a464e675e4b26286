# shellcheck shell=bash
# shellcheck disable=SC2034  # IT_* are used by the tests and the shared helpers
# shellcheck disable=SC2154  # it_name, it_pids, it_failures are lib.sh's
# Part of tests/integration/multihost/lib.sh, which sources it: a test's life on the
# multi-host stack. mh_begin brings the stack up (hack/multihost-up.sh, after a
# multihost-down of any leftover); the EXIT trap it installs (mh_cleanup) kills every process
# the test started, keeps the logs of a failure and always brings the stack down
# (hack/multihost-down.sh --purge, which checks that no namespace, process or address of the
# stack is left).

# mh_begin NAME: checks prerequisites and brings the stack up (blue primary on dbb, green
# streaming on dbg, nginx on web serving blue; agents and controller as MULTIHOST_AGENTS and
# MULTIHOST_CONTROLLER say). IT_ART keeps the test's logs; IT_WORK its flag files.
mh_begin() {
  it_name=$1
  it_t0=$(it_ts)
  IT_ART=${SY_IT_ARTIFACTS:-$MH_DIR.artifacts}/$it_name
  IT_WORK="$MH_DIR/test"  # inside the purged work dir
  [[ $(id -u) -eq 0 ]] || fatal "must run as root (namespaces; PostgreSQL runs as the postgres OS user)"
  [[ -x $SY_SHOP_APP ]] || fatal "$SY_SHOP_APP is missing: build it (BUILD_TARGETS=shop-app hack/build.sh)"
  local tool
  for tool in ip nsenter unshare jq curl runuser; do
    command -v "$tool" >/dev/null || fatal "'$tool' not found (hack/install-deps.sh)"
  done
  rm -rf "$IT_ART"
  mkdir -p "$IT_ART"
  trap mh_cleanup EXIT
  trap 'exit 130' INT TERM  # so that the EXIT trap runs when CTest or a user stops the test
  "$IT_ROOT/hack/multihost-down.sh" --purge >"$IT_ART/multihost-down-before.log" 2>&1 ||
    fatal "hack/multihost-down.sh --purge of a leftover stack: $(tail -n 3 "$IT_ART/multihost-down-before.log")"
  local t0
  t0=$(it_ts)
  if ! "$IT_ROOT/hack/multihost-up.sh" >"$IT_ART/multihost-up.log" 2>&1; then
    sed 's/^/    | /' "$IT_ART/multihost-up.log"
    fatal "hack/multihost-up.sh brings the stack up"
  fi
  it_log "stack up in $(($(it_ts) - t0)) ms ($MH_DIR, namespaces $(mh_ns '*'))"
  mkdir -p "$IT_WORK"
}

# mh_keep_logs: what explains a failure, into IT_ART: every log of the work dir, PostgreSQL's
# and nginx's from their hosts.
mh_keep_logs() {
  cp -f "$MH_LOGS"/*.log "$IT_ART/" 2>/dev/null || true
  cp -f "$(mh_pg_log dbb)" "$IT_ART/pg-blue.log" 2>/dev/null || true
  cp -f "$(mh_pg_log dbg)" "$IT_ART/pg-green.log" 2>/dev/null || true
  cp -f "$(mh_path web "$MH_NGINX_DIR/error.log")" "$IT_ART/nginx-error.log" 2>/dev/null || true
}

mh_cleanup() {
  local rc=$? status=$?
  trap - EXIT INT TERM
  it_stop_all
  rm -f "$IT_WORK"/*.on 2>/dev/null || true
  if ((rc != 0 || it_failures > 0)); then
    rc=1
    mh_keep_logs
    it_log "logs kept in $IT_ART"
  fi
  if [[ ${SY_IT_KEEP:-0} == 1 ]]; then
    it_log "SY_IT_KEEP=1: the stack stays up in $MH_DIR (hack/multihost-down.sh --purge takes it down)"
  elif ! "$IT_ROOT/hack/multihost-down.sh" --purge >"$IT_ART/multihost-down.log" 2>&1; then
    echo "FAIL: $it_name: cleanup: hack/multihost-down.sh failed:" >&2
    cat "$IT_ART/multihost-down.log" >&2
    rc=1
  fi
  it_verdict "$rc" "$status"
  exit "$rc"
}

# mh_end: the test's last line; the verdict is printed by the EXIT trap.
mh_end() {
  exit 0
}
