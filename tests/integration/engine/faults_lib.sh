# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the tests that source this file
# Shared by the dependency-fault tests (faults_*_test.sh), on top of lib.sh: a fault is made
# on the real stack (a process stopped with SIGSTOP, a bad nginx.conf, a pg_hba.conf rule, an
# immutable directory...), the product must take no unsafe step and say why, and once the
# fault is removed it must converge. Every fault registers its undo with faults_undo_on_exit,
# so that a failing test does not leave a stopped process or an immutable directory behind
# for hack/local-down.sh.
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# psql must not wait forever on a frozen postmaster (SIGSTOP) or one that rejects us slowly.
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-5}

faults_undo=()  # commands run at exit, whatever happens, before it_cleanup

# faults_begin NAME: it_begin, then an EXIT trap that undoes the faults before it_cleanup.
faults_begin() {
  it_begin "$1"
  trap faults_exit EXIT
}
faults_exit() {
  local rc=$? c
  for c in "${faults_undo[@]}"; do
    eval "$c" >/dev/null 2>&1 || true
  done
  (exit "$rc")
  it_cleanup
}
# faults_undo_on_exit COMMAND: e.g. "kill -CONT 1234", "chattr -i DIR".
faults_undo_on_exit() { faults_undo+=("$1"); }

# set_spec FIELD VALUE: rewrites "    FIELD: ..." (a scalar of the manifest's database or nginx
# block), e.g. set_spec maxLagBytes 1048576.
set_spec() {
  sed -i -E "s|^( +$1:) *[^#]*|\1 $2 |" "$IT_MANIFEST"
  grep -Eq "^ +$1: $2\b" "$IT_MANIFEST" || fatal "could not set $1 $2 in $IT_MANIFEST"
}

# controldata_wrapper DIR: makes DIR a binDirectory holding links to the real server programs
# but for pg_controldata, a wrapper that fails (as on EIO, a timeout, a fork failure) while
# $IT_WORK/controldata.fail exists, and prints pg_controldata's "untrustworthy" warning
# before the real output (as on a corrupt control file) while $IT_WORK/controldata.warn
# exists. Sets bin to DIR.
controldata_wrapper() {
  bin=$1
  mkdir -p "$bin"
  local p
  for p in "$SY_PG_BIN"/*; do
    [[ $(basename "$p") == pg_controldata ]] || ln -sfn "$p" "$bin/$(basename "$p")"
  done
  cat >"$bin/pg_controldata" <<EOF
#!/bin/sh
# Test wrapper: fails or warns as the files in $IT_WORK say.
if [ -f "$IT_WORK/controldata.fail" ]; then
  echo "pg_controldata: error: could not read file \"global/pg_control\": Input/output error" >&2
  exit 1
fi
if [ -f "$IT_WORK/controldata.warn" ]; then
  echo "WARNING: Calculated CRC checksum does not match value stored in file."
  echo "Either the file is corrupt, or it has a different layout than this program"
  echo "is expecting.  The results below are untrustworthy."
  echo
fi
exec "$SY_PG_BIN/pg_controldata" "\$@"
EOF
  chmod 755 "$bin" "$bin/pg_controldata"
}

# steps_of LOG: the finished steps as "name:outcome;...".
steps_of() {
  grep -E "$IT_STEP_END" "$1" |
    sed -E 's/.*step="([^"]+)" outcome=([a-z]+).*/\1:\2/' | paste -sd ';' -
}

# ready_of JSON: the Ready condition of a resource.
ready_of() { jq -c '[.status.conditions[]? | select(.type == "Ready")][0] // {}' <<<"$1"; }

# ready_reason_is REASON: the stored status's Ready condition has REASON (api_json when a
# daemon runs: set FAULTS_API=1).
ready_reason_is() {
  local json
  if [[ ${FAULTS_API:-0} == 1 ]]; then json=$(api_json) || return 1; else json=$(status_json); fi
  # shellcheck disable=SC2016  # $r is jq's
  json_true "$(ready_of "$json")" --arg r "$1" '.reason == $r'
}

# show_status JSON: one line: phase and the Ready condition.
show_status() {
  echo "  status: phase $(jq -r .status.phase <<<"$1"), Ready: $(ready_of "$1")"
}

# metrics: the daemon's /metrics. metric NAME LABELS: the value of one series (LABELS as
# written in the exposition, e.g. 'reason="ReplayPaused",resource="default/shop"'), or 0.
metrics() { curl -fsS -m 2 "$IT_API/metrics"; }
metric() {
  metrics | awk -v name="$1" -v labels="$2" '
    index($0, name "{") == 1 {
      ok = 1
      n = split(labels, want, ",")
      for (i = 1; i <= n; i++) if (index($0, want[i]) == 0) ok = 0
      if (ok) { v = $NF; found = 1 }
    }
    END { printf "%s\n", found ? v : 0 }'
}
# passes: switchyard_reconcile_total of default/shop, ok and error together.
passes() {
  local ok err
  ok=$(metric switchyard_reconcile_total 'resource="default/shop",result="ok"')
  err=$(metric switchyard_reconcile_total 'resource="default/shop",result="error"')
  awk -v a="$ok" -v b="$err" 'BEGIN { printf "%d\n", a + b }'
}

# converged_on COLOR: the daemon's API says Converged on COLOR for the current generation.
converged_on() {
  api_json | jq -e --arg c "$1" '.status.phase == "Converged" and .status.primaryColor == $c and
    .status.servingColor == $c and .status.observedGeneration == .metadata.generation' >/dev/null
}

# log_steps_since MARK: the step lines (started, ok, error) of daemon.log after line MARK.
log_steps_since() { tail -n +"$(($1 + 1))" "$IT_ART/daemon.log" | grep -E ' step resource=' || true; }
log_mark() { wc -l <"$IT_ART/daemon.log"; }

# file_sum FILE: the content's checksum.
file_sum() { md5sum <"$1" | cut -d' ' -f1; }

# since COLOR: the postmaster start time of COLOR's server (proves it was not restarted).
since() { pg "$1" postgres 'SELECT pg_postmaster_start_time()' || true; }

# freeze_and_flip COLOR TO STEP: with the daemon converged, freezes COLOR's postmaster (SIGSTOP:
# its backends, Switchyard's open connection among them, and its auxiliary processes keep
# running, but it acts on no signal), flips to TO and waits (90 s) for the daemon's STEP
# (e.g. "fence blue") to fail. Sets frozen (the postmaster's pid) and mark (the log line
# before the flip); thaw with kill -CONT "$frozen".
freeze_and_flip() {
  local color=$1 to=$2 step=$3 t0
  frozen=$(sy_pg_pid "$color")
  [[ -n $frozen ]] || fatal "$color is not running"
  faults_undo_on_exit "kill -CONT $frozen"
  kill -STOP "$frozen"
  mark=$(log_mark)
  t0=$(it_ts)
  set_active "$to"
  if ! check "$step fails within 90 s ($color's postmaster frozen)" \
    wait_until 90 "$step to fail" grep -Eq "step=\"$step\" outcome=error" "$IT_ART/daemon.log"; then
    fatal "no failed $step: $(log_steps_since "$mark" | tail -n 3)"
  fi
  it_log "$step failed $(($(it_ts) - t0)) ms after the flip"
}

# check_ready LABEL JSON PHASE REASON WHY: the resource JSON is in PHASE and its Ready
# condition has REASON and a message matching the regex WHY.
check_ready() {
  local label=$1 st=$2 phase=$3 reason=$4 why=$5
  show_status "$st"
  # shellcheck disable=SC2016  # $p, $r and $w are jq's
  check "${label:+$label }status: phase $phase, Ready reason $reason" json_true "$st" --arg p "$phase" \
    --arg r "$reason" '.status.phase == $p and ([.status.conditions[] | select(.type == "Ready")][0].reason == $r)'
  # shellcheck disable=SC2016
  check "${label:+$label }status: the message says /$why/" json_true "$(ready_of "$st")" --arg w "$why" '.message | test($w)'
}

# check_step_failed STEP KIND WHY: the daemon's status says Degraded/StepFailed, "STEP failed:"
# and the regex WHY; /metrics counts a failed step of KIND (fence, promote, ...).
check_step_failed() {
  check_ready "" "$(api_json)" Degraded StepFailed "$1 failed: .*$3"
  check "/metrics: switchyard_step_total{step=\"$2\",result=\"error\"} >= 1" \
    test "$(metric switchyard_step_total "result=\"error\",resource=\"default/shop\",step=\"$2\"" | cut -d. -f1)" -ge 1
}

# check_converges LABEL COLOR SECONDS: the daemon reports Converged on COLOR within SECONDS.
check_converges() {
  local t0
  t0=$(it_ts)
  if check "$1: Converged on $2 within $3 s" wait_until "$3" "Converged on $2" converged_on "$2"; then
    it_log "$1: converged on $2 $(($(it_ts) - t0)) ms later"
  fi
}
