#!/usr/bin/env bash
# Node.js writing from callbacks that run inside SSL_read (issue 11): the handshake-done
# callback (tls.connect's connect listener, undici's fetch) runs in OpenSSL's info
# callback, inside the SSL_read that finished the handshake, so its SSL_write is nested
# in that SSL_read on the same thread. One node process, against tls_peer.py --mode http
# (python, traced too), which records every byte per connection:
#   1. tls.connect writing its request from the connect callback (Connection: close)
#   2. fetch() three times on one keep-alive connection
#   3. https.request with a streamed (chunked) body written over time
#   4. 40 concurrent fetches
# Every connection byte-exact both ways, node's PID on every stream, 0 unattributed,
# nothing lost, every byte the peers sent in the file.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
node_init
tls_server_port

cat >client.js <<'JS'
const tls = require("tls"), https = require("https"), fs = require("fs");
const [port, ca] = process.argv.slice(2);
const cafile = fs.readFileSync(ca), base = "https://127.0.0.1:" + port;
const expect = (what, got, want) => { if (got !== want) throw new Error(what + ": " + got + ", want " + want); };

function callbackWrite() {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca: cafile }, () =>
      s.write("GET /5000 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    let n = 0;
    s.on("data", (d) => (n += d.length));
    s.on("end", () => resolve(n));
    s.on("error", reject);
  });
}

async function get(n) {
  const r = await fetch(base + "/" + n);
  const b = Buffer.from(await r.arrayBuffer());
  expect("fetch /" + n + " status", r.status, 200);
  expect("fetch /" + n + " length", b.length, n);
}

function streamedPost() {
  return new Promise((resolve, reject) => {
    const r = https.request(base + "/3000", { method: "POST", ca: cafile, agent: false,
      headers: { "Content-Type": "application/octet-stream" } }, (res) => {
      let n = 0;
      res.on("data", (d) => (n += d.length));
      res.on("end", () => resolve(n));
    });
    r.on("error", reject);
    let i = 0;
    (function more() {
      if (i === 5) return r.end("last piece\n");
      r.write(Buffer.alloc(1000 + i * 333, 65 + i));
      i++;
      setTimeout(more, 20);
    })();
  });
}

(async () => {
  const n = await callbackWrite();
  if (n < 5000) throw new Error("callback write: response of " + n + " bytes");
  for (const size of [1000, 20000, 300000]) await get(size);
  expect("streamed POST response", await streamedPost(), 3000);
  await Promise.all(Array.from({ length: 40 }, (_, i) => get(1000 + i * 997)));
  console.log("client: all requests answered");
  process.exit(0);
})().catch((e) => { console.error("client: " + e.message); process.exit(1); });
setTimeout(() => { console.error("client: timeout"); process.exit(3); }, 60000).unref();
JS

# node connects at once: probed from the start, none of its calls runs unprobed
start_capture out.pcapng --lib "$NODE"
start_py_server 0 90 --mode http
run_fg client.out client.err env NODE_EXTRA_CA_CERTS="$CERT" node client.js "$P" "$CERT" ||
	fail "node client failed: $(cat client.err)"
CLI=$FG_PID
sleep 0.5 # the server records each connection once the client's EOF reached it
stop_capture
kill "$SRV" 2>/dev/null || true

nreq=$(cat srv/*.requests | wc -l)
assert_eq "$nreq" 45 "requests the server answered"
three=$(grep -l -x 'GET /300000 HTTP/1.1' srv/*.requests | xargs grep -c . | cut -d: -f2)
assert_ge "${three:-0}" 3 "requests on fetch()'s keep-alive connection"
assert_eq "$(grep -h '^POST' srv/*.requests)" "POST /3000 HTTP/1.1" "the streamed POST's request line"

F=out.pcapng
assert_capture_clean "$F" "$P"
assert_eq "$(capture_stat unattributed)" 0 "unattributed connections (summary)"
assert_eq "$(capture_stat 'TLS calls not recorded')" 0 "TLS calls not recorded (summary)"
assert_match "$F" "$P" srv "$(find srv -name '*.c2s' | wc -l)"
assert_pid_view "$F" "$CLI" client "$LIBRE" "$(find srv -name '*.c2s' | wc -l)"
log "PASS"
