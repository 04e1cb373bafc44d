#!/usr/bin/env bash
# Node.js (nodesource build: OpenSSL 3.0 linked statically into /usr/bin/node, SSL_* in
# .dynsym; Debian's build: libssl.so.3. Memory BIOs either way: the socket syscalls
# happen outside SSL_write/SSL_read, so the tool ties them by syscall order). An `https` client and an `https` server in two node
# processes: a POST (300 kB body) and two GETs (500 kB, 1 MB), bodies byte-exact both
# ways, both PIDs with Role and the OpenSSL Library node uses; no expert warnings.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
node_init
tls_server_port
pattern_file req.bin 300000 0x5a
pattern_file resp.bin 500000 0x00
pattern_file big.bin 1000000 0x00

cat >server.js <<'JS'
// https server: answers /small with resp.bin and /big with big.bin (Content-Length),
// records the bytes of each request body; exits after 3 requests.
const https = require("https"), fs = require("fs");
const [port, cert, key] = process.argv.slice(2);
const bodies = { "/small": fs.readFileSync("resp.bin"), "/big": fs.readFileSync("big.bin") };
let served = 0;
const srv = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  const parts = [];
  req.on("data", (d) => parts.push(d));
  req.on("end", () => {
    fs.writeFileSync("srv-req-" + served + ".bin", Buffer.concat(parts));
    const body = bodies[req.url] || Buffer.from("not found\n");
    res.writeHead(bodies[req.url] ? 200 : 404, { "Content-Type": "application/octet-stream",
      "Content-Length": body.length, "Connection": "close" });
    res.end(body);
    if (++served === 3) srv.close();
  });
});
srv.keepAliveTimeout = 1000;
srv.listen(port, "127.0.0.1", () => console.log("listening"));
setTimeout(() => process.exit(3), 60000).unref();
JS
cat >client.js <<'JS'
// https client: POST req.bin to /small, then GET /small and /big, one connection each
// (no agent keep-alive); writes each response body to cli-N.bin.
const https = require("https"), fs = require("fs");
const [port, ca] = process.argv.slice(2);
const reqs = [["POST", "/small", fs.readFileSync("req.bin")], ["GET", "/small"], ["GET", "/big"]];
function one(i) {
  if (i === reqs.length) return;
  const [method, path, body] = reqs[i];
  const headers = body ? { "Content-Type": "application/octet-stream", "Content-Length": body.length } : {};
  const r = https.request({ host: "localhost", port, path, method, headers, ca: fs.readFileSync(ca),
                            agent: false }, (res) => {
    const parts = [];
    res.on("data", (d) => parts.push(d));
    res.on("end", () => {
      if (res.statusCode !== 200) { console.error("status " + res.statusCode); process.exit(1); }
      fs.writeFileSync("cli-" + i + ".bin", Buffer.concat(parts));
      setTimeout(() => one(i + 1), 200);
    });
  });
  r.on("error", (e) => { console.error(e.message); process.exit(1); });
  r.end(body);
}
one(0);
setTimeout(() => process.exit(3), 60000).unref();
JS

start_capture out.pcapng -v
bg server.log node server.js "$P" "$CERT" "$KEY"
SRV=$BG_PID
wait_probed "$NODE"
wait_port "$P" 20
run_fg client.out client.err node client.js "$P" "$CERT" || fail "node client failed: $(cat client.err)"
CLI=$FG_PID
wait_bounded "$SRV" 20 || fail "node server failed or did not end after 3 requests: $(cat server.log)"
sleep 0.5
stop_capture

# The peers themselves (no capture involved).
assert_files_equal srv-req-0.bin req.bin "POST body received by the node server"
assert_files_equal cli-0.bin resp.bin "response 1 received by the node client"
assert_files_equal cli-1.bin resp.bin "response 2 received by the node client"
assert_files_equal cli-2.bin big.bin "response 3 received by the node client"

F=out.pcapng
log "summary: $(grep -E '^tlspcap: TLS calls' "$CAPTURE_LOG")"
assert_capture_clean "$F" "$P"

assert_pid_view "$F" "$CLI" client "$LIBRE" 3
for s in $PID_STREAMS; do
	assert_http_stream "$F" "$s"
done
assert_pid_view "$F" "$SRV" server "$LIBRE" 3
log "node's comment: $(pid_field "$F" "$CLI" Socket | cut -f2 | sort | uniq -c | tr '\n' ';')"

reqs=$(tfields "$F" "http.request && tcp.port==$P" http.request.method http.request.uri | sort | uniq -c)
log "HTTP requests:"$'\n'"$reqs"
assert_contains "$reqs" "1 POST	/small" "HTTP requests"
assert_contains "$reqs" "1 GET	/small" "HTTP requests"
assert_contains "$reqs" "1 GET	/big" "HTTP requests"
export_objects "$F" objs
assert_object_exported objs req.bin "POST body"
assert_object_exported objs resp.bin "500 kB response"
assert_object_exported objs big.bin "1 MB response"
log "PASS"
