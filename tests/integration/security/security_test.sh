#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Security on the real local stack, with the real switchyard daemon and yardctl:
#  1. Passwords in use: the controller's role (syctl) and the replication role need their
#     passwords over TCP (scram-sha-256), given only through spec.database.passwordFile; the
#     API token is the one the daemon generated.
#  2. Shell payloads ("$(touch M)", backticks, ";", "|", "&&", "..") in every path of the spec
#     are refused by yardctl validate, yardctl plan, switchyard --once, the API (yardctl apply
#     and a raw server-side apply) and the running daemon's watched manifest, and no marker M
#     ever appears; the world does not move.
#  3. The daemon flips blue -> green -> blue, with a period of wrong passwords in between (its
#     observations fail with authentication errors), while a watch records every status.
#  4. Neither password (not even one put in passwordFile by mistake), the wrong password, the
#     token nor a wrong token appears anywhere
#     Switchyard writes or answers: its log, the state directory, the API (objects, lists,
#     tables, watch events, errors), /metrics, yardctl's output, the nginx upstream file and
#     the primary_conninfo it writes.
#  5. The modes of the files it writes: token 600, state directory and objects 700/600, lock
#     600, nginx upstream file 644, postgresql.auto.conf and standby.signal 600.
set -uo pipefail
export SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-it-security}
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../engine/lib.sh"

it_begin security

OUT="$IT_ART/out"  # everything Switchyard answered or printed, grepped for secrets at the end
mkdir -p "$OUT"
PWNED="$SY_DIR/pwned"  # prefix of the marker files a shell would create
rand() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }
PW_CTL="sy-pw-ctl-$(rand)"
PW_REPL="sy-pw-repl-$(rand)"
PW_WRONG="sy-pw-wrong-$(rand)"
WRONG_TOKEN="sy-token-wrong-$(rand)"
PASSFILE="$IT_WORK/pgpass"
CTL_USER=syctl

# --- 1. passwords in use ----------------------------------------------------------------------

# write_passfile CTL_PASSWORD REPL_PASSWORD: libpq's password file, owned by postgres (the
# standby's WAL receiver reads it; root, the daemon, reads anything), mode 600.
write_passfile() {
  (
    umask 077
    printf '*:*:*:%s:%s\n*:*:*:replicator:%s\n' "$CTL_USER" "$1" "$2" >"$PASSFILE.new"
  )
  chown postgres:postgres "$PASSFILE.new"
  mv -f "$PASSFILE.new" "$PASSFILE"
}
write_passfile "$PW_CTL" "$PW_REPL"
pg blue postgres "CREATE ROLE $CTL_USER SUPERUSER LOGIN PASSWORD '$PW_CTL'" >/dev/null ||
  fatal "creating role $CTL_USER"
pg blue postgres "ALTER ROLE replicator PASSWORD '$PW_REPL'" >/dev/null || fatal "replicator's password"
for c in blue green; do
  hba="$(sy_pg_datadir "$c")/pg_hba.conf"
  {
    printf 'host all %s %s/32 scram-sha-256\n' "$CTL_USER" "$SY_HOST"
    printf 'host replication replicator %s/32 scram-sha-256\n' "$SY_HOST"
    cat "$hba"
  } >"$IT_WORK/hba.$c"
  cat "$IT_WORK/hba.$c" >"$hba"  # keeps the file's owner and mode
  pg "$c" postgres 'SELECT pg_reload_conf()' >/dev/null || fatal "reloading $c"
done
# psql_as USER PORT PASSFILE [CONNINFO...]: SELECT 1 over TCP, never prompting.
psql_as() {
  PGPASSFILE=$3 "$SY_PG_BIN/psql" -X -At -w -c 'SELECT 1' \
    "host=$SY_HOST port=$2 user=$1 dbname=postgres ${4:-}" >/dev/null 2>&1
}
replication_as() {
  PGPASSFILE=$2 "$SY_PG_BIN/psql" -X -At -w -c 'IDENTIFY_SYSTEM' \
    "host=$SY_HOST port=$1 user=replicator dbname=postgres replication=true" >/dev/null 2>&1
}
ctl_refused() { ! psql_as "$CTL_USER" "$1" "$IT_WORK/none"; }
replication_refused() { ! replication_as "$1" "$IT_WORK/none"; }
for c in blue green; do  # the reload is asynchronous: wait for it
  port=${SY_PG_PORT[$c]}
  check "$c: $CTL_USER without a password is refused" \
    wait_until 10 "$c to want a password" ctl_refused "$port"
  check "$c: $CTL_USER with the password file gets in" psql_as "$CTL_USER" "$port" "$PASSFILE"
  check "$c: replication without a password is refused" \
    wait_until 10 "$c to want a password" replication_refused "$port"
  check "$c: replication with the password file gets in" replication_as "$port" "$PASSFILE"
done

sed -i "s#^    user: switchyard\$#    user: $CTL_USER\n    passwordFile: $PASSFILE#" "$IT_MANIFEST"
require "the manifest names $CTL_USER and the password file" \
  grep -q "^    passwordFile: $PASSFILE\$" "$IT_MANIFEST"
"$IT_YARDCTL" validate -f "$IT_MANIFEST" >"$OUT/validate.out" 2>&1 || fatal "yardctl validate"
"$IT_YARDCTL" plan -f "$IT_MANIFEST" >"$OUT/plan.out" 2>&1
check "yardctl plan observes with the password file: nothing to do on blue" \
  grep -q 'next step: none' "$OUT/plan.out"

start_daemon daemon --resync-ms 1000
TOKEN=$(cat "$IT_STATE/token")
check "the daemon made a token of 64 hex digits" grep -Eqx '[0-9a-f]{64}' <<<"$TOKEN"
AUTH=(-H "Authorization: Bearer $TOKEN")
# The API keeps a watch open on the resource for the whole test: every status it ever had.
curl -sS -N -m 600 "${AUTH[@]}" "$IT_API${IT_DC_PATH%/shop}?watch=true&timeoutSeconds=600" \
  >"$OUT/watch.json" 2>&1 &
it_pids+=("$!")

# converged COLOR: the API says Converged on COLOR for the current generation.
converged() {
  api_json | jq -e --arg c "$1" '.status.phase == "Converged" and
    .status.servingColor == $c and .status.primaryColor == $c and
    .status.observedGeneration == .metadata.generation' >/dev/null
}
require "the daemon converges on blue (observing as $CTL_USER with its password)" \
  wait_until 30 "Converged on blue" converged blue

# --- 2. shell payloads --------------------------------------------------------------------------

# evil KEY VALUE OUT [NAME]: the manifest $EVIL_FROM with the first "KEY:" line's value
# replaced by VALUE (single-quoted YAML: taken as it is), and metadata.name NAME when given.
EVIL_FROM="$IT_WORK/valid.yaml"
cp "$IT_MANIFEST" "$EVIL_FROM"
evil() {
  awk -v key="$1" -v value="$2" -v name="${4:-}" '
    !done && $1 == key ":" { match($0, /^ */); print substr($0, 1, RLENGTH) key ": '\''" value "'\''"; done = 1; next }
    name != "" && /^  name: / { print "  name: " name; next }
    { print }' "$EVIL_FROM" >"$3"
}
declare -A FIELD=(
  [dataDirectory]=spec.colors.blue.database.dataDirectory
  [upstreamFile]=spec.nginx.upstreamFile
  [configFile]=spec.nginx.configFile
  [binary]=spec.nginx.binary
  [binDirectory]=spec.database.binDirectory
  [passwordFile]=spec.database.passwordFile
)
value_of() { awk -v key="$1" '$1 == key ":" { print $2; exit }' "$EVIL_FROM"; }
mkdir -p "$IT_WORK/evil" "$OUT/evil"
n=0
refused=0
for key in "${!FIELD[@]}"; do
  field=${FIELD[$key]}
  base=$(value_of "$key")
  [[ -n $base ]] || fatal "no $key in the manifest"
  for kind in subst backtick semicolon pipe and dotdot; do
    n=$((n + 1))
    m="$PWNED-$n"
    case $kind in
      subst) v="$base/\$(touch $m)" ;;
      backtick) v="$base/\`touch $m\`" ;;
      semicolon) v="$base;touch $m" ;;
      pipe) v="$base|touch $m" ;;
      and) v="$base && touch $m" ;;
      dotdot) v="$base/../../../tmp" ;;
    esac
    f="$IT_WORK/evil/$n.yaml"
    o="$OUT/evil/$n"
    evil "$key" "$v" "$f"
    evil "$key" "$v" "$f.api" "evil-$n"
    ok=1
    "$IT_YARDCTL" validate -f "$f" >"$o.validate" 2>&1 && ok=0
    grep -qF "$field: must" "$o.validate" || ok=0
    "$IT_YARDCTL" plan -f "$f" >"$o.plan" 2>&1 && ok=0
    timeout 30 "$IT_SWITCHYARD" --manifests "$f" --state-dir "$IT_WORK/once-state" --listen "" \
      --once --once-timeout 10 >"$o.once" 2>&1 </dev/null && ok=0
    grep -qF "$field: must" "$o.once" || ok=0
    "$IT_YARDCTL" --server "$IT_API" --state-dir "$IT_STATE" apply -f "$f.api" >"$o.apply" 2>&1 && ok=0
    code=$(curl -sS -m 5 -o "$o.ssa" -w '%{http_code}' "${AUTH[@]}" -X PATCH \
      -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$f.api" \
      "$IT_API${IT_DC_PATH%/shop}/evil-$n?fieldManager=it")
    [[ $code == 422 ]] || ok=0
    grep -qF "$field" "$o.ssa" || ok=0
    if ((ok)); then
      refused=$((refused + 1))
    else
      fail "$key = '$v' ($kind) is refused everywhere naming $field (see $o.*)"
    fi
  done
done
check "$refused of $n payloads refused by validate, plan, --once and the API" test "$refused" -eq "$n"

# The running daemon's watched manifest: each field with "$(touch M)" makes the resource
# Invalid (the last valid spec stays in force), and a valid file makes it converge again.
ready_message_has() {
  api_json | jq -e --arg f "$1" '.status.phase == "Invalid" and
    ([.status.conditions[] | select(.type == "Ready") | .message | contains($f)] | any)' >/dev/null
}
for key in "${!FIELD[@]}"; do
  n=$((n + 1))
  evil "$key" "$(value_of "$key")/\$(touch $PWNED-$n)" "$IT_WORK/evil/watched.yaml"
  mv -f "$IT_WORK/evil/watched.yaml" "$IT_MANIFEST"
  check "the daemon marks $key = '.../\$(touch M)' Invalid, naming ${FIELD[$key]}" \
    wait_until 15 "Invalid naming ${FIELD[$key]}" ready_message_has "${FIELD[$key]}"
done
cp "$EVIL_FROM" "$IT_MANIFEST.new" && mv -f "$IT_MANIFEST.new" "$IT_MANIFEST"
require "a valid manifest again: Converged on blue" wait_until 30 "Converged on blue" converged blue
# The password itself put in passwordFile by mistake: refused, and (the greps below) shown
# nowhere: not by validate, --once, the API's 422, the daemon's log nor the Invalid status.
evil passwordFile "$PW_CTL" "$IT_WORK/evil/misplaced.yaml"
evil passwordFile "$PW_CTL" "$IT_WORK/evil/misplaced.api.yaml" misplaced
"$IT_YARDCTL" validate -f "$IT_WORK/evil/misplaced.yaml" >"$OUT/misplaced.validate" 2>&1
timeout 30 "$IT_SWITCHYARD" --manifests "$IT_WORK/evil/misplaced.yaml" --state-dir "$IT_WORK/once-state" \
  --listen "" --once --once-timeout 10 >"$OUT/misplaced.once" 2>&1 </dev/null
curl -sS -m 5 -o "$OUT/misplaced.ssa" "${AUTH[@]}" -X PATCH \
  -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$IT_WORK/evil/misplaced.api.yaml" \
  "$IT_API${IT_DC_PATH%/shop}/misplaced?fieldManager=it"
mv -f "$IT_WORK/evil/misplaced.yaml" "$IT_MANIFEST"
check "a password in passwordFile by mistake: Invalid, naming the field" \
  wait_until 15 "Invalid naming passwordFile" ready_message_has spec.database.passwordFile
api_json >"$OUT/misplaced-status.json"
cp "$EVIL_FROM" "$IT_MANIFEST.new" && mv -f "$IT_MANIFEST.new" "$IT_MANIFEST"
require "a valid manifest again: Converged on blue" wait_until 30 "Converged on blue" converged blue
markers=$(find "$SY_DIR" -maxdepth 1 -name "pwned-*" | wc -l)
check "no payload ran: none of the $n markers exists" test "$markers" -eq 0
assert_world blue

# --- 3. flips, with wrong passwords in between ---------------------------------------------------

set_active green
require "the daemon flips to green" wait_until 90 "Converged on green" converged green
assert_world green  # green's standby (blue) streams: replicator authenticated from the file

write_passfile "$PW_WRONG" "$PW_WRONG"
for c in blue green; do  # the daemon's open connections would outlive the change
  pg "$c" postgres "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE usename = '$CTL_USER'" >/dev/null || true
done
auth_failed() {
  grep -q 'password authentication failed' "$IT_ART/daemon.log" ||
    api_json | grep -q 'password authentication failed'
}
check "with wrong passwords the daemon reports authentication failures" \
  wait_until 30 "an authentication failure" auth_failed
api_json >"$OUT/during-wrong-password.json" || true
curl -sS -m 5 "$IT_API/metrics" >"$OUT/metrics-wrong-password.txt" || true
write_passfile "$PW_CTL" "$PW_REPL"

set_active blue
require "the daemon flips back to blue" wait_until 120 "Converged on blue" converged blue
assert_world blue

# --- 4. secrets nowhere -------------------------------------------------------------------------

base="$IT_API${IT_DC_PATH%/shop}"
table='application/json;as=Table;v=v1;g=meta.k8s.io,application/json'
curl -sS -m 5 "$IT_API$IT_DC_PATH" >"$OUT/get.json"
curl -sS -m 5 "${AUTH[@]}" "$base" >"$OUT/list.json"
curl -sS -m 5 -H "Accept: $table" "$base" >"$OUT/table.json"
curl -sS -m 5 "$IT_API/apis/switchyard.dev/v1alpha1/deploymentcolors" >"$OUT/list-all.json"
for p in /apis /version /healthz /readyz /metrics; do
  curl -sS -m 5 "${AUTH[@]}" "$IT_API$p" >"$OUT/$(tr / _ <<<"$p").out"
done
# The API's errors: 401, 403 (wrong token; and the manifest's object is read-only), 404, 405,
# 413, 415, 422.
status_of() { curl -sS -m 10 -o "$OUT/err-$1.json" -w '%{http_code}' "${@:2}"; }
check "401 without the token" test "$(status_of 401 -X DELETE "$IT_API$IT_DC_PATH")" = 401
check "403 with a wrong token" \
  test "$(status_of 403 -X DELETE -H "Authorization: Bearer $WRONG_TOKEN" "$IT_API$IT_DC_PATH")" = 403
# Every write verb of the real daemon, on loopback: 401 without the token, 403 with a wrong one.
verbs_refused=0
for w in "POST $base application/json" "PUT $IT_API$IT_DC_PATH application/json" \
  "PATCH $IT_API$IT_DC_PATH application/merge-patch+json" \
  "PATCH $IT_API$IT_DC_PATH application/json-patch+json" \
  "PATCH $IT_API$IT_DC_PATH?fieldManager=it application/apply-patch+yaml" \
  "DELETE $IT_API$IT_DC_PATH application/json"; do
  read -r verb url type <<<"$w"
  body='{"spec":{"paused":true}}'
  [[ $type == *json-patch* ]] && body='[{"op":"replace","path":"/spec/paused","value":true}]'
  c401=$(status_of "401-$verb" -X "$verb" -H "Content-Type: $type" -d "$body" "$url")
  c403=$(status_of "403-$verb" -X "$verb" -H "Content-Type: $type" -d "$body" \
    -H "Authorization: Bearer $WRONG_TOKEN" "$url")
  if [[ $c401 == 401 && $c403 == 403 ]]; then
    verbs_refused=$((verbs_refused + 1))
  else
    fail "$verb $type: without the token $c401 (want 401), with a wrong one $c403 (want 403)"
  fi
done
check "all 6 write kinds: 401 without the token, 403 with a wrong one" test "$verbs_refused" -eq 6
check "403 for the manifest's object" \
  test "$(status_of 403-owned "${AUTH[@]}" -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d '{"spec":{"paused":true}}' "$IT_API$IT_DC_PATH")" = 403
check "404" test "$(status_of 404 "${AUTH[@]}" "$base/nope")" = 404
check "405" test "$(status_of 405 "${AUTH[@]}" -X PUT -d '{}' "$IT_API$IT_DC_PATH/status")" = 405
# One byte over the handler's 1 MiB (the transport lets that through): the handler's 413.
head -c 1048577 /dev/zero | tr '\0' ' ' >"$IT_WORK/big.json"
check "413" test "$(status_of 413 "${AUTH[@]}" -X POST -H 'Content-Type: application/json' \
  --data-binary "@$IT_WORK/big.json" "$base")" = 413
check "415" test "$(status_of 415 "${AUTH[@]}" -X POST -H 'Content-Type: text/plain' -d x "$base")" = 415
for args in "get dc -o yaml" "get dc -o json" "get dc -o wide" "get dc shop"; do
  # shellcheck disable=SC2086  # words on purpose
  "$IT_YARDCTL" --server "$IT_API" --state-dir "$IT_STATE" $args >"$OUT/yardctl-${args// /_}.out" 2>&1
done
"$IT_YARDCTL" plan -f "$IT_MANIFEST" >"$OUT/plan-end.out" 2>&1
stop_daemon
check "the watch saw the flips (status updates recorded)" \
  test "$(grep -c '"MODIFIED"' "$OUT/watch.json")" -gt 5

# Everything Switchyard wrote or answered, but the token file itself (and the password file,
# which is the operator's).
places=("$IT_ART/daemon.log" "$OUT" "$IT_WORK/once-state" "$SY_UPSTREAM_FILE")
while IFS= read -r f; do places+=("$f"); done < <(find "$IT_STATE" -type f ! -name token)
for c in blue green; do places+=("$(sy_pg_datadir "$c")/postgresql.auto.conf"); done
# Controls: the strings are findable where they are meant to be.
check "control: grep finds the passwords in the password file" grep -qF "$PW_CTL" "$PASSFILE"
check "control: grep finds the token in the token file" grep -qF "$TOKEN" "$IT_STATE/token"
check "the controller's passwords are nowhere" test -z "$(grep -rlF -e "$PW_CTL" -e "$PW_REPL" "${places[@]}")"
check "the wrong password is nowhere" test -z "$(grep -rlF -e "$PW_WRONG" "${places[@]}")"
check "the token is nowhere" test -z "$(grep -rlF -e "$TOKEN" "${places[@]}")"
check "a wrong token sent is not echoed" test -z "$(grep -rlF -e "$WRONG_TOKEN" "${places[@]}")"
check "the status and log did carry the authentication errors (the greps saw them)" \
  grep -rqF 'password authentication failed' "$IT_ART/daemon.log" "$OUT"
check "primary_conninfo names the password file, holds no password" \
  grep -qF "passfile=$PASSFILE" "$(sy_pg_datadir green)/postgresql.auto.conf"

# --- 5. file modes --------------------------------------------------------------------------------

mode_is() { [[ $(stat -c %a "$2") == "$1" ]]; }
check "token: 600" mode_is 600 "$IT_STATE/token"
check "state directory: 700" mode_is 700 "$IT_STATE"
check "state objects directory: 700" mode_is 700 "$IT_STATE/objects"
check "stored object: 600" mode_is 600 "$IT_STATE/objects/default_shop.json"
check "lock: 600" mode_is 600 "$IT_STATE/lock"
check "nginx upstream file: 644 (no secret; nginx and nginx -t read it)" mode_is 644 "$SY_UPSTREAM_FILE"
for c in blue green; do
  check "$c postgresql.auto.conf: 600, postgres's" \
    test "$(stat -c '%a %U' "$(sy_pg_datadir "$c")/postgresql.auto.conf")" = "600 postgres"
done
check "green standby.signal: 600, postgres's" \
  test "$(stat -c '%a %U' "$(sy_pg_datadir green)/standby.signal")" = "600 postgres"

it_end
