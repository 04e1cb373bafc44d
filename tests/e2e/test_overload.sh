#!/usr/bin/env bash
# Overload (issue 12): tls_load rr (OpenSSL client and server processes, 16 connections,
# 100-byte requests and 1000-byte responses as fast as they go) saturates both cores
# while tlspcap (--comm tls_load, both ends traced) has a 64 KiB ring (-B 64, the smallest). Loss must
# happen and be accounted exactly: every captured byte is the sent byte at its offset
# (tls_load verify), bytes sent = bytes in the file + bytes in declared gaps, every hole
# in the sequence numbers carries its "N bytes not captured" comment, every frame
# Wireshark calls "previous segment not captured" has one, the summary's "bytes lost"
# is the sum of the gaps, and no connection loses its addresses (0 unattributed).
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
"$LOAD" verify -M man.txt "$F" >verify.out 2>&1 || true
v=$(grep '^tls_load: verify' verify.out) || fail "no verify line: $(cat verify.out)"
log "$v"
field() { printf '%s\n' "$v" | grep -oE "(^| )$1=[0-9]+" | cut -d= -f2; }
# verify finds a direction by its first 32 bytes: one whose start was lost is "foreign",
# so it judges content only; the accounting below is per connection, from the manifest.
assert_eq "$(field mismatched_bytes)" 0 "captured bytes that differ from the sent ones"
assert_eq "$(field extra_bytes)" 0 "bytes in the file that were never sent"
assert_eq "$(field duplicated_half_streams)" 0 "connections written twice"
declared=$("$PY" "$E2E_DIR/follow.py" gaps "$F") || fail "a hole in a stream without its comment"
assert_ge "$declared" 1 "bytes lost under overload (declared gaps)"
assert_eq "$(capture_stat 'bytes lost')" "$declared" "bytes lost (summary) = bytes in declared gaps"
assert_eq "$(capture_stat unattributed)" 0 "unattributed connections (summary)"
# Per connection: bytes sent (manifest) = bytes in the file + bytes in its declared gaps,
# i.e. each direction's sequence numbers reach exactly the bytes sent. Directions are
# compared unordered: under this load a stream's client and server can be swapped
# (the role comes from /proc/net/tcp's listeners, read after tls_load closed its own).
"$PY" "$E2E_DIR/follow.py" extents "$F" | awk '{print ($2 < $3 ? $2 " " $3 : $3 " " $2)}' | sort >file.ext
tail -n +2 man.txt | awk '{print ($2 < $3 ? $2 " " $3 : $3 " " $2)}' | sort >sent.ext
assert_eq "$(wc -l <file.ext)" 16 "streams in the file"
cmp -s file.ext sent.ext || fail "bytes per connection (in file + lost) differ from bytes sent: $(diff file.ext sent.ext | head -n 6 | tr '\n' ';')"
ok "every connection: bytes sent = bytes in the file + bytes counted lost"
assert_ge "$(frame_count "$F" tcp.analysis.lost_segment)" 1 "frames after a gap (Wireshark)"
assert_eq "$(frame_count "$F" 'tcp.analysis.lost_segment && !(frame.comment contains "bytes not captured")')" 0 \
	"gaps Wireshark sees without a comment"
log "PASS"
