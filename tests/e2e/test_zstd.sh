#!/usr/bin/env bash
# zstd output (FILE ending in .zst, or --compress zstd): tshark reads the .pcapng.zst
# directly and byte-exact; after SIGTERM `zstd -t` passes; after SIGKILL tshark reads every
# packet flushed (within a second), while `zstd -dc` gives a shorter pcapng prefix and
# `zstd -t` fails (the one frame is unfinished); -C 1 with .zst: FILE.zst, FILE1.zst ...,
# each one finished zstd stream, tshark-clean alone, merged byte-exact, also after SIGKILL
# (then the last file only fails zstd -t); -w - with zstd through a FIFO into tshark.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
need_tools zstd:zstd
e2e_init
tls_server_port

zstd_magic() { head -c 4 "$1" | od -An -tx1 | tr -d ' '; }

# assert_merged_exact OUT DIR FILES...: mergecap of FILES is clean and holds the 4
# connections recorded in DIR byte-exact
assert_merged_exact() {
	local out=$1 dir=$2
	shift 2
	mergecap -w "$out" "$@" || fail "mergecap failed"
	assert_no_expert_warnings "$out" -d "tcp.port==$P,data"
	assert_match "$out" "$P" "$dir" 4
}

# zst_files BASE: ZFILES=(BASE.zst BASE1.zst ...) as -C made them
zst_files() {
	local i
	ZFILES=("$1.zst")
	for ((i = 1; i < 100; i++)); do
		[ -e "$1$i.zst" ] || break
		ZFILES+=("$1$i.zst")
	done
	log "files: $(for f in "${ZFILES[@]}"; do printf '%s (%s bytes) ' "$f" "$(stat -c %s "$f")"; done)"
	assert_eq "$(ls "$1"* | wc -l)" "${#ZFILES[@]}" "files of -C 1 with .zst (FILE.zst, FILE1.zst ... and no other name)"
	assert_ge "${#ZFILES[@]}" 3 "files made by -C 1 for ~3.2 MB"
}

# ---- clean stop: a complete zstd stream, read directly by tshark, byte-exact
start_capture out.pcapng.zst
run_py_clients cli 4 2 3 700000,200000
stop_capture
assert_eq "$(zstd_magic out.pcapng.zst)" 28b52ffd "first bytes of out.pcapng.zst (zstd magic)"
zstd -q -t out.pcapng.zst || fail "zstd -t out.pcapng.zst failed"
ok "zstd -t passes"
assert_tshark_reads out.pcapng.zst
assert_no_expert_warnings out.pcapng.zst -d "tcp.port==$P,data"
assert_match out.pcapng.zst "$P" cli 4
plain=$(zstd -q -dc out.pcapng.zst | wc -c)
packed=$(stat -c %s out.pcapng.zst)
log "pcapng $plain bytes, zstd $packed bytes"
assert_contains "$(grep 'bytes written to' "$CAPTURE_LOG")" "$plain bytes written to out.pcapng.zst, $packed bytes after zstd" "summary"
assert_eq "$(stat -c %a out.pcapng.zst)" 600 "mode of out.pcapng.zst"

# ---- SIGTERM mid-transfer (--compress zstd on a name without .zst): a finished stream
rm -rf cli srv progress
start_capture term.pcapng --compress zstd
start_py_server 1 60
start_slow_client
stop_capture TERM
zstd -q -t term.pcapng || fail "zstd -t term.pcapng failed after SIGTERM"
ok "zstd -t passes after SIGTERM"
assert_tshark_reads term.pcapng
assert_prefix_of_intended term.pcapng "stream cut by SIGTERM"
_e2e_stop_pid "$CLI"
_e2e_stop_pid "$SRV"

# ---- SIGKILL mid-transfer: what was flushed is readable
rm -rf cli srv progress expect
start_capture kill.pcapng.zst
start_py_server 1 60
start_slow_client
sleep 1.5 # more than the frame interval
kill -KILL "$CAPTURE_PID"
wait "$CAPTURE_PID" 2>/dev/null || true
CAPTURE_PID=""
log "tlspcap killed after the client sent $(cat progress) bytes; kill.pcapng.zst is $(stat -c %s kill.pcapng.zst) bytes"
# One zstd frame per file (tshark 4.0 misreads several, see README): the killed file ends
# inside it, at its last flush. tshark decompresses it to there.
assert_tshark_reads kill.pcapng.zst
tshark -n -r kill.pcapng.zst -w kill.pcapng 2>/dev/null || fail "tshark could not copy kill.pcapng.zst"
tshark_frames=$(frame_count kill.pcapng.zst)
assert_eq "$(frame_count kill.pcapng)" "$tshark_frames" "frames of the killed capture, copied"
cport=$(basename "$(ls cli/*.c2s.intended)" .c2s.intended)
got=$(stream_bytes kill.pcapng "$(connection_streams kill.pcapng "$cport" "$P" | head -n 1)" client | wc -c)
assert_ge "$got" 200000 "client bytes readable from the zstd file of the killed capture"
assert_prefix_of_intended kill.pcapng "stream of the killed capture"
# zstd itself: the frame is unfinished, so -t fails; -dc writes a prefix of the pcapng
# (whole blocks, the last maybe cut) that stops at or before tshark's end: the tool drops
# what it decoded since its last output buffer when the input ends early.
if zstd -q -t kill.pcapng.zst 2>zstd-t.err; then fail "zstd -t passes on the file of a killed capture"; fi
assert_contains "$(cat zstd-t.err)" "premature end" "zstd -t on the killed capture"
zstd -q -dc kill.pcapng.zst >kill-dc.pcapng 2>/dev/null && fail "zstd -dc exits 0 on the killed capture"
blocks=$("$PY" "$E2E_DIR/pcapng_blocks.py" kill-dc.pcapng) || fail "zstd -dc output is not a pcapng prefix"
log "zstd -dc: $(stat -c %s kill-dc.pcapng) bytes, $blocks; tshark: $tshark_frames frames"
dc_epb=$(awk '{print $4}' <<<"$blocks")
assert_ge "$tshark_frames" "$dc_epb" "tshark's frames of the killed capture, against zstd -dc's"
assert_eq "$(tsh -r kill-dc.pcapng -T fields -e frame.number | wc -l)" "$dc_epb" "frames tshark reads from zstd -dc's prefix"
_e2e_stop_pid "$CLI"
_e2e_stop_pid "$SRV"

# ---- -C 1 with .zst over ~3 MB: r.pcapng.zst, r.pcapng1.zst, ...; each a finished zstd
# stream holding one pcapng that is clean alone; decompressed and merged, byte-exact
start_capture r.pcapng.zst -C 1
run_py_clients rot 4 2 5 500000,300000
stop_capture
zst_files r.pcapng
rfiles=("${ZFILES[@]}")
plain=()
for f in "${rfiles[@]}"; do
	zstd -q -t "$f" || fail "zstd -t $f failed"
	zstd -q -dc "$f" >"${f%.zst}" || fail "zstd -dc $f failed"
	size=$(stat -c %s "${f%.zst}")
	[ "$size" -le 1050000 ] || fail "$f holds $size pcapng bytes: more than -C 1 and a record"
	assert_tshark_reads "$f"
	assert_no_expert_warnings "$f" -d "tcp.port==$P,data"
	plain+=("${f%.zst}")
done
ok "every file passes zstd -t, decompresses and reads clean alone"
assert_merged_exact r-merged.pcapng rot "${plain[@]}"
assert_contains "$(grep 'bytes written to' "$CAPTURE_LOG")" "${#rfiles[@]} files)" "summary names the number of files"

# ---- SIGKILL with -C 1 after the connections ended: the files before the last are
# finished zstd streams (the frame ends at rotation), the last is read by tshark to its
# last flush; together they hold every connection byte-exact
start_capture k.pcapng.zst -C 1
run_py_clients krot 4 2 9 500000,300000
sleep 1 # the connections' ends handled and flushed
kill -KILL "$CAPTURE_PID"
wait "$CAPTURE_PID" 2>/dev/null || true
CAPTURE_PID=""
zst_files k.pcapng
plain=()
for f in "${ZFILES[@]}"; do
	if [ "$f" = "${ZFILES[-1]}" ]; then
		if zstd -q -t "$f" 2>/dev/null; then fail "zstd -t passes on $f, the file being written when killed"; fi
	else
		zstd -q -t "$f" || fail "zstd -t $f failed: a rotated file's frame was not ended"
	fi
	tshark -n -r "$f" -w "${f%.zst}" 2>/dev/null || fail "tshark could not read $f"
	plain+=("${f%.zst}")
done
ok "after SIGKILL, zstd -t passes on the rotated files and fails on the last only"
assert_merged_exact k-merged.pcapng krot "${plain[@]}"

# ---- -w - with zstd through a FIFO, read as it comes by tshark (and kept by tee)
pick_port
HP=$PORT
start_nginx "$HP"
echo "zstd through a pipe" >"$NGINX_ROOT/index.html"
mkfifo zpipe
bg reader.log bash -c 'tee stdout.zst <zpipe | tshark -n -r - -w piped.pcapng'
READER=$BG_PID
CAPTURE_STDOUT=$E2E_TMP/zpipe
start_capture - --compress zstd
curl -sS --http1.1 --cacert "$CERT" --max-time 20 -o body.out "https://127.0.0.1:$HP/index.html?zpipe" || fail "curl failed"
sleep 0.5
stop_capture
wait_pid_exit "$READER" 20 || fail "tshark still reading the FIFO 20 s after the capture ended"
wait "$READER" || { cat reader.log >&2; fail "tee | tshark -r - failed"; }
zstd -q -t stdout.zst || fail "zstd -t of what went through the FIFO failed"
assert_tshark_reads piped.pcapng
assert_ge "$(frame_count piped.pcapng 'http.request.uri contains "zpipe"')" 1 "the request tshark read from the zstd FIFO"
log "PASS"
