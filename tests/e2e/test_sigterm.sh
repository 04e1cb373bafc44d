#!/usr/bin/env bash
# SIGTERM to tlspcap in the middle of a transfer: exit 0, every stream closed with FIN,
# a file tshark reads with exit 0 and no expert warnings, whole blocks and interface
# statistics at the end, the summary printed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
tls_server_port

start_py_server 1 90
start_capture out.pcapng
start_slow_client
stop_capture TERM
log "tlspcap stopped after the client sent $(cat progress) bytes"
grep -qE '^tlspcap: [0-9]+ connections' "$CAPTURE_LOG" || fail "no summary line after SIGTERM"
ok "summary printed"

F=out.pcapng
assert_tshark_reads "$F"
read -r _ _ _ _ _ isb _ tail < <("$PY" "$E2E_DIR/pcapng_blocks.py" "$F") || fail "malformed block in $F"
assert_eq "$tail" 0 "bytes of a cut-short block after SIGTERM"
assert_ge "$isb" 1 "interface statistics blocks after SIGTERM"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data" # random binary payload
cport=$(basename "$(ls cli/*.c2s.intended)" .c2s.intended)
streams=$(connection_streams "$F" "$cport" "$P")
[ -n "$streams" ] || fail "no stream for the in-flight connection (client port $cport)"
for s in $streams; do
	assert_ge "$(frame_count "$F" "tcp.stream==$s && tcp.flags.fin==1")" 1 "FIN frames in in-flight stream $s"
done
assert_prefix_of_intended "$F" "in-flight stream"
log "PASS"
