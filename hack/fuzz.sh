#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (clang) of the places untrusted bytes enter
# Switchyard: the manifest decoder + validation (fuzz_manifest), the JSON codec (fuzz_json),
# the API's request handling (fuzz_api), the transport's request-head parser (fuzz_head) and
# the GitOps manifest tree (fuzz_tree: symbolic links, renames, partial writes, duplicates, on
# a real directory). Builds them with ASan+UBSan into
# ${SWITCHYARD_FUZZ_BUILD_DIR:-build-fuzz}, then runs each for FUZZ_SECONDS from a copy of its
# seed corpus (tests/fuzz/corpus/<target>; what a run learns stays in the build dir).
#   FUZZ_SECONDS=60          seconds per target (the test command's bounded run)
#   FUZZ_TARGETS="manifest json api tree head"
#   FUZZ_JOBS=2              targets fuzzed at once
# Longer runs: FUZZ_SECONDS=3600 hack/fuzz.sh, or run a binary by hand, e.g.
#   build-fuzz/tests/fuzz/fuzz_api -max_total_time=3600 build-fuzz/fuzz-corpus/api tests/fuzz/corpus/api
# A crash, leak, hang (> 10 s) or broken invariant fails the run and leaves its input in
# build-fuzz/fuzz-artifacts/<target>/; add it to tests/fuzz/regressions/<target>/ so that the
# normal build replays it (ctest -R fuzz_replay) once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${SWITCHYARD_FUZZ_BUILD_DIR:-build-fuzz}"
seconds="${FUZZ_SECONDS:-60}"
read -r -a targets <<<"${FUZZ_TARGETS:-manifest json api tree head}"
jobs="${FUZZ_JOBS:-2}"

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (hack/install-deps.sh installs clang)" >&2; exit 2; }
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Fuzz \
  -DCMAKE_CXX_FLAGS_FUZZ="-O1 -g1" -DSY_FUZZ=ON \
  -DSY_ASAN=ON -DSY_WERROR=OFF >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
cmake --build "$build" -j"${BUILD_JOBS:-2}" "${build_targets[@]}"

# fuzz_one TARGET: runs it for $seconds; prints one summary line; non-zero on a finding.
fuzz_one() {
  local t=$1 corpus="$build/fuzz-corpus/$1" art="$build/fuzz-artifacts/$1/" log="$build/fuzz-$1.log"
  mkdir -p "$corpus" "$art"
  local rc=0
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$art" \
    "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  local execs cov
  execs=$(grep -oE 'number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
  if ((rc != 0)); then
    echo "fuzz_$t: FAILED after ${execs:-?} executions (exit $rc); input in $art:"
    grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" | head -n 10 | sed 's/^/    | /'
    return 1
  fi
  echo "fuzz_$t: ${execs:-?} executions in ${seconds} s, coverage ${cov:-?} edges, corpus $(find "$corpus" -type f | wc -l) inputs: no crash"
}

status=0
pids=()
names=()
for t in "${targets[@]}"; do
  while ((${#pids[@]} >= jobs)); do
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  done
  fuzz_one "$t" &
  pids+=($!)
  names+=("$t")
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
((status == 0)) && echo "fuzz: ${names[*]}: ${seconds} s each, nothing found" || echo "fuzz: FAILED" >&2
exit "$status"
