#!/usr/bin/env bash
# Go programs as Debian ships them (stripped, cgo, go1.19.8, -trimpath): caddy serving
# HTTPS to curl (HTTP/1.1 and HTTP/2), and etcd with etcdctl speaking gRPC over TLS.
# Found by their executables, captured like our own Go peers: bodies byte-exact, etcdctl
# put's gRPC message (as tshark dissects it) byte-exact, the value in get's answer, PIDs
# and the Go library in the comments, no bytes lost, no expert warnings.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
source "$(dirname "$0")/lib_go.sh"
e2e_init
need_tools caddy:caddy etcd:etcd-server etcdctl:etcd-client
CADDY=$(readlink -f "$(command -v caddy)")
ETCD=$(readlink -f "$(command -v etcd)")
ETCDCTL=$(readlink -f "$(command -v etcdctl)")
for b in "$CADDY" "$ETCD" "$ETCDCTL"; do
	grep -q ' .symtab ' <<<"$(readelf -SW "$b")" && fail "$b has a .symtab (expected a stripped Debian build)"
	list=$("$TLSPCAP" --list --lib "$b")
	assert_contains "$list" "library:    Go crypto/tls go1." "--list --lib $b"
done

e2e_cert
pick_port
CP=$PORT
pick_port
EP=$PORT
pick_port
PP=$PORT
mkdir -p www caddy-data
head -c 2000000 /dev/urandom >www/big.bin
cat >Caddyfile <<CADDY
{
	admin off
	auto_https off
	storage file_system $E2E_TMP/caddy-data
}
https://127.0.0.1:$CP {
	tls $CERT $KEY
	root * $E2E_TMP/www
	file_server
}
CADDY
VALUE=$(head -c 6000 /dev/urandom | od -An -tx1 | tr -d ' \n')

# etcdctl connects at once: probed from the start; the servers when they exec
start_capture out.pcapng -v --lib "$ETCDCTL"
XDG_CONFIG_HOME=$E2E_TMP XDG_DATA_HOME=$E2E_TMP bg caddy.log "$CADDY" run --config Caddyfile --adapter caddyfile
CADDY_PID=$BG_PID
wait_probed "$CADDY"
wait_port "$CP" 15
bg etcd.log "$ETCD" --name t1 --data-dir "$E2E_TMP/etcd" \
	--listen-client-urls "https://127.0.0.1:$EP" --advertise-client-urls "https://127.0.0.1:$EP" \
	--cert-file "$CERT" --key-file "$KEY" \
	--listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
	--initial-cluster "t1=http://127.0.0.1:$PP"
ETCD_PID=$BG_PID
wait_probed "$ETCD"
wait_port "$EP" 20

run_fg c1.out c1.err curl -sS --http1.1 --cacert "$CERT" --max-time 30 -o c1.bin "https://127.0.0.1:$CP/big.bin" ||
	fail "curl --http1.1 -> caddy: $(cat c1.err)"
CURL1=$FG_PID
run_fg c2.out c2.err curl -sS --http2 --cacert "$CERT" --max-time 30 -w '%{http_version}' -o c2.bin "https://127.0.0.1:$CP/big.bin" ||
	fail "curl --http2 -> caddy: $(cat c2.err)"
CURL2=$FG_PID
assert_files_equal c1.bin www/big.bin "curl's HTTP/1.1 download from caddy (no capture involved)"
assert_files_equal c2.bin www/big.bin "curl's HTTP/2 download from caddy (no capture involved)"
assert_eq "$(cat c2.out)" 2 "HTTP version between curl and caddy"

# env execs etcdctl: $FG_PID is its pid
CTL=(env ETCDCTL_API=3 "$ETCDCTL" --endpoints "https://127.0.0.1:$EP" --cacert "$CERT" --command-timeout 10s)
run_fg put.out put.err "${CTL[@]}" put tlspcap-key "$VALUE" || fail "etcdctl put: $(cat put.err)"
PUT=$FG_PID
run_fg get.out get.err "${CTL[@]}" get tlspcap-key --print-value-only || fail "etcdctl get: $(cat get.err)"
GET=$FG_PID
[ "$(cat get.out)" = "$VALUE" ] || fail "etcdctl get does not return the value put (no capture involved)"
ok "etcdctl get returns the value put"
sleep 0.5
stop_capture

F=out.pcapng
assert_tshark_reads "$F"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
assert_pid_view "$F" "$CADDY_PID" server "^Go crypto/tls go1\\.[0-9.]+ \\($CADDY\\)$"
# etcd's gRPC gateway is also a TLS client of its own client port
assert_pid_view "$F" "$ETCD_PID" "client server" "^Go crypto/tls go1\\.[0-9.]+ \\($ETCD\\)$"
assert_pid_view "$F" "$PUT" client "^Go crypto/tls go1\\.[0-9.]+ \\($ETCDCTL\\)$"
assert_pid_view "$F" "$GET" client "^Go crypto/tls go1\\.[0-9.]+ \\($ETCDCTL\\)$"
assert_one_stream_per_connection "$F" "$CP" "$EP"

# caddy: the file from the HTTP/1.1 response and from the HTTP/2 DATA frames
export_objects "$F" objects
assert_object_exported objects www/big.bin "caddy -> curl over HTTP/1.1"
s=$(streams_with_key "$F" PID "$CURL2" | head -n 1)
[ -n "$s" ] || fail "no stream of curl --http2 (pid $CURL2)"
"$PY" "$E2E_DIR/follow.py" h2data "$F" "$s" h2 >/dev/null || fail "h2data of stream $s"
same=0
for o in h2/h2-*; do cmp -s "$o" www/big.bin && same=1; done
assert_eq "$same" 1 "caddy -> curl over HTTP/2: big.bin from the DATA frames of stream $s"
# etcd: etcdctl put's request as tshark dissects it, one gRPC message to KV/Put whose
# PutRequest is {1: key, 2: value} byte for byte; the value in etcd's answer (get)
s=$(streams_with_key "$F" PID "$PUT" | head -n 1)
lport=$(stream_comment "$F" "$s" | grep -oE '^Local: 127\.0\.0\.1:[0-9]+' | grep -oE '[0-9]+$' | head -n 1)
[ -n "$lport" ] || fail "no Local: line in the comment of etcdctl put's stream $s"
c2s="tcp.stream==$s && tcp.srcport==$lport"
assert_contains "$(tsh -r "$F" -d "tcp.port==$EP,http2" -Y "$c2s" -T fields -e http2.header.value)" "POST,https,/etcdserverpb.KV/Put," \
	"etcdctl put's HTTP/2 request headers (stream $s)"
tsh -r "$F" -d "tcp.port==$EP,http2" -Y "$c2s && grpc" -T fields -e grpc.message_length -e protobuf.field.number -e grpc.message_data >put.grpc
assert_eq "$(wc -l <put.grpc)" 1 "gRPC messages from etcdctl put (stream $s)"
"$PY" - put.grpc tlspcap-key "$VALUE" <<'PY' || fail "etcdctl put's gRPC message is not the PutRequest {key, value}: $(cut -c1-80 put.grpc)"
import sys
def varint(n):
    out = b""
    while True:
        out += bytes([(n & 0x7F) | (0x80 if n >> 7 else 0)])
        n >>= 7
        if not n:
            return out
key, value = (a.encode() for a in sys.argv[2:])
want = b"\x0a" + varint(len(key)) + key + b"\x12" + varint(len(value)) + value
length, fields, data = open(sys.argv[1]).read().rstrip("\n").split("\t")
sys.exit(not (int(length) == len(want) and fields == "1,2" and bytes.fromhex(data) == want))
PY
ok "etcdctl put's gRPC message: $(cut -f1 put.grpc) bytes, protobuf fields $(cut -f2 put.grpc), the key and the 12000-byte value exact (stream $s)"
s=$(streams_with_key "$F" PID "$GET" | head -n 1)
# its DATA frames joined: a gRPC message may span two of them
"$PY" "$E2E_DIR/follow.py" h2data "$F" "$s" get-h2 >/dev/null || fail "h2data of stream $s"
grep -qF "$VALUE" get-h2/h2-* || fail "the value is not in etcd's answer to etcdctl get (stream $s)"
ok "the value in etcd's gRPC answer to etcdctl get (stream $s)"
assert_no_expert_warnings "$F" -d "tcp.port==$CP,http2" -d "tcp.port==$EP,http2"
log "$(grep '^tlspcap: Go calls' "$CAPTURE_LOG" || true)"
log "PASS"
