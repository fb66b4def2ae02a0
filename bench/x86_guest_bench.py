#!/usr/bin/env python3
"""Guest workload benchmark: QEMU vs Corvid on the x86-64 builds of the integer workloads
(guests/benchcommon, the same programs as the AArch64 ones, built by guests/x86bench).

Runs every workload (PVH ELF guests: loops, calls, dispatch, sort, crc32) on
qemu-system-x86_64 -M pc (TCG) and on corvid-system-x86_64 -M pc (translator, JIT backend),
interleaved, best of N, and prints wall time, the speed ratio (QEMU time / Corvid time: > 1
means Corvid is faster) and whether the checksums match.

With --callgrind, runs the small variants (<name>-small.elf, built with -DSMALL) under
`valgrind --tool=callgrind` and prints host instructions per guest instruction. The guest
instruction count comes from Corvid's `-accel tcg,count-insns=on,stats=on` statistics and is
used for QEMU too (the program is identical). A trivial guest (empty.elf) is measured the same
way and its host instructions and guest instructions are subtracted, so that emulator start-up
(firmware included) does not count.

With --perf WORKLOAD, records Corvid (JIT) running WORKLOAD under `perf record` while logging
the translated blocks (-d in_asm,out_asm), then maps the samples that fall into generated code
back to guest blocks: prints the host functions outside generated code (helpers, translator,
run loop) and the hottest guest blocks with their share of the samples.
"""

import sys

import guest_bench_common
from guest_bench_common import Profile


# isa-debug-exit turns the guest's exit code c into the process status (c << 1) | 1; the
# workloads return 0 from main.
MACHINE = ["-M", "pc", "-display", "none", "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
PROFILE = Profile(qemu_args=lambda: MACHINE, corvid_args=lambda: MACHINE, ok_status=(0, 1))


def main():
    return guest_bench_common.main(__doc__, PROFILE, "corvid-system-x86_64", "qemu-system-x86_64", "x86bench", None)


if __name__ == "__main__":
    sys.exit(main())
