#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""HTTPS/1.1 and mail servers and clients (stdlib) that carry secrets, for the redaction tests.

  redact_peer.py server --port P --cert C --key K --secrets FILE --body FILE [--lifetime S]
  redact_peer.py client --port P --cafile C --secrets FILE --body FILE
  redact_peer.py mail-server --port IMAPS,IMAP,SMTPS --cert C --key K --secrets FILE [--lifetime S]
  redact_peer.py mail-client --port IMAPS,IMAP,SMTPS --cafile C --secrets FILE

FILE of secrets: one NAME=VALUE per line. The server sends Set-Cookie, X-Auth-Token and a
JSON access_token (both a Content-Length and a chunked body); GET /data.bin answers the
bytes of --body. The client sends, on one keep-alive connection: Authorization, Cookie,
X-Api-Key, a sensitive query field, a form body, a JSON body; it checks every answer.
The mail server (asyncio) speaks just enough IMAP (implicit TLS, and STARTTLS on a plain
port) and SMTP (implicit TLS) to check LOGIN, AUTHENTICATE PLAIN, AUTH PLAIN and AUTH
LOGIN against the secrets IMAP_LOGIN, IMAP_PLAIN, IMAP_STARTTLS, SMTP_PLAIN, SMTP_LOGIN
(user "alice"); the client logs in with imaplib and smtplib, once each way.
"""
import argparse
import asyncio
import base64
import http.client
import http.server
import imaplib
import json
import smtplib
import ssl
import sys
import threading


def read_secrets(path):
    with open(path) as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, body, ctype, chunked=False):
        s = self.server.secrets
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Set-Cookie", f"sid={s['PY_SETCOOKIE']}; Path=/; HttpOnly")
        self.send_header("X-Auth-Token", s["PY_AUTHTOKEN"])
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(body) // 2
            for part in (body[:half], body[half:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/data.bin"):
            self.send_body(self.server.body, "application/octet-stream")
        else:
            self.send_error(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        token = json.dumps({"access_token": self.server.secrets["PY_TOKEN"], "token_type": "Bearer",
                            "expires_in": 3600}).encode()
        self.send_body(token, "application/json", chunked=self.path == "/chunked")


def server(a):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    httpd.secrets = read_secrets(a.secrets)
    with open(a.body, "rb") as f:
        httpd.body = f.read()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Timer(a.lifetime, httpd.shutdown).start()
    print("ready", flush=True)
    httpd.serve_forever()


def client(a):
    s = read_secrets(a.secrets)
    with open(a.body, "rb") as f:
        body = f.read()
    ctx = ssl.create_default_context(cafile=a.cafile)
    conn = http.client.HTTPSConnection("127.0.0.1", a.port, context=ctx, timeout=30)
    hdrs = {"Authorization": f"Bearer {s['PY_BEARER']}", "Cookie": f"sid={s['PY_COOKIE']}; lang=en",
            "X-Api-Key": s["PY_APIKEY"]}
    conn.request("GET", f"/data.bin?user=alice&api_key={s['PY_QUERY']}", headers=hdrs)
    r = conn.getresponse()
    if r.read() != body:
        sys.exit("GET /data.bin: wrong body")
    form = f"user=alice&password={s['PY_FORM']}&remember=1"
    conn.request("POST", "/login", body=form,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    if json.loads(r.read())["access_token"] != s["PY_TOKEN"]:
        sys.exit("POST /login: wrong token")
    doc = json.dumps({"user": "alice", "password": s["PY_JSON"], "scope": ["read", "write"]})
    conn.request("POST", "/chunked", body=doc, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    if json.loads(r.read())["access_token"] != s["PY_TOKEN"]:
        sys.exit("POST /chunked: wrong token")
    conn.close()
    print("ok")


MAIL_USER = "alice"


def sasl_plain_ok(line, password):
    try:
        return base64.b64decode(line.strip()) == b"\0" + MAIL_USER.encode() + b"\0" + password.encode()
    except ValueError:
        return False


def b64_is(line, want):
    try:
        return base64.b64decode(line.strip()) == want.encode()
    except ValueError:
        return False


async def imap_session(reader, writer, secrets, ctx, plain):
    """IMAP4rev1, just enough: CAPABILITY, STARTTLS (on the plain port), LOGIN, AUTHENTICATE PLAIN."""
    async def say(text):
        writer.write(text.encode() + b"\r\n")
        await writer.drain()

    caps = "IMAP4rev1 STARTTLS" if plain else "IMAP4rev1 AUTH=PLAIN"
    login_secret = secrets["IMAP_STARTTLS" if plain else "IMAP_LOGIN"]
    await say("* OK ready")
    while line := await reader.readline():
        tag, cmd, *args = line.decode().split() + ["", ""]
        cmd = cmd.upper()
        if cmd == "CAPABILITY":
            await say(f"* CAPABILITY {caps}")
            await say(f"{tag} OK done")
        elif cmd == "STARTTLS" and plain:
            await say(f"{tag} OK begin TLS")
            await writer.start_tls(ctx)
            plain, caps = False, "IMAP4rev1 AUTH=PLAIN"
        elif cmd == "LOGIN":
            ok = args[0] == MAIL_USER and args[1].strip('"') == login_secret
            await say(f"{tag} {'OK' if ok else 'NO'} LOGIN")
        elif cmd == "AUTHENTICATE" and args[0].upper() == "PLAIN":
            await say("+ ")
            ok = sasl_plain_ok(await reader.readline(), secrets["IMAP_PLAIN"])
            await say(f"{tag} {'OK' if ok else 'NO'} AUTHENTICATE")
        elif cmd == "LOGOUT":
            await say("* BYE")
            await say(f"{tag} OK")
            break
        else:
            await say(f"{tag} BAD")
    writer.close()


async def smtp_session(reader, writer, secrets):
    """ESMTP, just enough: EHLO, AUTH PLAIN and AUTH LOGIN (with or without an initial response), QUIT."""
    async def say(text):
        writer.write(text.encode() + b"\r\n")
        await writer.drain()

    await say("220 localhost ESMTP")
    while line := await reader.readline():
        words = line.decode().split()
        cmd = words[0].upper() if words else ""
        if cmd == "EHLO":
            await say("250-localhost")
            await say("250 AUTH PLAIN LOGIN")
        elif cmd == "AUTH" and len(words) > 1 and words[1].upper() == "PLAIN":
            if len(words) < 3:
                await say("334 ")
                words.append((await reader.readline()).decode())
            await say("235 ok" if sasl_plain_ok(words[2], secrets["SMTP_PLAIN"]) else "535 no")
        elif cmd == "AUTH" and len(words) > 1 and words[1].upper() == "LOGIN":
            if len(words) < 3:
                await say("334 VXNlcm5hbWU6")
                words.append((await reader.readline()).decode())
            await say("334 UGFzc3dvcmQ6")
            ok = b64_is(words[2], MAIL_USER) and b64_is(await reader.readline(), secrets["SMTP_LOGIN"])
            await say("235 ok" if ok else "535 no")
        elif cmd == "QUIT":
            await say("221 bye")
            break
        else:
            await say("502 not here")
    writer.close()


async def mail_serve(a):
    secrets = read_secrets(a.secrets)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    imaps, imap, smtps = (int(p) for p in a.port.split(","))

    async def on_imaps(r, w):
        await imap_session(r, w, secrets, ctx, False)

    async def on_imap(r, w):
        await imap_session(r, w, secrets, ctx, True)

    async def on_smtps(r, w):
        await smtp_session(r, w, secrets)

    servers = [await asyncio.start_server(on_imaps, "127.0.0.1", imaps, ssl=ctx),
               await asyncio.start_server(on_imap, "127.0.0.1", imap),
               await asyncio.start_server(on_smtps, "127.0.0.1", smtps, ssl=ctx)]
    print("ready", flush=True)
    await asyncio.sleep(a.lifetime)
    for srv in servers:
        srv.close()


def mail_server(a):
    asyncio.run(mail_serve(a))


def mail_client(a):
    s = read_secrets(a.secrets)
    ctx = ssl.create_default_context(cafile=a.cafile)
    imaps, imap, smtps = (int(p) for p in a.port.split(","))
    with imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=ctx, timeout=20) as m:
        m.login(MAIL_USER, s["IMAP_LOGIN"])
    with imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=ctx, timeout=20) as m:
        m.authenticate("PLAIN", lambda _: b"\0" + MAIL_USER.encode() + b"\0" + s["IMAP_PLAIN"].encode())
    with imaplib.IMAP4("127.0.0.1", imap, timeout=20) as m:
        m.starttls(ssl_context=ctx)
        m.login(MAIL_USER, s["IMAP_STARTTLS"])
    for mech, password in (("PLAIN", s["SMTP_PLAIN"]), ("LOGIN", s["SMTP_LOGIN"])):
        with smtplib.SMTP_SSL("127.0.0.1", smtps, context=ctx, timeout=20) as m:
            m.ehlo()
            m.user, m.password = MAIL_USER, password
            m.auth(mech, getattr(m, "auth_" + mech.lower()))
    print("ok")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client", "mail-server", "mail-client"])
    p.add_argument("--port", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--cafile")
    p.add_argument("--secrets", required=True)
    p.add_argument("--body")
    p.add_argument("--lifetime", type=float, default=60)
    a = p.parse_args()
    if a.mode in ("server", "client"):
        a.port = int(a.port)
    {"server": server, "client": client, "mail-server": mail_server, "mail-client": mail_client}[a.mode](a)


if __name__ == "__main__":
    main()
