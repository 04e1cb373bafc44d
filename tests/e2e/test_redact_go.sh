#!/usr/bin/env bash
# --redact with a Go crypto/tls client (net/http): HTTP/2 and HTTP/1.1 to nginx, secrets
# in Authorization, Cookie, X-Api-Key, URL credentials (in the comment; Go sends the explicit
# Authorization instead of their Basic form), a query field
# and a form body. Judged on the raw file and on tshark's decoding (HPACK included): no
# secret, nor the base64 credentials; zero expert warnings; the download byte-exact.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
source "$(dirname "$0")/lib_go.sh"
go_init

NAMES=(BEARER COOKIE APIKEY URLPW QUERY FORM)
declare -A S
for n in "${NAMES[@]}"; do S[$n]=$(secret); done
printf 'Authorization: Bearer %s\nCookie: session=%s\nX-Api-Key: %s\n' \
	"${S[BEARER]}" "${S[COOKIE]}" "${S[APIKEY]}" >headers.txt
printf 'user=alice&password=%s' "${S[FORM]}" >form.txt

pick_port
H2=$PORT
pick_port
H1=$PORT
start_nginx "$H2,http2" "$H1"
head -c 100000 /dev/urandom >"$NGINX_ROOT/data.bin"

# each Go client connects at once: probed from the start
start_capture out.pcapng --redact --lib "$G"
for p in "$H2" "$H1"; do
	flags=()
	[ "$p" = "$H1" ] && flags=(-h1)
	timeout 40 "$G" http-client -url "https://gopher:${S[URLPW]}@127.0.0.1:$p" -ca "$CERT" \
		-getpath "/data.bin?access_token=${S[QUERY]}" -getfile "$NGINX_ROOT/data.bin" \
		-post form.txt -expect nginx -headers headers.txt -repeat 2 "${flags[@]}" >"go-$p.out" 2>&1 ||
		fail "Go client to $p: $(cat "go-$p.out")"
done
assert_contains "$(cat "go-$H2.out")" "HTTP/2.0" "the Go client's protocol to $H2"
assert_contains "$(cat "go-$H1.out")" "HTTP/1.1" "the Go client's protocol to $H1"
sleep 0.5
stop_capture

F=out.pcapng
D=(-d "tcp.port==$H2,http2" -d "tcp.port==$H1,http")
assert_tshark_reads "$F"
b64=$(printf 'gopher:%s' "${S[URLPW]}" | base64 -w0)
dec=$(tsh -r "$F" "${D[@]}" -T fields -e http2.header.value -e http.authorization -e http.cookie \
	-e http.request.uri -e http.file_data -e http2.data.data)
assert_no_secrets "$F" "${S[@]}" "$b64"
for n in "${NAMES[@]}"; do
	case $dec in *"${S[$n]}"*) fail "secret $n is in tshark's decoding" ;; esac
done
case $dec in *"$b64"*) fail "the base64 URL credentials are in tshark's decoding" ;; esac
ok "none of ${#NAMES[@]} secrets (nor the Basic credentials) in tshark's decoding"
assert_no_expert_warnings "$F" "${D[@]}"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
assert_contains "$dec" "session=REDACTEDxxx" "Go's cookie over HTTP/1.1"
assert_contains "$dec" "Bearer redacted" "Go's Authorization over HTTP/2 (Huffman refilled)"
export_objects "$F" objects
assert_object_exported objects "$NGINX_ROOT/data.bin" "the 100 kB download over HTTP/1.1"
all=$(tsh -r "$F" -Y frame.comment -T fields -e frame.comment)
assert_contains "$all" "Redacted: " "stream comments"
assert_contains "$all" "Library: Go crypto/tls" "the Go client's stream is there"
log "PASS"
