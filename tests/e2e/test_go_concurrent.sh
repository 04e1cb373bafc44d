#!/usr/bin/env bash
# Go crypto/tls under goroutine migration: a Go echo client and server (GOMAXPROCS=4),
# 50 concurrent connections each writing 1 B, 16 KiB, 16 KiB+1 and 1 MiB both ways,
# slow readers so that writers hit EAGAIN and park on the netpoller. Every connection
# byte-exact both ways, no bytes lost, both PIDs; the summary counts Go calls whose
# socket syscall ran on another thread than the call's entry (> 0: the goroutine key
# at work) and calls tied through the connection's earlier socket (reads served from
# crypto/tls's buffer, no syscall).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
source "$(dirname "$0")/lib_go.sh"
go_init
N=${E2E_GO_CONNS:-50}
tls_server_port
mkdir -p cli srv

start_capture out.pcapng -v
bg server.log env GOMAXPROCS=4 "$G" echo-server -port "$P" -cert "$CERT" -key "$KEY" -out srv -conns "$N" -slow
SRV=$BG_PID
wait_probed "$G"
wait_port "$P" 10
bg client.log env GOMAXPROCS=4 "$G" echo-client -port "$P" -ca "$CERT" -out cli -conns "$N" -slow
CLI=$BG_PID
wait_bounded "$CLI" 60 || fail "Go client failed ($?): $(tail -n 3 client.log)"
wait_bounded "$SRV" 20 || fail "Go server failed ($?): $(tail -n 3 server.log)"
sleep 0.5
stop_capture

assert_peers_agree cli srv

F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data" # binary payload
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
assert_pid_view "$F" "$CLI" client "$(go_library_re "$G")" "$N"
assert_pid_view "$F" "$SRV" server "$(go_library_re "$G")" "$N"
assert_match "$F" "$P" cli "$N"

line=$(grep '^tlspcap: Go calls tied by goroutine' "$CAPTURE_LOG") || fail "no Go summary line in the capture log"
log "$line"
moved=$(printf '%s\n' "$line" | grep -oE '\(([0-9]+) of them on another thread' | grep -oE '[0-9]+')
cached=$(printf '%s\n' "$line" | grep -oE '([0-9]+) by the connection' | grep -oE '^[0-9]+')
none=$(printf '%s\n' "$line" | grep -oE '([0-9]+) not at all' | grep -oE '^[0-9]+')
assert_ge "$moved" 1 "Go calls whose syscall ran on another thread than their entry"
assert_ge "$cached" 1 "Go calls tied by the connection's earlier socket (buffered reads)"
assert_eq "$none" 0 "Go calls not tied to a socket"
log "PASS"
