#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Read TCP streams of a pcapng with tshark, for the e2e tests.

  follow.py bytes FILE STREAM client|server     payload of one direction to stdout
  follow.py streams FILE                        one JSON object per stream (addresses, comments)
  follow.py comment FILE STREAM                 the stream's comment(s), real newlines
  follow.py with-key FILE KEY VALUE             stream numbers whose comment has "KEY: VALUE"
  follow.py gaps FILE                           bytes in sequence holes (all streams), each
                                                declared by the next frame's comment
  follow.py extents FILE                        per stream: "STREAM C2S S2C", the bytes each
                                                side sent up to its FIN (captured + gaps)
  follow.py h2data FILE STREAM OUTDIR            HTTP/2 DATA payloads of the server->client
                                                direction, one file per HTTP/2 stream id
  follow.py match FILE --server-port P --expect DIR [--min-streams N] [--prefix]
      The capture's streams whose real server port (from the comment's Role/Local/Remote,
      else the SYN's destination) is P are checked byte for byte against DIR/<cport>.c2s
      and DIR/<cport>.s2c, cport being the real client port. Every expected connection
      must be in at least one stream; every such stream must match exactly
      (--prefix: the capture may be a prefix of the expected bytes, for killed peers;
      --with-syn: only streams whose handshake is in FILE are checked, and connections
      may be absent, for a ring of rotated files whose oldest were replaced).
      Byte accounting, always (but with --prefix): per connection and direction, bytes
      sent = bytes in the file + bytes the file counts as lost, every hole in the sequence
      numbers is declared by the "N bytes not captured" comment of the frame after it, and
      the declared counts add up to the holes.
      --lossy: loss is allowed (overload): captured bytes must be the sent bytes at their
      offsets, and the accounting above must hold.

Client = Node 0 of "tshark -z follow,tcp,raw,N" (the SYN sender); TAB-indented hex lines
are Node 1 (server) bytes. tshark's stderr is discarded.
"""
import argparse
import json
import os
import re
import subprocess
import sys

BATCH = 64  # follow taps per tshark pass


def tshark(args):
    p = subprocess.run(["tshark", "-n"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, check=False)
    if p.returncode not in (0,):
        sys.exit("follow.py: tshark %s exited %d" % (" ".join(args), p.returncode))
    return p.stdout


def follow(path, streams):
    """{stream: (c2s bytes, s2c bytes, node0, node1)} via follow,tcp,raw."""
    res = {}
    streams = list(streams)
    for i in range(0, len(streams), BATCH):
        part = streams[i:i + BATCH]
        args = ["-r", path, "-q"]
        for s in part:
            args += ["-z", "follow,tcp,raw,%d" % s]
        out = tshark(args).decode("ascii", "replace")
        cur = None
        for line in out.split("\n"):
            if line.startswith("Filter: tcp.stream eq "):
                cur = int(line.split()[-1])
                res[cur] = [bytearray(), bytearray(), "", ""]
            elif cur is None:
                continue
            elif line.startswith("Node 0: "):
                res[cur][2] = line[8:].strip()
            elif line.startswith("Node 1: "):
                res[cur][3] = line[8:].strip()
            elif line.startswith("====") or line.startswith("Follow:"):
                continue
            elif line.startswith("\t"):
                res[cur][1] += bytes.fromhex(line.strip())
            elif line.strip():
                try:
                    res[cur][0] += bytes.fromhex(line.strip())
                except ValueError:
                    pass
    return {k: (bytes(v[0]), bytes(v[1]), v[2], v[3]) for k, v in res.items()}


def parse_comment(text):
    """'Key: value' lines -> dict (first value of each key)."""
    d = {}
    for line in text.split("\n"):
        if ": " in line:
            k, v = line.split(": ", 1)
            d.setdefault(k.strip(), v.strip())
    return d


def split_hostport(s):
    m = re.match(r"^\[?(.*?)\]?:(\d+)$", s or "")
    return (m.group(1), int(m.group(2))) if m else (None, None)


def stream_info(path):
    """[{stream, client, server, comments:[dict], raw:[str]}] ordered by stream.
    Cached next to the file (FILE.streams.json) while the file is unchanged."""
    cache = path + ".streams.json"
    st = os.stat(path)
    key = "%d:%d" % (st.st_size, st.st_mtime_ns)
    try:
        with open(cache) as f:
            c = json.load(f)
        if c.get("key") == key:
            return c["streams"]
    except (OSError, ValueError):
        pass
    res = _stream_info(path)
    try:
        with open(cache + ".tmp", "w") as f:
            json.dump({"key": key, "streams": res}, f)
        os.replace(cache + ".tmp", cache)
    except OSError:
        pass
    return res


def _stream_info(path):
    out = tshark(["-r", path, "-Y", "frame.comment || (tcp.flags.syn==1 && tcp.flags.ack==0)",
                  "-T", "json", "-e", "tcp.stream", "-e", "frame.comment", "-e", "tcp.flags.syn",
                  "-e", "tcp.flags.ack", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src",
                  "-e", "ipv6.dst", "-e", "tcp.srcport", "-e", "tcp.dstport"])
    info = {}
    for pkt in json.loads(out or b"[]"):
        L = pkt["_source"]["layers"]
        if "tcp.stream" not in L:
            continue
        s = int(L["tcp.stream"][0])
        e = info.setdefault(s, {"stream": s, "client": None, "server": None,
                                "comments": [], "raw": []})
        g = lambda k: L.get(k, [None])[0]
        if g("tcp.flags.syn") in ("1", "True") and g("tcp.flags.ack") in ("0", "False") \
                and e["client"] is None:
            src, dst = g("ip.src") or g("ipv6.src"), g("ip.dst") or g("ipv6.dst")
            e["client"] = "%s:%s" % (src, g("tcp.srcport"))
            e["server"] = "%s:%s" % (dst, g("tcp.dstport"))
            e["ipv6"] = g("ipv6.src") is not None
        for c in L.get("frame.comment", []):
            # one comment per tool view; a merged stream may carry two
            e["raw"].append(c)
            e["comments"].append(parse_comment(c))
    return [info[k] for k in sorted(info)]


def real_ports(e):
    """(client port, server port) of the real connection, from the comments if any."""
    for c in e["comments"]:
        role = c.get("Role", "").lower()
        local, remote = split_hostport(c.get("Local")), split_hostport(c.get("Remote"))
        if role == "client" and local[1] and remote[1]:
            return local[1], remote[1]
        if role == "server" and local[1] and remote[1]:
            return remote[1], local[1]
    return split_hostport(e["client"])[1], split_hostport(e["server"])[1]


def first_diff(a, b):
    n = min(len(a), len(b))
    for i in range(0, n, 4096):
        if a[i:i + 4096] != b[i:i + 4096]:
            for j in range(i, min(i + 4096, n)):
                if a[j] != b[j]:
                    return j
    return n


GAP_RE = re.compile(r"tlspcap: (\d+) bytes not captured before this (?:segment|FIN)")


def segments(path, payload=True):
    """{stream: {client port: [(offset, payload, declared gap, fin)], server port: [...]}}
    in file order; offsets from tshark's relative sequence numbers.  Without @payload,
    payloads are zero bytes of the frame's length."""
    out = tshark(["-r", path, "-Y", "tcp", "-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport",
                  "-e", "tcp.seq", "-e", "tcp.len", "-e", "tcp.flags.syn", "-e", "tcp.flags.fin",
                  "-e", "tcp.payload" if payload else "frame.len", "-e", "frame.comment"]).decode("latin-1")
    res = {}
    for line in out.split("\n"):
        f = line.split("\t", 7)
        if len(f) < 7 or f[4] in ("1", "True"):
            continue
        comment = f[7] if len(f) > 7 else ""
        gap = sum(int(n) for n in GAP_RE.findall(comment))
        fin = f[5] in ("1", "True")
        res.setdefault(int(f[0]), {}).setdefault(int(f[1]), []).append(
            (int(f[2]) - 1, (bytes.fromhex(f[6].replace(":", "")) if payload else bytes(int(f[3])))
             if int(f[3]) else b"", gap, fin))
    return res


def account(segs, sent, lossy):
    """Checks one direction against the bytes sent; returns (captured, lost, errors)."""
    errors, pos, captured, lost = [], 0, 0, 0
    for off, data, gap, fin in segs:
        if off > pos:
            hole = off - pos
            if gap != hole:
                errors.append("%d bytes missing at offset %d, the frame after says %d" %
                              (hole, pos, gap))
            lost += hole
            pos = off
        elif gap:
            errors.append("a comment declares %d bytes lost at offset %d where nothing is missing" %
                          (gap, off))
        if off < pos and data:
            errors.append("%d bytes at offset %d written twice" % (len(data), off))
            continue
        if data and sent[off:off + len(data)] != data:
            errors.append("%d bytes at offset %d differ from the bytes sent" % (len(data), off))
        captured += len(data)
        pos = off + len(data)
        if fin:
            break
    if pos < len(sent):
        errors.append("the stream ends at offset %d of %d with no loss declared" % (pos, len(sent)))
    elif pos > len(sent):
        errors.append("the stream covers %d bytes, %d were sent" % (pos, len(sent)))
    if lost and not lossy:
        errors.append("%d bytes lost" % lost)
    return captured, lost, errors


def cmd_gaps(a):
    """Every hole in every stream's sequence numbers is declared by a comment."""
    errors, holes = [], 0
    for stream, dirs in sorted(segments(a.file, payload=False).items()):
        for port, segs in dirs.items():
            pos = 0
            for off, data, gap, fin in segs:
                if off > pos or gap:
                    if gap != off - pos:
                        errors.append("stream %d from port %d: %d bytes missing at offset %d, "
                                      "the frame after says %d" % (stream, port, off - pos, pos, gap))
                    holes += max(0, off - pos)
                pos = max(pos, off + len(data))
                if fin:
                    break
    for err in errors[:30]:
        print("gaps: " + err, file=sys.stderr)
    if errors:
        sys.exit(1)
    print(holes)


def cmd_extents(a):
    """Per stream: bytes the client and the server sent, as far as the FINs say."""
    segs_of = segments(a.file, payload=False)
    for e in stream_info(a.file):
        if e["client"] is None:
            continue
        cport = split_hostport(e["client"])[1]
        ext = {True: 0, False: 0}
        for port, segs in segs_of.get(e["stream"], {}).items():
            for off, data, gap, fin in segs:
                ext[port == cport] = max(ext[port == cport], off + len(data))
                if fin:
                    break
        print("%d %d %d" % (e["stream"], ext[True], ext[False]))


def check_accounting(a, mine, expected):
    """Bytes sent = bytes in the file + bytes counted lost, per connection and direction."""
    segs, errors, totals = segments(a.file), [], [0, 0, 0]
    for e in mine:
        cport = real_ports(e)[0]
        if cport not in expected or e["client"] is None:
            continue
        syn_cport = split_hostport(e["client"])[1]
        dirs = segs.get(e["stream"], {})
        sport = next((p for p in dirs if p != syn_cport), None)
        for label, port, sent in (("client->server", syn_cport, expected[cport][0]),
                                  ("server->client", sport, expected[cport][1])):
            got, lost, errs = account(dirs.get(port, []), sent, a.lossy)
            totals[0] += len(sent)
            totals[1] += got
            totals[2] += lost
            errors += ["stream %d (client port %d) %s: %s" % (e["stream"], cport, label, x)
                       for x in errs]
    return errors, totals


def cmd_match(a):
    infos = stream_info(a.file)
    mine = [e for e in infos if real_ports(e)[1] == a.server_port and
            (e["client"] is not None or not a.with_syn)]
    expected = {}
    for name in os.listdir(a.expect):
        m = re.match(r"^(\d+)\.c2s$", name)
        if m:
            p = int(m.group(1))
            with open(os.path.join(a.expect, name), "rb") as f:
                c2s = f.read()
            with open(os.path.join(a.expect, "%d.s2c" % p), "rb") as f:
                s2c = f.read()
            expected[p] = (c2s, s2c)
    data = follow(a.file, [e["stream"] for e in mine])
    errors = []
    seen = set()
    for e in mine:
        cport = real_ports(e)[0]
        if cport not in expected:
            errors.append("stream %d: client port %s is not an expected connection" %
                          (e["stream"], cport))
            continue
        seen.add(cport)
        got = data.get(e["stream"])
        if got is None:
            errors.append("stream %d: tshark follow returned nothing" % e["stream"])
            continue
        for label, g, w in (("client->server", got[0], expected[cport][0]),
                            ("server->client", got[1], expected[cport][1])):
            if a.lossy:
                break  # judged by check_accounting
            okay = (w.startswith(g) if a.prefix else g == w)
            if not okay:
                errors.append("stream %d (client port %d) %s: %d bytes captured, %d expected, "
                              "first difference at offset %d" %
                              (e["stream"], cport, label, len(g), len(w), first_diff(g, w)))
    missing = sorted(set(expected) - seen)
    if missing and not a.with_syn:
        errors.append("%d of %d connections absent from the capture (client ports %s)" %
                      (len(missing), len(expected), " ".join(map(str, missing[:20]))))
    if len(mine) < a.min_streams:
        errors.append("only %d streams to server port %d, want >= %d" %
                      (len(mine), a.server_port, a.min_streams))
    total = sum(len(x[0]) + len(x[1]) for x in expected.values())
    accounted = ""
    if not a.prefix:
        errs, (sent, got, lost) = check_accounting(a, mine, expected)
        errors += errs
        accounted = "; accounting: %d bytes sent = %d in the file + %d counted lost" % (
            sent, got, lost)
    if errors:
        for err in errors[:30]:
            print("match: " + err, file=sys.stderr)
        sys.exit(1)
    print("match: %d streams for %d connections to port %d, %d bytes, %s%s" %
          (len(mine), len(expected), a.server_port, total,
           "byte-exact" + (" (prefix)" if a.prefix else "") if not a.lossy else "lossy",
           accounted))


def h2_bodies(buf):
    """Concatenate DATA frame payloads (padding removed) per HTTP/2 stream id."""
    if buf.startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"):
        buf = buf[24:]
    bodies, off = {}, 0
    while off + 9 <= len(buf):
        ln = int.from_bytes(buf[off:off + 3], "big")
        typ, flags = buf[off + 3], buf[off + 4]
        sid = int.from_bytes(buf[off + 5:off + 9], "big") & 0x7FFFFFFF
        body = buf[off + 9:off + 9 + ln]
        if typ == 0:
            if flags & 0x8:
                pad = body[0]
                body = body[1:len(body) - pad]
            bodies.setdefault(sid, bytearray()).extend(body)
        off += 9 + ln
    return bodies


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bytes")
    b.add_argument("file")
    b.add_argument("stream", type=int)
    b.add_argument("dir", choices=["client", "server", "0", "1", "c2s", "s2c"])
    s = sub.add_parser("streams")
    s.add_argument("file")
    c = sub.add_parser("comment")
    c.add_argument("file")
    c.add_argument("stream", type=int)
    k = sub.add_parser("with-key")
    k.add_argument("file")
    k.add_argument("key")
    k.add_argument("value")
    h = sub.add_parser("h2data")
    h.add_argument("file")
    h.add_argument("stream", type=int)
    h.add_argument("outdir")
    m = sub.add_parser("match")
    m.add_argument("file")
    m.add_argument("--server-port", type=int, required=True)
    m.add_argument("--expect", required=True)
    m.add_argument("--min-streams", type=int, default=1)
    m.add_argument("--prefix", action="store_true")
    m.add_argument("--with-syn", action="store_true")
    m.add_argument("--lossy", action="store_true")
    g = sub.add_parser("gaps")
    g.add_argument("file")
    x = sub.add_parser("extents")
    x.add_argument("file")
    a = ap.parse_args()

    if a.cmd == "bytes":
        got = follow(a.file, [a.stream]).get(a.stream)
        if got is None:
            sys.exit("follow.py: no stream %d" % a.stream)
        sys.stdout.buffer.write(got[0] if a.dir in ("client", "0", "c2s") else got[1])
    elif a.cmd == "streams":
        for e in stream_info(a.file):
            cp, sp = real_ports(e)
            e["real_client_port"], e["real_server_port"] = cp, sp
            print(json.dumps(e))
    elif a.cmd == "comment":
        for e in stream_info(a.file):
            if e["stream"] == a.stream:
                print("\n---\n".join(e["raw"]))
    elif a.cmd == "with-key":
        for e in stream_info(a.file):
            if any(c.get(a.key) == a.value for c in e["comments"]):
                print(e["stream"])
    elif a.cmd == "h2data":
        got = follow(a.file, [a.stream]).get(a.stream)
        if got is None:
            sys.exit("follow.py: no stream %d" % a.stream)
        os.makedirs(a.outdir, exist_ok=True)
        for sid, body in h2_bodies(got[1]).items():
            with open(os.path.join(a.outdir, "h2-%d" % sid), "wb") as f:
                f.write(body)
            print(sid, len(body))
    elif a.cmd == "match":
        cmd_match(a)
    elif a.cmd == "gaps":
        cmd_gaps(a)
    elif a.cmd == "extents":
        cmd_extents(a)


if __name__ == "__main__":
    main()
