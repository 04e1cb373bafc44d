#!/usr/bin/env bash
# curl --http2 -> nginx (listen ... ssl http2) on 127.0.0.1:443 and on a high port:
# dissected as HTTP/2 with HPACK-decoded headers, a 5 MB download whose DATA frames
# reassemble byte for byte, a POST; curl's PID in the comments; zero expert warnings.
source "$(dirname "$0")/lib.sh"
e2e_init

pick_port
HP=$PORT
wait_port_free 443 30
start_nginx "127.0.0.1:443,http2" "$HP,http2"
echo "hello over h2" >"$NGINX_ROOT/index.html"
head -c 5000000 /dev/urandom >"$NGINX_ROOT/big.bin"
head -c 300000 /dev/urandom >post.bin

start_capture out.pcapng

declare -A PIDS
for base in "https://127.0.0.1" "https://127.0.0.1:$HP"; do
	tag=${base##*:}
	[ "$tag" = //127.0.0.1 ] && tag=443
	# one connection: two GETs and a POST
	# (--next keeps the connection; options after it apply to the POST only)
	curl -sS --http2 --cacert "$CERT" --max-time 30 -w '%{http_version}\n' \
		-o "index-$tag.out" "$base/index.html" -o "big-$tag.bin" "$base/big.bin" \
		--next --http2 --cacert "$CERT" --max-time 30 \
		--data-binary @post.bin -o "post-$tag.out" "$base/echo" >"curl-$tag.ver" 2>"curl-$tag.err" &
	PIDS[$tag]=$!
	wait "${PIDS[$tag]}" || fail "curl $base failed: $(cat "curl-$tag.err")"
	cmp -s "big-$tag.bin" "$NGINX_ROOT/big.bin" || fail "curl's download differs (no capture involved)"
	assert_eq "$(head -n 1 "curl-$tag.ver")" 2 "HTTP version negotiated by curl on $base"
	assert_eq "$(cat "post-$tag.out")" "received 300000 bytes" "POST over HTTP/2 to $base/echo"
done
sleep 1
stop_capture

F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$HP,http2" # no HTTP/2 heuristic in tshark 4.0
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"

for tag in 443 "$HP"; do
	pid=${PIDS[$tag]}
	s=$(streams_with_key "$F" PID "$pid" | head -n 1)
	[ -n "$s" ] || fail "no stream with 'PID: $pid' (curl to port $tag)"
	c=$(stream_comment "$F" "$s")
	assert_contains "$c" "Cmd: curl" "comment of stream $s"
	assert_contains "$c" ":$tag" "comment of stream $s (real port)"
	# HTTP/2 on 443 is remapped to a port tshark dissects as HTTP (80/8080); on a high
	# port there is no HTTP/2 heuristic in tshark 4.0, so decode it explicitly.
	dec=()
	[ "$tag" != 443 ] && dec=(-d "tcp.port==$tag,http2")
	n=$(tsh -r "$F" "${dec[@]}" -Y "tcp.stream==$s && http2.type==1" -T fields -e frame.number | wc -l)
	assert_ge "$n" 2 "HTTP/2 HEADERS frames in stream $s (port $tag)"
	hdrs=$(tsh -r "$F" "${dec[@]}" -Y "tcp.stream==$s && http2" -T fields -e http2.header.value | tr ',' '\n')
	assert_contains "$hdrs" "/big.bin" "HPACK-decoded :path values of stream $s"
	assert_contains "$hdrs" "/echo" "HPACK-decoded :path values of stream $s"
	"$PY" "$E2E_DIR/follow.py" h2data "$F" "$s" "h2-$tag" >/dev/null || fail "h2data of stream $s"
	same=0
	for o in "h2-$tag"/h2-*; do cmp -s "$o" "$NGINX_ROOT/big.bin" && same=1; done
	assert_eq "$same" 1 "5 MB body reassembled from HTTP/2 DATA frames of stream $s"
	stream_bytes "$F" "$s" client >"c2s-$tag.bin"
	cmp -s <(head -c 24 "c2s-$tag.bin") <(printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n') ||
		fail "stream $s does not start with the HTTP/2 client preface"
	ok "stream $s starts with the HTTP/2 preface"
done
[ "$(frame_count "$F" 'tcp.port==443')" = 0 ] || fail "frames on TCP port 443 (must be remapped)"
ok "no frame on port 443"
log "PASS"
