#!/usr/bin/env bash
# Go crypto/tls (net/http, built here by Debian's Go): Go client -> Go server over HTTP/2
# (negotiated by ALPN) and over HTTP/1.1, curl -> Go server and Go client -> nginx over
# HTTP/1.1 and HTTP/2, and `-- COMMAND` with a Go client. Bodies byte-exact (HTTP/2 DATA
# frames, export-objects, POST bodies), both PIDs with their library in the comments (Go,
# curl's and nginx's OpenSSL), no expert warnings, no bytes lost; the peers check what
# they received themselves.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
source "$(dirname "$0")/lib_go.sh"
go_init
LIBRE=$(go_library_re "$G")

# --list names the version, the functions and their RET probes
list=$("$TLSPCAP" --list --lib "$G")
assert_contains "$list" "library:    Go crypto/tls $(go env GOVERSION)" "--list --lib $G"
grep -qE 'crypto/tls\.\(\*Conn\)\.Write \([0-9]+ RETs\) crypto/tls\.\(\*Conn\)\.Read \([0-9]+ RETs\)' <<<"$list" ||
	fail "--list does not show the Go functions with their RET counts: $list"
ok "--list shows Write and Read with their RET counts"

pick_port
P2=$PORT
pick_port
P1=$PORT
pick_port
NH2=$PORT
start_nginx_downloads "$NH2,http2" # $HP (HTTP/1.1), $NH2, big.bin, post.bin
"$G" pattern 1000000 blob.bin
start_capture out.pcapng -v
start_go_server "$G" "$P2" srv2.log
SRV2=$GO_SRV
wait_probed "$G"
start_go_server "$G" "$P1" srv1.log -h1
SRV1=$GO_SRV

run_fg h2.out h2.err "$G" http-client -url "https://127.0.0.1:$P2" -ca "$CERT" -get 1000000 -post post.bin ||
	fail "Go client (HTTP/2): $(cat h2.err)"
CLI2=$FG_PID
assert_eq "$(cat h2.out)" "ok HTTP/2.0" "Go client -> Go server"
run_fg h1.out h1.err "$G" http-client -url "https://127.0.0.1:$P1" -ca "$CERT" -get 1000000 -post post.bin -h1 ||
	fail "Go client (HTTP/1.1): $(cat h1.err)"
CLI1=$FG_PID
assert_eq "$(cat h1.out)" "ok HTTP/1.1" "Go client -> Go server"
run_fg curl.out curl.err curl -sS --http1.1 --cacert "$CERT" --max-time 30 -o curl-blob.bin \
	"https://127.0.0.1:$P1/blob/1000000" --next --http1.1 --cacert "$CERT" --max-time 30 \
	--data-binary @post.bin "https://127.0.0.1:$P1/echo" || fail "curl -> Go server: $(cat curl.err)"
CURL=$FG_PID
assert_files_equal curl-blob.bin blob.bin "curl's download from the Go server (no capture involved)"
assert_contains "$(cat curl.out)" "received 300000 bytes $(sha256sum <post.bin | cut -d' ' -f1)" "Go server's answer to curl's POST"
run_fg ng.out ng.err "$G" http-client -url "https://127.0.0.1:$HP" -ca "$CERT" -getpath /big.bin \
	-getfile "$NGINX_ROOT/big.bin" -post post.bin -expect nginx || fail "Go client -> nginx: $(cat ng.err)"
CLING=$FG_PID
assert_eq "$(cat ng.out)" "ok HTTP/1.1" "Go client -> nginx"
run_fg ng2.out ng2.err "$G" http-client -url "https://127.0.0.1:$NH2" -ca "$CERT" -getpath /big.bin \
	-getfile "$NGINX_ROOT/big.bin" -post post.bin -expect nginx || fail "Go client -> nginx (HTTP/2): $(cat ng2.err)"
CLING2=$FG_PID
assert_eq "$(cat ng2.out)" "ok HTTP/2.0" "Go client -> nginx"
run_fg curl2.out curl2.err curl -sS --http2 --cacert "$CERT" --max-time 30 -w 'version=%{http_version}\n' -o curl2-blob.bin \
	"https://127.0.0.1:$P2/blob/1000000" --next --http2 --cacert "$CERT" --max-time 30 -w 'version=%{http_version}\n' \
	--data-binary @post.bin "https://127.0.0.1:$P2/echo" || fail "curl --http2 -> Go server: $(cat curl2.err)"
CURL2=$FG_PID
assert_files_equal curl2-blob.bin blob.bin "curl's HTTP/2 download from the Go server (no capture involved)"
assert_contains "$(cat curl2.out)" "received 300000 bytes $(sha256sum <post.bin | cut -d' ' -f1)" "Go server's answer to curl's HTTP/2 POST"
assert_eq "$(grep -c '^version=2$' curl2.out)" 2 "curl's requests over HTTP/2"
WORKERS=$(nginx_worker_pids)
sleep 0.5
stop_capture

# -- COMMAND: the Go client is probed before it runs
start_capture cmd.pcapng -- "$G" http-client -url "https://127.0.0.1:$P1" -ca "$CERT" -get 1000 -h1
wait_pid_exit "$CAPTURE_PID" 30 || fail "tlspcap -- COMMAND still running after 30 s"
wait "$CAPTURE_PID" || fail "tlspcap -- $G exited $?: $(tail -n 5 "$CAPTURE_LOG")"
CAPTURE_PID=""
"$G" pattern 1000 small.bin
export_objects cmd.pcapng cmd-objects
assert_object_exported cmd-objects small.bin "-- COMMAND: the Go command's first (and only) request"
kill "$SRV1" "$SRV2"

F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P2,http2" -d "tcp.port==$NH2,http2"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
assert_one_stream_per_connection "$F" "$P1" "$P2"
for pid in "$CLI2" "$CLI1" "$CLING" "$CLING2"; do
	assert_pid_view "$F" "$pid" client "$LIBRE"
done
# the C ends: curl's and nginx's OpenSSL
assert_pid_view "$F" "$CURL" client '^OpenSSL 3.*libssl\.so\.3' 1
assert_pid_view "$F" "$CURL2" client '^OpenSSL 3.*libssl\.so\.3' 1
[ "$(wc -w <<<"$WORKERS")" = 1 ] || fail "nginx worker pids: '$WORKERS' (want one)"
assert_pid_view "$F" "$WORKERS" server '^OpenSSL 3.*libssl\.so\.3' 2
assert_pid_view "$F" "$SRV2" server "$LIBRE"
assert_pid_view "$F" "$SRV1" server "$LIBRE"

# HTTP/2 between Go peers: the 1 MB body from the DATA frames, the POST answered
s=$(streams_with_key "$F" PID "$CLI2" | head -n 1)
"$PY" "$E2E_DIR/follow.py" h2data "$F" "$s" h2 >/dev/null || fail "h2data of stream $s"
same=0
for o in h2/h2-*; do cmp -s "$o" blob.bin && same=1; done
assert_eq "$same" 1 "1 MB body reassembled from the HTTP/2 DATA frames of stream $s (Go -> Go)"
hdrs=$(tsh -r "$F" -d "tcp.port==$P2,http2" -Y "tcp.stream==$s && http2" -T fields -e http2.header.value | tr ',' '\n')
assert_contains "$hdrs" "/blob/1000000" "HPACK-decoded :path values of stream $s"
assert_contains "$hdrs" "/echo" "HPACK-decoded :path values of stream $s"
# HTTP/2 with the C peers: nginx's file to the Go client, the Go server's blob to curl
for pair in "$CLING2:$NGINX_ROOT/big.bin:Go client <- nginx" "$CURL2:blob.bin:curl <- Go server"; do
	IFS=: read -r pid want what <<<"$pair"
	s=$(streams_with_key "$F" PID "$pid" | head -n 1)
	rm -rf h2b
	"$PY" "$E2E_DIR/follow.py" h2data "$F" "$s" h2b >/dev/null || fail "h2data of stream $s"
	same=0
	for o in h2b/h2-*; do cmp -s "$o" "$want" && same=1; done
	assert_eq "$same" 1 "$what over HTTP/2: the body from the DATA frames of stream $s"
done
# HTTP/1.1: objects and POST bodies exported by tshark
export_objects "$F" objects
assert_exported_copies objects blob.bin 2 "the Go server's 1 MB answers to the Go client and curl (HTTP/1.1)"
assert_exported_copies objects post.bin 3 "the POST bodies of the Go client and curl to Go, of Go to nginx (HTTP/1.1)"
assert_object_exported objects "$NGINX_ROOT/big.bin" "Go client -> nginx"
s=$(streams_with_key "$F" PID "$CURL" | head -n 1)
assert_contains "$(stream_comment "$F" "$s")" "Cmd: curl" "comment of curl's stream"
assert_contains "$(stream_comment "$F" "$s")" "Library: Go crypto/tls" "comment of curl's stream (its server)"
log "$(grep '^tlspcap: Go calls' "$CAPTURE_LOG" || true)"
log "PASS"
