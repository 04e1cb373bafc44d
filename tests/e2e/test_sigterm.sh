#!/usr/bin/env bash
# SIGTERM to tlspcap in the middle of a transfer: exit 0, every stream closed with FIN,
# a file tshark reads with exit 0 and no expert warnings, the summary printed.
source "$(dirname "$0")/lib.sh"
e2e_init
e2e_cert
pick_port
P=$PORT

bg server.log "$PY" "$E2E_DIR/tls_peer.py" server --port "$P" --cert "$CERT" --key "$KEY" \
	--out srv --max-conns 1 --lifetime 90
wait_port "$P" 10
start_capture out.pcapng
bg client.log "$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out cli \
	--sizes 4000000 --slow 2000 --progress progress
for ((i = 0; i < 300; i++)); do
	[ -s progress ] && [ "$(cat progress)" -ge 300000 ] && break
	sleep 0.1
done
[ -s progress ] && [ "$(cat progress)" -ge 300000 ] || fail "client did not send 300000 bytes in 30 s"
stop_capture TERM
log "tlspcap stopped after the client sent $(cat progress) bytes"
grep -qE '^tlspcap: [0-9]+ connections' "$CAPTURE_LOG" || fail "no summary line after SIGTERM"
ok "summary printed"

F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data" # random binary payload
cport=$(basename "$(ls cli/*.c2s.intended)" .c2s.intended)
streams=$("$PY" "$E2E_DIR/follow.py" streams "$F" | "$PY" -c '
import json,sys
for l in sys.stdin:
    e=json.loads(l)
    if e["real_client_port"]==int(sys.argv[1]) and e["real_server_port"]==int(sys.argv[2]): print(e["stream"])' "$cport" "$P")
[ -n "$streams" ] || fail "no stream for the in-flight connection (client port $cport)"
for s in $streams; do
	assert_ge "$(frame_count "$F" "tcp.stream==$s && tcp.flags.fin==1")" 1 "FIN frames in in-flight stream $s"
done
mkdir expect
cp "cli/$cport.c2s.intended" "expect/$cport.c2s"
: >"expect/$cport.s2c"
"$PY" "$E2E_DIR/follow.py" match "$F" --server-port "$P" --expect expect --prefix ||
	fail "in-flight stream is not a prefix of the intended bytes"
log "PASS"
