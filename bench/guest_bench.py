#!/usr/bin/env python3
"""Guest workload benchmark: QEMU vs Corvid on the AArch64 integer workloads (guests/a64bench).

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

import argparse
import bisect
import collections
import os
import re
import subprocess
import sys
import tempfile
import time


from guest_bench_common import (WORKLOADS, REPO, Profile, callgrind, corvid_cmd, elf_path,  # noqa: E402
                                parse_translation_log, timing)

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


def perf_profile(args, workload):
    with tempfile.TemporaryDirectory() as d:
        data, log = os.path.join(d, "perf.data"), os.path.join(d, "tb.log")
        cmd = ["perf", "record", "-q", "-F", "4000", "-o", data] + corvid_cmd(args, elf_path(args, workload))
        cmd += ["-d", "in_asm,out_asm", "-D", log]
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=args.timeout, check=False)
        script = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym,dso"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, check=False).stdout.decode(errors="replace")
        blocks = parse_translation_log(log)
    starts = [b[0] for b in blocks]
    host_text = {}
    for b in blocks:
        for h in b[3]:
            addr, text = h.split(":", 1)
            host_text[int(addr, 16)] = text.strip()
    per_block, outside, categories = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for line in script.splitlines():
        parts = line.split(None, 1)
        if not parts:
            continue
        try:
            ip = int(parts[0], 16)
        except ValueError:
            continue
        total += 1
        i = bisect.bisect_right(starts, ip) - 1
        if i >= 0 and blocks[i][0] <= ip < blocks[i][1]:
            per_block[i] += 1
            categories[categorize(host_text.get(ip, ""))] += 1
        else:
            outside[parts[1].strip() if len(parts) > 1 else "?"] += 1
    if not total:
        print("perf recorded no samples (is perf allowed? see /proc/sys/kernel/perf_event_paranoid)")
        return
    in_jit = sum(per_block.values())
    print(f"\nperf profile of {workload} on Corvid (JIT): {total} samples, {100 * in_jit / total:.1f}% in generated code")
    print("outside generated code:")
    for sym, n in outside.most_common(8):
        print(f"  {100 * n / total:5.1f}%  {sym}")
    print("generated code, by kind of host instruction (% of all samples):")
    for name, n in categories.most_common():
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("hottest guest blocks:")
    for i, n in per_block.most_common(5):
        start, _, guest, host = blocks[i]
        print(f"  {100 * n / total:5.1f}%  {len(guest)} guest insns -> {len(host)} host insns")
        for g in guest:
            print(f"           {g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="build directory (default: build/)")
    ap.add_argument("--corvid", help="corvid-system-aarch64 (default: <build>/corvid-system-aarch64)")
    ap.add_argument("--qemu", default="qemu-system-aarch64")
    ap.add_argument("--guests", help="directory of the workload ELFs (default: <build>/guests/a64bench)")
    ap.add_argument("-n", type=int, default=3, help="rounds (best of N)")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--cg-timeout", type=float, default=1800)
    ap.add_argument("--callgrind", action="store_true", help="also measure host insns per guest insn")
    ap.add_argument("--no-timing", action="store_true", help="skip the timing table")
    ap.add_argument("--perf", metavar="WORKLOAD", help="profile Corvid on WORKLOAD with perf (see above)")
    ap.add_argument("workloads", nargs="*", default=WORKLOADS)
    args = ap.parse_args()
    args.profile = PROFILE
    args.corvid = args.corvid or os.path.join(args.build, "corvid-system-aarch64")
    args.guests = args.guests or os.path.join(args.build, "guests", "a64bench")
    for w in args.workloads:
        if w not in WORKLOADS:
            ap.error(f"unknown workload {w} (known: {', '.join(WORKLOADS)})")
        if not os.path.exists(elf_path(args, w)):
            ap.error(f"{elf_path(args, w)} not found: build the guests-a64bench target")
    ok = True
    if not args.no_timing:
        ok = timing(args)
    if args.callgrind:
        callgrind(args)
    if args.perf:
        perf_profile(args, args.perf)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
