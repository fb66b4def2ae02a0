"""What the driver-guest run scripts (guests/x86drivers, guests/a64drivers) share: the socket
netdev peer that echoes every frame back, a dependency-free pcap reader, and finding the
reference QEMU."""

import os
import shutil
import socket
import struct
import threading

PEER_MAC = bytes([0x02, 0, 0, 0, 0, 1])


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def reply_to(frame):
    """The peer's answer to `frame`: back to its sender, from PEER_MAC, "echo: " + payload."""
    payload = frame[14:].rstrip(b"\0")
    return (frame[6:12] + PEER_MAC + frame[12:14] + b"echo: " + payload).ljust(60, b"\0")


class Peer:
    """The far end of `count` socket netdevs (connect=127.0.0.1:port). QEMU's socket framing:
    a 4-byte big-endian length, then the frame. Records what it receives in `received`."""

    def __init__(self, count):
        self.received = []
        self.lock = threading.Lock()
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(count)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self.accept_loop, args=(count,), daemon=True).start()

    def accept_loop(self, count):
        for _ in range(count):
            try:
                conn, _ = self.ls.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        with conn:
            while True:
                hdr = recv_exact(conn, 4)
                if hdr is None:
                    return
                frame = recv_exact(conn, struct.unpack(">I", hdr)[0])
                if frame is None or len(frame) < 14:
                    return
                with self.lock:
                    self.received.append(frame)
                reply = reply_to(frame)
                conn.sendall(struct.pack(">I", len(reply)) + reply)

    def close(self):
        self.ls.close()


def read_pcap(path):
    """The frames of a classic pcap file (either byte order, LINKTYPE_ETHERNET), as bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: {len(data)} bytes, no pcap header")
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        e = ">"
    else:
        raise ValueError(f"{path}: bad magic 0x{magic:08x}")
    _, _, _, _, _, _, linktype = struct.unpack(e + "IHHiIII", data[:24])
    if linktype != 1:
        raise ValueError(f"{path}: link type {linktype}, expected 1 (Ethernet)")
    frames, at = [], 24
    while at + 16 <= len(data):
        _, _, incl, orig = struct.unpack(e + "IIII", data[at:at + 16])
        at += 16
        if at + incl > len(data) or incl > orig:
            raise ValueError(f"{path}: truncated or inconsistent record at offset {at - 16}")
        frames.append(data[at:at + incl])
        at += incl
    if at != len(data):
        raise ValueError(f"{path}: {len(data) - at} trailing bytes")
    return frames


def find_qemu(name):
    """(path, None) for the reference emulator `name`, else (None, exit status): a failure,
    or a loud skip (77) when CORVID_ALLOW_NO_QEMU=1."""
    binary = shutil.which(name)
    if binary:
        return binary, None
    if os.environ.get("CORVID_ALLOW_NO_QEMU") != "1":
        print(f"FAIL: {name} is not installed (set CORVID_ALLOW_NO_QEMU=1 to skip)")
        return None, 1
    print(f"*** SKIP: {name} not installed (CORVID_ALLOW_NO_QEMU=1) ***")
    return None, 77
