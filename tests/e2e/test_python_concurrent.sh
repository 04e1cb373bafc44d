#!/usr/bin/env bash
# python3 ssl client and server (SSL_write_ex/SSL_read_ex), 50 concurrent connections,
# payloads up to 1 MB with every byte value: every connection byte-exact in both
# directions in the capture; zero expert warnings; no bytes lost.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
tls_server_port
N=${E2E_PY_CONNS:-50}

start_capture out.pcapng

start_py_server "$N" 100
bg client.log "$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out cli \
	--count "$N" --concurrency "$N" --seed 42 --max-size 1048576
CLI=$BG_PID
wait_pid_exit "$CLI" 90 || fail "client still running after 90 s"
wait "$CLI" || { cat client.log >&2; fail "tls_peer client failed"; }
wait_pid_exit "$SRV" 20 || fail "server did not finish its $N connections"
log "$(tail -n 1 client.log)"
sleep 0.5
stop_capture

# sanity of the peers themselves: what the client sent is what the server received
assert_peers_agree cli srv

F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data" # random binary payload
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
[ -n "$(streams_with_key "$F" PID "$CLI")" ] || fail "no stream with the client's PID $CLI"
ok "client pid $CLI in comments"
[ -n "$(streams_with_key "$F" PID "$SRV")" ] || fail "no stream with the server's PID $SRV"
ok "server pid $SRV in comments"
"$PY" "$E2E_DIR/follow.py" match "$F" --server-port "$P" --expect cli --min-streams "$N" ||
	fail "capture is not byte-exact for the python connections"
ok "all $N connections byte-exact in both directions"
log "PASS"
