#!/usr/bin/env bash
# --redact over HTTP/2: curl --http2 -> nginx, one long-lived connection with several
# requests carrying the same secrets (Authorization, X-Api-Key, a cookie, gRPC-style
# metadata, a query field), a form body, and answers with Set-Cookie, X-Auth-Token and a
# JSON token. HPACK indexes a sensitive header on its first use and refers to it by index
# later: both show the rewritten value. Written with zstd (.zst); judged on the decompressed
# bytes and on tshark's own HPACK decoding: no secret anywhere, zero
# expert warnings, the non-secret body byte-exact.
source "$(dirname "$0")/lib.sh"
e2e_init

NAMES=(BEARER APIKEY COOKIE GRPC QUERY FORM SETCOOKIE AUTHTOKEN TOKEN)
declare -A S
for n in "${NAMES[@]}"; do S[$n]=$(secret); done

pick_port
HP=$PORT
NGINX_EXTRA="        location = /login {
            add_header Set-Cookie \"sid=${S[SETCOOKIE]}; Path=/; HttpOnly\" always;
            add_header X-Auth-Token \"${S[AUTHTOKEN]}\" always;
            default_type application/json;
            return 200 '{\"access_token\":\"${S[TOKEN]}\",\"token_type\":\"Bearer\"}';
        }"
start_nginx "$HP,http2"
head -c 100000 /dev/urandom >"$NGINX_ROOT/data.bin"

start_capture out.pcapng.zst --redact

BASE=https://127.0.0.1:$HP
H=(-H "Authorization: Bearer ${S[BEARER]}" -H "X-Api-Key: ${S[APIKEY]}" -b "session=${S[COOKIE]}"
	-H "x-session-token: ${S[GRPC]}" -H "grpc-timeout: 10S")
# one connection: three GETs, the login, a POST (--next keeps the connection)
curl -sS --http2 --cacert "$CERT" --max-time 20 -w '%{http_version}\n' "${H[@]}" \
	-o d1.bin "$BASE/data.bin" -o d2.bin "$BASE/data.bin?page=2" \
	-o d3.bin "$BASE/data.bin?access_token=${S[QUERY]}" -o login.out "$BASE/login" \
	--next --http2 --cacert "$CERT" --max-time 20 "${H[@]}" \
	--data "user=alice&password=${S[FORM]}" -o echo.out "$BASE/echo" >curl.ver 2>curl.err ||
	fail "curl: $(cat curl.err)"
assert_eq "$(head -n 1 curl.ver)" 2 "HTTP version negotiated by curl"
cmp -s d3.bin "$NGINX_ROOT/data.bin" || fail "curl's download differs (no capture involved)"
assert_contains "$(cat login.out)" "${S[TOKEN]}" "the login answer (no capture involved)"
sleep 0.5
stop_capture

F=out.pcapng.zst
D=(-d "tcp.port==$HP,http2")
assert_tshark_reads "$F"
assert_no_secrets "$F" "${S[@]}"
# HPACK Huffman-codes most strings: judge the decoded headers and bodies too
dec=$(tsh -r "$F" "${D[@]}" -Y http2 -T fields -e http2.header.name -e http2.header.value -e http2.data.data)
[ -n "$dec" ] || fail "tshark decoded no HTTP/2 headers"
for n in "${NAMES[@]}"; do
	case $dec in *"${S[$n]}"*) fail "secret $n is in tshark's decoding of the HTTP/2 headers or data" ;; esac
done
ok "none of the secrets is in the decoded HTTP/2 headers and data"
assert_no_expert_warnings "$F" "${D[@]}"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"

# indexing happened: x-api-key first as a literal with incremental indexing, then by index
headers() { h2_header_fields "$F" "$1" "${D[@]}" -Y http2; }
reprs=$(headers http2.header.repr)
printf '%s\n' "$reprs" >reprs.txt
inc=$(grep -c $'^x-api-key\tLiteral Header Field with Incremental Indexing' reprs.txt || true)
idx=$(grep -c $'^x-api-key\tIndexed Header Field' reprs.txt || true)
assert_ge "$inc" 1 "x-api-key sent as a literal with incremental indexing"
assert_ge "$idx" 3 "x-api-key referred to by index afterwards"
vals=$(headers http2.header.value | grep -E $'^(x-api-key|authorization|x-session-token|set-cookie|x-auth-token|cookie)\t' |
	sort | uniq -c)
printf '%s\n' "$vals" >values.txt
log "decoded sensitive headers (count name = value): $(tr '\n' ';' <values.txt)"
assert_eq "$(grep -c $' x-api-key\t' values.txt)" 1 "distinct x-api-key values (the literal and every indexed use agree)"
grep -q $' x-api-key\tredacted' values.txt || fail "x-api-key does not show the marker"
ok "x-api-key shows the marker"
grep -q $' authorization\tBearer redacted' values.txt || fail "authorization lost its scheme"
ok "authorization keeps its scheme"
grep -q $' set-cookie\tsid=redacted.*; Path=/; HttpOnly' values.txt || fail "set-cookie lost its attributes"
ok "set-cookie keeps its attributes"

# the non-secret body is intact
"$PY" "$E2E_DIR/follow.py" h2data "$F" "$(streams_with_key "$F" Cmd curl)" h2 >/dev/null ||
	fail "h2data of curl's stream"
same=0
for o in h2/h2-*; do cmp -s "$o" "$NGINX_ROOT/data.bin" && same=$((same + 1)); done
assert_ge "$same" 3 "100 kB bodies reassembled byte-exact from DATA frames"
all=$(tsh -r "$F" -Y frame.comment -T fields -e frame.comment)
assert_contains "$all" "Redacted: " "stream comments"
assert_contains "$all" "x-api-key: 1," "stream comments (one literal; the indexed uses carry no bytes)"
log "PASS"
