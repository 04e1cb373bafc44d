#!/usr/bin/env bash
# Clients that see another file system than tlspcap, started after it:
#  1. curl in a minimal chroot (curl, its ldd libraries and ld.so copied in: its libssl
#     is a file tlspcap never saw at its own path): captured byte-exact, and the
#     comment names the process's view ("Root: <chroot dir>", or the library under it);
#  2. python3 in a private mount namespace (unshare -m) where a copy of libssl.so.3 is
#     bind-mounted over /usr/lib/x86_64-linux-gnu/libssl.so.3: the path is the usual
#     one but the file (inode) is not the host's; captured byte-exact (GET and POST).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
need_tools chroot:coreutils unshare:util-linux mount:mount ldd:libc-bin
e2e_cert
start_nginx_downloads
echo "hello from nginx" >"$NGINX_ROOT/index.html"
SYSSSL=/usr/lib/x86_64-linux-gnu/libssl.so.3

# The chroot: curl and everything ldd says it loads, at the same paths.
ROOT=$E2E_TMP/root
CURL=$(readlink -f "$(command -v curl)")
mkdir -p "$ROOT/usr/bin" "$ROOT/tmp"
cp "$CURL" "$ROOT/usr/bin/curl"
for f in $(ldd "$CURL" | grep -oE '/[^ ]+' | sort -u); do
	mkdir -p "$ROOT$(dirname "$f")"
	cp -L "$f" "$ROOT$f"
done
# /lib64 and /lib are symlinks into /usr on Debian 12: keep that layout.
for l in lib lib64; do
	if [ -L "/$l" ] && [ -d "$ROOT/$l" ] && [ ! -L "$ROOT/$l" ]; then
		mkdir -p "$ROOT/usr/$l"
		cp -a "$ROOT/$l/." "$ROOT/usr/$l/"
		rm -rf "${ROOT:?}/$l"
		ln -s "usr/$l" "$ROOT/$l"
	fi
done
cp "$CERT" "$ROOT/ca.pem"
chroot "$ROOT" /usr/bin/curl --version >chroot-curl.log 2>&1 || fail "curl does not run in the chroot: $(head -n 3 chroot-curl.log)"
CHSSL=$(find "$ROOT" -name 'libssl.so.3' | head -n 1)
[ -n "$CHSSL" ] || fail "no libssl.so.3 in the chroot"
ok "chroot $ROOT: curl runs, libssl at ${CHSSL#"$ROOT"}"

# The private mount namespace's libssl copy.
cp "$SYSSSL" "$E2E_TMP/libssl-copy.so.3"
write_get_post_client client.py <<'PY'
import os, ssl, sys, time, urllib.request
port, cafile = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
time.sleep(0.5)  # tlspcap looks at a new process's mappings shortly after exec
PY

start_capture out.pcapng

# 1: chroot curl; a plain-HTTP request first, so its TLS starts 0.5 s after exec.
run_fg curl.out curl.err chroot "$ROOT" /usr/bin/curl -sS --http1.1 --rate 2/s --cacert /ca.pem --max-time 30 \
	-o /tmp/plain.out "http://127.0.0.1:$BACK/" \
	-o /tmp/big.bin "https://127.0.0.1:$HP/big.bin" -o /tmp/index.html "https://127.0.0.1:$HP/index.html" ||
	fail "curl in the chroot failed: $(cat curl.err)"
CURLPID=$FG_PID # chroot execs curl: same pid

# 2: python with the bind-mounted copy (private propagation: the host does not see it).
run_fg py.out py.err unshare -m --propagation private sh -c \
	'mount --bind "$1" "$2" && exec "$3" client.py "$4" "$5"' sh \
	"$E2E_TMP/libssl-copy.so.3" "$SYSSSL" "$PY" "$HP" "$CERT" ||
	fail "python in the mount namespace failed: $(cat py.err)"
PYPID=$FG_PID # unshare and sh exec: same pid
sleep 1
stop_capture

# The peers themselves; the host's libssl untouched.
assert_files_equal "$ROOT/tmp/big.bin" "$NGINX_ROOT/big.bin" "chroot curl's download"
assert_eq "$(cat "$ROOT/tmp/index.html")" "hello from nginx" "chroot curl's second request"
assert_files_equal py-big.bin "$NGINX_ROOT/big.bin" "python's download"
assert_eq "$(cat py-post.out)" "received 300000 bytes" "nginx's answer to python's POST"
assert_ne "$(stat -c %i "$SYSSSL")" "$(stat -c %i "$E2E_TMP/libssl-copy.so.3")" "inode of the copy"
mountpoint -q "$SYSSSL" && fail "the bind mount leaked into the host's namespace"
ok "the host's $SYSSSL is not a mount point"

F=out.pcapng
assert_capture_clean "$F" "$HP"

# 1: chroot curl
assert_pid_view "$F" "$CURLPID" client '^OpenSSL 3' 1
S=${PID_STREAMS% }
assert_http_stream "$F" "$S"
c=$(stream_comment "$F" "$S")
log "comment of the chroot curl's stream $S:"$'\n'"$c"
assert_contains "$c" "Cmd: curl" "comment of the chroot curl"
case $c in
*"Root: $ROOT"*) ok "comment names the chroot: 'Root: $ROOT'" ;;
*"Library: "*"($ROOT/"*) ok "comment names the library inside the chroot" ;;
*) fail "the comment of pid $CURLPID names neither 'Root: $ROOT' nor a library under $ROOT" ;;
esac
# 2: python in the mount namespace
assert_pid_view "$F" "$PYPID" client '^OpenSSL 3.*libssl\.so\.3' 2
for s in $PID_STREAMS; do assert_http_stream "$F" "$s"; done

export_objects "$F" objs
assert_exported_copies objs "$NGINX_ROOT/big.bin" 2 "exported copies of the 1 MB file (chroot curl and python)"
assert_object_exported objs "$NGINX_ROOT/index.html" "chroot curl's second request"
assert_post_body "$F" "$PYPID" post.bin
log "PASS"
