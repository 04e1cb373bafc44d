#!/usr/bin/env bash
# --redact over HTTP/1.1: curl -> nginx, a python client and curl -> python server, with a
# distinct random secret in every place a secret goes (Authorization Bearer and Basic,
# URL credentials, Cookie, Set-Cookie, X-Api-Key, X-Auth-Token, query, form and JSON
# bodies both ways, chunked, the command lines). Judged on the raw bytes of the file (no
# secret, nor its base64 form), zero expert warnings, bodies byte-exact, the comments.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init

pick_port
HP=$PORT
start_nginx "$HP"
echo "hello from nginx" >"$NGINX_ROOT/index.html"
head -c 200000 /dev/urandom >data.bin
pick_port
PP=$PORT

NAMES=(BEARER APIKEY COOKIE QUERY BASIC URLPW FORM JSON ARGTOKEN PY_BEARER PY_COOKIE PY_APIKEY
	PY_QUERY PY_FORM PY_JSON PY_TOKEN PY_SETCOOKIE PY_AUTHTOKEN CP_BEARER CP_COOKIE CP_APIKEY
	CP_QUERY CP_FORM CP_JSON)
declare -A S
: >secrets
for n in "${NAMES[@]}"; do
	S[$n]=$(secret)
	echo "$n=${S[$n]}" >>secrets
done

bg pyserver.log "$PY" "$E2E_DIR/redact_peer.py" server --port "$PP" --cert "$CERT" --key "$KEY" \
	--secrets secrets --body data.bin --lifetime 60
wait_port "$PP" 10

# test_redact_http1_zst.sh runs this test written with zstd
F=${REDACT_OUT:-out.pcapng}
start_capture "$F" --redact

BASE=https://127.0.0.1:$HP
c() { curl -sS --http1.1 --cacert "$CERT" --max-time 20 "$@"; }
c -H "Authorization: Bearer ${S[BEARER]}" -H "X-Api-Key: ${S[APIKEY]}" \
	-b "session=${S[COOKIE]}; theme=dark" \
	"$BASE/index.html?page=2&access_token=${S[QUERY]}&token=${S[ARGTOKEN]}" -o index1.out ||
	fail "curl with headers"
c -u "alice:${S[BASIC]}" "$BASE/index.html" -o index2.out || fail "curl -u"
c "https://bob:${S[URLPW]}@127.0.0.1:$HP/index.html" -o index3.out || fail "curl URL credentials"
c --data "user=alice&password=${S[FORM]}&remember=1" "$BASE/echo" -o form.out || fail "curl form"
c -H 'Content-Type: application/json' --data "{\"user\":\"alice\",\"client_secret\":\"${S[JSON]}\"}" \
	"$BASE/echo" -o json.out || fail "curl JSON"
for f in index1 index2 index3; do
	assert_eq "$(cat $f.out)" "hello from nginx" "curl $f (no capture involved)"
done
timeout 40 "$PY" "$E2E_DIR/redact_peer.py" client --port "$PP" --cafile "$CERT" --secrets secrets \
	--body data.bin >pyclient.out 2>&1 || fail "python client: $(cat pyclient.out)"
# curl -> the python server: the python client's places, with secrets of its own
PBASE=https://127.0.0.1:$PP
c -H "Authorization: Bearer ${S[CP_BEARER]}" -H "X-Api-Key: ${S[CP_APIKEY]}" \
	-b "sid=${S[CP_COOKIE]}; lang=en" "$PBASE/data.bin?user=alice&api_key=${S[CP_QUERY]}" \
	-o pydata.out || fail "curl -> python server, GET"
cmp -s pydata.out data.bin || fail "curl -> python server: wrong body (no capture involved)"
c --data "user=alice&password=${S[CP_FORM]}&remember=1" "$PBASE/login" -o pylogin.out ||
	fail "curl -> python server, form"
c -H 'Content-Type: application/json' --data "{\"user\":\"alice\",\"password\":\"${S[CP_JSON]}\"}" \
	"$PBASE/chunked" -o pychunked.out || fail "curl -> python server, JSON"
for f in pylogin pychunked; do
	assert_contains "$(cat $f.out)" "${S[PY_TOKEN]}" "curl $f (no capture involved)"
done
sleep 0.5
stop_capture

assert_tshark_reads "$F"
# not one secret, in any form, anywhere in the file (payload, comments, every block)
assert_no_secrets "$F" "${S[@]}" "$(printf '%s' "alice:${S[BASIC]}" | base64 -w0)" \
	"$(printf '%s' "bob:${S[URLPW]}" | base64 -w0)"
assert_no_expert_warnings "$F" -d "tcp.port==$HP,http" -d "tcp.port==$PP,http"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"

# what is not secret is intact
export_objects "$F" objects
assert_object_exported objects "$NGINX_ROOT/index.html" "nginx's index.html"
assert_object_exported objects data.bin "the python server's 200 kB body"
hdrs=$(tsh -r "$F" -d "tcp.port==$HP,http" -d "tcp.port==$PP,http" -Y http -T fields \
	-e http.authorization -e http.cookie -e http.set_cookie -e http.request.uri -e http.file_data)
assert_contains "$hdrs" "Bearer REDACTEDxxx" "dissected Authorization"
assert_contains "$hdrs" "Basic REDACTEDxxx" "dissected Authorization (-u)"
assert_contains "$hdrs" "session=REDACTEDxxx" "dissected Cookie"
assert_contains "$hdrs" "; theme=REDA" "dissected Cookie (every value, the names kept)"
assert_contains "$hdrs" "sid=REDACTEDxxx" "dissected Set-Cookie"
assert_contains "$hdrs" "/index.html?page=2&access_token=REDACTEDxxx" "dissected request URI"
# curl's three requests to the python server are in the file, dissected and redacted
cp=$(tsh -r "$F" -d "tcp.port==$PP,http" -Y "tcp.port==$PP && http.user_agent contains \"curl\"" \
	-T fields -e http.authorization -e http.request.uri)
assert_contains "$cp" "Bearer REDACTEDxxx" "curl -> python server, dissected Authorization"
assert_contains "$cp" "/data.bin?user=alice&api_key=REDACTEDxxx" "curl -> python server, dissected URI"
assert_contains "$cp" "/chunked" "curl -> python server, dissected JSON POST"

# comments: each redacted stream says so, the section header says which policy
s=$(streams_with_key "$F" Cmd curl)
[ -n "$s" ] || fail "no curl stream"
all=$(tsh -r "$F" -Y frame.comment -T fields -e frame.comment)
assert_contains "$all" "Redacted: " "stream comments"
assert_contains "$all" "authorization: 1" "stream comments"
shb=$(capinfos -k "$F" 2>/dev/null || true)
assert_contains "$shb" "this file was redacted (--redact)" "section header comment (capinfos)"
assert_contains "$(grep '^tlspcap: redacted:' "$CAPTURE_LOG")" "values" "summary line"
assert_ge "$(grep -oE 'redacted: [0-9]+' "$CAPTURE_LOG" | grep -oE '[0-9]+')" 20 "values redacted (summary)"
log "PASS"
