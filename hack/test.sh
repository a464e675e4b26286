#!/usr/bin/env bash
# Runs every test from nothing, as root on Debian 12: installs the dependencies, builds,
# checks formatting and the packages' layering (hack/verify-layers.sh), then runs the
# integration tests (real PostgreSQL 15, real nginx, on 127.0.0.1, and the multi-host stack's
# in network namespaces: tests/integration/multihost) while, beside them,
# clang-tidy, the unit tests under ASan+UBSan (all) and under TSan (those that run threads),
# and a bounded libFuzzer run of each fuzz target (with SWITCHYARD_SKIP_SANITIZERS=1 the unit
# tests run in the normal build instead). Exits non-zero when anything
# fails. About 32 minutes on a quiet 2-core machine (more on a busy one); the CPU-bound checks
# beside the integration tests are the longer path.
#   SWITCHYARD_TEST_FILTER=regex   run only the matching ctest tests (build dir's)
#   SWITCHYARD_SKIP_LINT=1         skip clang-tidy
#   SWITCHYARD_SKIP_SANITIZERS=1   skip the ASan+UBSan and TSan runs
#   SWITCHYARD_SKIP_FUZZ=1         skip fuzzing;   FUZZ_SECONDS=30 per target here (longer runs:
#                                  FUZZ_SECONDS=3600 hack/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${SWITCHYARD_BUILD_DIR:-build}"
export SWITCHYARD_BUILD_DIR="$build"

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
bash hack/install-deps.sh
# With the sanitizers on, the unit tests run there only (every one under ASan+UBSan, those
# that run threads under TSan), not also here: building them three times was the longest
# part of the test command.
unit_here=1
[ "${SWITCHYARD_SKIP_SANITIZERS:-}" = "1" ] || unit_here=0
tsan_tests=(actuate_test agent_test app_test controller_test observe_test server_test source_test util_test)
step "build ($build)"
if [ "$unit_here" = 1 ]; then bash hack/build.sh -DSY_UNIT_TESTS=ON; else bash hack/build.sh -DSY_UNIT_TESTS=OFF; fi
step "format"
bash hack/verify-format.sh
step "layers"
bash hack/verify-layers.sh

# The integration tests mostly wait on servers; the CPU-bound checks run beside them, one
# after the other, each into its own log, and are reported at the end.
mkdir -p "$build/checks"
checks=()
[ "${SWITCHYARD_SKIP_FUZZ:-}" = "1" ] || checks+=(fuzz)
[ "${SWITCHYARD_SKIP_SANITIZERS:-}" = "1" ] || checks+=(asan tsan)
[ "${SWITCHYARD_SKIP_LINT:-}" = "1" ] || checks+=(lint)
run_check() {
  case "$1" in
    fuzz) FUZZ_JOBS=2 FUZZ_SECONDS="${FUZZ_SECONDS:-30}" bash hack/fuzz.sh ;;
    asan) bash hack/sanitize.sh asan ;;
    # Under TSan, the test binaries whose code runs threads (the others add nothing there).
    tsan) SANITIZE_TARGETS="${tsan_tests[*]}" \
      SANITIZE_TEST_FILTER="^($(IFS='|'; echo "${tsan_tests[*]}"))\\." bash hack/sanitize.sh tsan ;;
    lint) LINT_JOBS=2 bash hack/lint.sh "$build" ;;
  esac
}
checks_pid=""
if [ ${#checks[@]} -gt 0 ]; then
  step "in the background: ${checks[*]} (logs: $build/checks/)"
  : >"$build/checks/results"
  (
    for c in "${checks[@]}"; do
      t0=$(date +%s)
      if run_check "$c" >"$build/checks/$c.log" 2>&1; then r=ok; else r=FAILED; fi
      echo "$c $r $(($(date +%s) - t0))" >>"$build/checks/results"
    done
  ) &
  checks_pid=$!
fi

step "tests"
args=(--output-on-failure --timeout 900)
[ -n "${SWITCHYARD_TEST_FILTER:-}" ] && args+=(-R "$SWITCHYARD_TEST_FILTER")
status=0
if [ "$unit_here" = 1 ]; then
  (cd "$build" && ctest "${args[@]}" -L unit -j2) || status=1
fi
# Integration tests one at a time: they share the local stack's ports.
(cd "$build" && ctest "${args[@]}" -L integration) || status=1

if [ -n "$checks_pid" ]; then
  step "waiting for ${checks[*]}"
  wait "$checks_pid" || true
  for c in "${checks[@]}"; do
    read -r _ r secs < <(grep "^$c " "$build/checks/results" || echo "$c FAILED 0")
    step "$c: $r (${secs} s)"
    if [ "$r" = ok ]; then
      tail -n 5 "$build/checks/$c.log"
    else
      tail -n 60 "$build/checks/$c.log"
      status=1
    fi
  done
fi
if [ "$status" -ne 0 ]; then
  echo "test.sh: FAILED (see above)" >&2
  exit 1
fi
echo "test.sh: all passed"
