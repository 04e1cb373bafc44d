#!/usr/bin/env bash
# OpenSSL's SSL BIO (BIO_f_ssl) calls ssl_read_internal/ssl_write_internal, never
# SSL_read/SSL_write: openssl s_server -WWW and -www served to curl, to openssl s_client
# and to a BIO_new_ssl_connect client (samples/bio_ssl_client.c). Every connection is
# one stream with both ends' comments (server and client PID), byte-exact both ways.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
need_tools curl:curl openssl:openssl
BIO_CLIENT=$SAMPLES_OUT/bio_ssl_client
[ -x "$BIO_CLIENT" ] || fail "$BIO_CLIENT missing: run 'make samples'"
tls_server_port
pick_port
P2=$PORT
mkdir www
head -c 30000 /dev/urandom | base64 -w 76 >www/page.txt

start_capture out.pcapng

# -WWW: files from its directory; three connections, then it exits.
(cd www && exec openssl s_server -accept "127.0.0.1:$P" -cert "$CERT" -key "$KEY" -WWW -naccept 3) \
	</dev/null >srv1.log 2>&1 &
SRV1=$!
track_pid "$SRV1"
# -www: a status page; two connections.
openssl s_server -accept "127.0.0.1:$P2" -cert "$CERT" -key "$KEY" -www -naccept 2 \
	</dev/null >srv2.log 2>&1 &
SRV2=$!
track_pid "$SRV2"
wait_port "$P" 10
wait_port "$P2" 10

printf 'GET /page.txt HTTP/1.0\r\n\r\n' >req1.txt
printf 'GET / HTTP/1.0\r\n\r\n' >req2.txt
# curl: the bytes it received (headers as they came, then the body)
run_curl() { # OUT URL
	curl -sS --http1.0 --cacert "$CERT" -D "$1.hdr" -o "$1.body" "$2" </dev/null 2>"$1.err" &
	FG_PID=$!
	track_pid "$FG_PID"
	wait_bounded "$FG_PID" 30 || fail "curl $2 failed: $(cat "$1.err")"
	cat "$1.hdr" "$1.body" >"$1"
}
# s_client: sends the request, writes everything it receives
run_sclient() { # OUT PORT REQUEST
	openssl s_client -connect "127.0.0.1:$2" -CAfile "$CERT" -quiet -ign_eof <"$3" >"$1" 2>"$1.err" &
	FG_PID=$!
	track_pid "$FG_PID"
	wait_bounded "$FG_PID" 30 || fail "s_client to $2 failed: $(cat "$1.err")"
}

run_curl curl1.out "https://127.0.0.1:$P/page.txt"
CURL1=$FG_PID
run_sclient scl1.out "$P" req1.txt
SCL1=$FG_PID
run_fg bio.out bio.err "$BIO_CLIENT" "127.0.0.1:$P" /page.txt "$CERT" bio.resp ||
	fail "bio_ssl_client failed: $(cat bio.err)"
BIO=$FG_PID
run_curl curl2.out "https://127.0.0.1:$P2/"
CURL2=$FG_PID
run_sclient scl2.out "$P2" req2.txt
SCL2=$FG_PID
wait_pid_exit "$SRV1" 10 || fail "s_server -WWW did not exit after 3 connections"
wait_pid_exit "$SRV2" 10 || fail "s_server -www did not exit after 2 connections"
sleep 0.5
stop_capture

F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
assert_eq "$(capture_stat 'unattributed')" 0 "unattributed connections"
# The page as the -WWW server sends it, and what every client received.
{ printf 'HTTP/1.0 200 ok\r\nContent-type: text/plain\r\n\r\n'; cat www/page.txt; } >page.http
assert_files_equal scl1.out page.http "s_client's response from s_server -WWW (no capture involved)"
assert_files_equal bio.resp page.http "bio_ssl_client's response (no capture involved)"
assert_contains "$(head -c 200 scl2.out)" "HTTP/1.0 200 ok" "s_server -www status page"
printf 'GET /page.txt HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$P" >bio.req

# check CLIENT_PID SERVER_PID WHAT C2S_FILE|- S2C_FILE: one stream, both ends, exact bytes
check() {
	local cpid=$1 spid=$2 what=$3 c2s=$4 s2c=$5 s server_streams
	s=$(streams_with_key "$F" PID "$cpid")
	assert_eq "$(printf '%s\n' "$s" | grep -c .)" 1 "streams of $what (pid $cpid)"
	server_streams=$(streams_with_key "$F" PID "$spid")
	grep -qx "$s" <<<"$server_streams" ||
		fail "stream $s of $what has no comment of the server (pid $spid): $(stream_comment "$F" "$s")"
	ok "stream $s of $what carries the server's PID $spid"
	stream_bytes "$F" "$s" server >"s2c-$s.bin"
	assert_files_equal "s2c-$s.bin" "$s2c" "server->client bytes of $what"
	stream_bytes "$F" "$s" client >"c2s-$s.bin"
	if [ "$c2s" = - ]; then
		assert_contains "$(head -c 40 "c2s-$s.bin")" "GET " "client->server bytes of $what"
	else
		assert_files_equal "c2s-$s.bin" "$c2s" "client->server bytes of $what"
	fi
}
check "$CURL1" "$SRV1" "curl -> s_server -WWW" - curl1.out
check "$SCL1" "$SRV1" "s_client -> s_server -WWW" req1.txt scl1.out
check "$BIO" "$SRV1" "bio_ssl_client -> s_server -WWW" bio.req bio.resp
check "$CURL2" "$SRV2" "curl -> s_server -www" - curl2.out
check "$SCL2" "$SRV2" "s_client -> s_server -www" req2.txt scl2.out
log "PASS"
