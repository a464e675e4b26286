#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# GitOps on the real local stack: the daemon watches a real `git` checkout (--manifests DIR)
# holding shop.yaml (the stack's resource) and other.yaml (two more resources in one file,
# paused, on ports nothing listens on: observed, never acted on). Then:
#   - an edit committed to shop.yaml applies within a second and the world converges to it;
#     status.source names the file and the commit;
#   - a bad edit (activeColor: purple) leaves shop on its last valid spec, with a condition
#     naming file:line:col, while an edit of other.yaml in the same commit proceeds; nothing
#     changes in the world; the API refuses to change shop (403 naming the file);
#   - removing shop.yaml stops its management and tears nothing down;
#   - a committed link to the daemon's own token and two links into each other are refused
#     unread: the token appears in no log line, status or answer, and a restarted daemon
#     serves at once;
#   - a checkout of an older commit is applied and said in status.source.
set -uo pipefail
export SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-it-gitops}
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../engine/lib.sh"

command -v git >/dev/null || {
  echo "gitops: git not found"
  exit 1
}

it_begin gitops

REPO="$IT_WORK/repo"
DCS="$IT_API/apis/switchyard.dev/v1alpha1/namespaces/default/deploymentcolors"
gitc() { git -C "$REPO" -c user.name=it -c user.email=it@localhost -c commit.gpgsign=false "$@"; }
head_commit() { gitc rev-parse HEAD; }
dc() { curl -fsS -m 2 "$DCS/$1"; }
# jqdc NAME FILTER: FILTER holds on resource NAME.
jqdc() { dc "$1" | jq -e "$2" >/dev/null 2>&1; }

git init -q -b main "$REPO" || fatal "git init $REPO"
cp "$IT_MANIFEST" "$REPO/shop.yaml"
# other.yaml: cart and web, paused, pointing at nothing that runs (each on ports of its own:
# two resources may not share a server). other NAME DIGIT
other() {
  sed -e "s/^  name: shop$/  name: $1/" -e 's/^  paused: false/  paused: true/' \
    -e "s/1543\\([34]\\)/${2}543\\1/" -e "s/1808\\([012]\\)/${2}808\\1/" \
    -e "s#$SY_DIR/pg#$IT_WORK/none/$1#" -e "s#$SY_DIR/nginx#$IT_WORK/none/$1#" "$IT_MANIFEST"
}
{
  other cart 2
  echo "---"
  other web 3
} >"$REPO/other.yaml"
{ gitc add -A && gitc commit -qm "shop on blue; cart and web"; } || fatal "git commit"

start_gitops_daemon() {
  "$IT_SWITCHYARD" --manifests "$REPO" --state-dir "$IT_STATE" --listen "$SY_HOST:$IT_API_PORT" \
    --resync-ms 500 >>"$IT_ART/daemon.log" 2>&1 </dev/null &
  daemon_pid=$!
  it_pids+=("$daemon_pid")
  wait_until 15 "the daemon to answer $IT_API/readyz" curl -fsS -m 1 "$IT_API/readyz"
}
start_gitops_daemon || fatal "the daemon is ready"

converged() {
  jqdc shop ".status.phase == \"Converged\" and .status.servingColor == \"$1\" and
    .status.primaryColor == \"$1\" and .status.observedGeneration == .metadata.generation"
}
check "shop Converged on blue" wait_until 30 "Converged on blue" converged blue
commit=$(head_commit)
check "status.source of shop names the file and commit $commit" \
  jqdc shop ".status.source == \"$REPO/shop.yaml (commit $commit)\""
check "cart and web come from the one file other.yaml" \
  jqdc web ".status.source == \"$REPO/other.yaml (commit $commit)\" and .spec.paused"
check "cart too" jqdc cart ".metadata.name == \"cart\""

# 1. An edit applies within a second, and the world follows.
sed -i 's/^\(  activeColor:\) *blue/\1 green/' "$REPO/shop.yaml"
t0=$(it_ts)
gitc commit -qam "shop: green"
wants_green() { jqdc shop '.spec.activeColor == "green"'; }
wait_until 5 "the edit to apply" wants_green
ms=$(($(it_ts) - t0))
check "the committed edit applied within a second (${ms} ms)" test "$ms" -le 1000
check "shop Converged on green" wait_until 60 "Converged on green" converged green
assert_world green
commit=$(head_commit)
source_is_head() { jqdc shop ".status.source == \"$REPO/shop.yaml (commit $commit)\""; }
check "status.source names the new commit $commit" wait_until 5 "the new commit" source_is_head

# 2. A bad edit: shop keeps its last valid spec; other.yaml's edit in the same commit applies.
gen=$(dc shop | jq .metadata.generation)
mark=$(wc -l <"$IT_ART/daemon.log")
sed -i 's/^\(  activeColor:\) *green/\1 purple/' "$REPO/shop.yaml"
line=$(grep -n '^  activeColor:' "$REPO/shop.yaml" | cut -d: -f1)
sed -i '0,/^    app: shop$/s//    app: cart-v2/' "$REPO/other.yaml"
gitc commit -qam "a bad edit"
invalid() {
  jqdc shop ".status.phase == \"Invalid\" and
    (.status.conditions[] | select(.type == \"Ready\") | .status == \"False\" and
      (.message | contains(\"$REPO/shop.yaml:$line:16: spec.activeColor\")))"
}
check "shop is Invalid with a Ready condition naming shop.yaml:$line:16" \
  wait_until 10 "the Invalid condition" invalid
dc shop | jq -r '.status.conditions[] | select(.type == "Ready") | "    Ready: " + .message'
check "shop keeps its last valid spec (green, generation $gen)" \
  jqdc shop ".spec.activeColor == \"green\" and .metadata.generation == $gen"
cart_relabeled() { jqdc cart '.metadata.labels.app == "cart-v2"'; }
check "the edit of other.yaml in the same commit applied" wait_until 5 "cart's label" cart_relabeled
token=$(cat "$IT_STATE/token")
refused=$(curl -s -m 2 -X PATCH -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/merge-patch+json' -d '{"spec":{"activeColor":"blue"}}' "$DCS/shop")
# shellcheck disable=SC2016  # $f is jq's
check "the API refuses to change shop, naming the file: $(jq -r .message <<<"$refused")" \
  json_true "$refused" --arg f "$REPO/shop.yaml" '.code == 403 and (.message | contains($f))'
# passes: how many passes the controller made over shop (switchyard_reconcile_total).
passes() {
  curl -fsS -m 2 "$IT_API/metrics" |
    awk '/^switchyard_reconcile_total\{/ && /resource="default\/shop"/ {n += $NF} END {print n + 0}'
}
before=$(passes)
passes_since() { (($(passes) >= before + $1)); }
check "the controller looked at shop three more times" wait_until 10 "3 passes" passes_since 3
check "no step was taken since the bad edit" \
  test "$(tail -n +"$((mark + 1))" "$IT_ART/daemon.log" | grep -cE "$IT_STEP_END")" -eq 0
assert_world green

# 3. Removing the file stops management and tears nothing down.
gitc rm -q shop.yaml
gitc commit -qm "shop is no longer managed here"
gone() { [[ $(curl -s -o /dev/null -w '%{http_code}' -m 2 "$DCS/shop") == 404 ]]; }
check "shop is no longer in the API" wait_until 5 "shop to go" gone
check "the daemon logged that shop is unmanaged and nothing was torn down" \
  grep -q 'unmanaged resource=default/shop' "$IT_ART/daemon.log"
check "cart and web are still managed" jqdc web '.metadata.name == "web"'
assert_world green

# 4. A link to the daemon's own token, and two links into each other, committed.
ln -s "$IT_STATE/token" "$REPO/leak.yaml"
mkdir -p "$REPO/x" "$REPO/y"
ln -s ../y "$REPO/x/to-y"
ln -s ../x "$REPO/y/to-x"
gitc add -A && gitc commit -qm "links" || fatal "committing the links"
refused_link() {
  grep -qF "$REPO/leak.yaml: a symbolic link to outside the manifest tree" "$IT_ART/daemon.log"
}
check "the link to the token is refused, unread" wait_until 5 "the refusal" refused_link
sed -i '0,/^    app: cart-v2$/s//    app: cart-v3/' "$REPO/other.yaml"
gitc commit -qam "cart-v3"
cart_v3() { jqdc cart '.metadata.labels.app == "cart-v3"'; }
check "the tree is still read past the links (cart relabeled)" wait_until 5 "cart-v3" cart_v3
stop_daemon
t0=$(it_ts)
check "a restart with the loop committed serves at once" start_gitops_daemon
check "... within $(($(it_ts) - t0)) ms" test $(($(it_ts) - t0)) -lt 15000
curl -fsS -m 2 "$DCS" >"$IT_ART/list.json"
curl -fsS -m 2 "$IT_API/metrics" >"$IT_ART/metrics.txt"
check "the token is in no log line" bash -c "! grep -qF '$token' '$IT_ART/daemon.log'"
check "the token is in no status or answer" bash -c "! grep -qF '$token' '$IT_ART/list.json' '$IT_ART/metrics.txt'"

# 5. A checkout going back to an older commit: applied, and said.
newest=$(head_commit)
older=$(gitc rev-parse HEAD~1)
gitc checkout -q --detach "$older"
said_older() { jqdc web ".status.source == \"$REPO/other.yaml (commit $older; an older commit than $newest applied before)\""; }
check "status.source says the checkout went back to $older" wait_until 5 "the note" said_older
cart_v2() { jqdc cart '.metadata.labels.app == "cart-v2"'; }
check "the older commit applied (cart back to cart-v2)" wait_until 5 "cart-v2" cart_v2
gitc checkout -q main
said_newest() { jqdc web ".status.source == \"$REPO/other.yaml (commit $newest)\""; }
check "back on the newest commit: said no more" wait_until 5 "the note to go" said_newest
stop_daemon

it_end
