#!/usr/bin/env bash
# Output faults: a symlink planted in a sticky world-writable directory is not followed
# (first file, rotated file, compressed file: exit non-zero, the target untouched); a full
# disk stops the capture with a clear error, exit 1, the file readable by tshark up to its
# last complete block and the summary saying how much was not written; -w - with rotation
# and -W alone are refused with exit 2.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
tls_server_port

# ---- usage errors: exit 2 with a message
refused() { # WHAT EXPECTED_TEXT ARGS...
	local what=$1 want=$2 rc=0
	shift 2
	"$TLSPCAP" "$@" >refused.out 2>refused.err </dev/null || rc=$?
	assert_eq "$rc" 2 "exit status of tlspcap $*"
	assert_contains "$(cat refused.err)" "$want" "message for $what"
}
refused "-w - with -C" "-w FILE, not -w -" -w - -C 1
refused "-w - with -G" "-w FILE, not -w -" -w - -G 10
refused "-W alone" "-W needs -C or -G" -w x.pcapng -W 3
refused "--compress lz4" "only zstd" -w x.pcapng --compress lz4
refused "-C 0" "out of range" -w x.pcapng -C 0

# ---- a symlink planted by another user in a sticky world-writable directory
STICKY=$E2E_TMP/sticky
mkdir -m 1777 "$STICKY"
echo precious >victim
for name in out.pcapng out.pcapng.zst; do
	ln -s "$E2E_TMP/victim" "$STICKY/$name"
	chown -h nobody:nogroup "$STICKY/$name"
	refused "-w $name planted as a symlink" "symbolic link" -w "$STICKY/$name"
done
assert_eq "$(cat victim)" precious "content of the symlink target"

# ...and the name a rotation will use next
ln -s "$E2E_TMP/victim" "$STICKY/rot.pcapng1"
chown -h nobody:nogroup "$STICKY/rot.pcapng1"
start_capture "$STICKY/rot.pcapng" -C 1
start_py_server 3 60
bg client.log "$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out cli \
	--count 3 --concurrency 1 --seed 5 --sizes 600000,100000
wait_pid_exit "$CAPTURE_PID" 30 || fail "tlspcap did not stop at the planted rotation name"
rc=0
wait "$CAPTURE_PID" || rc=$?
CAPTURE_PID=""
assert_ne "$rc" 0 "exit status after refusing the rotated file"
assert_contains "$(cat "$CAPTURE_LOG")" "rot.pcapng1: a symbolic link" "error message"
assert_eq "$(cat victim)" precious "content of the symlink target after the rotation"
assert_tshark_reads "$STICKY/rot.pcapng"
wait_pid_exit "$BG_PID" 30 || true
wait_pid_exit "$SRV" 20 || true

# ---- disk full in the middle of a capture: a 2 MB tmpfs, ~4 MB of traffic
SMALL=$E2E_TMP/small
mkdir "$SMALL"
mount -t tmpfs -o size=2m tlspcap-e2e "$SMALL" || skip "cannot mount a tmpfs"
rm -rf cli srv
start_capture "$SMALL/out.pcapng"
start_py_server 4 60
bg client.log "$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out cli \
	--count 4 --concurrency 2 --seed 9 --sizes 700000,300000
if ! wait_pid_exit "$CAPTURE_PID" 40; then
	umount -l "$SMALL"
	fail "tlspcap still running 40 s after the disk filled"
fi
rc=0
wait "$CAPTURE_PID" || rc=$?
CAPTURE_PID=""
cp "$SMALL/out.pcapng" full.pcapng
umount "$SMALL" || umount -l "$SMALL"
assert_eq "$rc" 1 "exit status when the disk is full"
assert_contains "$(cat "$CAPTURE_LOG")" "No space left on device" "error message"
notw=$(grep -oE '[0-9]+ bytes NOT written' "$CAPTURE_LOG" | grep -oE '^[0-9]+' || true)
assert_ge "${notw:-0}" 1 "bytes the summary reports as not written"
assert_eq "$(grep -oE '[0-9]+ bytes written to' "$CAPTURE_LOG" | grep -oE '^[0-9]+')" "$(stat -c %s full.pcapng)" "bytes written (summary) = file size"
assert_tshark_reads full.pcapng # exit 0: the file ends on a block boundary
assert_ge "$(frame_count full.pcapng 'tcp.len>0')" 10 "data frames before the disk filled"
log "PASS"
