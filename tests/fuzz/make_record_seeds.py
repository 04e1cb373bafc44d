#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed inputs of fuzz_records (tests/fuzz/corpus/records/): record
sequences as the probes send them (layouts of bpf/tlspcap.h), framed as
fuzz_records.c reads them.  Run from the repository root after changing a layout."""
import os
import socket
import struct

OUT = "tests/fuzz/corpus/records"
DATA, SOCKET, CLOSE, EXIT = 1, 2, 3, 4
SEND, RECV = 0, 1
T0 = 1_000_000_000_000


def hdr(rtype, tgid, fd, conn, ts):
    return struct.pack("<IIIiQQ", rtype, tgid, tgid, fd, conn, ts)


def addr(family, text):
    raw = socket.inet_pton(family, text)
    return raw.ljust(16, b"\0")


def sock(tgid, fd, conn, ts, family, laddr, lport, raddr, rport, comm=b"curl"):
    return (hdr(SOCKET, tgid, fd, conn, ts) +
            struct.pack("<QQIHHHHB3x16s16s16s", 0x5000 + conn, 4000 + conn, 0, family, 6,
                        lport, rport, 1, comm, addr(family, laddr), addr(family, raddr)))


def data(tgid, fd, conn, ts, direction, offset, payload, length=None):
    length = len(payload) if length is None else length
    return (hdr(DATA, tgid, fd, conn, ts) +
            struct.pack("<QQQIIBB6x", 0x5000 + conn, offset, length, len(payload), 0,
                        direction, 1) + payload)


def close(tgid, fd, conn, ts, sent, received):
    return hdr(CLOSE, tgid, fd, conn, ts) + struct.pack("<QQ", sent, received)


def exit_(tgid, ts):
    return hdr(EXIT, tgid, -1, 0, ts)


def frame(records):
    out = b""
    for r in records:
        if isinstance(r, int):  # a clock tick
            out += struct.pack("<HQ", 0xFFFF, r)
        else:
            out += struct.pack("<H", len(r)) + r
    return out


req = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
resp = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
h2 = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\0\0\0\4\0\0\0\0\0"
V4, V6 = socket.AF_INET, socket.AF_INET6

seeds = {
    # one client view, whole exchange, closed
    "client": [sock(100, 5, 1, T0, V4, "127.0.0.1", 40000, "10.1.2.3", 443),
               data(100, 5, 1, T0 + 1, SEND, 0, req),
               data(100, 5, 1, T0 + 2, RECV, 0, resp),
               close(100, 5, 1, T0 + 3, len(req), len(resp)), exit_(100, T0 + 4)],
    # both ends traced on loopback: two views merged into one stream
    "peers": [sock(100, 5, 1, T0, V4, "127.0.0.1", 40001, "127.0.0.1", 8443),
              data(100, 5, 1, T0 + 1, SEND, 0, req),
              sock(200, 7, 2, T0 + 2, V4, "127.0.0.1", 8443, "127.0.0.1", 40001, b"nginx"),
              data(200, 7, 2, T0 + 3, RECV, 0, req),
              data(200, 7, 2, T0 + 4, SEND, 0, resp),
              data(100, 5, 1, T0 + 5, RECV, 0, resp),
              close(200, 7, 2, T0 + 6, len(resp), len(req)),
              close(100, 5, 1, T0 + 7, len(req), len(resp))],
    # loopback peer never seen: waits, then the tick opens it
    "waiting": [sock(100, 5, 1, T0, V6, "::1", 40002, "::1", 443),
                data(100, 5, 1, T0 + 1, SEND, 0, h2),
                T0 + 100_000_000,
                data(100, 5, 1, T0 + 200_000_000, RECV, 0, resp),
                exit_(100, T0 + 300_000_000)],
    # lost records (a gap), a snap-length cut, a duplicate, a v4-mapped address
    "gaps": [sock(100, 5, 1, T0, V6, "::ffff:192.0.2.7", 40003, "::ffff:192.0.2.8", 993),
             data(100, 5, 1, T0 + 1, SEND, 0, req[:10]),
             data(100, 5, 1, T0 + 2, SEND, 20, req[20:], 100),
             data(100, 5, 1, T0 + 3, SEND, 5, req[5:15]),
             close(100, 5, 1, T0 + 4, 4000, 70)],
    # no socket known, then a Unix socket
    "unattributed": [data(100, -1, 1, T0, SEND, 0, req),
                     hdr(SOCKET, 300, 3, 2, T0 + 1) + bytes(80),  # family 0
                     data(300, 3, 2, T0 + 2, RECV, 0, resp),
                     T0 + 1_000_000_000],
}

os.makedirs(OUT, exist_ok=True)
for name, records in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(frame(records))
