#!/usr/bin/env bash
# Go crypto/tls under goroutine migration: a Go echo client and server (GOMAXPROCS=4),
# 50 concurrent connections each writing 1 B, 16 KiB, 16 KiB+1 and 1 MiB both ways,
# slow readers so that writers hit EAGAIN and park on the netpoller (perf(1) counts the
# reads and writes of the peers that failed with EAGAIN, apart from tlspcap). Every
# connection byte-exact both ways, no bytes lost, both PIDs; the summary counts Go calls
# that moved to another thread than their entry's (a syscall or the RET there: the
# goroutine key at work) and calls tied through the connection's earlier socket (reads
# served from crypto/tls's buffer, no syscall).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
source "$(dirname "$0")/lib_go.sh"
go_init
need_tools perf:linux-perf
N=${E2E_GO_CONNS:-50}
# perf stat -x, lines "COUNT,,EVENT,...": the peer's reads and writes that returned EAGAIN
EAGAIN=(-e syscalls:sys_exit_write --filter 'ret == -11' -e syscalls:sys_exit_read --filter 'ret == -11')
eagain() { grep -E "^[0-9]+,,syscalls:sys_exit_$2," "$1" | cut -d, -f1; }
tls_server_port
mkdir -p cli srv

start_capture out.pcapng -v
# perf runs each peer as its child (env execs the Go program)
bg server.log perf stat -x, -o srv.perf "${EAGAIN[@]}" -- env GOMAXPROCS=4 "$G" echo-server -port "$P" -cert "$CERT" -key "$KEY" -out srv -conns "$N" -slow
SRV_PERF=$BG_PID
wait_probed "$G"
wait_port "$P" 10
SRV=$(pgrep -P "$SRV_PERF")
bg client.log perf stat -x, -o cli.perf "${EAGAIN[@]}" -- env GOMAXPROCS=4 "$G" echo-client -port "$P" -ca "$CERT" -out cli -conns "$N" -slow
CLI_PERF=$BG_PID
CLI=""
for ((i = 0; i < 50; i++)); do
	CLI=$(pgrep -P "$CLI_PERF") && break
	sleep 0.1
done
[ -n "$CLI" ] || fail "the Go client did not start"
wait_bounded "$CLI_PERF" 60 || fail "Go client failed ($?): $(tail -n 3 client.log)"
wait_bounded "$SRV_PERF" 20 || fail "Go server failed ($?): $(tail -n 3 server.log)"
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

# the slow readers made the writers wait: writes that found the socket buffer full
for side in srv cli; do
	log "$side: $(eagain $side.perf write) writes and $(eagain $side.perf read) reads returned EAGAIN"
done
assert_ge "$(($(eagain srv.perf write) + $(eagain cli.perf write)))" "$N" "Go writes that returned EAGAIN (parked), both peers"

line=$(grep '^tlspcap: Go calls tied by goroutine' "$CAPTURE_LOG") || fail "no Go summary line in the capture log"
log "$line"
num() { printf '%s\n' "$line" | grep -oE "[0-9]+ $1" | grep -oE '^[0-9]+'; }
syscall=$(num 'by a syscall')
cached=$(num 'by the connection')
hint=$(num 'by its handshake')
none=$(num 'not at all')
moved=$(num 'calls moved to another thread')
total=$((syscall + cached + hint + none))
log "Go calls: $total; tied by a syscall $((100 * syscall / total))%, by the earlier socket $((100 * cached / total))%, by the handshake's socket $((100 * hint / total))%, not at all $none; moved to another thread: $moved"
# GOMAXPROCS=4, a goroutine per connection and parked writers: many calls resume elsewhere
assert_ge "$moved" "$N" "Go calls that moved to another thread than their entry's"
assert_ge "$cached" 1 "Go calls tied by the connection's earlier socket (buffered reads)"
assert_eq "$none" 0 "Go calls not tied to a socket"
log "PASS"
