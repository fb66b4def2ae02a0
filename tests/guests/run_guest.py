#!/usr/bin/env python3
"""Runs one bundled guest program on qemu-system-* or on Corvid and checks its console output
and exit status against the committed expectation (tests/guests/expected/) and, for Corvid,
against a live QEMU run of the same ELF with the same arguments."""

import argparse
import difflib
import os
import shutil
import subprocess
import sys

SKIP = 77  # ctest SKIP_RETURN_CODE

# Per guest: extra command-line arguments, bytes fed to the serial port, expected exit status.
GUESTS = {
    "a64": {
        "hello": {"args": [], "stdin": b"", "status": 0},
        "isa": {"args": [], "stdin": b"", "status": 0},
        "exceptions": {"args": [], "stdin": b"", "status": 0},
        "semihosting": {"args": ["-semihosting"], "stdin": b"", "status": 3},
        "echo": {"args": [], "stdin": b"Hello, Corvid!\nabc 123\nq-ignored after q\n", "status": 0},
    },
    # x86 PVH guests end through isa-debug-exit with code 0: status (0 << 1) | 1.
    "x86": {
        "hello": {"args": [], "stdin": b"", "status": 1},
        "exceptions": {"args": [], "stdin": b"", "status": 1},
        "pit": {"args": [], "stdin": b"", "status": 1},
        "cmos": {"args": [], "stdin": b"", "status": 1},
        "echo": {"args": [], "stdin": b"Hello, Corvid!\nabc 123\nq-ignored after q\n", "status": 1},
        "isa": {"args": [], "stdin": b"", "status": 1},
    },
}

# Guests that cannot run under this host's KVM, with the reason. The KVM here is backed by a
# hypervisor that emulates guest ring-0 code in the host kernel, and that emulator has no
# protected/long-mode software interrupts (int3/int n) and lacks some instructions.
KVM_HOST_LIMITS = {
    "exceptions": "int3 in guest ring 0 is an emulation failure (KVM internal error, suberror 1) on "
                  "this host's ring-0 emulating hypervisor",
    "isa": "lzcnt/popcnt and string instructions in guest ring 0 are emulation failures on this "
           "host's ring-0 emulating hypervisor",
}

MACHINE_ARGS = {
    "a64": ["-M", "virt", "-cpu", "cortex-a57", "-nographic"],
    "x86": ["-display", "none", "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
}

DEFAULT_QEMU = {"a64": "qemu-system-aarch64", "x86": "qemu-system-x86_64"}

ACCEL_ARGS = {
    "qemu": [],
    "interp": ["-accel", "tcg,backend=interp"],
    "jit": ["-accel", "tcg"],
    "kvm": ["-accel", "kvm"],
}


def run(cmd, stdin, timeout):
    try:
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or b"", e.stderr or b""
    except OSError as e:
        return None, b"", str(e).encode()
    return p.returncode, p.stdout, p.stderr


def show(data):
    return data.decode("latin-1").replace("\r\n", "\n").splitlines()


def compare(what, expected, actual):
    """Prints a diff and returns False when the byte streams differ."""
    if expected == actual:
        return True
    print(f"MISMATCH: {what}")
    for line in difflib.unified_diff(show(expected), show(actual), "expected", "actual", lineterm=""):
        print("  " + line)
    if show(expected) == show(actual):
        print("  (line endings or trailing bytes differ: expected %r, actual %r)" % (expected[-40:], actual[-40:]))
    return False


def check_run(label, cmd, guest, exp_out, exp_err, timeout):
    print(f"[{label}] {' '.join(cmd)}")
    status, out, err = run(cmd, guest["stdin"], timeout)
    ok = True
    if status is None:
        print(f"FAIL: [{label}] timed out after {timeout}s or could not start")
        ok = False
    elif status != guest["status"]:
        print(f"FAIL: [{label}] exit status {status}, expected {guest['status']}")
        ok = False
    if not compare(f"[{label}] stdout vs expected", exp_out, out):
        ok = False
    if exp_err is not None and exp_err not in err:
        print(f"FAIL: [{label}] stderr does not contain the expected text {exp_err!r}")
        ok = False
    if not ok and err:
        print(f"[{label}] stderr:")
        for line in show(err)[-30:]:
            print("  " + line)
    return ok, status, out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--arch", default="a64", choices=sorted(GUESTS))
    ap.add_argument("--guest", required=True)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--expected-dir", required=True)
    ap.add_argument("--runner", required=True, choices=sorted(ACCEL_ARGS))
    ap.add_argument("--corvid", help="path of corvid-system-<arch>")
    ap.add_argument("--qemu", default=None)
    ap.add_argument("--machine", default=None, help="-M value for boards with several (x86: pc, q35)")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--regen", action="store_true", help="rewrite the expected files from QEMU")
    a = ap.parse_args()

    guest = GUESTS[a.arch].get(a.guest)
    if guest is None:
        print(f"FAIL: unknown guest '{a.guest}'")
        return 1
    if not os.path.exists(a.elf):
        print(f"FAIL: guest image {a.elf} is missing (was the cross compiler found?)")
        return 1
    if a.qemu is None:
        a.qemu = DEFAULT_QEMU[a.arch]
    machine = ["-M", a.machine] if a.machine else []
    base_args = machine + MACHINE_ARGS[a.arch] + ["-kernel", a.elf] + guest["args"]
    exp_out_path = os.path.join(a.expected_dir, a.guest + ".txt")
    exp_err_path = os.path.join(a.expected_dir, a.guest + ".stderr.txt")

    qemu = shutil.which(a.qemu)
    if a.regen:
        if not qemu:
            print(f"FAIL: {a.qemu} not found")
            return 1
        status, out, err = run([qemu] + base_args, guest["stdin"], a.timeout)
        if status != guest["status"]:
            print(f"FAIL: QEMU exit status {status}, expected {guest['status']}")
            return 1
        with open(exp_out_path, "wb") as f:
            f.write(out)
        print(f"wrote {exp_out_path} ({len(out)} bytes)")
        return 0

    with open(exp_out_path, "rb") as f:
        exp_out = f.read()
    exp_err = None
    if os.path.exists(exp_err_path):
        with open(exp_err_path, "rb") as f:
            exp_err = f.read()

    if a.runner == "qemu":
        if not qemu:
            if os.environ.get("CORVID_ALLOW_NO_QEMU") == "1":
                print("*" * 72)
                print(f"*** SKIP: {a.qemu} is not installed; CORVID_ALLOW_NO_QEMU=1 so the QEMU ***")
                print("*** reference run of this guest is skipped.                              ***")
                print("*" * 72)
                return SKIP
            print(f"FAIL: {a.qemu} is not installed (set CORVID_ALLOW_NO_QEMU=1 to skip the QEMU half)")
            return 1
        ok, _, _ = check_run("qemu", [qemu] + base_args, guest, exp_out, exp_err, a.timeout)
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1

    if a.runner == "kvm":
        try:
            os.close(os.open("/dev/kvm", os.O_RDWR))
        except OSError as e:
            print("*" * 72)
            print(f"*** SKIP: /dev/kvm cannot be opened ({e.strerror}): KVM run not possible ***")
            print("*" * 72)
            return SKIP
        if a.guest in KVM_HOST_LIMITS and os.environ.get("CORVID_KVM_FULL") != "1":
            print("*" * 72)
            print(f"*** SKIP: {a.guest} under KVM: {KVM_HOST_LIMITS[a.guest]}")
            print("*** (set CORVID_KVM_FULL=1 on a host with hardware virtualisation to run it)")
            print("*" * 72)
            return SKIP

    if not a.corvid or not os.path.exists(a.corvid):
        print(f"FAIL: Corvid binary {a.corvid!r} not found")
        return 1
    label = f"corvid {a.runner}"
    ok, status, out = check_run(label, [a.corvid] + base_args + ACCEL_ARGS[a.runner], guest, exp_out, exp_err,
                                a.timeout)
    if qemu:
        # The same ELF and arguments on QEMU, live, so a stale expectation cannot hide a difference.
        q_status, q_out, _ = run([qemu] + base_args, guest["stdin"], a.timeout)
        if q_status != status:
            print(f"FAIL: exit status differs: QEMU {q_status}, {label} {status}")
            ok = False
        if not compare(f"stdout QEMU vs {label}", q_out, out):
            ok = False
    else:
        print(f"note: {a.qemu} not installed; compared against the committed expectation only")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
