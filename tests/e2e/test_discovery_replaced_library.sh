#!/usr/bin/env bash
# A process whose libssl was replaced on disk after it loaded it (maps: "(deleted)", as
# after a package upgrade) is covered through /proc/PID/map_files.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
e2e_cert
pick_port
HP=$PORT
start_nginx "$HP"
head -c 200000 /dev/urandom >"$NGINX_ROOT/blob.bin"

mkdir lib
cp /usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3 lib/
cat >client.py <<'PY'
import gate, ssl, sys, urllib.request
port, cafile = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)  # libssl is mapped from here on
gate.ready_then_wait_for_go()  # the capture starts meanwhile
with urllib.request.urlopen("https://127.0.0.1:%s/blob.bin" % port, context=ctx, timeout=20) as r:
    open("got.bin", "wb").write(r.read())
PY
LD_LIBRARY_PATH=$PWD/lib PYTHONPATH=$E2E_DIR bg client.log "$PY" client.py "$HP" "$CERT"
CLI=$BG_PID
for ((i = 0; i < 100; i++)); do [ -e ready ] && break; sleep 0.1; done
[ -e ready ] || fail "client did not start: $(cat client.log)"
grep -q "$PWD/lib/libssl.so.3" "/proc/$CLI/maps" || fail "the client does not map the copy of libssl"
rm lib/libssl.so.3
grep -q "$PWD/lib/libssl.so.3 (deleted)" "/proc/$CLI/maps" || fail "maps does not show the copy as deleted"
ok "client $CLI maps a deleted libssl"

start_capture out.pcapng -v
grep -q "probing OpenSSL.*map_files\|probing OpenSSL.*libssl.so.3 (deleted)" "$CAPTURE_LOG" ||
	fail "the deleted library was not probed: $(grep probing "$CAPTURE_LOG")"
ok "probed: $(grep -m1 'probing OpenSSL.*deleted\|probing OpenSSL.*map_files' "$CAPTURE_LOG")"
touch go
wait_bounded "$CLI" 30 || fail "client failed: $(cat client.log)"
sleep 0.3
stop_capture

assert_files_equal got.bin "$NGINX_ROOT/blob.bin" "the client's download (no capture involved)"
assert_capture_clean out.pcapng "$HP"
streams=$(streams_with_key out.pcapng PID "$CLI")
[ -n "$streams" ] || fail "no stream with the client's PID $CLI: $(streams_summary out.pcapng)"
s=$(printf '%s\n' "$streams" | head -n 1)
assert_contains "$(stream_comment out.pcapng "$s")" "Role: client" "comment of stream $s"
export_objects out.pcapng objects
assert_object_exported objects "$NGINX_ROOT/blob.bin" "the download in the capture"
log "PASS"
