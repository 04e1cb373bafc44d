#!/usr/bin/env bash
# -C / -W / -G: file rotation with tcpdump's names. Each file stands alone (section header,
# interface, zero expert warnings); a connection open across a rotation goes on in the next
# file without a second handshake; mergecap of the files gives one byte-exact stream per
# connection. -C 1 -W 3 over ~10 MB keeps at most 3 files. -G 1 makes strftime-named files,
# through which a slow connection goes on; -G 1 -W 2 keeps the 2 newest. Every file ends with
# its own interface statistics block.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
need_tools mergecap:wireshark-common capinfos:wireshark-common
e2e_init
tls_server_port

# run_slow FILE ARGS...: a capture of ~3.5 s through which one slow connection runs
run_slow() {
	rm -rf cli srv progress expect
	start_capture "$@"
	start_py_server 1 60
	start_slow_client
	sleep 2
	stop_capture
	_e2e_stop_pid "$CLI"
	_e2e_stop_pid "$SRV"
}

# assert_standalone FILE: starts with a section header, tshark reads it cleanly alone
assert_standalone() {
	assert_eq "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" 0a0d0d0a "first bytes of $(basename "$1") (section header)"
	assert_tshark_reads "$1"
	assert_no_expert_warnings "$1" -d "tcp.port==$P,data" # random binary payload
	capinfos "$1" >/dev/null 2>&1 || fail "capinfos cannot read $1"
}

# assert_own_stats FILE: whole blocks, one interface statistics block (the drop counts so
# far), written when the file was finished
assert_own_stats() {
	local stats
	stats=$("$PY" "$E2E_DIR/pcapng_blocks.py" "$1") || fail "malformed block in $1"
	assert_contains "$stats" " isb 1 tail 0" "blocks of $(basename "$1")"
}

# ---- -C 1 without -W: every file kept; merged, every connection byte-exact
start_capture all.pcapng -C 1
run_py_clients all 6 3 7 500000,300000
stop_capture
files=(all.pcapng all.pcapng[0-9]*)
log "files: ${files[*]} ($(du -cb "${files[@]}" | tail -n 1 | cut -f1) bytes)"
assert_ge "${#files[@]}" 4 "files made by -C 1 for ~4.8 MB"
for f in "${files[@]}"; do
	[ -e "$f" ] || fail "missing $f"
	assert_standalone "$f"
	assert_own_stats "$f"
	size=$(stat -c %s "$f")
	[ "$size" -le 1050000 ] || fail "$f is $size bytes: more than -C 1 and a record"
done
for ((i = 1; i < ${#files[@]} - 1; i++)); do
	[ -e "all.pcapng$i" ] || fail "all.pcapng$i missing: names are FILE, FILE1, FILE2 ..."
done
continued=$(tsh -r all.pcapng1 -Y 'frame.comment contains "continues from the previous file"' -T fields -e tcp.stream | sort -u | wc -l)
assert_ge "$continued" 1 "streams in all.pcapng1 that continue from all.pcapng"
assert_eq "$(frame_count all.pcapng1 'tcp.flags.syn==1 && frame.comment contains "continues"')" 0 "SYNs on continued streams"
cont_comment=$(tsh -r all.pcapng1 -Y 'frame.comment contains "continues from the previous file"' -T fields -e frame.comment | head -n 1)
assert_contains "$cont_comment" "PID: " "comment of a continued stream"
assert_contains "$cont_comment" "Role: " "comment of a continued stream"
mergecap -w merged.pcapng "${files[@]}" || fail "mergecap failed"
assert_standalone merged.pcapng
assert_match merged.pcapng "$P" all 6
assert_eq "$(frame_count merged.pcapng 'tcp.flags.syn==1 && tcp.flags.ack==0')" 6 "SYNs in the merged file (one per connection)"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
assert_contains "$(grep 'bytes written to' "$CAPTURE_LOG")" "files)" "summary names the number of files"

# ---- -C 1 -W 3 over ~10 MB: at most 3 files (FILE0..FILE2), the oldest replaced
start_capture ring.pcapng -C 1 -W 3
# one connection at a time: the last one (~1 MB) lies whole in the kept files (>= 2 MB),
# its handshake included, however the clients are scheduled
run_py_clients ring 10 1 7 600000,400000
stop_capture
ls ring.pcapng* >ring.list
log "ring files: $(tr '\n' ' ' <ring.list)"
assert_eq "$(grep -cv '\.streams\.json' ring.list)" 3 "files left by -C 1 -W 3"
for f in ring.pcapng0 ring.pcapng1 ring.pcapng2; do
	[ -e "$f" ] || fail "$f missing"
	assert_standalone "$f"
	assert_own_stats "$f"
done
files_made=$(grep -oE '[0-9]+ files\)' "$CAPTURE_LOG" | tail -n 1 | grep -oE '^[0-9]+')
assert_ge "$files_made" 9 "files made for ~10 MB with -C 1 (the summary)"
mergecap -w ring-merged.pcapng ring.pcapng0 ring.pcapng1 ring.pcapng2 || fail "mergecap failed"
assert_standalone ring-merged.pcapng
"$PY" "$E2E_DIR/follow.py" match ring-merged.pcapng --server-port "$P" --expect ring --with-syn ||
	fail "connections whose handshake is in the kept files are not byte-exact"
ok "connections begun in the kept files byte-exact"

# ---- -G 1: strftime names, one file per second; a slow connection runs through them
run_slow 'g-%Y%m%d-%H%M%S.pcapng' -G 1
ls g-*.pcapng >g.list
log "time files: $(tr '\n' ' ' <g.list)"
assert_ge "$(grep -cE '^g-[0-9]{8}-[0-9]{6}\.pcapng$' g.list)" 3 "files named by -G 1 in ~3.5 s"
continued=0
while read -r f; do
	assert_tshark_reads "$f"
	assert_no_expert_warnings "$f" -d "tcp.port==$P,data"
	assert_own_stats "$f"
	n=$(tsh -r "$f" -Y 'frame.comment contains "continues from the previous file"' -T fields -e frame.number | wc -l)
	continued=$((continued + n))
done <g.list
assert_ge "$continued" 2 "files in which the slow connection continues"
mapfile -t gfiles <g.list
mergecap -w g-merged.pcapng "${gfiles[@]}" || fail "mergecap failed"
assert_no_expert_warnings g-merged.pcapng -d "tcp.port==$P,data"
assert_prefix_of_intended g-merged.pcapng "the slow connection, merged from the -G files"

# ---- -G 1 -W 2: a file a second, the older ones removed: the 2 newest stay
run_slow 'gw-%Y%m%d-%H%M%S.pcapng' -G 1 -W 2
ls gw-*.pcapng >gw.list
log "time files kept: $(tr '\n' ' ' <gw.list)"
assert_eq "$(wc -l <gw.list)" 2 "files left by -G 1 -W 2"
files_made=$(grep -oE '[0-9]+ files\)' "$CAPTURE_LOG" | tail -n 1 | grep -oE '^[0-9]+')
assert_ge "$files_made" 4 "files made by -G 1 in ~3.5 s (the summary)"
last=$(grep -oE 'written to gw-[0-9-]+\.pcapng' "$CAPTURE_LOG" | tail -n 1 | sed 's/written to //')
assert_eq "$(tail -n 1 gw.list)" "$last" "the newest file kept (the summary's last)"
while read -r f; do
	assert_tshark_reads "$f"
	assert_no_expert_warnings "$f" -d "tcp.port==$P,data"
	assert_own_stats "$f"
done <gw.list
log "PASS"
