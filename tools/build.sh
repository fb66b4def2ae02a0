#!/usr/bin/env bash
# Configures and builds one build tree: tools/build.sh [build-dir] [extra cmake args...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
shift || true
# ccache hits across checkouts in different folders (CI clones anew each time).
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
cmake -S "$ROOT" -B "$BUILD" -G Ninja "$@" >/dev/null
cmake --build "$BUILD" -j "$(nproc)"
