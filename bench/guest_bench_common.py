"""What the guest workload benchmarks (bench/guest_bench.py for AArch64, bench/x86_guest_bench.py
for x86) share: running a guest, the interleaved best-of-N timing table, callgrind host
instructions per guest instruction with start-up subtracted, the -d in_asm,out_asm parser, the
perf profile mapped onto guest blocks and the command line.
The arch-specific part is a Profile (command lines, accepted exit statuses) put on args.profile."""

import argparse
import bisect
import collections
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




def perf_profile(args, workload, categorize=None):
    """Records Corvid (JIT) on WORKLOAD under perf while logging translated blocks, then maps the
    samples in generated code back to guest blocks; `categorize(host insn text)` (optional) also
    breaks those samples down by kind of host instruction."""
    with tempfile.TemporaryDirectory() as d:
        data, log = os.path.join(d, "perf.data"), os.path.join(d, "tb.log")
        cmd = ["perf", "record", "-q", "-F", "4000", "-o", data] + corvid_cmd(args, elf_path(args, workload))
        cmd += ["-d", "in_asm,out_asm", "-D", log]
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=args.timeout, check=False)
        script = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym,dso"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, check=False).stdout.decode(errors="replace")
        blocks = parse_translation_log(log) if os.path.exists(log) else []
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
            if categorize:
                categories[categorize(host_text.get(ip, ""))] += 1
        else:
            outside[parts[1].strip() if len(parts) > 1 else "?"] += 1
    if not total:
        print("perf recorded no samples (is perf allowed? see /proc/sys/kernel/perf_event_paranoid)")
        return
    in_jit = sum(per_block.values())
    print(f"\nperf profile of {workload} on Corvid (JIT): {total} samples, {100 * in_jit / total:.1f}% in generated code"
          f" ({len(blocks)} translated blocks logged)")
    print("outside generated code:")
    for sym, n in outside.most_common(args.perf_top):
        print(f"  {100 * n / total:5.1f}%  {sym}")
    if categorize:
        print("generated code, by kind of host instruction (% of all samples):")
        for name, n in categories.most_common():
            print(f"  {100 * n / total:5.1f}%  {name}")
    print("hottest guest blocks:")
    for i, n in per_block.most_common(5):
        _, _, guest, host = blocks[i]
        print(f"  {100 * n / total:5.1f}%  {len(guest)} guest insns -> {len(host)} host insns")
        for g in guest:
            print(f"           {g}")


def main(description, profile, corvid_name, qemu_name, guests_subdir, categorize=None):
    """The command line both benchmark scripts share; returns the process exit status."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="build directory (default: build/)")
    ap.add_argument("--corvid", help=f"{corvid_name} (default: <build>/{corvid_name})")
    ap.add_argument("--qemu", default=qemu_name)
    ap.add_argument("--guests", help=f"directory of the workload ELFs (default: <build>/guests/{guests_subdir})")
    ap.add_argument("-n", type=int, default=3, help="rounds (best of N)")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--cg-timeout", type=float, default=1800)
    ap.add_argument("--callgrind", action="store_true", help="also measure host insns per guest insn")
    ap.add_argument("--no-timing", action="store_true", help="skip the timing table")
    ap.add_argument("--perf", metavar="WORKLOAD", help="profile Corvid on WORKLOAD with perf (see above)")
    ap.add_argument("--perf-top", type=int, default=12, help="host functions to list with --perf")
    ap.add_argument("workloads", nargs="*", default=WORKLOADS)
    args = ap.parse_args()
    args.profile = profile
    args.corvid = args.corvid or os.path.join(args.build, corvid_name)
    args.guests = args.guests or os.path.join(args.build, "guests", guests_subdir)
    for w in args.workloads:
        if w not in WORKLOADS:
            ap.error(f"unknown workload {w} (known: {', '.join(WORKLOADS)})")
        if not os.path.exists(elf_path(args, w)):
            ap.error(f"{elf_path(args, w)} not found: build the guests-{guests_subdir} target")
    if not os.path.exists(args.corvid):
        ap.error(f"{args.corvid} not found: build the {corvid_name} target")
    ok = True
    if not args.no_timing:
        ok = timing(args)
    if args.callgrind:
        callgrind(args)
    if args.perf:
        perf_profile(args, args.perf, categorize)
    return 0 if ok else 1
