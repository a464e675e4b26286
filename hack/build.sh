#!/usr/bin/env bash
# Configures and builds Switchyard into ${SWITCHYARD_BUILD_DIR:-build}. Extra arguments go to
# cmake's configure step (e.g. -DSY_ASAN=ON); BUILD_TARGETS="a b" builds only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${SWITCHYARD_BUILD_DIR:-build}"
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSY_WERROR="$werror" "$@" >/dev/null
targets=()
for t in ${BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build" -j"${BUILD_JOBS:-2}" "${targets[@]}"
