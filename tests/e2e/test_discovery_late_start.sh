#!/usr/bin/env bash
# Programs started after tlspcap, with a copy of libssl.so.3/libcrypto.so.3 made after
# tlspcap started (a file new to it) and loaded through LD_LIBRARY_PATH: python3 (urllib,
# SSL_*_ex; GET 1 MB and POST 300 kB) and curl (GET 1 MB, after a plain-HTTP request so
# its TLS starts ~0.5 s after exec) are captured byte-exact with the copy's path in
# "Library:". "tlspcap --list" prints the copy (path, OpenSSL, SSL_write/SSL_read, the
# python process) and the system's libraries of every supported kind.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
e2e_cert
start_nginx_downloads

grep -q -- '--list' <<<"$("$TLSPCAP" --help 2>&1)" || fail "tlspcap has no --list option (tlspcap --help does not mention it)"

start_capture out.pcapng

# The copies: new files (new inodes) made after tlspcap started.
LIBDIR=$E2E_TMP/newlib
mkdir "$LIBDIR"
cp "$(readlink -f /usr/lib/x86_64-linux-gnu/libssl.so.3)" "$LIBDIR/libssl.so.3"
cp "$(readlink -f /usr/lib/x86_64-linux-gnu/libcrypto.so.3)" "$LIBDIR/libcrypto.so.3"
NEWSSL=$LIBDIR/libssl.so.3
grep -qF "$NEWSSL" <<<"$(LD_LIBRARY_PATH=$LIBDIR ldd "$(command -v curl)")" || fail "curl would not load $NEWSSL"

write_get_post_client client.py <<'PY'
import os, ssl, sys, time, urllib.request
port, cafile = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
open("py.ready", "w").close()
deadline = time.time() + 30
while not os.path.exists("py.go"):
    if time.time() > deadline:
        sys.exit("no go")
    time.sleep(0.05)
PY
bg client.log env LD_LIBRARY_PATH="$LIBDIR" "$PY" client.py "$HP" "$CERT"
PYPID=$BG_PID
for ((i = 0; i < 200; i++)); do
	[ -f py.ready ] && break
	sleep 0.1
done
[ -f py.ready ] || fail "python client did not start: $(cat client.log)"
grep -qF "$NEWSSL" "/proc/$PYPID/maps" || fail "python (pid $PYPID) did not map $NEWSSL"
ok "python pid $PYPID maps $NEWSSL"

# --list while python holds the copy mapped.
"$TLSPCAP" --list >list.out 2>list.err || fail "tlspcap --list failed ($?): $(head -n 5 list.err)"
log "tlspcap --list: $(head -n 1 list.out)"
b=$(list_block list.out "$NEWSSL")
[ -n "$b" ] || fail "tlspcap --list does not list $NEWSSL: $(grep -E '^/' list.out | tr '\n' ' ')"
assert_contains "$b" "OpenSSL 3" "--list block of the copy"
assert_contains "$b" "SSL_write" "--list block of the copy"
assert_contains "$b" "SSL_read" "--list block of the copy"
assert_contains "$b" "($PYPID)" "--list block of the copy (processes)"
for lib in libssl.so.3:OpenSSL libgnutls.so.30:GnuTLS libnspr4.so:NSS libwolfssl.so.35:wolfSSL \
	libmbedtls.so:mbedTLS android/libssl.so.0:BoringSSL; do
	p=$(grep -E "^/usr/lib/x86_64-linux-gnu/${lib%%:*}" list.out | head -n 1)
	[ -n "$p" ] || fail "tlspcap --list does not list /usr/lib/x86_64-linux-gnu/${lib%%:*}*"
	assert_contains "$(list_block list.out "$p")" "${lib#*:}" "--list block of $p"
done

touch py.go
wait_bounded "$PYPID" 40 || fail "python client failed: $(cat client.log)"
# curl started now: a plain-HTTP request first, then its TLS transfer 0.5 s later.
run_fg curl.out curl.err env LD_LIBRARY_PATH="$LIBDIR" curl -sS --http1.1 --rate 2/s --cacert "$CERT" \
	--max-time 30 -o plain.out "http://127.0.0.1:$BACK/" -o curl-big.bin "https://127.0.0.1:$HP/big.bin" ||
	fail "curl failed: $(cat curl.err)"
CURLPID=$FG_PID
sleep 1
stop_capture

# The peers themselves.
assert_files_equal py-big.bin "$NGINX_ROOT/big.bin" "python's download"
assert_eq "$(cat py-post.out)" "received 300000 bytes" "nginx's answer to python's POST"
assert_files_equal curl-big.bin "$NGINX_ROOT/big.bin" "curl's download"

F=out.pcapng
assert_capture_clean "$F" "$HP"

LIBRE="^OpenSSL 3.*\\($NEWSSL\\)"
assert_pid_view "$F" "$PYPID" client "$LIBRE" 2
for s in $PID_STREAMS; do assert_http_stream "$F" "$s"; done
assert_pid_view "$F" "$CURLPID" client "$LIBRE" 1
assert_http_stream "$F" "${PID_STREAMS% }"
export_objects "$F" objs
assert_object_exported objs "$NGINX_ROOT/big.bin" "1 MB download"
assert_exported_copies objs "$NGINX_ROOT/big.bin" 2 "exported copies of the 1 MB file (python and curl)"
assert_post_body "$F" "$PYPID" post.bin
log "PASS"
