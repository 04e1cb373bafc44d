#!/usr/bin/env bash
# Overload (issue 12): tls_load rr (OpenSSL client and server processes, 16 connections,
# 100-byte requests and 1000-byte responses as fast as they go) saturates both cores
# while tlspcap (--comm tls_load, both ends traced) has a 64 KiB ring (-B 64, the smallest). Loss must
# happen and be accounted exactly, per connection found by its real ports (tls_load's
# manifest has them): every captured byte is the sent byte at its offset, and each
# direction ends (last byte or FIN) at the bytes sent, i.e. bytes sent = bytes in the file
# + bytes in holes (tls_load verify -l); every hole carries its "N bytes not captured"
# comment, every frame Wireshark calls "previous segment not captured" has one, the
# summary's "bytes lost" is the sum of the holes, and no connection loses its addresses.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
LOAD=$REPO/.output/bench/tls_load
[ -x "$LOAD" ] || fail "$LOAD not built: run 'make bench-tools'"

start_capture out.pcapng -B 64 --comm tls_load
run_fg load.out load.err "$LOAD" rr -c 16 -d 1 -M man.txt || fail "tls_load failed: $(cat load.err)"
log "$(grep '^tls_load: mode' load.out)"
stop_capture

F=out.pcapng
assert_tshark_reads "$F"
"$LOAD" verify -l -M man.txt "$F" >verify.out 2>&1
rc=$?
grep '^tls_load: verify: conn=' verify.out | sed 's/^/  /'
v=$(grep '^tls_load: verify: packets=' verify.out) || fail "no verify line: $(cat verify.out)"
log "$v"
[ "$rc" = 0 ] || fail "tls_load verify -l failed (exit $rc): a byte differs, or a direction does not end at the bytes sent"
ok "every connection (by its ports): captured bytes = the sent ones, bytes sent = in the file + in holes"
field() { printf '%s\n' "$v" | grep -oE "(^| )$1=[0-9]+" | cut -d= -f2; }
assert_eq "$(field foreign)" 0 "streams of no tls_load connection"
assert_eq "$(field half_streams)" 32 "directions in the file (16 connections)"
assert_ge "$(field lost_bytes)" 1 "bytes lost under overload (holes)"
declared=$("$PY" "$E2E_DIR/follow.py" gaps "$F") || fail "a hole in a stream without its comment"
assert_eq "$declared" "$(field lost_bytes)" "bytes in declared gaps = bytes in holes"
assert_eq "$(capture_stat 'bytes lost')" "$declared" "bytes lost (summary) = bytes in declared gaps"
assert_eq "$(capture_stat unattributed)" 0 "unattributed connections (summary)"
assert_ge "$(frame_count "$F" tcp.analysis.lost_segment)" 1 "frames after a gap (Wireshark)"
assert_eq "$(frame_count "$F" 'tcp.analysis.lost_segment && !(frame.comment contains "bytes not captured")')" 0 \
	"gaps Wireshark sees without a comment"
log "PASS"
