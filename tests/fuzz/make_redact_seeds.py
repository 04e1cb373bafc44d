#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed inputs of fuzz_redact (tests/fuzz/corpus/redact/): one conversation per
protocol the stage follows, framed as fuzz_redact.c reads them (a flags byte, then chunks
of a header byte and up to 64 bytes).  Run from the repository root."""
import os

OUT = "tests/fuzz/corpus/redact"
C2S, S2C = 0, 0x80


def chunks(direction, data, size=64):
    out = b""
    for i in range(0, len(data), size):
        part = data[i:i + size]
        out += bytes([direction | (len(part) - 1)]) + part
    return out


def pg(mtype, body):
    return mtype + (len(body) + 4).to_bytes(4, "big") + body


def mysql(seq, payload):
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


# HandshakeResponse41 inside TLS (sequence 2): PROTOCOL_41, SSL, SECURE_CONNECTION, PLUGIN_AUTH(_LENENC)
MYSQL_HR = mysql(2, bytes.fromhex("09aa2a00000000012d") + bytes(23) + b"app\0\x04scr4db\0x\0")


def frame(ftype, flags, stream, payload):
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + stream.to_bytes(4, "big") + payload


H2_BLOCK = bytes.fromhex("828684418cf1e3c2e5f23a6ba0ab90f4ff578eba51d85b1449fab35050c92c653f") + \
    b"\x40\x09x-api-key\x0aK3yK3yK3y9" + bytes.fromhex("0f118d41a48071844493ed4d634cf031")
# RFC 7541 C.6.1 after a table size update to 256
RFC_C61 = bytes.fromhex("3fe1014882640258 85aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29"
                        "ad171863c78f0b97c8e9ae82ae43d3")

SEEDS = {
    "http1": [(C2S, b"POST /login?user=a&password=pw HTTP/1.1\r\nAuthorization: Bearer t0k\r\n"
                    b"Cookie: a=1; b=2\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"b\r\n{\"token\":\"x\r\n3\r\nyz\"\r\n0\r\nX-Trailer-Token: t\r\n\r\n"),
              (S2C, b"HTTP/1.1 200 OK\r\nSet-Cookie: sid=abc; Path=/\r\nContent-Length: 21\r\n\r\n"
                    b"{\"access_token\":\"q\"}\n")],
    "http2": [(C2S, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"") +
               frame(1, 0x2c, 1, b"\x03\x80\x00\x00\x00\x0f" + H2_BLOCK[:20] + b"\0\0\0") +
               frame(9, 4, 1, H2_BLOCK[20:]) + frame(0, 1, 1, b"{\"password\":\"pw\"}") +
               frame(1, 5, 3, bytes.fromhex("828684c0bfbe"))),
              (S2C, frame(4, 0, 0, b"") + frame(1, 4, 1, RFC_C61))],
    # gRPC: content-type by literal then by index, an uncompressed JSON message, a
    # compressed one with its prefix split across DATA frames
    "grpc": [(C2S, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"") +
              frame(1, 4, 1, b"\x83\x87\x04\x02/M\x5f\x10application/grpc") +
              frame(0, 0, 1, b"\0\0\0\0\x11{\"password\":\"pw\"}") +
              frame(0, 0, 1, b"\x01\0") + frame(0, 1, 1, b"\0\0\x04\x1f\x8bzz") +
              frame(1, 4, 3, b"\x83\x87\x04\x02/M\xbe") + frame(0, 1, 3, b"\x01\0\0\0\x02zz")),
             (S2C, frame(4, 0, 0, b"") + frame(1, 4, 1, b"\x88\x5f\x10application/grpc") +
              frame(0, 0, 1, b"\x01\0\0\0\x03abc"))],
    "postgres": [(C2S, b"\0\0\0\x1e\0\x03\0\0user\0app\0database\0db\0\0"),
                 (S2C, b"R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0"),
                 (C2S, b"p\0\0\0\x22SCRAM-SHA-256\0\0\0\0\x0cn,,n=,r=abcd"),
                 (S2C, b"R\0\0\0\x08\0\0\0\x03"), (C2S, b"p\0\0\0\x07pw\0")],
    "redis": [(C2S, b"*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$2\r\npw\r\n*5\r\n$3\r\nACL\r\n$7\r\nSETUSER\r\n"
                    b"$1\r\nu\r\n$2\r\non\r\n$3\r\n>pw\r\nAUTH pw\r\n"), (S2C, b"+OK\r\n")],
    "imap": [(S2C, b"* OK ready\r\n"), (C2S, b"a1 LOGIN u {2}\r\n"), (S2C, b"+ go\r\n"),
             (C2S, b"pw\r\na2 AUTHENTICATE PLAIN\r\n"), (S2C, b"+ \r\n"), (C2S, b"AHUAcHc=\r\n")],
    "smtp": [(S2C, b"220 mail\r\n"), (C2S, b"EHLO me\r\nAUTH LOGIN\r\n"), (S2C, b"334 VXNlcm5hbWU6\r\n"),
             (C2S, b"dQ==\r\n"), (S2C, b"235 ok\r\n")],
    "text": [(C2S, b"HELLO\napi_key=KKKK;\n{\"secret\": {\"a\": [1, \"b\"]}}\n--password=x\n")],
    "imap-client-first": [(C2S, b"a1 CAPABILITY\r\n"), (S2C, b"* CAPABILITY IMAP4rev1\r\na1 OK\r\n"),
                          (C2S, b"a2 LOGIN {1}\r\n"), (S2C, b"+ go\r\n"), (C2S, b"u {2}\r\n"),
                          (S2C, b"+ go\r\n"), (C2S, b"pw\r\n")],
    "postgres-sql": [(C2S, b"\0\0\0\x1e\0\x03\0\0user\0app\0database\0db\0\0"),
                     (S2C, b"R\0\0\0\x08\0\0\0\0"),
                     (C2S, pg(b"Q", b"alter user a password 'p''w' -- 'x'\n$$y\0")),
                     (C2S, pg(b"P", b"s\0create role b password E'\\'\0\0\0"))],
    "mysql": [(C2S, MYSQL_HR), (S2C, mysql(3, b"\xfemysql_clear_password\0")), (C2S, mysql(4, b"pw\0")),
              (S2C, mysql(5, bytes(7))),
              (C2S, mysql(0, b"\x03ALTER USER u IDENTIFIED BY 'p\\'w'; SET PASSWORD = PASSWORD(\"x\")")),
              (C2S, mysql(0, b"\x11u\0\x02ab\0")), (S2C, mysql(1, b"\x01\x04")), (C2S, mysql(2, b"pw"))],
    "documents": [(C2S, b"POST / HTTP/1.1\r\nContent-Length: 58\r\n\r\n"
                        b"<a><ns:password x='1'>p</ns:password><token/></a>\npass: w\n")],
}
# bit 6 of a chunk header: a gap before an odd-length chunk, an even-length chunk cut in half
SPECIAL = 0x40


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, parts in SEEDS.items():
        data = b"\0" + b"".join(chunks(d, p) for d, p in parts)
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    # a gap, then a chunk cut by a snap length, in the middle of an HTTP/1 request
    http1 = SEEDS["http1"][0][1]
    with open(os.path.join(OUT, "gap-and-cut"), "wb") as f:
        f.write(b"\0" + chunks(C2S, http1[:40]) + bytes([C2S | SPECIAL | 4]) + http1[40:45] +
                bytes([C2S | SPECIAL | 9]) + http1[45:55] + chunks(C2S, http1[55:]))


if __name__ == "__main__":
    main()
