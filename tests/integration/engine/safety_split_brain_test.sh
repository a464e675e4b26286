#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# A split brain on one timeline, and another cluster in a standby's place, on the real stack.
#
# 1. Green, blue's standby, is restarted without standby.signal: PostgreSQL ends recovery
#    without a promotion, so green runs as a second primary on blue's timeline 1. Green
#    acknowledges 20 writes of its own; blue (behind nginx) takes more and gets ahead.
#    Switchyard reports SplitBrain and stops neither. The operator stops green by hand, as
#    the status asks: green's clean shutdown checkpoint now lies behind blue's position on
#    the same timeline. That must not read as "follows": under rejoinMethod basebackup a
#    re-clone, under auto a rejoin as a standby (blue's stream overwrites green's WAL, which
#    then cannot start) destroyed green's 20 writes without the operator's consent.
# 2. Consent per incident. A bare color as consent makes the manifest Invalid. The operator
#    looks at green (starts it, 5 more writes, stops it): a second incident. The consent for
#    the first, as SplitBrain gave it, is ignored (green untouched, the condition says it is
#    stale and gives the new value). With the new value green is re-cloned, not rewound
#    (pg_rewind finds no fork on one timeline and changes nothing), and streams again.
# 3. Green's directory is replaced by another cluster (its own initdb, 7 rows), with consent
#    for that directory's incident. Consent covers this cluster's diverged writes, not another
#    database: nothing may be copied over it, and no pg_rewind refusal may turn into a copy.
set -uo pipefail
# shellcheck source=tests/integration/engine/faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"

faults_begin safety_split_brain

run_once converge
require "switchyard --once converges on blue (got $once_rc)" test "$once_rc" -eq 0
start_writer
require "the writer gets orders acknowledged through nginx" wait_for_acks 10

green_dir=$(sy_pg_datadir green)
status_reason() { jq -r '.status.conditions[]? | select(.type=="Ready") | .reason' "$IT_STATUS_FILE"; }
status_message() { jq -r '.status.conditions[]? | select(.type=="Ready") | .message' "$IT_STATUS_FILE"; }
# consent_asked: the annotation value the last SplitBrain message asks for ("" if none).
consent_asked() {
  status_message | grep -o 'annotate switchyard.dev/allow-discard-diverged-writes=[^ ]*' |
    sed 's|^annotate switchyard.dev/allow-discard-diverged-writes=||'
}
# annotate VALUE: the manifest's consent annotation set to VALUE (the only annotation).
annotate() {
  sed -i '/^  annotations:$/d; /allow-discard-diverged-writes:/d' "$IT_MANIFEST"
  sed -i "s|^  labels:|  annotations:\n    switchyard.dev/allow-discard-diverged-writes: \"$1\"\n  labels:|" "$IT_MANIFEST"
  grep -q "allow-discard-diverged-writes: \"$1\"" "$IT_MANIFEST" || fatal "could not annotate $IT_MANIFEST"
}
green_checkpoint() {
  runuser -u postgres -- "$SY_PG_BIN/pg_controldata" -D "$green_dir" | sed -n 's/^Latest checkpoint location: *//p'
}
green_only() { pg green shop "SELECT count(*) FROM orders WHERE note LIKE 'green-only-%'"; }
# green_rows_while_stopped: starts stopped green as it is configured, counts its own rows,
# stops it cleanly again (an operator's look; nothing about green changes).
green_rows_while_stopped() {
  pg_ctl_start green || return 1
  green_only
  stop_pg green
}
# no_step_on_green LABEL KIND...: LABEL's run took none of these steps on green.
no_step_on_green() {
  local label=$1 kind
  shift
  for kind in "$@"; do
    if grep -Eq "step=\"$kind green[^\"]*\" outcome=ok" "$IT_ART/$label.err"; then return 1; fi
  done
}

# --- 1: a split brain on timeline 1, then green stopped by hand ---
stop_pg green
rm -f "$green_dir/standby.signal"
pg_ctl_start green
require "green runs as a second primary" test "$(in_recovery green)" = f
check "green is on blue's timeline" test \
  "$(pg green postgres 'SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)')" = \
  "$(pg blue postgres 'SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)')"
own_writes green 1 20
check "green acknowledged 20 writes of its own" test "$(green_only)" = 20
pg blue shop "CREATE TABLE ballast (t text)" >/dev/null
pg blue shop "INSERT INTO ballast SELECT repeat('x', 1000) FROM generate_series(1, 5000)" >/dev/null
require "the writer still gets orders acknowledged on blue" wait_for_acks "$(($(acked_count) + 10))"

run_once split --once-timeout 10
show_run split
check "SplitBrain is reported (got $(status_reason))" test "$(status_reason)" = SplitBrain
check "neither primary was stopped" test "$(in_recovery green)$(in_recovery blue)" = ff

stop_pg green
check "green, stopped by hand, says \"shut down\" on timeline 1" bash -c \
  "runuser -u postgres -- '$SY_PG_BIN/pg_controldata' -D '$green_dir' | grep -q '^Database cluster state: *shut down$'"
check "blue is ahead of green's shutdown checkpoint" test "$(pg blue postgres \
  "SELECT pg_current_wal_lsn() > '$(runuser -u postgres -- "$SY_PG_BIN/pg_controldata" -D "$green_dir" |
    sed -n 's/^Latest checkpoint location: *//p')'::pg_lsn")" = t

for method in basebackup auto; do
  set_spec rejoinMethod "$method"
  run_once "stopped-$method" --once-timeout 12
  show_run "stopped-$method"
  check "rejoinMethod $method: SplitBrain, green left alone (got $(status_reason))" \
    test "$(status_reason)" = SplitBrain
  check "rejoinMethod $method: no copy, rewind, configuration or start of green" \
    no_step_on_green "stopped-$method" basebackup rewind configure-standby start
  incident_a=$(consent_asked)
  check "rejoinMethod $method: green still holds its 20 writes" test "$(green_rows_while_stopped)" = 20
done

# --- 2: consent per incident ---
check "SplitBrain gives the consent for green's incident (got '$incident_a')" \
  grep -Eq '^green@tli=1,lsn=[0-9A-F]+/[0-9A-F]+$' <<<"$incident_a"
annotate green
run_once bare --once-timeout 5
check "a bare color as consent is an invalid manifest (exit $once_rc)" test "$once_rc" -ne 0
check "the error says why" grep -q 'allow-discard-diverged-writes\]: must name the incident' "$IT_ART/bare.err"
check "a bare color: no step on green" no_step_on_green bare basebackup rewind configure-standby start
# The operator looks at green again; it takes 5 more writes: a second incident.
pg_ctl_start green || fatal "start green"
own_writes green 21 25
check "green holds 25 writes of its own" test "$(green_only)" = 25
stop_pg green
annotate "$incident_a"
checkpoint_b=$(green_checkpoint)
run_once stale --once-timeout 8
show_run stale
check "the first incident's consent is ignored: SplitBrain (got $(status_reason))" \
  test "$(status_reason)" = SplitBrain
check "the condition says the consent names another incident" \
  bash -c "jq -r '.status.conditions[]? | .message' '$IT_STATUS_FILE' | grep -qF '=$incident_a names another incident and is ignored'"
incident_b=$(consent_asked)
check "it gives the second incident's value ($incident_b, not $incident_a)" \
  bash -c "[[ '$incident_b' == green@tli=1,lsn=* && '$incident_b' != '$incident_a' ]]"
check "a stale consent: no copy, rewind, configuration or start of green" \
  no_step_on_green stale basebackup rewind configure-standby start
check "green's directory is untouched (checkpoint $checkpoint_b)" test "$(green_checkpoint)" = "$checkpoint_b"

# --- with the second incident's consent, green is re-cloned (not rewound) and streams ---
annotate "$incident_b"
run_once consent --once-timeout 60
show_run consent
check "with consent the run converges (got $once_rc)" test "$once_rc" -eq 0
check "green was re-cloned from blue" grep -q 'step="basebackup green from blue" outcome=ok' "$IT_ART/consent.err"
check "no pg_rewind was tried on one timeline" bash -c "! grep -q 'step=\"rewind green' '$IT_ART/consent.err'"
check "blue streams to green" wait_until 30 "green to stream" streaming blue green
check "the Converged message says the consent authorizes nothing more" \
  bash -c "jq -r '.status.conditions[]? | select(.type==\"Ready\") | .message' '$IT_STATUS_FILE' | grep -q 'names a past incident'"

# --- 3: another cluster in green's place; consent still given ---
stop_pg green
mv "$green_dir" "$green_dir.split-brain"
install -d -o postgres -g postgres -m 700 "$green_dir"
sy_as_postgres "$SY_PG_BIN/initdb" -D "$green_dir" -U "$SY_SUPERUSER" >/dev/null 2>&1 || fatal "initdb of another cluster"
echo "wal_log_hints = on" >>"$green_dir/postgresql.conf"
pg_ctl_start green || fatal "start the other cluster"
pg green postgres "CREATE TABLE precious AS SELECT 'row ' || g AS v FROM generate_series(1, 7) g" >/dev/null
stop_pg green
annotate "green@tli=1,lsn=$(green_checkpoint)"  # the incident this directory shows
run_once foreign --once-timeout 12
show_run foreign
check "another cluster is reported (got $(status_reason))" test "$(status_reason)" = SystemIdentifierMismatch
check "no copy, rewind or configuration over the other cluster" \
  no_step_on_green foreign basebackup rewind configure-standby
pg_ctl_start green || true
check "the other cluster keeps its 7 rows" test "$(pg green postgres 'SELECT count(*) FROM precious')" = 7
stop_pg green

stop_writer
check "blue is still the only primary" test "$(in_recovery blue)" = f
check_no_write_lost blue "at the end"
it_end
