#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Walks the blocks of a pcapng file, independently of libpcap and tshark.

  pcapng_blocks.py FILE   prints one line: "blocks N epb N isb N tail N"
                          (tail: bytes of a last block cut short by the end of the file)

Exits 1 if a block before the end is malformed (length < 12, not a multiple of 4, or a
trailing length that differs): only the last block may be incomplete, and only by being
cut short.
"""
import struct
import sys

data = open(sys.argv[1], "rb").read()
pos = blocks = epb = isb = 0
order = "<"
while pos < len(data):
    if len(data) - pos < 12:
        break
    btype, blen = struct.unpack_from(order + "II", data, pos)
    if btype == 0x0A0D0D0A:  # section header: its byte-order magic decides
        order = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        blen = struct.unpack_from(order + "I", data, pos + 4)[0]
    if blen < 12 or blen % 4:
        sys.exit(f"block {blocks} at {pos}: bad length {blen}")
    if pos + blen > len(data):
        break
    if struct.unpack_from(order + "I", data, pos + blen - 4)[0] != blen:
        sys.exit(f"block {blocks} at {pos}: trailing length differs")
    blocks += 1
    epb += btype == 6
    isb += btype == 5
    pos += blen
print(f"blocks {blocks} epb {epb} isb {isb} tail {len(data) - pos}")
