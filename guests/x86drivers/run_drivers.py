#!/usr/bin/env python3
"""Runs the PCI driver guest (drivers.elf) on QEMU or Corvid with e1000, virtio-net-pci and
rtl8139 each on a loopback `-netdev socket,connect=` to this script, which answers every frame
with one addressed back to the sender ("echo: <payload>"), plus virtio-rng-pci and i6300esb
(-watchdog-action none). Checks the console output against expected.txt; for Corvid it also
compares with a live QEMU run when qemu-system-x86_64 is installed."""

import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
NICS = ["e1000", "virtio-net-pci", "rtl8139"]
PEER_MAC = bytes([0x02, 0, 0, 0, 0, 1])


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve(conn):
    """QEMU's socket framing: a 4-byte big-endian length, then the frame."""
    with conn:
        while True:
            hdr = recv_exact(conn, 4)
            if hdr is None:
                return
            frame = recv_exact(conn, struct.unpack(">I", hdr)[0])
            if frame is None or len(frame) < 14:
                return
            payload = frame[14:].rstrip(b"\0")
            reply = frame[6:12] + PEER_MAC + frame[12:14] + b"echo: " + payload
            reply = reply.ljust(60, b"\0")
            conn.sendall(struct.pack(">I", len(reply)) + reply)


def start_peer():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(len(NICS))

    def accept_loop():
        for _ in NICS:
            try:
                conn, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    return ls, ls.getsockname()[1]


def run(binary, extra, elf, machine, timeout):
    ls, port = start_peer()
    args = [binary, "-M", machine, "-display", "none", "-serial", "stdio", "-m", "128M",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", elf,
            "-vga", "none",
            "-device", "virtio-rng-pci,disable-legacy=on", "-device", "i6300esb", "-watchdog-action", "none"] + extra
    for i, nic in enumerate(NICS):
        args += ["-netdev", f"socket,id=n{i},connect=127.0.0.1:{port}", "-device", f"{nic},netdev=n{i}" + (",disable-legacy=on" if nic.startswith("virtio") else "")]
    try:
        p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.replace(b"\r\n", b"\n"), p.stderr
    except subprocess.TimeoutExpired:
        return None, b"", b"timeout"
    finally:
        ls.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--runner", choices=["qemu", "tcg", "kvm"], default="qemu")
    ap.add_argument("--corvid")
    ap.add_argument("--machine", default="pc")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--regen", action="store_true")
    a = ap.parse_args()
    expected_path = os.path.join(HERE, f"expected-{a.machine}.txt")
    if a.runner == "qemu":
        qemu = shutil.which("qemu-system-x86_64")
        if not qemu:
            if os.environ.get("CORVID_ALLOW_NO_QEMU") != "1":
                print("FAIL: qemu-system-x86_64 is not installed (set CORVID_ALLOW_NO_QEMU=1 to skip)")
                return 1
            print("*** SKIP: qemu-system-x86_64 not installed (CORVID_ALLOW_NO_QEMU=1) ***")
            return 77
        status, out, err = run(qemu, [], a.elf, a.machine, a.timeout)
    else:
        if a.runner == "kvm":
            try:
                os.close(os.open("/dev/kvm", os.O_RDWR))
            except OSError as e:
                print("*" * 72)
                print(f"*** SKIP: /dev/kvm cannot be opened ({e.strerror}): KVM run not possible ***")
                print("*" * 72)
                return 77
        status, out, err = run(a.corvid, ["-accel", a.runner], a.elf, a.machine, a.timeout)
    if a.regen:
        with open(expected_path, "wb") as f:
            f.write(out)
        print(f"wrote {expected_path}")
        return 0 if status == 1 else 1
    with open(expected_path, "rb") as f:
        expected = f.read()
    ok = status == 1 and out == expected
    if not ok:
        print(f"FAIL: status {status} (expected 1)")
        print("--- expected\n" + expected.decode(errors="replace"))
        print("--- got\n" + out.decode(errors="replace"))
        print("--- stderr\n" + err.decode(errors="replace")[-3000:])
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
