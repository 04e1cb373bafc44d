#!/usr/bin/env bash
# tlspcap -w - into a reader that stalls for 12 s: the traced programs are never held up
# (a 10 MB transfer ends while the reader still sleeps), what could not be kept is counted
# as lost, and once the reader reads again it gets a valid file (tshark exit 0) that
# shows the loss as gaps.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
tls_server_port
start_py_server 1 90

mkfifo pipe
# opens the pipe at once (so tlspcap can start), reads nothing for 12 s
bash -c 'exec 3<pipe; sleep 12; exec cat <&3 >out.pcapng' &
READER=$!
_E2E_PIDS+=("$READER")
CAPTURE_STDOUT=$E2E_TMP/pipe
start_capture - -B 256 -q
t0=$(date +%s%N)
timeout 20 "$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out cli \
	--sizes 10000000 >client.log 2>&1 || fail "client failed: $(tail -n 3 client.log)"
ms=$((($(date +%s%N) - t0) / 1000000))
log "10 MB sent in $ms ms while the reader stalled"
[ "$ms" -lt 8000 ] || fail "the client took $ms ms: held up by the stalled reader"
ok "the traced client was not held up ($ms ms < 8000)"
_e2e_alive "$READER" || fail "the reader stopped stalling early"
# the reader reads again after 12 s: everything written so far drains
sleep 1
for ((i = 0; i < 150; i++)); do
	_e2e_alive "$READER" && [ "$(stat -c %s out.pcapng 2>/dev/null || echo 0)" -gt 0 ] && break
	sleep 0.1
done
sleep 1
stop_capture INT
wait_pid_exit "$READER" 20 || fail "the reader did not see the end of the stream"
assert_tshark_reads out.pcapng
lost=$(capture_stat "bytes lost")
assert_ge "$lost" 1 "bytes counted lost while the reader stalled"
cport=$(basename "$(ls cli/*.c2s.intended)" .c2s.intended)
stream=$(connection_streams out.pcapng "$cport" "$P")
[ -n "$stream" ] || fail "no stream for the client (port $cport)"
gaps=$(frame_count out.pcapng "tcp.stream==$stream && frame.comment contains \"not captured\"")
assert_ge "$gaps" 1 "frames with a gap comment in the client's stream"
log "PASS"
