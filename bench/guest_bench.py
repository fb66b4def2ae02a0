#!/usr/bin/env python3
"""Guest workload benchmark: QEMU vs Corvid on the AArch64 builds of the integer workloads
(guests/benchcommon, built by guests/a64bench).

Runs every workload on qemu-system-aarch64 (-M virt -cpu cortex-a57) and on
corvid-system-aarch64 (JIT), interleaved, best of N, and prints wall time, the speed ratio
(QEMU time / Corvid time: > 1 means Corvid is faster) and whether the checksums match.

With --callgrind, runs the small variants (<name>-small.elf, built with -DSMALL) under
`valgrind --tool=callgrind` and prints host instructions per guest instruction. The guest
instruction count comes from Corvid's `-accel tcg,count-insns=on,stats=on` statistics and is
used for QEMU too (the program is identical). A trivial guest (empty.elf) is measured the same
way and its host instructions are subtracted, so that emulator start-up does not count.

With --perf WORKLOAD, records Corvid (JIT) running WORKLOAD under `perf record` while logging
the translated blocks (-d in_asm,out_asm), then maps the samples that fall into generated code
back to guest blocks: prints the host functions outside generated code, the hottest guest
blocks (guest code, host code size, share of samples) and a rough breakdown of the samples in
generated code by what the host instruction does (flags, softmmu TLB check, guest register
loads/stores, block ends). perf attributes some cost to the instruction after the expensive
one (skid), so the breakdown is indicative.
"""

import re
import sys

import guest_bench_common
from guest_bench_common import Profile


MACHINE = ["-M", "virt", "-cpu", "cortex-a57", "-nographic"]
PROFILE = Profile(qemu_args=lambda: MACHINE, corvid_args=lambda: MACHINE)


HOST_CATEGORIES = [
    ("flags (NZCV compute/store)", re.compile(r"\b(stc|adc|set[a-z]+|movzx)\b|dword ptr \[r15 \+ 0x21(58|5c|60|64)\]")),
    ("softmmu TLB check", re.compile(r"shr\s+rax, 7|and\s+eax, 0x1fe0|and\s+rdx, 0xfff|\[r15 \+ rax")),
    ("exit_request check", re.compile(r"dword ptr \[r15 \+ 8\]")),
    ("block end / branch", re.compile(r"^(jmp|je|jne|nop)\b")),
    ("guest register load/store", re.compile(r"qword ptr \[r15 \+ 0x2[0-9a-f]{3}\]")),
]


def categorize(text):
    for name, rx in HOST_CATEGORIES:
        if rx.search(text):
            return name
    return "computation/other"


def main():
    return guest_bench_common.main(__doc__, PROFILE, "corvid-system-aarch64", "qemu-system-aarch64", "a64bench", categorize)


if __name__ == "__main__":
    sys.exit(main())
