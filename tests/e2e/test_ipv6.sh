#!/usr/bin/env bash
# IPv6 on ::1: python3 client/server (byte-exact both ways) and curl -> nginx [::1]:PORT;
# the synthetic streams are IPv6 and the comments name [::1].
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
need_ipv6
tls_server_port
pick_port
NP=$PORT
start_nginx "[::1]:$NP"
head -c 1000000 /dev/urandom >"$NGINX_ROOT/big.bin"

start_capture out.pcapng

start_py_server 8 60 --host ::1 --mode echo
"$PY" "$E2E_DIR/tls_peer.py" client --host ::1 --port "$P" --cafile "$CERT" --out cli \
	--count 8 --concurrency 4 --seed 6 --max-size 300000 >client.log 2>&1 ||
	{ cat client.log >&2; fail "tls_peer client over ::1 failed"; }
wait_pid_exit "$SRV" 20 || fail "server did not finish"
curl -sS --http1.1 -g --cacert "$CERT" --max-time 30 -o big.bin "https://[::1]:$NP/big.bin" 2>curl.err &
CURL=$!
wait "$CURL" || fail "curl over ::1 failed: $(cat curl.err)"
sleep 0.5
stop_capture

F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data" # random binary payload
"$PY" "$E2E_DIR/follow.py" match "$F" --server-port "$P" --expect cli --min-streams 8 ||
	fail "python connections over ::1 not byte-exact"
ok "8 python connections over ::1 byte-exact"
"$PY" "$E2E_DIR/follow.py" streams "$F" >streams.json
n4=$("$PY" -c '
import json,sys
bad=[e for e in map(json.loads, open(sys.argv[1])) if e["real_server_port"] in (int(sys.argv[2]), int(sys.argv[3])) and not e.get("ipv6")]
print(len(bad))' streams.json "$P" "$NP")
assert_eq "$n4" 0 "streams of the ::1 connections written as IPv4"
s=$(streams_with_key "$F" PID "$CURL" | head -n 1)
[ -n "$s" ] || fail "no stream with curl's PID $CURL"
c=$(stream_comment "$F" "$s")
assert_contains "$c" "::1" "comment of the curl stream"
mkdir objs
tsh -r "$F" -q --export-objects "http,objs" >/dev/null || fail "export-objects failed"
same=0
for o in objs/*; do cmp -s "$o" "$NGINX_ROOT/big.bin" && same=1; done
assert_eq "$same" 1 "1 MB download over ::1 reassembled byte for byte"
log "PASS"
