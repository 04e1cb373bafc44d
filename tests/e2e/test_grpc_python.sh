#!/usr/bin/env bash
# gRPC from Debian's python3-grpcio (gRPC core: its TSI layer drives the system
# libssl.so.3 through a memory BIO pair): grpc_peer.py client -> server over TLS on one
# channel, unary Echo and a bidirectional Chat stream, messages of 1 B, 16 KiB and 1 MiB
# each way, then a Login whose JSON request (with a password) and answer are
# gzip-compressed; metadata with distinct random secrets (authorization: Bearer,
# x-api-key, x-session-token; the server's x-session-token and trailing x-auth-token)
# and a non-secret x-request-id on every call.
# 1. tlspcap -w plain.pcapng: one stream with both PIDs, tshark dissects every gRPC
#    message byte-exact (grpc.message_length and grpc.message_data) against the client's,
#    the whole stream byte-exact against what each end's SSL_write took
#    (ssl_record_preload.so, no BPF) with bytes sent = in the file + counted lost (0), no
#    expert warning.
# 2. tlspcap --redact -w red.pcapng: no secret in the file's bytes nor in tshark's HPACK
#    decoding, every secret header's value the same-length marker, the x-request-ids and
#    every uncompressed message byte-exact, the compressed ones masked whole (fail
#    closed: their fields cannot be read) behind their kept 5-byte prefix, each direction
#    as long as its writer's record, no expert warning but tshark's "Body decompression
#    failed" for those two, the Redacted: counts.
# gRPC core 1.51 sends metadata it does not know as literals without indexing, on every
# call (the table reps are asserted): unlike curl/nginx (test_redact_http2) nothing is
# referred to by index, so each call's literal is rewritten on its own.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
"$PY" -c 'import grpc' 2>/dev/null || fail "python3 cannot import grpc: install python3-grpcio (scripts/setup.sh)"
PRELOAD=$SAMPLES_OUT/ssl_record_preload.so
[ -f "$PRELOAD" ] || fail "$PRELOAD not built: run 'make samples'"
PEER=$E2E_DIR/grpc_peer.py
e2e_cert
log "grpcio $("$PY" -c 'import grpc; print(grpc.__version__)')"

# distinct random secrets of 25 characters, in secrets.json for the peers and in S here
"$PY" -c '
import json, os
json.dump({n: "S" + os.urandom(12).hex() for n in
           ("bearer", "api_key", "session", "server_session", "server_token",
            "json_password")},
          open("secrets.json", "w"))'
declare -A S
while IFS=$'\t' read -r n v; do S[$n]=$v; done < <("$PY" -c '
import json
for n, v in json.load(open("secrets.json")).items():
    print(n + "\t" + v)')
assert_eq "${#S[@]}" 6 "secrets"
D=(--disable-protocol protobuf) # the messages are raw bytes, not protobuf

# run_calls DIR: the server, then the client, each one's TLS plaintext recorded in
# DIR/client.w and .r, DIR/server.w and .r; $SRV_PID, $CLI_PID; the server stopped
# after the client. What a peer sent is its own record of SSL_write: the server may
# write after the client stopped reading (its GOAWAY).
run_calls() {
	local dir=$1 who
	mkdir -p "$dir"
	pick_port
	P=$PORT
	bg "$dir/server.log" env SSL_RECORD="$dir/server" LD_PRELOAD="$PRELOAD" \
		"$PY" "$PEER" server "$P" "$CERT" "$KEY" secrets.json
	SRV_PID=$BG_PID
	wait_port "$P" 15
	run_fg "$dir/client.out" "$dir/client.err" env SSL_RECORD="$dir/client" LD_PRELOAD="$PRELOAD" \
		"$PY" "$PEER" client "$P" "$CERT" secrets.json "$dir" ||
		fail "grpc client: $(cat "$dir/client.err")"
	CLI_PID=$FG_PID
	log "client $CLI_PID -> server $SRV_PID on 127.0.0.1:$P: $(cat "$dir/client.out")"
	kill -TERM "$SRV_PID"
	wait_bounded "$SRV_PID" 10 || fail "grpc server: exit status $? after SIGTERM: $(tail -n 5 "$dir/server.log")"
	for who in client server; do
		[ -s "$dir/$who.w" ] || fail "no SSL_write record of the $who"
		[ -s "$dir/$who.r" ] || fail "no SSL_read record of the $who"
	done
	# no capture involved: what one end read, the other wrote
	assert_files_equal "$dir/client.w" "$dir/server.r" "client's SSL_write and server's SSL_read"
	head -c "$(stat -c %s "$dir/client.r")" "$dir/server.w" | cmp -s - "$dir/client.r" ||
		fail "the client read what the server did not write"
	ok "the client read $(stat -c %s "$dir/client.r") of the $(stat -c %s "$dir/server.w") bytes the server wrote"
}

# one_stream F: the stream of the run, with both PIDs and their roles; sets $ST, $CPORT
one_stream() {
	local f=$1 c s
	c=$(streams_with_key "$f" PID "$CLI_PID" | tr '\n' ' ')
	s=$(streams_with_key "$f" PID "$SRV_PID" | tr '\n' ' ')
	assert_eq "$c" "$s" "streams of the client ($CLI_PID) and of the server ($SRV_PID)"
	assert_eq "$(wc -w <<<"$c")" 1 "streams of the connection"
	ST=${c% }
	assert_pid_view "$f" "$CLI_PID" client '^OpenSSL 3.*libssl\.so\.3'
	assert_pid_view "$f" "$SRV_PID" server '^OpenSSL 3.*libssl\.so\.3'
	CPORT=$(pid_field "$f" "$CLI_PID" Local | cut -f2)
	CPORT=${CPORT##*:}
}

# headers F http2.header.repr|value: "name<TAB>repr|value" per header field of the stream
headers() { h2_header_fields "$1" "$2" "${D[@]}" -Y "http2 && tcp.stream == $ST"; }

# request_ids DIR F: the x-request-ids of F equal to the client's, in order
assert_request_ids() {
	local want got
	want=$("$PY" -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["request_ids"]))' "$1/manifest.json")
	got=$(headers "$2" http2.header.value | grep $'^x-request-id\t' | cut -f2 | tr '\n' ' ')
	assert_eq "$got" "$want " "x-request-id values in $(basename "$2") (the client's)"
}

# ------------------------------------------------------------ 1. plain
start_capture plain.pcapng
run_calls run1
stop_capture
F=plain.pcapng
assert_tshark_reads "$F"
one_stream "$F"
out=$("$PY" "$PEER" judge "$F" "$ST" run1) || fail "gRPC messages of $F"
ok "plain: $out (grpc.message_length and grpc.message_data, both directions)"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
tsh -r "$F" "${D[@]}" -Y grpc -T fields -e grpc.message_data | grep -q "$(hex "${S[json_password]}")" ||
	fail "the JSON password is not in tshark's decompressed Login request"
ok "the JSON password is in tshark's decompressed Login request"
mkdir -p exp1
cp run1/client.w "exp1/$CPORT.c2s"
cp run1/server.w "exp1/$CPORT.s2c"
assert_match "$F" "$P" exp1 1
assert_no_expert_warnings "$F" "${D[@]}"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
assert_eq "$(capture_stat unattributed)" 0 "unattributed connections (summary)"
# the secrets are there to find: the check of run 2 can fail (the JSON password is
# compressed: found above)
for n in "${!S[@]}"; do
	[ "$n" = json_password ] && continue
	grep -q -a -F -e "${S[$n]}" "$F" || fail "secret $n is not in the unredacted capture"
done
ok "every metadata secret is in the raw bytes of the unredacted capture"
headers "$F" http2.header.repr >reprs1.txt
# 5 calls; x-session-token: the client's and the server's
for hn in authorization:5 x-api-key:5 x-session-token:10 x-request-id:5 x-auth-token:5; do
	assert_eq "$(grep -c "^${hn%:*}"$'\tLiteral Header Field without Indexing' reprs1.txt)" "${hn#*:}" \
		"${hn%:*} sent as a literal without indexing"
done
assert_ge "$(grep -c $'^:path\tIndexed Header Field' reprs1.txt)" 1 ":path referred to by index"
assert_request_ids run1 "$F"

# ------------------------------------------------------------ 2. --redact
start_capture red.pcapng --redact
run_calls run2
stop_capture
F=red.pcapng
assert_tshark_reads "$F"
one_stream "$F"
assert_no_secrets "$F" "${S[@]}"
vals=$(headers "$F" http2.header.value)
printf '%s\n' "$vals" >values2.txt
msgs=$(tsh -r "$F" "${D[@]}" -Y grpc -T fields -e grpc.message_data)
for n in "${!S[@]}"; do
	case $vals in *"${S[$n]}"*) fail "secret $n is in tshark's HPACK decoding" ;; esac
	case $msgs in *"$(hex "${S[$n]}")"*) fail "secret $n is in tshark's gRPC messages" ;; esac
done
ok "no secret in tshark's HPACK decoding nor in its (decompressed) gRPC messages"
# "REDACTED" and 17 'x': as long as each secret
M=REDACTEDxxxxxxxxxxxxxxxxx
[ ${#M} -eq ${#S[bearer]} ] || fail "marker length"
for hv in "authorization"$'\t'"Bearer $M" "x-api-key"$'\t'"$M" "x-session-token"$'\t'"$M" "x-auth-token"$'\t'"$M"; do
	want=5
	[ "${hv%%$'\t'*}" = x-session-token ] && want=10 # the client's and the server's
	assert_eq "$(grep -cxF -e "$hv" values2.txt)" "$want" "headers decoded as '${hv//$'\t'/: }'"
done
assert_eq "$(grep -cE $'^(authorization|x-api-key|x-session-token|x-auth-token)\t' values2.txt)" 25 \
	"secret headers in all (each one a marker)"
assert_request_ids run2 "$F"
# what HPACK indexes (:path, user-agent, grpc-timeout) still decodes: the tables of both
# ends stayed in step through the rewritten literals
assert_eq "$(grep $'^:path\t' values2.txt | cut -f2 | tr '\n' ' ')" \
	"/t.Peer/Echo /t.Peer/Echo /t.Peer/Echo /t.Peer/Chat /t.Peer/Login " ":path of the 5 calls"
assert_eq "$(grep -c $'^user-agent\tgrpc-python/' values2.txt)" 5 "user-agent decoded on the 5 calls"
out=$("$PY" "$PEER" judge "$F" "$ST" run2 --redacted) || fail "gRPC messages of $F"
ok "redacted: $out"
ext=$("$PY" "$E2E_DIR/follow.py" extents "$F" | awk -v s="$ST" '$1 == s {print $2, $3}')
assert_eq "$ext" "$(stat -c %s run2/client.w) $(stat -c %s run2/server.w)" \
	"bytes of the redacted stream per direction (the client's and the server's SSL_write)"
# the two masked compressed messages do not decompress: that, and nothing else
expert=$(tsh -r "$F" "${D[@]}" -q -z expert,warn | grep -E '^ +[0-9]+ ' | tr -s ' ' || true)
assert_eq "$expert" " 2 Undecoded GRPC Body decompression failed" "expert warnings and errors of red.pcapng"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
cmt=$(stream_comment "$F" "$ST")
assert_contains "$cmt" "Redacted: 27 values (authorization: 5, x-api-key: 5, x-session-token: 10, x-auth-token: 5, compressed grpc message: 2)" \
	"comment of the stream"
log "$(grep -m1 -o 'Redacted: .*' <<<"$cmt")"
red=$(grep -E '^tlspcap: redacted: ' "$CAPTURE_LOG" | tail -n 1)
log "$red"
assert_ge "$(grep -oE '[0-9]+ values' <<<"$red" | grep -oE '^[0-9]+')" 27 "values redacted (summary)"
log "PASS"
