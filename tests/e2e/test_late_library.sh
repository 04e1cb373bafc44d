#!/usr/bin/env bash
# A TLS library that arrives while its process has a connection open: late_tls_client
# connects, dlopen()s a copy of libssl tlspcap has never seen, writes its first 1008 bytes
# at once (before the copy can be probed) and the rest 1.5 s later. The copy is probed
# when it is mapped, with the client's socket already open: that view is joined
# mid-connection, its stream says so, and it is never merged into the server's view (its
# byte offsets lack the first write). The server (python, probed from the start) has the
# whole exchange byte-exact on a stream of its own.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
tls_server_port
mkdir -p lib srv cli
# its own inode, a name discovery looks at (libssl.so*)
cp /usr/lib/x86_64-linux-gnu/libssl.so.3 lib/libssl.so.3

start_capture out.pcapng -v
start_py_server 1 60
run_fg client.out client.err "$SAMPLES_OUT/late_tls_client" "$P" "$PWD/lib/libssl.so.3" 1500 \
	20000 cli/late || fail "late_tls_client failed: $(cat client.err)"
CLI=$FG_PID
assert_eq "$(cat client.out)" "early 1008 bytes, late 3000 bytes, response 20000 bytes" "the client's exchange"
wait_bounded "$SRV" 10 || fail "server did not end: $(tail -n 3 server.log)"
sleep 0.3
stop_capture
grep -qF "($PWD/lib/libssl.so.3)" "$CAPTURE_LOG" ||
	fail "the copy was not probed: $(grep probing "$CAPTURE_LOG")"
ok "the copy was probed when it was mapped"
assert_files_equal cli/late.c2s srv/*.c2s "bytes the server received (no capture involved)"
assert_files_equal cli/late.s2c srv/*.s2c "bytes the client received (no capture involved)"

F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data"
assert_eq "$(capture_stat 'joined mid-connection')" 1 "joined mid-connection (summary)"
assert_pid_view "$F" "$SRV" server "^OpenSSL " 1
assert_pid_view "$F" "$CLI" client "^OpenSSL .*\\($PWD/lib/libssl\\.so\\.3\\)$" 1
s=$(streams_with_key "$F" PID "$SRV")
c=$(streams_with_key "$F" PID "$CLI")
[ "$s" != "$c" ] || fail "the joined view was merged into the server's stream $s"
ok "two streams: the server's view ($s), the joined client's ($c)"
assert_contains "$(stream_comment "$F" "$c")" "joined mid-connection" "comment of the client's stream"
stream_bytes "$F" "$s" client >srv.c2s
stream_bytes "$F" "$s" server >srv.s2c
assert_files_equal srv.c2s cli/late.c2s "the server's stream, client to server"
assert_files_equal srv.s2c cli/late.s2c "the server's stream, server to client"
# The joined view starts at its first recorded byte: the late write (all of it, had the
# client been slower than the probes), then the answer.
stream_bytes "$F" "$c" client >cli.c2s
stream_bytes "$F" "$c" server >cli.s2c
n=$(stat -c %s cli.c2s)
[ "$n" = 3000 ] || [ "$n" = 4008 ] || fail "the client's stream holds $n bytes to the server (3000 or 4008)"
tail -c "$n" cli/late.c2s >late.c2s
assert_files_equal cli.c2s late.c2s "the client's stream, client to server: the last $n bytes it sent"
assert_files_equal cli.s2c cli/late.s2c "the client's stream, server to client"
log "PASS"
