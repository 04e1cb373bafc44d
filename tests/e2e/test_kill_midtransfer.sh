#!/usr/bin/env bash
# A client SIGKILLed in the middle of a transfer: its stream still ends with FIN, what was
# captured is a prefix of what it meant to send, and the file has no expert warnings.
source "$(dirname "$0")/lib.sh"
e2e_init
e2e_cert
pick_port
P=$PORT

start_capture out.pcapng
bg server.log "$PY" "$E2E_DIR/tls_peer.py" server --port "$P" --cert "$CERT" --key "$KEY" \
	--out srv --max-conns 1 --lifetime 60
SRV=$BG_PID
wait_port "$P" 10
# 4 MB at 2000 bytes per 10 ms: ~20 s if left alone
bg client.log "$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out cli \
	--sizes 4000000 --slow 2000 --progress progress
CLI=$BG_PID
for ((i = 0; i < 300; i++)); do
	[ -s progress ] && [ "$(cat progress)" -ge 300000 ] && break
	sleep 0.1
done
[ -s progress ] && [ "$(cat progress)" -ge 300000 ] || fail "client did not send 300000 bytes in 30 s"
kill -KILL "$CLI"
log "client $CLI killed after $(cat progress) bytes"
wait_pid_exit "$SRV" 20 || fail "server did not notice the killed client"
sleep 1
stop_capture

F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data" # random binary payload
intended=$(ls cli/*.c2s.intended)
cport=$(basename "$intended" .c2s.intended)
mkdir expect
cp "$intended" "expect/$cport.c2s"
: >"expect/$cport.s2c"
"$PY" "$E2E_DIR/follow.py" match "$F" --server-port "$P" --expect expect --prefix ||
	fail "killed stream is not a prefix of the intended bytes"
streams=$("$PY" "$E2E_DIR/follow.py" streams "$F" | "$PY" -c '
import json,sys
for l in sys.stdin:
    e=json.loads(l)
    if e["real_client_port"]==int(sys.argv[1]) and e["real_server_port"]==int(sys.argv[2]): print(e["stream"])' "$cport" "$P")
[ -n "$streams" ] || fail "no stream for the killed client's connection (port $cport)"
for s in $streams; do
	n=$(frame_count "$F" "tcp.stream==$s && tcp.flags.fin==1")
	assert_ge "$n" 1 "FIN frames in stream $s (killed client port $cport)"
	got=$(stream_bytes "$F" "$s" client | wc -c)
	assert_ge "$got" 100000 "client->server bytes captured in stream $s before the kill"
done
log "PASS"
