#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""TLS client and server (stdlib ssl: SSL_read_ex/SSL_write_ex) for byte-exact e2e checks.

Wire protocol per connection: the client sends an 8-byte header (c2s length, s2c length,
big-endian u32 each) then c2s payload bytes; the server reads all of it, then sends s2c
bytes (--mode random: deterministic random bytes; --mode echo: the client's payload
transformed, every byte XOR 0x5A, reversed, cut or repeated to the asked length) and closes
with a TLS close_notify. Both sides record the exact application bytes per connection,
named by the client's port: OUT/<cport>.c2s and OUT/<cport>.s2c (plus <cport>.fd).
--mode http: the server speaks HTTP/1.1 with keep-alive to any HTTP client instead: each
request (body by Content-Length or chunked) is answered 200 with N deterministic bytes for
the path /N (1000 otherwise); it closes after "Connection: close" or at the client's EOF,
and records the same two files plus <cport>.requests (the request lines).

  tls_peer.py server --port P [--host 127.0.0.1|::1] --cert C --key K --out DIR
                     [--mode random|echo] [--max-conns N] [--lifetime SECS] [--ready FILE]
  tls_peer.py client --port P [--host ...] --cafile C --out DIR [--count N] [--concurrency N]
                     [--seed S] [--max-size BYTES] [--sizes a,b,...] [--reuse-fd]
                     [--start-after FILE] [--slow BYTES_PER_0.01s] [--progress FILE]

--reuse-fd: connections one after another, each closed before the next, so the same fd
number is used again (checked; the client fails if the number changed).
--slow: send the c2s payload in small chunks with a pause, writing the number of bytes
sent so far to --progress, so a test can SIGKILL the client mid-transfer.
Every socket operation has a timeout; the server exits after --max-conns connections or
--lifetime seconds.
"""
import argparse
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

IO_TIMEOUT = 60


def payload(seed, n):
    """Deterministic bytes covering every byte value once n >= 256."""
    r = random.Random(seed)
    head = bytes(range(256))[: min(n, 256)]
    return (head + r.randbytes(max(0, n - 256)))[:n]


def echo_transform(data, n):
    if not data:
        return payload(7, n)
    t = bytes(b ^ 0x5A for b in reversed(data))
    reps = n // len(t) + 1
    return (t * reps)[:n]


def write_file(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def recv_exact(s, n, sink):
    while len(sink) < n:
        b = s.recv(min(262144, n - len(sink)))
        if not b:
            raise EOFError("EOF after %d of %d bytes" % (len(sink), n))
        sink += b
    return sink


def send_chunked(s, data, rng, slow=0, progress=None):
    """Write with varied chunk sizes (many SSL_write_ex calls, record boundaries move)."""
    off = 0
    while off < len(data):
        if slow:
            n = slow
        else:
            n = rng.choice((1, 7, 100, 1400, 4096, 16383, 16384, 16385, 65536, 200000))
        s.sendall(data[off:off + n])
        off += min(n, len(data) - off)
        if slow:
            if progress:
                write_file(progress, b"%d\n" % off)
            time.sleep(0.01)
    return off


# ------------------------------------------------------------------ server

class HttpReader:
    """Reads HTTP/1.1 requests from a TLS socket, keeping every byte in @sink."""

    def __init__(self, s, sink):
        self.s, self.sink, self.pos = s, sink, 0

    def _more(self):
        b = self.s.recv(262144)
        if not b:
            raise EOFError
        self.sink += b

    def line_block(self, end):
        while end not in self.sink[self.pos:]:
            self._more()
        i = self.sink.index(end, self.pos)
        block, self.pos = bytes(self.sink[self.pos:i]), i + len(end)
        return block

    def skip(self, n):
        while len(self.sink) - self.pos < n:
            self._more()
        self.pos += n

    def request(self):
        """(request line, headers) after reading the whole request; None at EOF."""
        try:
            head = self.line_block(b"\r\n\r\n").decode("latin-1").split("\r\n")
        except EOFError:
            if self.pos != len(self.sink):
                raise
            return None
        hdrs = {}
        for h in head[1:]:
            k, _, v = h.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if "chunked" in hdrs.get("transfer-encoding", "").lower():
            while True:
                n = int(self.line_block(b"\r\n").split(b";")[0], 16)
                if not n:
                    while self.line_block(b"\r\n"):  # trailers, up to an empty line
                        pass
                    break
                self.skip(n + 2)
        else:
            self.skip(int(hdrs.get("content-length", "0")))
        return head[0], hdrs


def serve_http(a, s, cport, c2s):
    """--mode http: answer requests until EOF or Connection: close; returns s2c bytes."""
    rd, s2c, lines = HttpReader(s, c2s), bytearray(), []
    while True:
        req = rd.request()
        if req is None:
            break
        line, hdrs = req
        lines.append(line)
        path = line.split(" ")[1] if line.count(" ") >= 2 else "/"
        n = int(path[1:]) if path[1:].isdigit() else 1000
        body = payload(a.seed * 1000003 + len(lines) * 31 + n, n)
        close = hdrs.get("connection", "").lower() == "close"
        resp = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                b"Content-Length: %d\r\nConnection: %s\r\n\r\n" %
                (n, b"close" if close else b"keep-alive")) + body
        s.sendall(resp)
        s2c += resp
        if close:
            break
    write_file(os.path.join(a.out, "%d.requests" % cport), "".join(l + "\n" for l in lines).encode())
    return bytes(s2c)


def serve_conn(a, ctx, conn, addr, counter):
    cport = addr[1]
    c2s, s2c = bytearray(), b""
    try:
        conn.settimeout(IO_TIMEOUT)
        s = ctx.wrap_socket(conn, server_side=True)
        if a.mode == "http":
            s2c = serve_http(a, s, cport, c2s)
        else:
            recv_exact(s, 8, c2s)
            n_c2s, n_s2c = struct.unpack("!II", bytes(c2s[:8]))
            recv_exact(s, 8 + n_c2s, c2s)
            if a.mode == "echo":
                s2c = echo_transform(bytes(c2s[8:]), n_s2c)
            else:
                s2c = payload(a.seed * 1000003 + n_c2s * 31 + n_s2c, n_s2c)
            send_chunked(s, s2c, random.Random(cport))
            try:
                s.unwrap()  # close_notify; the client answers with its own
            except (ssl.SSLError, OSError):
                pass
        s.close()
        status = "ok"
    except Exception as e:  # peer killed etc.: record what we have
        status = "error: %s" % e
        try:
            conn.close()
        except OSError:
            pass
    write_file(os.path.join(a.out, "%d.c2s" % cport), bytes(c2s))
    write_file(os.path.join(a.out, "%d.s2c" % cport), s2c if status == "ok" else b"")
    print("server: conn from port %d: %d bytes in, %d out, %s" %
          (cport, len(c2s), len(s2c), status), flush=True)
    with counter[1]:
        counter[0] += 1


def server(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(256)
    ls.settimeout(0.2)
    os.makedirs(a.out, exist_ok=True)
    if a.ready:
        write_file(a.ready, b"ready %d\n" % os.getpid())
    print("server: pid %d listening on %s port %d" % (os.getpid(), a.host, a.port), flush=True)
    deadline = time.monotonic() + a.lifetime
    counter = [0, threading.Lock()]
    accepted = 0
    threads = []
    while time.monotonic() < deadline and (a.max_conns == 0 or accepted < a.max_conns):
        try:
            conn, addr = ls.accept()
        except socket.timeout:
            continue
        accepted += 1
        t = threading.Thread(target=serve_conn, args=(a, ctx, conn, addr, counter), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    print("server: done, %d connections" % counter[0], flush=True)


# ------------------------------------------------------------------ client

def client_conn(a, ctx, i, sizes, fds, errors, sock_keep=None):
    n_c2s, n_s2c = sizes
    seed = a.seed * 7919 + i
    data = payload(seed, n_c2s)
    raw = socket.create_connection((a.host, a.port), timeout=IO_TIMEOUT)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    cport = s.getsockname()[1]
    fd = s.fileno()
    fds.append(fd)
    out = os.path.join(a.out, "%d" % cport)
    head = struct.pack("!II", n_c2s, n_s2c)
    sent = bytearray(head)
    got = bytearray()
    try:
        write_file(out + ".c2s.intended", head + data)
        write_file(out + ".fd", b"%d\n" % fd)
        s.sendall(head)
        send_chunked(s, data, random.Random(seed), a.slow, a.progress)
        sent += data
        while True:
            b = s.recv(262144)
            if not b:
                break
            got += b
        try:
            s.unwrap()
        except (ssl.SSLError, OSError):
            pass
    except Exception as e:
        errors.append("conn %d (port %d): %s" % (i, cport, e))
    finally:
        s.close()
    write_file(out + ".c2s", bytes(sent))
    write_file(out + ".s2c", bytes(got))
    if len(got) != n_s2c:
        errors.append("conn %d (port %d): received %d of %d bytes" % (i, cport, len(got), n_s2c))


def size_plan(a):
    r = random.Random(a.seed)
    if a.sizes:
        fixed = [int(x) for x in a.sizes.split(",")]
        return [(fixed[i % len(fixed)], fixed[(i + 1) % len(fixed)]) for i in range(a.count)]
    edges = [0, 1, 255, 256, 16383, 16384, 16385, 65495, 65496, 65536, a.max_size]
    plan = []
    for i in range(a.count):
        if i < len(edges):
            c, s = edges[i], edges[-1 - i]
        else:  # log-uniform 1 .. max
            c = int(2 ** r.uniform(0, max(1, a.max_size).bit_length() - 1))
            s = int(2 ** r.uniform(0, max(1, a.max_size).bit_length() - 1))
        plan.append((min(c, a.max_size), min(s, a.max_size)))
    return plan


def client(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(a.cafile)
    os.makedirs(a.out, exist_ok=True)
    if a.start_after:
        t0 = time.monotonic()
        while not os.path.exists(a.start_after):
            if time.monotonic() - t0 > 60:
                sys.exit("client: %s did not appear within 60 s" % a.start_after)
            time.sleep(0.05)
    plan = size_plan(a)
    fds, errors = [], []
    if a.reuse_fd or a.concurrency <= 1:
        for i, sz in enumerate(plan):
            client_conn(a, ctx, i, sz, fds, errors)
        if a.reuse_fd and len(set(fds)) != 1:
            errors.append("fd numbers were not reused: %s" % sorted(set(fds)))
    else:
        lock = threading.Lock()
        todo = list(enumerate(plan))

        def worker():
            while True:
                with lock:
                    if not todo:
                        return
                    i, sz = todo.pop(0)
                client_conn(a, ctx, i, sz, fds, errors)

        ths = [threading.Thread(target=worker, daemon=True) for _ in range(a.concurrency)]
        for t in ths:
            t.start()
        for t in ths:
            t.join(IO_TIMEOUT * 4)
        if any(t.is_alive() for t in ths):
            errors.append("client threads still running")
    total = sum(c + s for c, s in plan)
    for e in errors:
        print("client: " + e, file=sys.stderr)
    print("client: pid %d, %d connections, %d payload bytes, fds %s, %d errors" %
          (os.getpid(), len(plan), total, sorted(set(fds))[:10], len(errors)), flush=True)
    sys.exit(1 if errors else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="role", required=True)
    sv = sub.add_parser("server")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, required=True)
    sv.add_argument("--cert", required=True)
    sv.add_argument("--key", required=True)
    sv.add_argument("--out", required=True)
    sv.add_argument("--mode", choices=["random", "echo", "http"], default="random")
    sv.add_argument("--seed", type=int, default=1)
    sv.add_argument("--max-conns", type=int, default=0)
    sv.add_argument("--lifetime", type=float, default=150)
    sv.add_argument("--ready")
    cl = sub.add_parser("client")
    cl.add_argument("--host", default="127.0.0.1")
    cl.add_argument("--port", type=int, required=True)
    cl.add_argument("--cafile", required=True)
    cl.add_argument("--out", required=True)
    cl.add_argument("--count", type=int, default=1)
    cl.add_argument("--concurrency", type=int, default=1)
    cl.add_argument("--seed", type=int, default=1)
    cl.add_argument("--max-size", type=int, default=1 << 20)
    cl.add_argument("--sizes")
    cl.add_argument("--reuse-fd", action="store_true")
    cl.add_argument("--start-after")
    cl.add_argument("--slow", type=int, default=0)
    cl.add_argument("--progress")
    a = ap.parse_args()
    if a.role == "server":
        server(a)
    else:
        client(a)


if __name__ == "__main__":
    main()
