#!/usr/bin/env bash
# A connection already open when tlspcap starts: captured from its next TLS call on,
# byte-exact from there, and its comment says the capture joined mid-connection.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
tls_server_port

cat >peer.py <<'PY'
# server: echo every chunk back.  client: 64 KiB before "go" appears, 100 KiB after;
# writes what it sent after "go" to after.bin and what came back to echo.bin.
import random, socket, ssl, sys
mode, port = sys.argv[1], int(sys.argv[2])
if mode == "server":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    lsock = socket.create_server(("127.0.0.1", port))
    conn = ctx.wrap_socket(lsock.accept()[0], server_side=True)
    while (data := conn.recv(65536)):
        conn.sendall(data)
    sys.exit(0)
import gate  # the client alone: on PYTHONPATH=$E2E_DIR
ctx = ssl.create_default_context(cafile=sys.argv[3])
conn = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
def exchange(payload):
    conn.sendall(payload)
    got = b""
    while len(got) < len(payload):
        got += conn.recv(65536)
    return got
rng = random.Random(7)
before = bytes(rng.getrandbits(8) for _ in range(65536))
assert exchange(before) == before
gate.ready_then_wait_for_go()  # the capture starts meanwhile
after = bytes(rng.getrandbits(8) for _ in range(102400))
echo = exchange(after)
open("after.bin", "wb").write(after)
open("echo.bin", "wb").write(echo)
conn.close()
PY

bg server.log "$PY" peer.py server "$P" "$CERT" "$KEY"
SRV=$BG_PID
wait_port "$P" 10
PYTHONPATH=$E2E_DIR bg client.log "$PY" peer.py client "$P" "$CERT"
CLI=$BG_PID
for ((i = 0; i < 100; i++)); do [ -e ready ] && break; sleep 0.1; done
[ -e ready ] || fail "client never finished its first exchange: $(cat client.log)"
ok "connection open and 64 KiB exchanged before the capture"

start_capture out.pcapng
touch go
wait_bounded "$CLI" 30 || fail "client failed: $(cat client.log)"
wait_bounded "$SRV" 10 || fail "server failed: $(cat server.log)"
sleep 0.3
stop_capture

F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
assert_ge "$(capture_stat joined)" 1 "connections joined mid-connection (summary)"
streams=$(streams_with_key "$F" PID "$CLI")
[ -n "$streams" ] || fail "no stream with the client's PID $CLI"
s=$(printf '%s\n' "$streams" | head -n 1)
assert_contains "$(stream_comment "$F" "$s")" "Capture: joined mid-connection" "comment of stream $s"
stream_bytes "$F" "$s" client >c2s.bin
stream_bytes "$F" "$s" server >s2c.bin
assert_files_equal c2s.bin after.bin "client->server bytes after the capture started"
assert_files_equal s2c.bin echo.bin "server->client bytes after the capture started"
log "PASS"
