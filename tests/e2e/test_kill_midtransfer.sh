#!/usr/bin/env bash
# A client SIGKILLed in the middle of a transfer: its stream still ends with FIN, what was
# captured is a prefix of what it meant to send, and the file has no expert warnings.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
tls_server_port

start_capture out.pcapng
start_py_server 1 60
start_slow_client
kill -KILL "$CLI"
log "client $CLI killed after $(cat progress) bytes"
wait_pid_exit "$SRV" 20 || fail "server did not notice the killed client"
sleep 1
stop_capture

F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data" # random binary payload
assert_prefix_of_intended "$F" "killed stream"
cport=$(basename "$(ls cli/*.c2s.intended)" .c2s.intended)
streams=$(connection_streams "$F" "$cport" "$P")
[ -n "$streams" ] || fail "no stream for the killed client's connection (port $cport)"
for s in $streams; do
	n=$(frame_count "$F" "tcp.stream==$s && tcp.flags.fin==1")
	assert_ge "$n" 1 "FIN frames in stream $s (killed client port $cport)"
	got=$(stream_bytes "$F" "$s" client | wc -c)
	assert_ge "$got" 100000 "client->server bytes captured in stream $s before the kill"
done
log "PASS"
