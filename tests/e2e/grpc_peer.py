#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gRPC peers on Debian's grpcio, for tests/e2e/test_grpc_python.sh: generic handlers on
raw bytes (no protoc), TLS with the test certificate, 127.0.0.1.

  grpc_peer.py server PORT CERT KEY SECRETS
      /t.Peer/Echo (unary), /t.Peer/Chat (bidirectional stream) and /t.Peer/Login (unary,
      answer gzip-compressed) answer every request message with its bytes reversed;
      every call sends initial metadata x-session-token and trailing metadata
      x-auth-token with the server secrets of SECRETS. Runs until SIGTERM (at most
      120 s), then exits normally.
  grpc_peer.py client PORT CERT SECRETS OUTDIR
      One channel: Echo with 1 B, 16 KiB and 1 MiB of random bytes, then one Chat with the
      same three sizes, then a Login whose request, a JSON document with a password
      (json_password), is sent gzip-compressed; each call carries authorization: Bearer,
      x-api-key and x-session-token (the client secrets, the same on every call) and an
      x-request-id of its own. Writes OUTDIR/c2s.bin and OUTDIR/s2c.bin (the messages of
      each direction in order, concatenated), OUTDIR/manifest.json (their lengths, the
      indexes of the compressed ones, the request ids) and prints "calls N messages M".
  grpc_peer.py judge FILE STREAM OUTDIR [--redacted]
      The gRPC messages tshark dissects in tcp.stream STREAM of FILE (protobuf off: the
      messages are raw bytes), per direction in order, against OUTDIR's: lengths
      (grpc.message_length) and bytes (grpc.message_data, which tshark decompresses).
      A compressed message is as the client sent it, or with --redacted the marker
      all along its compressed length (tshark cannot decompress it). Prints "N messages
      byte-exact, C compressed ones ...".

SECRETS is a JSON file (secrets never go on a command line, which the packet comments
show): {"bearer", "api_key", "session", "server_session", "server_token",
"json_password"}.
"""
import json
import os
import signal
import subprocess
import sys
import threading
from concurrent import futures

import grpc

SIZES = (1, 16 * 1024, 1024 * 1024)
MAX_MESSAGE = 4 * 1024 * 1024
OPTIONS = [("grpc.max_send_message_length", MAX_MESSAGE),
           ("grpc.max_receive_message_length", MAX_MESSAGE)]


def server(port, cert, key, secrets_path):
    secrets = json.load(open(secrets_path))

    def metadata(ctx):
        ctx.send_initial_metadata((("x-session-token", secrets["server_session"]),))
        ctx.set_trailing_metadata((("x-auth-token", secrets["server_token"]),))

    def echo(request, ctx):
        metadata(ctx)
        return request[::-1]

    def chat(requests, ctx):
        metadata(ctx)
        for r in requests:
            yield r[::-1]

    def login(request, ctx):
        ctx.set_compression(grpc.Compression.Gzip)  # before the initial metadata goes
        metadata(ctx)
        return request[::-1]

    handler = grpc.method_handlers_generic_handler("t.Peer", {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
        "Login": grpc.unary_unary_rpc_method_handler(login),
    })
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=OPTIONS)
    srv.add_generic_rpc_handlers((handler,))
    creds = grpc.ssl_server_credentials([(open(key, "rb").read(), open(cert, "rb").read())])
    if srv.add_secure_port("127.0.0.1:%d" % port, creds) != port:
        sys.exit("grpc_peer: cannot listen on 127.0.0.1:%d" % port)
    srv.start()
    print("listening on 127.0.0.1:%d" % port, flush=True)
    # SIGTERM ends the process through exit(), so that ssl_record_preload.so saves its record
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait(120)
    srv.stop(grace=None).wait(5)


def client(port, cert, secrets_path, outdir):
    secrets = json.load(open(secrets_path))
    creds = grpc.ssl_channel_credentials(open(cert, "rb").read())
    sent, got, ids = [], [], []

    def md(call):
        rid = "req-%d-%s" % (call, os.urandom(4).hex())
        ids.append(rid)
        return (("authorization", "Bearer " + secrets["bearer"]),
                ("x-api-key", secrets["api_key"]),
                ("x-session-token", secrets["session"]),
                ("x-request-id", rid))

    with grpc.secure_channel("127.0.0.1:%d" % port, creds, options=OPTIONS) as ch:
        echo = ch.unary_unary("/t.Peer/Echo")
        for i, n in enumerate(SIZES):
            req = os.urandom(n)
            resp, call = echo.with_call(req, metadata=md(i), timeout=20)
            if resp != req[::-1]:
                sys.exit("grpc_peer: Echo of %d bytes answered wrong" % n)
            trailing = dict(call.trailing_metadata())
            if trailing.get("x-auth-token") != secrets["server_token"]:
                sys.exit("grpc_peer: no x-auth-token in Echo's trailing metadata")
            sent.append(req)
            got.append(resp)
        reqs = [os.urandom(n) for n in SIZES]
        chat = ch.stream_stream("/t.Peer/Chat")
        answers = list(chat(iter(reqs), metadata=md(len(SIZES)), timeout=20))
        if answers != [r[::-1] for r in reqs]:
            sys.exit("grpc_peer: Chat answered wrong")
        sent += reqs
        got += answers
        # compressible, so that gRPC core does compress it
        doc = json.dumps({"user": "alice", "password": secrets["json_password"],
                          "note": "a" * 2000}).encode()
        login = ch.unary_unary("/t.Peer/Login")
        if login(doc, metadata=md(len(SIZES) + 1), compression=grpc.Compression.Gzip,
                 timeout=20) != doc[::-1]:
            sys.exit("grpc_peer: Login answered wrong")
        sent.append(doc)
        got.append(doc[::-1])
    with open(os.path.join(outdir, "c2s.bin"), "wb") as f:
        f.write(b"".join(sent))
    with open(os.path.join(outdir, "s2c.bin"), "wb") as f:
        f.write(b"".join(got))
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump({"c2s": [len(m) for m in sent], "s2c": [len(m) for m in got],
                   "compressed": [len(sent) - 1], "request_ids": ids}, f)
    print("calls %d messages %d" % (len(ids), len(sent) + len(got)))


def marker(n):
    return (b"REDACTED" + b"x" * n)[:n]


def judge(path, stream, outdir, redacted):
    man = json.load(open(os.path.join(outdir, "manifest.json")))
    whole = {d: open(os.path.join(outdir, d + ".bin"), "rb").read() for d in ("c2s", "s2c")}
    want = {}
    for d in ("c2s", "s2c"):
        pos, want[d] = 0, []
        for n in man[d]:
            want[d].append(whole[d][pos:pos + n])
            pos += n
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "--disable-protocol", "protobuf",
         "-Y", "grpc && tcp.stream == %d" % stream, "-T", "fields",
         "-e", "tcp.flags.syn", "-e", "tcp.srcport", "-e", "tcp.dstport",
         "-e", "grpc.compressed_flag", "-e", "grpc.message_length", "-e", "grpc.message_data"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.decode()
    syn = subprocess.run(
        ["tshark", "-n", "-r", path, "-Y",
         "tcp.stream == %d && tcp.flags.syn == 1 && tcp.flags.ack == 0" % stream,
         "-T", "fields", "-e", "tcp.dstport"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.split()
    if len(syn) != 1:
        sys.exit("judge: stream %d has %d SYNs" % (stream, len(syn)))
    server_port = syn[0].decode()
    got = {"c2s": [], "s2c": []}
    for line in out.splitlines():
        f = line.split("\t")
        d = "c2s" if f[2] == server_port else "s2c"
        flags = [int(x) for x in f[3].split(",") if x]
        ls = [int(x) for x in f[4].split(",") if x]
        ms = [bytes.fromhex(x) for x in f[5].split(",")] if f[5] else []
        if not len(flags) == len(ls) == len(ms):
            sys.exit("judge: %d flags, %d lengths and %d messages in one frame" %
                     (len(flags), len(ls), len(ms)))
        got[d] += zip(flags, ls, ms)
    compressed = 0
    for d in ("c2s", "s2c"):
        if len(got[d]) != len(want[d]):
            sys.exit("judge: %s: %d messages, the client's %d" % (d, len(got[d]), len(want[d])))
        for i, ((flag, n, m), w) in enumerate(zip(got[d], want[d])):
            if flag != (i in man["compressed"]):
                sys.exit("judge: %s message %d: compressed flag %d" % (d, i, flag))
            if not flag:
                if n != len(w) or m != w:
                    sys.exit("judge: %s message %d: %d bytes (grpc.message_length %d) differ "
                             "from the client's %d" % (d, i, len(m), n, len(w)))
                continue
            compressed += 1
            # tshark shows a compressed message decompressed, or as it is if it cannot
            expect = marker(n) if redacted else w
            if m != expect:
                sys.exit("judge: %s compressed message %d (%d bytes on the wire): %r..., want "
                         "%r..." % (d, i, n, m[:24], expect[:24]))
    print("%d messages byte-exact, %d compressed ones %s" % (
        len(want["c2s"]) + len(want["s2c"]), compressed,
        "masked whole (the marker)" if redacted else "decompressed by tshark"))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "server":
        server(int(args[0]), args[1], args[2], args[3])
    elif cmd == "client":
        client(int(args[0]), args[1], args[2], args[3])
    elif cmd == "judge":
        judge(args[0], int(args[1]), args[2], args[3:] == ["--redacted"])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
