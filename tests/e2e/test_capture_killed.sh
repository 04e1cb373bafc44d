#!/usr/bin/env bash
# tlspcap SIGKILLed in the middle of a transfer: every block written before the kill is
# whole (only the last may be cut short), tshark reads every packet of those blocks, the
# bytes are a prefix of what the client sent, and no probe or link of tlspcap is left
# (bpftool). A capture started right after works and, stopped by SIGINT, writes a whole
# file with interface statistics.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
tls_server_port

before=$(probe_links)
assert_eq "$before" 0 "probe links before the capture (another capture running?)"
start_py_server 2 90
start_capture out.pcapng
during=$(probe_links)
assert_ge "$during" 10 "probe links while capturing"
start_slow_client
# a few flushes (each poll of the main loop writes what it has)
for ((i = 0; i < 100; i++)); do
	[ "$(stat -c %s out.pcapng)" -ge 200000 ] && break
	sleep 0.1
done
kill -KILL "$CAPTURE_PID"
wait_pid_exit "$CAPTURE_PID" 10 || fail "tlspcap still alive 10 s after SIGKILL"
CAPTURE_PID=""
size=$(stat -c %s out.pcapng)
log "killed after the client sent $(cat progress) bytes; $size bytes in the file"
assert_ge "$size" 100000 "bytes written before the kill"

# The kernel detaches a dead process's links as their last file descriptor goes.
for ((i = 0; i < 50; i++)); do
	left=$(probe_links)
	[ "$left" = 0 ] && break
	sleep 0.1
done
assert_eq "$left" 0 "probe links left 5 s after SIGKILL (of $during)"

read -r _ blocks _ epb _ isb _ tail < <("$PY" "$E2E_DIR/pcapng_blocks.py" out.pcapng) ||
	fail "a block before the end of the killed file is malformed"
log "killed file: $blocks whole blocks ($epb packets), last block cut short by $tail bytes"
assert_ge "$epb" 10 "whole packet blocks before the kill"
read_by_tshark=$(tshark -n -r out.pcapng 2>/dev/null | wc -l)
assert_eq "$read_by_tshark" "$epb" "packets tshark reads from the killed file (= whole packet blocks)"
cport=$(basename "$(ls cli/*.c2s.intended)" .c2s.intended)
# tshark reads the whole blocks of the cut file; follow.py needs a file that ends whole
head -c $((size - tail)) out.pcapng >whole.pcapng
[ -n "$(connection_streams whole.pcapng "$cport" "$P")" ] || fail "no stream for the client (port $cport)"
assert_prefix_of_intended whole.pcapng "the killed capture's stream"
kill "$CLI" 2>/dev/null
wait_pid_exit "$CLI" 10 || true

# Nothing left behind keeps a new capture from working.
start_capture again.pcapng
"$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out cli2 --sizes 5000 \
	>client2.log 2>&1 || fail "second client failed"
stop_capture INT
assert_tshark_reads again.pcapng
read -r _ blocks _ epb _ isb _ tail < <("$PY" "$E2E_DIR/pcapng_blocks.py" again.pcapng) ||
	fail "malformed block in the SIGINT-stopped file"
assert_eq "$tail" 0 "bytes of a cut-short block after SIGINT"
assert_ge "$isb" 1 "interface statistics blocks after SIGINT"
assert_eq "$(probe_links)" 0 "probe links after the SIGINT-stopped capture"
log "PASS"
