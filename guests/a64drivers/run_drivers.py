#!/usr/bin/env python3
"""Runs the AArch64 driver guest (drivers.elf) on qemu-system-aarch64 or Corvid, machine virt
with a GICv2: virtio-rng-device, and virtio-net-device on a `-netdev socket,connect=` to this
script, which answers every frame with one addressed back to the sender ("echo: <payload>").
A `-object filter-dump` pcap of the netdev is read back and must hold the guest's frame and
the echo. The console output must equal expected-virt.txt (the same file for both runners)."""

import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from net_peer import PEER_MAC, Peer, find_qemu, read_pcap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_MAC = "52:54:00:12:34:56"
ETHERTYPE = b"\x88\xb5"
PAYLOAD = b"hello from the a64 virtio-net driver"


def check_pcap(path):
    """Problems with the dump: the guest's frame and the peer's echo must both be there."""
    try:
        frames = read_pcap(path)
    except (OSError, ValueError) as e:
        return [f"pcap: {e}"]
    guest_mac = bytes(int(x, 16) for x in GUEST_MAC.split(":"))
    sent = [f for f in frames if f[6:12] == guest_mac and f[12:14] == ETHERTYPE and PAYLOAD in f]
    echoed = [f for f in frames if f[:6] == guest_mac and f[6:12] == PEER_MAC and b"echo: " + PAYLOAD in f]
    problems = []
    if len(sent) != 1:
        problems.append(f"pcap: {len(sent)} guest frames with the payload (expected 1) among {len(frames)}")
    if len(echoed) != 1:
        problems.append(f"pcap: {len(echoed)} echo frames (expected 1) among {len(frames)}")
    return problems


def run(binary, extra, elf, timeout, pcap):
    peer = Peer(1)
    args = [binary, "-M", "virt,gic-version=2", "-cpu", "cortex-a57", "-display", "none", "-serial", "stdio",
            "-m", "128M", "-kernel", elf, "-global", "virtio-mmio.force-legacy=false",
            "-device", "virtio-rng-device",
            "-netdev", f"socket,id=n0,connect=127.0.0.1:{peer.port}",
            "-device", f"virtio-net-device,netdev=n0,mac={GUEST_MAC}",
            "-object", f"filter-dump,id=f0,netdev=n0,file={pcap}"] + extra
    try:
        p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.replace(b"\r\n", b"\n"), p.stderr
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").replace(b"\r\n", b"\n")
        return None, out, b"timeout"
    finally:
        peer.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--runner", choices=["qemu", "tcg"], default="qemu")
    ap.add_argument("--corvid")
    ap.add_argument("--backend", choices=["jit", "interp"], default="jit", help="Corvid's tcg backend")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--regen", action="store_true")
    a = ap.parse_args()
    expected_path = os.path.join(HERE, "expected-virt.txt")
    if a.runner == "qemu":
        binary, status = find_qemu("qemu-system-aarch64")
        if not binary:
            return status
        extra = []
    else:
        if not a.corvid:
            print("FAIL: --corvid is required for the tcg runner")
            return 1
        binary, extra = a.corvid, ["-accel", f"tcg,backend={a.backend}"]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "net.pcap")
        status, out, err = run(binary, extra, a.elf, a.timeout, pcap)
        problems = check_pcap(pcap) if status == 0 else []
    if a.regen:
        with open(expected_path, "wb") as f:
            f.write(out)
        print(f"wrote {expected_path}")
        return 0 if status == 0 and not problems else 1
    with open(expected_path, "rb") as f:
        expected = f.read()
    if status != 0 or out != expected or problems:
        print(f"FAIL: status {status} (expected 0)")
        for p in problems:
            print(p)
        print("--- expected\n" + expected.decode(errors="replace"))
        print("--- got\n" + out.decode(errors="replace"))
        print("--- stderr\n" + err.decode(errors="replace")[-3000:])
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
