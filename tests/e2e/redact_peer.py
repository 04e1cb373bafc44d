#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""HTTPS/1.1 server and client (stdlib) that carry secrets everywhere, for the redaction tests.

  redact_peer.py server --port P --cert C --key K --secrets FILE --body FILE [--lifetime S]
  redact_peer.py client --port P --cafile C --secrets FILE --body FILE

FILE of secrets: one NAME=VALUE per line. The server sends Set-Cookie, X-Auth-Token and a
JSON access_token (both a Content-Length and a chunked body); GET /data.bin answers the
bytes of --body. The client sends, on one keep-alive connection: Authorization, Cookie,
X-Api-Key, a sensitive query field, a form body, a JSON body; it checks every answer.
"""
import argparse
import http.client
import http.server
import json
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--cafile")
    p.add_argument("--secrets", required=True)
    p.add_argument("--body", required=True)
    p.add_argument("--lifetime", type=float, default=60)
    a = p.parse_args()
    (server if a.mode == "server" else client)(a)


if __name__ == "__main__":
    main()
