#!/usr/bin/env bash
# Fails when a C++ file is not formatted as .clang-format says; `--fix` rewrites them.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files 'pkg/*.h' 'pkg/*.cc' 'cmd/*.cc' 'tests/*.h' 'tests/*.cc' \
                                  'examples/*.h' 'examples/*.cc')
[ ${#files[@]} -gt 0 ] || exit 0
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "verify-format: not formatted (run hack/verify-format.sh --fix):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "verify-format: ${#files[@]} files formatted"
