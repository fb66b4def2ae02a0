#!/usr/bin/env bash
# The whole test suite: set up, build (Release), run ctest; then the sanitizer build
# (ASan + UBSan) runs the unit tests. CORVID_SKIP_SANITIZE=1 skips the second pass.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/tools/setup.sh"
"$ROOT/tools/build.sh" "$ROOT/build"
cd "$ROOT/build"
ctest --output-on-failure -j 2 --timeout 600
if [ "${CORVID_SKIP_SANITIZE:-0}" != 1 ]; then
  "$ROOT/tools/build.sh" "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORVID_SANITIZE=ON -DCORVID_BENCH=OFF
  cd "$ROOT/build-asan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j 2 --timeout 900
fi
