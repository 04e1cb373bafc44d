#!/usr/bin/env bash
# NSS 3.87 / NSPR: tstclnt -> selfserv with NSS databases made by certutil/pk12util.
# tstclnt reads the request from stdin and writes the response to stdout with NSPR's
# PR_Read/PR_Write, the same functions NSS's socket layer uses: those stdio calls must
# not be captured. Three clients: stdin and stdout files; stdout a pipe; stdin a pipe. Each tstclnt has
# exactly one stream whose bytes are exactly the request it read and the response it
# printed; PIDs with Role and "Library: NSS 3..."; HTTP dissected; no expert warnings.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
need_tools selfserv:libnss3-tools tstclnt:libnss3-tools certutil:libnss3-tools pk12util:libnss3-tools
e2e_cert
LIBRE='^NSS 3\.'

# Server db: the certificate and key as "server"; client db: the certificate trusted.
mkdir sdb cdb
{
	certutil -N -d sql:sdb --empty-password &&
		certutil -N -d sql:cdb --empty-password &&
		openssl pkcs12 -export -in "$CERT" -inkey "$KEY" -out server.p12 -passout pass: -name server &&
		pk12util -i server.p12 -d sql:sdb -W '' &&
		certutil -A -d sql:cdb -n localhost-ca -t CT,C,C -i "$CERT"
} >nssdb.log 2>&1 || fail "making the NSS databases failed: $(tail -n 5 nssdb.log)"
ok "NSS databases made"
printf 'GET /nss-file HTTP/1.0\r\nHost: localhost\r\nUser-Agent: tstclnt\r\n\r\n' >req1.txt
printf 'GET /nss-stdout-pipe HTTP/1.0\r\nHost: localhost\r\nUser-Agent: tstclnt\r\nX-Pad: %s\r\n\r\n' "$(head -c 3000 /dev/zero | tr '\0' p)" >req2.txt
printf 'GET /nss-stdin-pipe HTTP/1.0\r\nHost: localhost\r\nUser-Agent: tstclnt\r\n\r\n' >req3.txt
pick_port
NP=$PORT

start_capture out.pcapng

# selfserv listens on every address (no bind option): only loopback clients talk to it.
# It answers each request with an HTTP/1.0 200 echoing the request, then closes.
bg selfserv.log selfserv -d sql:sdb -n server -p "$NP" -V tls1.2:tls1.3
SELFSERV=$BG_PID
wait_port "$NP" 10

# 1: stdin and stdout are regular files.
tstclnt -4 -h localhost -p "$NP" -d sql:cdb <req1.txt >resp1.txt 2>tstclnt1.err &
T1=$!
track_pid "$T1"
wait_bounded "$T1" 30 || fail "tstclnt 1 (files) failed: $(tail -n 5 tstclnt1.err)"

# 2: stdout is a pipe.
mkfifo out2
bg cat2.log sh -c 'cat out2 >resp2.txt'
CAT2=$BG_PID
tstclnt -4 -h localhost -p "$NP" -d sql:cdb <req2.txt >out2 2>tstclnt2.err &
T2=$!
track_pid "$T2"
wait_bounded "$T2" 30 || fail "tstclnt 2 (stdout pipe) failed: $(tail -n 5 tstclnt2.err)"
wait_pid_exit "$CAT2" 10 || fail "reader of tstclnt's stdout pipe still running"

# 3: stdin is a pipe. tstclnt 3.87 never exits after EOF on a stdin pipe (it polls the
# hung-up pipe in a loop): SIGTERM once selfserv's response is complete (it ends "EOF").
mkfifo in3
tstclnt -4 -h localhost -p "$NP" -d sql:cdb <in3 >resp3.txt 2>tstclnt3.err &
T3=$!
track_pid "$T3"
cat req3.txt >in3
wait_file_line resp3.txt '^EOF' 20 || fail "tstclnt 3 (stdin pipe) got no complete response: $(tail -n 5 tstclnt3.err)"
sleep 0.3
kill -TERM "$T3" 2>/dev/null || true
wait_bounded "$T3" 10 || true # 143
sleep 0.5
stop_capture

# The peers themselves (no capture involved).
for i in 1 2 3; do
	assert_contains "$(head -n 1 "resp$i.txt")" "HTTP/1.0 200 OK" "selfserv's response $i"
	assert_contains "$(cat "resp$i.txt")" "$(head -n 1 "req$i.txt")" "selfserv's echo of request $i"
done

F=out.pcapng
assert_capture_clean "$F" "$NP"

i=0
for pid in "$T1" "$T2" "$T3"; do
	i=$((i + 1))
	# Exactly one stream: PR_Read(stdin) and PR_Write(stdout) made none of their own...
	assert_pid_view "$F" "$pid" client "$LIBRE" 1
	S=${PID_STREAMS% }
	assert_contains "$(pid_field "$F" "$pid" Cmd | cut -f2)" "tstclnt" "Cmd of pid $pid"
	assert_http_stream "$F" "$S"
	# ... and added nothing to the TLS stream: exactly what went over TLS.
	stream_bytes "$F" "$S" client >"s$i-c2s.bin"
	stream_bytes "$F" "$S" server >"s$i-s2c.bin"
	assert_files_equal "s$i-c2s.bin" "req$i.txt" "tstclnt $i: client->server bytes of stream $S (the request, once)"
	assert_files_equal "s$i-s2c.bin" "resp$i.txt" "tstclnt $i: server->client bytes of stream $S (the response, once)"
done
assert_pid_view "$F" "$SELFSERV" server "$LIBRE" 3
assert_contains "$(pid_field "$F" "$SELFSERV" Cmd | cut -f2 | sort -u)" "selfserv" "Cmd of selfserv"
# No stream anywhere carries the stdio copies (a stream of its own, any PID).
n=$("$PY" "$E2E_DIR/follow.py" streams "$F" | grep -c "\"real_server_port\": $NP" || true)
assert_eq "$n" 3 "streams to selfserv's port $NP"
for pid in "$T1" "$T2" "$T3"; do
	assert_eq "$(streams_with_key "$F" PID "$pid" | wc -l)" 1 "streams with 'PID: $pid' (any library)"
done
log "PASS"
