#!/usr/bin/env bash
# GnuTLS 3.7: gnutls-cli -> gnutls-serv --http (request and response byte-exact, gnutls-cli's
# stdin/stdout not captured as streams of their own), wget -> gnutls-serv, and wget ->
# nginx (OpenSSL): a 2 MB download exported byte-exact and a 500 kB POST body. PIDs with
# Role and "Library: GnuTLS 3.7..." in the comments; HTTP dissected; no expert warnings.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
need_tools gnutls-serv:gnutls-bin gnutls-cli:gnutls-bin wget:wget
e2e_cert
pick_port
HP=$PORT
start_nginx "$HP"
head -c 2000000 /dev/urandom >"$NGINX_ROOT/big.bin"
head -c 500000 /dev/urandom >post.bin
head -c 30000 /dev/urandom | base64 -w 76 >httpdata.txt # gnutls-serv's body (text)
printf 'GET /gnutls HTTP/1.1\r\nHost: localhost\r\nUser-Agent: gnutls-cli\r\n\r\n' >req.txt
pick_port
GP=$PORT
LIBRE='^GnuTLS 3\.7'

start_capture out.pcapng

# gnutls-serv listens on every address: only loopback clients talk to it.
bg gserv.log gnutls-serv --http --httpdata=httpdata.txt -q -p "$GP" \
	--x509certfile "$CERT" --x509keyfile "$KEY"
GSERV=$BG_PID
wait_port "$GP" 10

# gnutls-cli reads the request from a FIFO held open until the response is complete
# (EOF on stdin makes it close the connection), writes the response to stdout.
mkfifo cli.in
bg feeder.log sh -c 'exec >cli.in; cat req.txt; exec sleep 60'
FEEDER=$BG_PID
gnutls-cli --x509cafile "$CERT" -p "$GP" localhost --logfile gcli.log <cli.in >gcli.out 2>gcli.err &
GCLI=$!
track_pid "$GCLI"
for ((i = 0; i < 200; i++)); do # the whole body, then EOF on stdin
	tail -c "$(stat -c %s httpdata.txt)" gcli.out | cmp -s - httpdata.txt && break
	sleep 0.1
done
[ $i -lt 200 ] || fail "gnutls-cli got no complete response: $(tail -n 3 gcli.log gcli.err)"
kill "$FEEDER"
wait_bounded "$GCLI" 20 || fail "gnutls-cli failed: $(tail -n 5 gcli.log gcli.err)"

run_fg wg.out wg.err wget -q --inet4-only --ca-certificate="$CERT" -O wget-gserv.bin "https://localhost:$GP/wget" ||
	fail "wget -> gnutls-serv failed: $(cat wg.err)"
WGET1=$FG_PID
run_fg wn.out wn.err wget -q --inet4-only --ca-certificate="$CERT" -O wget-big.bin "https://localhost:$HP/big.bin" ||
	fail "wget -> nginx failed: $(cat wn.err)"
WGET2=$FG_PID
run_fg wp.out wp.err wget -q --inet4-only --ca-certificate="$CERT" --post-file=post.bin -O wget-post.out "https://localhost:$HP/echo" ||
	fail "wget POST -> nginx failed: $(cat wp.err)"
WGET3=$FG_PID
sleep 1
stop_capture

# The peers themselves (no capture involved).
assert_contains "$(head -n 1 gcli.out)" "HTTP/1.0 200 OK" "gnutls-cli's response"
tail -c "$(stat -c %s httpdata.txt)" gcli.out >gcli-body.txt
assert_files_equal gcli-body.txt httpdata.txt "body received by gnutls-cli"
assert_files_equal wget-gserv.bin httpdata.txt "body received by wget from gnutls-serv"
assert_files_equal wget-big.bin "$NGINX_ROOT/big.bin" "body received by wget from nginx"
assert_eq "$(cat wget-post.out)" "received 500000 bytes" "nginx's answer to wget's POST"

F=out.pcapng
assert_capture_clean "$F" "$GP" "$HP"

# gnutls-cli: exactly one stream (stdin/stdout are not TLS), its bytes exactly the
# request it read and the response it printed.
assert_pid_view "$F" "$GCLI" client "$LIBRE" 1
S=${PID_STREAMS% }
assert_http_stream "$F" "$S"
stream_bytes "$F" "$S" client >s-c2s.bin
stream_bytes "$F" "$S" server >s-s2c.bin
assert_files_equal s-c2s.bin req.txt "gnutls-cli -> gnutls-serv bytes in stream $S"
assert_files_equal s-s2c.bin gcli.out "gnutls-serv -> gnutls-cli bytes in stream $S"
assert_pid_view "$F" "$GSERV" server "$LIBRE" 2
assert_contains "$(pid_field "$F" "$GSERV" Cmd | cut -f2 | sort -u)" "gnutls-serv" "Cmd of gnutls-serv"

# wget: one stream each, GnuTLS client; nginx's worker OpenSSL.
for pid in "$WGET1" "$WGET2" "$WGET3"; do
	assert_pid_view "$F" "$pid" client "$LIBRE" 1
	assert_contains "$(pid_field "$F" "$pid" Cmd | cut -f2)" "wget" "Cmd of pid $pid"
	assert_http_stream "$F" "${PID_STREAMS% }"
done
found=""
for w in $(nginx_worker_pids); do
	[ -n "$(pid_field "$F" "$w" Library)" ] && found=$w
done
[ -n "$found" ] || fail "no stream with the nginx worker's PID"
assert_pid_view "$F" "$found" server '^OpenSSL 3'

export_objects "$F" objs
assert_object_exported objs httpdata.txt "gnutls-serv's body"
assert_object_exported objs "$NGINX_ROOT/big.bin" "2 MB download by wget"
S=$(pid_field "$F" "$WGET3" Library | cut -f1 | head -n 1)
stream_bytes "$F" "$S" client >wpost-c2s.bin
assert_contains "$(head -c 200 wpost-c2s.bin | tr -d '\0')" "POST /echo HTTP/1.1" "wget's request in stream $S"
tail -c 500000 wpost-c2s.bin >wpost-body.bin
assert_files_equal wpost-body.bin post.bin "wget's POST body in stream $S"
assert_contains "$(stream_bytes "$F" "$S" server | tr -d '\0')" "received 500000 bytes" "nginx's answer in stream $S"
log "PASS"
