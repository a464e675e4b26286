#!/usr/bin/env bash
# The main job, from nothing, as root on Debian 12: installs the dependencies, builds, brings
# up the local blue/green stack (hack/local-up.sh), validates examples/local.yaml, starts the
# controller on it, and flips the live color to green and back to blue while the demo app
# takes writes through nginx. After each flip it prints the status table and the per-step
# timings; at the end, how many acknowledged writes were made and that none was lost.
# The stack and the controller stay up afterwards (how to stop them is printed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build="${SWITCHYARD_BUILD_DIR:-build}"
export SWITCHYARD_BUILD_DIR="$build"
local_dir="${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-local}"
export SWITCHYARD_LOCAL_DIR="$local_dir"
demo="$local_dir/controller"
listen="127.0.0.1:9753"
server="http://$listen"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "installing dependencies"
bash hack/install-deps.sh
say "building"
BUILD_TARGETS="switchyard yardctl shop-app" bash hack/build.sh
yardctl="$build/cmd/yardctl/yardctl"
switchyard="$build/cmd/switchyard/switchyard"

say "bringing up the local stack"
bash hack/local-up.sh

say "validating examples/local.yaml"
mkdir -p "$demo"
# The example names /tmp/switchyard-local; follow SWITCHYARD_LOCAL_DIR if it differs.
sed "s#/tmp/switchyard-local#$local_dir#g" examples/local.yaml >"$demo/shop.yaml"
"$yardctl" validate -f "$demo/shop.yaml"

say "starting the controller (log: $demo/switchyard.log)"
if [ -s "$demo/switchyard.pid" ] && kill -0 "$(cat "$demo/switchyard.pid")" 2>/dev/null; then
  kill "$(cat "$demo/switchyard.pid")"
  while kill -0 "$(cat "$demo/switchyard.pid")" 2>/dev/null; do sleep 0.1; done
fi
setsid "$switchyard" --manifests "$demo/shop.yaml" --state-dir "$demo/state" --listen "$listen" \
  >>"$demo/switchyard.log" 2>&1 </dev/null &
echo $! >"$demo/switchyard.pid"
for _ in $(seq 1 100); do
  curl -sf "$server/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "$server/readyz" >/dev/null || { tail -20 "$demo/switchyard.log"; echo "controller did not start" >&2; exit 1; }

# wait_for COLOR: until the resource is Converged on COLOR (60 s at most).
wait_for() {
  local color=$1 json
  for _ in $(seq 1 600); do
    json=$("$yardctl" --server "$server" get dc shop -o json 2>/dev/null || true)
    if grep -q "\"phase\": \"Converged\"" <<<"$json" && grep -q "\"primaryColor\": \"$color\"" <<<"$json" \
       && grep -q "\"observedGeneration\": $(grep -o '"generation": [0-9]*' <<<"$json" | grep -o '[0-9]*')" <<<"$json"; then
      return 0
    fi
    sleep 0.1
  done
  echo "shop did not converge on $color; status:" >&2
  "$yardctl" --server "$server" get dc shop -o yaml >&2 || true
  return 1
}
wait_for blue || wait_for green

say "starting a writer: POST /orders through nginx, back to back"
writes="$demo/writes.log"
: >"$writes"
touch "$demo/writer.on"
(
  while [ -f "$demo/writer.on" ]; do
    curl -s -m 5 -w '\n' -X POST -d note=demo "http://127.0.0.1:18080/orders" >>"$writes" || true
  done
) &
writer=$!

flip() {
  local color=$1 mark
  mark=$(wc -l <"$demo/switchyard.log")
  say "flipping to $color (editing activeColor in $demo/shop.yaml)"
  sed -i "s/activeColor: .*/activeColor: $color/" "$demo/shop.yaml"
  wait_for "$color"
  "$yardctl" --server "$server" get dc
  echo
  echo "steps:"
  tail -n +"$((mark + 1))" "$demo/switchyard.log" | grep -E ' (info|error) +step resource=.*outcome=(ok|error)' \
    | sed -E 's/.*step="([^"]+)" outcome=([a-z]+) ms=([0-9]+).*/  \1: \2, \3 ms/'
  "$yardctl" --server "$server" get dc shop -o json \
    | grep -E '"writeUnavailableMs"|"startedAt"|"finishedAt"' | sed 's/^ */  /'
}
sleep 1
flip green
sleep 1
flip blue
sleep 1
rm -f "$demo/writer.on"
wait "$writer" || true

say "checking the writes"
mapfile -t ids < <(grep -o '"id":[0-9]*' "$writes" | grep -o '[0-9]*')
failed=$(grep -v '"id":' "$writes" | grep -c . || true)
if [ ${#ids[@]} -eq 0 ]; then echo "no write was acknowledged" >&2; exit 1; fi
idlist=$(IFS=,; echo "${ids[*]}")
found=$(psql -h 127.0.0.1 -p 15433 -U switchyard -d shop -Atc "SELECT count(*) FROM orders WHERE id IN ($idlist)")
echo "acknowledged writes: ${#ids[@]}, found on the primary: $found, refused (retry-able) requests: $failed"
[ "$found" -eq "${#ids[@]}" ] || { echo "LOST $(( ${#ids[@]} - found )) acknowledged writes" >&2; exit 1; }

cat <<EOT

Switchyard is running (pid $(cat "$demo/switchyard.pid")) on the local stack.
  flip:    sed -i 's/activeColor: .*/activeColor: green/' $demo/shop.yaml
  watch:   $yardctl get dc        (or: curl -s $server/apis/switchyard.dev/v1alpha1/namespaces/default/deploymentcolors/shop)
  logs:    tail -f $demo/switchyard.log
  stop:    kill \$(cat $demo/switchyard.pid); hack/local-down.sh [--purge]
EOT
