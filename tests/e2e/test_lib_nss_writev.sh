#!/usr/bin/env bash
# NSS 3.87 / NSPR with PR_Writev: samples/nss_writev_client.c sends "POST /echo" to nginx
# (OpenSSL) with one PR_Writev of three vectors (headers, first and second half of the
# body) and reads the answer with PR_Read. Two clients per capture: a 300000-byte body
# (many TLS records) and a 101-byte one (NSS coalesces the small vectors into one record).
# Two captures:
#   all.pcapng     everything: each connection is one stream with both ends (the client
#                  and the nginx worker) in its comments;
#   client.pcapng  --comm nss_writev_clie: only the NSS side, so the client->server bytes
#                  can only come from PR_Writev and the server->client bytes from PR_Read.
# Judged in both: each client has exactly one stream, Role client, "Library: NSS 3...";
# HTTP dissected; client->server bytes exactly the request (headers + body, once),
# server->client bytes exactly what PR_Read returned (TLS_PEER_RECORD); the POST bodies
# exported byte-exact; no expert warnings, 0 bytes lost.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
need_tools certutil:libnss3-tools
BIN=$SAMPLES_OUT/nss_writev_client
[ -x "$BIN" ] || fail "sample $BIN not built: run 'make samples'"
e2e_cert
LIBRE='^NSS 3\.'
COMM=nss_writev_clie # the command name: 15 characters

# Client db: the self-signed certificate trusted (as for tstclnt in test_lib_nss.sh).
mkdir cdb
{
	certutil -N -d sql:cdb --empty-password &&
		certutil -A -d sql:cdb -n localhost-ca -t CT,C,C -i "$CERT"
} >nssdb.log 2>&1 || fail "making the NSS database failed: $(tail -n 5 nssdb.log)"
ok "NSS database made"

pick_port
HP=$PORT
start_nginx "$HP"
SIZES=(300000 101)
for n in "${SIZES[@]}"; do
	pattern_file "body$n.bin" "$n" 0x5a # the sample's body: tls_peer_pattern(i, 0x5a)
	{
		printf 'POST /echo HTTP/1.1\r\nHost: localhost:%s\r\nUser-Agent: nss_writev_client\r\n' "$HP"
		printf 'Content-Type: application/octet-stream\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' "$n"
		cat "body$n.bin"
	} >"req$n.bin"
done

# run_clients NAME: one client per size, plaintext recorded in NAME-rec/; pids in CLIS.
run_clients() {
	local name=$1 n
	CLIS=()
	mkdir "$name-rec"
	for n in "${SIZES[@]}"; do
		run_fg "$name-resp$n.txt" "$name-cli$n.err" env TLS_PEER_RECORD="$name-rec" "$BIN" sql:cdb localhost "$HP" "$n" ||
			fail "$name: nss_writev_client $n failed: $(tail -n 5 "$name-cli$n.err")"
		CLIS+=("$FG_PID")
	done
	sleep 1 # let nginx finish its side of the closes
}

# judge NAME F: the checks of the header, for the clients of run_clients NAME.
judge() {
	local name=$1 f=$2 i=0 n pid s cport
	# The peers themselves (no capture involved).
	for n in "${SIZES[@]}"; do
		assert_eq "$(cat "$name-resp$n.txt")" "received $n bytes" "$name: nginx's answer to the $n-byte POST"
		assert_contains "$(cat "$name-cli$n.err")" "request written with 1 PR_Writev call" "$name: client $n's log"
	done
	assert_eq "$(find "$name-rec" -name '*.c2s' | wc -l)" "${#SIZES[@]}" "$name: connections recorded by the clients"

	assert_capture_clean "$f" "$HP"
	for pid in "${CLIS[@]}"; do
		n=${SIZES[$i]}
		i=$((i + 1))
		assert_pid_view "$f" "$pid" client "$LIBRE" 1
		s=${PID_STREAMS% }
		assert_eq "$(streams_with_key "$f" PID "$pid" | tr '\n' ' ')" "$s " "$name: streams with 'PID: $pid' (any library)"
		assert_eq "$(pid_field "$f" "$pid" Cmd | cut -f2)" "$COMM" "$name: Cmd of pid $pid"
		assert_http_stream "$f" "$s"
		assert_eq "$(tfields "$f" "tcp.stream==$s && http.request" http.request.method http.request.uri)" \
			"POST	/echo" "$name: HTTP request of stream $s"
		# Exactly what PR_Writev sent: headers and both halves of the body, once...
		stream_bytes "$f" "$s" client >"$name-s$n-c2s.bin"
		assert_files_equal "$name-s$n-c2s.bin" "req$n.bin" "$name: client $n: client->server bytes of stream $s (the request, once)"
		tail -c "$n" "$name-s$n-c2s.bin" >"$name-s$n-body.bin"
		assert_files_equal "$name-s$n-body.bin" "body$n.bin" "$name: client $n: POST body at the end of stream $s"
		# ... and what PR_Read returned.
		cport=$(basename "$(grep -lF "Content-Length: $n"$'\r' "$name"-rec/*.c2s)" .c2s)
		stream_bytes "$f" "$s" server >"$name-s$n-s2c.bin"
		assert_files_equal "$name-s$n-s2c.bin" "$name-rec/$cport.s2c" "$name: client $n: server->client bytes of stream $s (the response, once)"
	done
	# Every connection to nginx, both directions, byte for byte.
	assert_match "$f" "$HP" "$name-rec" "${#SIZES[@]}"
	export_objects "$f" "$name-objs"
	for n in "${SIZES[@]}"; do
		assert_object_exported "$name-objs" "body$n.bin" "$name: POST body ($n bytes)"
	done
}

# 1: everything traced.
start_capture all.pcapng
run_clients all
stop_capture
judge all all.pcapng
w_found=""
for w in $(nginx_worker_pids); do
	[ -n "$(pid_field all.pcapng "$w" Library)" ] && w_found=$w
done
[ -n "$w_found" ] || fail "no stream with the nginx worker's PID ($(nginx_worker_pids | tr '\n' ' '))"
assert_pid_view all.pcapng "$w_found" server '^OpenSSL 3' "${#SIZES[@]}"

# 2: only the NSS client traced: its PR_Writev and PR_Read are the only source.
start_capture client.pcapng --comm "$COMM"
run_clients client
stop_capture
judge client client.pcapng
cmds=$("$PY" "$E2E_DIR/follow.py" streams client.pcapng | "$PY" -c '
import json, sys
for l in sys.stdin:
    for c in json.loads(l)["comments"]: print(c.get("Cmd"))' | sort -u)
assert_eq "$cmds" "$COMM" "Cmd: values with --comm $COMM"
log "PASS"
