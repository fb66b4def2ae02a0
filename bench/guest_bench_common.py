"""What the guest workload benchmarks (bench/guest_bench.py for AArch64, bench/x86_guest_bench.py
for x86) share: running a guest, the interleaved best-of-N timing table, callgrind host
instructions per guest instruction with start-up subtracted, and the -d in_asm,out_asm parser.
The arch-specific part is a Profile (command lines, accepted exit statuses) put on args.profile."""

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Tuple

WORKLOADS = ["loops", "calls", "dispatch", "sort", "crc32"]
CHECKSUM_RE = re.compile(r"(\w+) checksum (0x[0-9a-f]+)")
INSNS_RE = re.compile(r"executed guest insns\s+(\d+)")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Profile:
    qemu_args: Callable[[], list]    # machine arguments for QEMU (before -kernel)
    corvid_args: Callable[[], list]  # machine arguments for Corvid (before -accel / -kernel)
    ok_status: Tuple[int, ...] = (0,)


def qemu_cmd(args, elf):
    return [args.qemu] + args.profile.qemu_args() + ["-kernel", elf]


def corvid_cmd(args, elf, extra_accel=""):
    return [args.corvid] + args.profile.corvid_args() + ["-accel", "tcg,backend=jit" + extra_accel, "-kernel", elf]


def run(cmd, timeout, ok_status=(0,)):
    """Runs one guest; returns (seconds, checksum or None, combined output)."""
    start = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, "timeout"
    elapsed = time.perf_counter() - start
    out = p.stdout.decode(errors="replace")
    m = CHECKSUM_RE.search(out)
    if p.returncode not in ok_status or not m:
        return None, None, f"exit status {p.returncode}: {out}"
    return elapsed, m.group(2), out


def elf_path(args, name, small=False):
    return os.path.join(args.guests, name + ("-small" if small else "") + ".elf")


def timing(args):
    best = {w: {"qemu": None, "corvid": None} for w in args.workloads}
    sums = {w: {"qemu": None, "corvid": None} for w in args.workloads}
    for rnd in range(args.n):
        for w in args.workloads:
            for side, cmd in (("qemu", qemu_cmd(args, elf_path(args, w))), ("corvid", corvid_cmd(args, elf_path(args, w)))):
                t, csum, out = run(cmd, args.timeout, args.profile.ok_status)
                if t is None:
                    print(f"  {w} on {side} FAILED (round {rnd + 1}): {out.strip()[-300:]}", file=sys.stderr)
                    continue
                if sums[w][side] not in (None, csum):
                    print(f"  {w} on {side}: checksum changed between rounds", file=sys.stderr)
                sums[w][side] = csum
                if best[w][side] is None or t < best[w][side]:
                    best[w][side] = t
    print(f"\nbest of {args.n} (wall seconds, including emulator start-up)")
    print(f"{'workload':<10} {'QEMU s':>8} {'Corvid s':>9} {'ratio':>7}  checksum")
    ok = True
    for w in args.workloads:
        q, c = best[w]["qemu"], best[w]["corvid"]
        ratio = f"{q / c:7.2f}" if q and c else "    n/a"
        match = sums[w]["qemu"] is not None and sums[w]["qemu"] == sums[w]["corvid"]
        ok = ok and match
        fq = f"{q:8.3f}" if q else "  failed"
        fc = f"{c:9.3f}" if c else "   failed"
        status = "match" if match else f"MISMATCH (qemu {sums[w]['qemu']}, corvid {sums[w]['corvid']})"
        print(f"{w:<10} {fq} {fc} {ratio}  {status}")
    print("ratio = QEMU time / Corvid time (> 1: Corvid faster)")
    return ok


def callgrind_ir(cmd, timeout):
    """Host instructions (Ir, all threads) of one run under callgrind, or None."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        full = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + cmd
        try:
            subprocess.run(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return None
        total = 0
        found = False
        for name in os.listdir(d):  # one file per thread with --separate-threads; one otherwise
            with open(os.path.join(d, name)) as f:
                for line in f:
                    if line.startswith("summary:") or line.startswith("totals:"):
                        total += int(line.split()[1])
                        found = True
                        break
        return total if found else None


def guest_insns(args, elf):
    p = subprocess.run(corvid_cmd(args, elf, ",count-insns=on,stats=on"), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=args.timeout)
    m = INSNS_RE.search(p.stdout.decode(errors="replace"))
    return int(m.group(1)) if m else None


def callgrind(args):
    base_elf = elf_path(args, "empty")
    base = {"qemu": 0, "corvid": 0}
    base_insns = 0
    if os.path.exists(base_elf):
        base_insns = guest_insns(args, base_elf) or 0
        base["qemu"] = callgrind_ir(qemu_cmd(args, base_elf), args.cg_timeout) or 0
        base["corvid"] = callgrind_ir(corvid_cmd(args, base_elf), args.cg_timeout) or 0
        print(f"\nstart-up baseline (empty.elf, {base_insns} guest insns): QEMU {base['qemu']:,} Ir, "
              f"Corvid {base['corvid']:,} Ir (subtracted below)")
    print("\ncallgrind, small inputs: host instructions (Ir) per guest instruction")
    print(f"{'workload':<10} {'guest insns':>12} {'QEMU Ir':>15} {'QEMU/insn':>10} {'Corvid Ir':>15} {'Corvid/insn':>12} {'ratio':>7}")
    for w in args.workloads:
        elf = elf_path(args, w, small=True)
        n = guest_insns(args, elf)
        q = callgrind_ir(qemu_cmd(args, elf), args.cg_timeout)
        c = callgrind_ir(corvid_cmd(args, elf), args.cg_timeout)
        if not n or q is None or c is None:
            print(f"{w:<10} failed (guest insns {n}, qemu {q}, corvid {c})")
            continue
        dn = max(n - base_insns, 1)
        qi = (q - base["qemu"]) / dn
        ci = (c - base["corvid"]) / dn
        print(f"{w:<10} {n:>12,} {q:>15,} {qi:>10.1f} {c:>15,} {ci:>12.1f} {qi / ci if ci else 0:>7.2f}")
    print("per-insn columns: (Ir - start-up Ir) / (guest insns - start-up guest insns); ratio = QEMU/Corvid")


def parse_translation_log(path):
    """Blocks from a -d in_asm,out_asm log: list of (host start, host end, guest lines, host lines)."""
    blocks, guest, host, state = [], [], [], None

    def flush():
        if host:
            addrs = [int(h.split(":")[0], 16) for h in host]
            blocks.append((min(addrs), max(addrs) + 16, list(guest), list(host)))

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("IN:"):
                flush()
                guest, host, state = [], [], "in"
            elif line.startswith("OUT:"):
                state = "out"
            elif line.startswith("0x") and state == "in":
                guest.append(line)
            elif line.startswith("0x") and state == "out":
                host.append(line)
    flush()
    blocks.sort()
    return blocks


