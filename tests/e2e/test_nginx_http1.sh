#!/usr/bin/env bash
# curl -> nginx over HTTP/1.1 on a high port and on 127.0.0.1:443: GET, a 5 MB download
# reassembled byte for byte, a 1 MB POST; PIDs of curl and of the nginx worker in the
# comments; port 443 remapped; zero expert warnings; output file mode 0600.
source "$(dirname "$0")/lib.sh"
e2e_init

pick_port
HP=$PORT
wait_port_free 443 30
start_nginx 127.0.0.1:443 "$HP"
echo "hello from nginx" >"$NGINX_ROOT/index.html"
head -c 5000000 /dev/urandom >"$NGINX_ROOT/big.bin"
head -c 1000000 /dev/urandom >post.bin
WORKERS=$(nginx_worker_pids)
[ -n "$WORKERS" ] || fail "no nginx worker process"

start_capture out.pcapng

CURL_PIDS=()
POST_PIDS=()
# run_curl NAME ARGS...: curl in the background so its pid is known; bounded by --max-time
run_curl() {
	local name=$1 pid
	shift
	curl -sS --http1.1 --cacert "$CERT" --max-time 30 "$@" >"$name.out" 2>"$name.err" &
	pid=$!
	CURL_PIDS+=("$pid")
	wait "$pid" || fail "curl $name failed: $(cat "$name.err")"
	LAST_PID=$pid
}
for base in "https://127.0.0.1" "https://127.0.0.1:$HP"; do
	tag=${base##*:}
	[ "$tag" = //127.0.0.1 ] && tag=443
	run_curl "index-$tag" "$base/index.html"
	assert_eq "$(cat "index-$tag.out")" "hello from nginx" "GET $base/index.html (no capture involved)"
	run_curl "big-$tag" -o "big-$tag.bin" "$base/big.bin"
	run_curl "post-$tag" --data-binary @post.bin "$base/echo"
	POST_PIDS+=("$LAST_PID")
	assert_eq "$(cat "post-$tag.out")" "received 1000000 bytes" "POST $base/echo"
done
sleep 1 # let nginx finish its side of the keep-alive closes
stop_capture

F=out.pcapng
assert_eq "$(stat -c %a "$F")" 600 "mode of the output file"
assert_tshark_reads "$F"
assert_no_expert_warnings "$F"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"

# Every curl process and the nginx worker appear as PID: in comments.
for pid in "${CURL_PIDS[@]}"; do
	s=$(streams_with_key "$F" PID "$pid")
	[ -n "$s" ] || fail "no stream with comment 'PID: $pid' (curl)"
	c=$(stream_comment "$F" "$(echo "$s" | head -n 1)")
	assert_contains "$c" "Cmd: curl" "comment of curl pid $pid"
	assert_contains "$c" "Role: client" "comment of curl pid $pid"
done
found=""
for w in $WORKERS; do
	[ -n "$(streams_with_key "$F" PID "$w")" ] && found=$w
done
[ -n "$found" ] || fail "no stream with the nginx worker's PID ($WORKERS)"
ok "nginx worker pid $found in comments"
assert_contains "$(stream_comment "$F" "$(streams_with_key "$F" PID "$found" | head -n 1)")" "Role: server" "nginx comment"

# The real tuple is in the comment, the synthetic stream is not on port 443.
[ -n "$(streams_with_comment "$F" 'Remote: 127\.0\.0\.1:443(\\n|$)')" ] || fail "no comment with 'Remote: 127.0.0.1:443'"
ok "a curl comment names the real server 127.0.0.1:443"
assert_eq "$(frame_count "$F" 'tcp.port==443')" 0 "frames on TCP port 443 (must be remapped)"

# HTTP dissected: requests and responses.
uris=$(tfields "$F" 'http.request' http.request.method http.request.uri | sort | uniq -c)
log "HTTP requests in the capture:"$'\n'"$uris"
for u in "GET	/index.html" "GET	/big.bin" "POST	/echo"; do
	n=$(tfields "$F" 'http.request' http.request.method http.request.uri | grep -cF "$u" || true)
	assert_ge "$n" 2 "requests '$u' dissected as HTTP (one per port at least)"
done
assert_ge "$(frame_count "$F" 'http.response.code==200')" 6 "HTTP 200 responses"

# 5 MB download reassembled byte for byte by tshark's HTTP export.
mkdir objs
tsh -r "$F" -q --export-objects "http,objs" >/dev/null || fail "tshark --export-objects failed"
same=0
for o in objs/*; do
	cmp -s "$o" "$NGINX_ROOT/big.bin" && same=$((same + 1))
done
assert_ge "$same" 2 "exported HTTP objects identical to the 5 MB file"

# POST body byte for byte in the client->server direction of each curl POST stream.
for pid in "${POST_PIDS[@]}"; do
	s=$(streams_with_key "$F" PID "$pid" | head -n 1)
	stream_bytes "$F" "$s" client >post-c2s.bin
	assert_contains "$(head -c 200 post-c2s.bin | tr -d '\0')" "POST /echo HTTP/1.1" "request of stream $s"
	tail -c 1000000 post-c2s.bin >post-body.bin
	assert_files_equal post-body.bin post.bin "POST body in stream $s (curl pid $pid)"
	assert_contains "$(stream_bytes "$F" "$s" server | tr -d '\0')" "received 1000000 bytes" "response of stream $s"
done
log "PASS"
