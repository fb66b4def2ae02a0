#!/usr/bin/env bash
# The main job: set up, build, boot the bundled AArch64 hello guest on `virt` under the
# translator, then show the policy rejecting the translator under require-secure.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/tools/setup.sh"
"$ROOT/tools/build.sh" "$ROOT/build"
B="$ROOT/build"

echo "== corvid-system-aarch64 -machine help"
"$B/corvid-system-aarch64" -machine help
echo
echo "== corvid-system-aarch64 -M virt -nographic -kernel guests/a64/hello.elf   (translator)"
"$B/corvid-system-aarch64" -M virt -nographic -kernel "$B/guests/a64/hello.elf" </dev/null
echo "(exit status $?)"
echo
echo "== corvid-system-aarch64 -M virt,require-secure=on -nographic -kernel guests/a64/hello.elf"
set +e
"$B/corvid-system-aarch64" -M virt,require-secure=on -nographic -kernel "$B/guests/a64/hello.elf" </dev/null
echo "(exit status $?)"
echo
echo "== corvid-system-x86_64 -machine pc,require-secure=yes -accel tcg"
"$B/corvid-system-x86_64" -display none -machine pc,require-secure=yes -accel tcg
echo "(exit status $?)"
