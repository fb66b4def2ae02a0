#!/usr/bin/env python3
"""The same compute loop natively, under Corvid's KVM (ring 3 and ring 0) and under Corvid's
translator, in one run. Prints cycles per iteration (rdtsc inside the guest / the host
program) and the ratio to native; best of N runs, interleaved so machine noise hits all alike.

usage: bench/kvm_bench.py [--build build] [--iters N] [--ring0-iters N] [--runs 3]
"""
import argparse
import os
import time
import re
import subprocess
import sys

LINE = re.compile(r"(native|ring0|ring3) iters=(\d+) cycles=(\d+) result=([0-9a-f]+)")


def run(cmd, timeout):
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    wall = time.monotonic() - t0
    m = LINE.search(p.stdout)
    if not m:
        return None, (p.stdout + p.stderr).strip()[-300:]
    return (int(m.group(2)), int(m.group(3)), m.group(4), wall), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--iters", type=int, default=200_000_000)
    ap.add_argument("--ring0-iters", type=int, default=2_000_000)
    ap.add_argument("--tcg-iters", type=int, default=20_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    b = args.build
    guest = os.path.join(b, "guests/x86bench/ring3.elf")
    system = os.path.join(b, "corvid-system-x86_64")
    common = [system, "-M", "pc", "-display", "none", "-serial", "stdio", "-device",
              "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", guest]
    configs = [
        ("native", [os.path.join(b, "guests/x86bench/native_loop"), str(args.iters)], 120),
        ("kvm ring 3", common + ["-accel", "kvm", "-append", f"ring=3 iters={args.iters}"], 300),
        ("kvm ring 0", common + ["-accel", "kvm", "-append", f"ring=0 iters={args.ring0_iters}"], 600),
        ("tcg ring 3", common + ["-accel", "tcg", "-append", f"ring=3 iters={args.tcg_iters}"], 600),
    ]
    best = {}
    notes = {}
    for _ in range(args.runs):
        for name, cmd, timeout in configs:
            r, err = run(cmd, timeout)
            if r is None:
                notes[name] = err
                continue
            iters, cycles, result, wall = r
            cpi = cycles / iters
            nspi = wall * 1e9 / iters
            if name not in best or cpi < best[name][0]:
                best[name] = (cpi, iters, result, nspi)
    base = best.get("native")
    # cycles/iter: rdtsc inside the guest (meaningful for native and KVM, whose TSC is the
    # host's); ns/iter: wall time of the whole process (start-up included) per iteration, the
    # only fair column for the translator, whose guest TSC is not the host's.
    print(f"{'configuration':<12} {'iterations':>12} {'cycles/iter':>12} {'vs native':>10} {'wall ns/iter':>13}  result")
    for name, _, _ in configs:
        if name not in best:
            print(f"{name:<12} {'-':>12} {'-':>12} {'-':>10} {'-':>13}  failed: {notes.get(name, '?')}")
            continue
        cpi, iters, result, nspi = best[name]
        ratio = f"{cpi / base[0]:.3f}x" if base else "-"
        print(f"{name:<12} {iters:>12} {cpi:>12.3f} {ratio:>10} {nspi:>13.3f}  {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
