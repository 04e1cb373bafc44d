#!/usr/bin/env bash
# -Z nobody: once capturing, tlspcap runs as nobody (/proc/PID/status: Uid, Gid, no
# groups, CapEff/CapPrm = CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE, CapBnd empty), its file belongs to nobody with mode 0600, and it still probes a copy of
# libssl made after the drop and loaded by a curl started then (byte-exact download).
# With -C 1, the rotated files are created by nobody too (mode 0600), each readable.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
id nobody >/dev/null 2>&1 || skip "no user nobody"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
e2e_cert
start_nginx_downloads

start_capture out.pcapng -Z nobody
for ((i = 0; i < 50; i++)); do
	grep -q "^Uid:[[:space:]]*$NOBODY_UID[[:space:]]" "/proc/$CAPTURE_PID/status" && break
	sleep 0.1
done
status=$(cat "/proc/$CAPTURE_PID/status")
field() { printf '%s\n' "$status" | awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }'; }
assert_eq "$(field Uid)" "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" "Uid (real, effective, saved, fs)"
assert_eq "$(field Gid)" "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID" "Gid"
assert_eq "$(field Groups)" "" "supplementary groups"
# bits 2 (DAC_READ_SEARCH) and 19 (SYS_PTRACE)
want=$(printf '%016x' $(((1 << 2) | (1 << 19))))
assert_eq "$(field CapEff)" "$want" "CapEff"
assert_eq "$(field CapPrm)" "$want" "CapPrm"
assert_eq "$(field CapBnd)" 0000000000000000 "CapBnd (nothing to gain by an exec)"
assert_eq "$(field CapAmb)" 0000000000000000 "CapAmb"
assert_eq "$(stat -c '%U %a' out.pcapng)" "nobody 600" "owner and mode of the output file"

# A library file new to tlspcap, loaded by a process started after the drop.
LIBDIR=$E2E_TMP/newlib
mkdir "$LIBDIR"
chmod 700 "$LIBDIR" # only root may look inside: probing it needs CAP_DAC_READ_SEARCH
cp "$(readlink -f /usr/lib/x86_64-linux-gnu/libssl.so.3)" "$LIBDIR/libssl.so.3"
cp "$(readlink -f /usr/lib/x86_64-linux-gnu/libcrypto.so.3)" "$LIBDIR/libcrypto.so.3"
NEWSSL=$LIBDIR/libssl.so.3
# a plain-HTTP request first: curl's TLS starts ~0.5 s after exec, once the copy is probed
run_fg curl.out curl.err env LD_LIBRARY_PATH="$LIBDIR" curl -sS --http1.1 --rate 2/s --cacert "$CERT" \
	--max-time 30 -o plain.out "http://127.0.0.1:$BACK/" -o curl-big.bin "https://127.0.0.1:$HP/big.bin" ||
	fail "curl failed: $(cat curl.err)"
CURLPID=$FG_PID
sleep 1
_e2e_alive "$CAPTURE_PID" || fail "tlspcap died after dropping privileges: $(tail -n 5 "$CAPTURE_LOG")"
stop_capture
grep -iE 'denied|not permitted|failed' "$CAPTURE_LOG" && fail "tlspcap reported a failure as nobody"

assert_files_equal curl-big.bin "$NGINX_ROOT/big.bin" "curl's download"
F=out.pcapng
assert_eq "$(stat -c '%U %a' "$F")" "nobody 600" "owner and mode of the finished file"
assert_capture_clean "$F" "$HP"
assert_pid_view "$F" "$CURLPID" client "^OpenSSL 3.*\\($NEWSSL\\)" 1
export_objects "$F" objs
assert_object_exported objs "$NGINX_ROOT/big.bin" "curl's download, through the library probed as nobody"

# Rotation after the drop: new files are nobody's, in a directory nobody may write.
mkdir rot
chown nobody rot
head -c 3000000 /dev/urandom >"$NGINX_ROOT/three.bin"
start_capture rot/r.pcapng -Z nobody -C 1
curl -sS --http1.1 --cacert "$CERT" --max-time 30 -o three.bin "https://127.0.0.1:$HP/three.bin" 2>curl.err ||
	fail "curl failed: $(cat curl.err)"
sleep 0.5
stop_capture
assert_files_equal three.bin "$NGINX_ROOT/three.bin" "curl's 3 MB download"
n=0
for f in rot/r.pcapng*; do
	assert_eq "$(stat -c '%U %a' "$f")" "nobody 600" "owner and mode of $f"
	tsh -r "$f" >/dev/null || fail "tshark cannot read $f"
	n=$((n + 1))
done
assert_ge "$n" 3 "files written with -C 1 as nobody"
log "PASS"
