#!/usr/bin/env python3
"""Runs the PCI driver guest (drivers.elf) on QEMU or Corvid.

Driver mode (default): the machine's NICs (pc: e1000, virtio-net-pci, rtl8139; q35: e1000e
instead of e1000) each on a loopback `-netdev socket,connect=` to this script, which records
every frame it receives and answers it with one addressed back to the sender ("echo:
<payload>"); a `-object filter-dump` per netdev writes a pcap file. Plus virtio-rng-pci and
i6300esb (-watchdog-action none). Checks the console output against expected-MACHINE.txt (the
same file for qemu, tcg and kvm runs), that each NIC's pcap file holds the frame the guest
sent and the peer's reply byte for byte (with a small pcap reader; tshark as a second check
when installed), and that the peer received the frame.

Watchdog mode (--watchdog-action poweroff|reset): the guest, given `-append watchdog`, arms
the i6300esb with its output enabled. poweroff must end the run with status 0 after the
first boot; reset must bring a second boot, which sees the timeout flag (it survives the
reset) and exits through isa-debug-exit. pause (checked through QMP) must stop the VM with
query-status "watchdog" and a WATCHDOG event whose action is "pause", as QEMU reports it."""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from net_peer import PEER_MAC, Peer, find_qemu, read_pcap, reply_to  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NICS = {
    "pc": ["e1000", "virtio-net-pci", "rtl8139"],
    "q35": ["e1000e", "virtio-net-pci", "rtl8139"],
}
# The name the guest prints (and puts in its frame) for each -device.
GUEST_NAME = {"e1000": "e1000", "e1000e": "e1000e", "virtio-net-pci": "virtio-net", "rtl8139": "rtl8139"}
ETHERTYPE = b"\x88\xb5"
WATCHDOG_EXPECTED = {
    # action: (exit status, console output)
    "poweroff": (0, b"watchdog: first boot, arming\n"),
    "reset": (1, b"watchdog: first boot, arming\nwatchdog: second boot, timeout flag set\n"),
    # pause: the VM stops; the script quits it through QMP (QEMU then exits with status 0).
    "pause": (0, b"watchdog: first boot, arming\n"),
}


def guest_frames(out, name):
    """The frame the guest sent through NIC `name` and the reply it should get, from the MAC
    the guest printed."""
    m = re.search(rb"^" + re.escape(name.encode()) + rb": mac ([0-9a-f:]{17})$", out, re.M)
    if not m:
        return None, None
    mac = bytes.fromhex(m.group(1).decode().replace(":", ""))
    sent = (b"\xff" * 6 + mac + ETHERTYPE + b"hello from " + name.encode()).ljust(60, b"\0")
    return sent, reply_to(sent)


def check_network(out, pcaps, peer_received):
    """Every check of the frames on the wire; returns a list of failures."""
    errors = []
    have_tshark = shutil.which("tshark")
    if not have_tshark:
        print("*" * 72)
        print("*** tshark not installed: second pcap check (tshark) SKIPPED; python reader only ***")
        print("*" * 72)
    for nic, path in pcaps:
        name = GUEST_NAME[nic]
        sent, reply = guest_frames(out, name)
        if sent is None:
            errors.append(f"{name}: the guest printed no MAC")
            continue
        try:
            frames = read_pcap(path)
        except (OSError, ValueError) as ex:
            errors.append(f"{name}: pcap: {ex}")
            continue
        if sent not in frames:
            errors.append(f"{name}: pcap {os.path.basename(path)} lacks the sent frame ({len(frames)} frames: "
                          + ", ".join(f[:20].hex() for f in frames) + ")")
        if reply not in frames:
            errors.append(f"{name}: pcap {os.path.basename(path)} lacks the peer's reply")
        if sent not in peer_received:
            errors.append(f"{name}: the socket peer did not receive the sent frame")
        if have_tshark:
            p = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "eth.src", "-e", "eth.type"],
                               capture_output=True, text=True)
            rows = [r.split("\t") for r in p.stdout.splitlines()]
            mac = ":".join(f"{b:02x}" for b in sent[6:12])
            peer = ":".join(f"{b:02x}" for b in PEER_MAC)
            if p.returncode != 0 or [mac, "0x88b5"] not in rows or [peer, "0x88b5"] not in rows:
                errors.append(f"{name}: tshark does not show both frames: {p.stdout!r} {p.stderr[-300:]!r}")
    return errors


def run(binary, extra, args, timeout):
    try:
        p = subprocess.run([binary] + args + extra, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.replace(b"\r\n", b"\n"), p.stderr
    except subprocess.TimeoutExpired:
        return None, b"", b"timeout"


def qmp_watch_pause(sock_path, timeout):
    """Connects to the QMP socket, waits until the VM stops running, and returns (status,
    WATCHDOG actions seen, error). Quits the VM at the end."""
    import time
    deadline = time.monotonic() + timeout
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    while True:
        try:
            s.connect(sock_path)
            break
        except OSError:
            if time.monotonic() > deadline:
                return None, [], "QMP socket never appeared"
            time.sleep(0.05)
    s.settimeout(1.0)
    buf, events = b"", []

    def messages():
        nonlocal buf
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return []
        if not chunk:
            raise EOFError
        buf += chunk
        out = []
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                out.append(json.loads(line))
        return out

    def command(name):
        s.sendall(json.dumps({"execute": name}).encode() + b"\n")
        while time.monotonic() < deadline:
            for m in messages():
                if "event" in m:
                    events.append(m)
                elif "return" in m or "error" in m:
                    return m
        raise TimeoutError(name)

    try:
        command("qmp_capabilities")
        command("cont")  # started with -S: no event can fire before this session listens
        status = None
        while time.monotonic() < deadline:
            r = command("query-status").get("return", {})
            status = r.get("status")
            if r.get("running") is False:
                break
            time.sleep(0.05)
        actions = [e.get("data", {}).get("action") for e in events if e.get("event") == "WATCHDOG"]
        try:
            command("quit")  # the reply (or the connection closing) means it was taken
        except (EOFError, OSError):
            pass
        return status, actions, None
    except (EOFError, TimeoutError, ValueError, OSError) as ex:
        return None, [], f"QMP: {ex!r}"
    finally:
        s.close()


def watchdog_pause_run(binary, extra, args, timeout, tmp):
    sock = os.path.join(tmp, "qmp.sock")
    p = subprocess.Popen([binary] + args + extra + ["-S", "-qmp", f"unix:{sock},server=on,wait=off"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    status, actions, error = qmp_watch_pause(sock, timeout)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        error = error or "did not exit after quit"
    return p.returncode, out.replace(b"\r\n", b"\n"), err, status, actions, error


def base_args(elf, machine):
    return ["-M", machine, "-display", "none", "-serial", "stdio", "-m", "128M", "-vga", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", elf]


def drivers_run(binary, extra, a, tmp):
    nics = NICS[a.machine]
    peer = Peer(len(nics))
    args = base_args(a.elf, a.machine) + [
        "-device", "virtio-rng-pci,disable-legacy=on", "-device", "i6300esb", "-watchdog-action", "none"]
    pcaps = []
    for i, nic in enumerate(nics):
        path = os.path.join(tmp, f"n{i}.pcap")
        pcaps.append((nic, path))
        args += ["-netdev", f"socket,id=n{i},connect=127.0.0.1:{peer.port}",
                 "-object", f"filter-dump,id=f{i},netdev=n{i},file={path}",
                 "-device", f"{nic},netdev=n{i}" + (",disable-legacy=on" if nic.startswith("virtio") else "")]
    try:
        status, out, err = run(binary, extra, args, a.timeout)
    finally:
        peer.close()
    with peer.lock:
        received = list(peer.received)
    return status, out, err, pcaps, received


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--runner", choices=["qemu", "tcg", "kvm"], default="qemu")
    ap.add_argument("--corvid")
    ap.add_argument("--machine", default="pc", choices=sorted(NICS))
    ap.add_argument("--watchdog-action", choices=sorted(WATCHDOG_EXPECTED))
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--regen", action="store_true")
    a = ap.parse_args()
    if a.runner == "qemu":
        binary, status = find_qemu("qemu-system-x86_64")
        if not binary:
            return status
        extra = []
    else:
        if a.runner == "kvm":
            try:
                os.close(os.open("/dev/kvm", os.O_RDWR))
            except OSError as e:
                print("*" * 72)
                print(f"*** SKIP: /dev/kvm cannot be opened ({e.strerror}): KVM run not possible ***")
                print("*" * 72)
                return 77
        binary, extra = a.corvid, ["-accel", a.runner]

    if a.watchdog_action:
        args = base_args(a.elf, a.machine) + ["-append", "watchdog", "-device", "i6300esb",
                                               "-watchdog-action", a.watchdog_action]
        problems = []
        if a.watchdog_action == "pause":
            with tempfile.TemporaryDirectory(prefix="corvid-wdt-") as tmp:
                status, out, err, run_state, actions, error = watchdog_pause_run(binary, extra, args, a.timeout, tmp)
            if error:
                problems.append(error)
            if run_state != "watchdog":
                problems.append(f"query-status after the timeout: {run_state!r} (expected 'watchdog')")
            if actions != ["pause"]:
                problems.append(f"WATCHDOG events: {actions} (expected one with action 'pause')")
        else:
            status, out, err = run(binary, extra, args, a.timeout)
        want_status, want_out = WATCHDOG_EXPECTED[a.watchdog_action]
        if status != want_status or out != want_out or problems:
            print(f"FAIL: watchdog action {a.watchdog_action}: status {status} (expected {want_status})")
            for pr in problems:
                print("  " + pr)
            print("--- expected\n" + want_out.decode(errors="replace"))
            print("--- got\n" + out.decode(errors="replace"))
            print("--- stderr\n" + err.decode(errors="replace")[-3000:])
            return 1
        print("PASS")
        return 0

    expected_path = os.path.join(HERE, f"expected-{a.machine}.txt")
    with tempfile.TemporaryDirectory(prefix="corvid-drivers-") as tmp:
        status, out, err, pcaps, received = drivers_run(binary, extra, a, tmp)
        if a.regen:
            with open(expected_path, "wb") as f:
                f.write(out)
            print(f"wrote {expected_path}")
            return 0 if status == 1 else 1
        with open(expected_path, "rb") as f:
            expected = f.read()
        errors = []
        if status != 1:
            errors.append(f"status {status} (expected 1)")
        if out != expected:
            errors.append("console output differs from " + os.path.basename(expected_path))
        errors += check_network(out, pcaps, received)
    if errors:
        print("FAIL:\n  " + "\n  ".join(errors))
        print("--- expected\n" + expected.decode(errors="replace"))
        print("--- got\n" + out.decode(errors="replace"))
        print("--- stderr\n" + err.decode(errors="replace")[-3000:])
        return 1
    print(f"PASS (console output, {len(pcaps)} pcap files, {len(received)} frames at the peer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
