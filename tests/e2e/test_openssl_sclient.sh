#!/usr/bin/env bash
# openssl s_client -> openssl s_server -quiet (SSL_read/SSL_write): binary data both ways,
# byte-exact in the capture; PIDs of both in the comments; zero expert warnings.
# Quirks: s_server -quiet closes the connection when its stdin ends, s_client -quiet
# ignores EOF on stdin; so both stdins are fed from files and held open until the data
# has arrived, then the server's stdin is closed (close_notify, both exit).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
tls_server_port
head -c 400000 /dev/urandom >c2s.bin
head -c 250000 /dev/urandom >s2c.bin
mkfifo srv.in cli.in

start_capture out.pcapng

openssl s_server -accept "127.0.0.1:$P" -cert "$CERT" -key "$KEY" -quiet -naccept 1 <srv.in >srv.out 2>srv.err &
SRV=$!
_E2E_PIDS+=("$SRV")
bash -c 'cat s2c.bin; exec sleep 60' >srv.in &
SRV_FEED=$!
_E2E_PIDS+=("$SRV_FEED")
wait_port "$P" 10
openssl s_client -connect "127.0.0.1:$P" -CAfile "$CERT" -quiet -nocommands <cli.in >cli.out 2>cli.err &
CLI=$!
_E2E_PIDS+=("$CLI")
bash -c 'cat c2s.bin; exec sleep 60' >cli.in &
_E2E_PIDS+=("$!")
wait_file_size srv.out 400000 30 || fail "s_server received $(stat -c %s srv.out) of 400000 bytes"
wait_file_size cli.out 250000 30 || fail "s_client received $(stat -c %s cli.out) of 250000 bytes"
kill "$SRV_FEED" # s_server: stdin EOF -> close_notify -> s_client exits
wait_pid_exit "$SRV" 10 || fail "s_server did not exit after its stdin closed"
wait_pid_exit "$CLI" 10 || fail "s_client did not exit after the server closed"
sleep 0.5
stop_capture

assert_files_equal srv.out c2s.bin "s_server received (no capture involved)"
assert_files_equal cli.out s2c.bin "s_client received (no capture involved)"
F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data" # random binary payload
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
for pid in "$CLI" "$SRV"; do
	s=$(streams_with_key "$F" PID "$pid" | head -n 1)
	[ -n "$s" ] || fail "no stream with 'PID: $pid'"
	c=$(stream_comment "$F" "$s")
	assert_contains "$c" "Cmd: openssl" "comment of stream $s"
	stream_bytes "$F" "$s" client >"c2s-$s.bin"
	stream_bytes "$F" "$s" server >"s2c-$s.bin"
	assert_files_equal "c2s-$s.bin" c2s.bin "client->server bytes of stream $s (pid $pid)"
	assert_files_equal "s2c-$s.bin" s2c.bin "server->client bytes of stream $s (pid $pid)"
done
log "PASS"
