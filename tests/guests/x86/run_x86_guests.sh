#!/bin/sh
# Runs the x86 guests on an emulator (qemu-system-x86_64 or corvid-system-x86_64) on -M pc
# and -M q35 and compares output and exit status with tests/guests/x86/expected/.
# Usage: run_x86_guests.sh EMULATOR ELF_DIR [extra emulator args...]; exit status 1 on any
# mismatch. A stop-gap until the guest test driver covers x86.
set -u
emu=$1
elfdir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
fail=0
tmp=$(mktemp)
for m in pc q35; do
  for g in hello exceptions pit cmos echo isa uart pic; do
    if [ "$g" = echo ]; then
      printf 'Hello, Corvid!\nabc 123\nq-ignored after q\n' > "$tmp.in"
    else
      : > "$tmp.in"
    fi
    timeout 60 "$emu" -M "$m" -display none -serial stdio \
      -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" -kernel "$elfdir/$g.elf" < "$tmp.in" > "$tmp" 2>/dev/null
    st=$?
    want=$(cat "$here/expected/$g.status")
    if cmp -s "$tmp" "$here/expected/$g.txt" && [ "$st" = "$want" ]; then
      echo "PASS $m $g"
    else
      echo "FAIL $m $g (status $st, expected $want)"
      diff "$here/expected/$g.txt" "$tmp" | head -10
      fail=1
    fi
  done
done
rm -f "$tmp" "$tmp.in"
exit $fail
