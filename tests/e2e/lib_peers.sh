# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Helpers for the tests of other TLS libraries, of library discovery and of the
# tests/e2e/tls_peer.py peers (test_lib_*.sh, test_discovery_*.sh, ...). Source it after
# lib.sh.
#
#   need_tools TOOL...              fail naming the package when a tool is missing
#   peer_bin LIB                    path of the sample peer for LIB (boringssl, wolfssl,
#                                   mbedtls), built by "make samples"; fails when absent
#   pattern_file OUT N SEED         N bytes of the sample peers' deterministic pattern
#                                   (samples/tls_peer.h: byte i = i*31 + (i>>8) + SEED)
#   run_fg OUT ERR CMD...           run CMD (stdin /dev/null) bounded by 60 s; pid in
#                                   $FG_PID (the program's own: no timeout(1) in
#                                   between, comments name that pid), its exit status
#   wait_bounded PID SECS           wait for a background job: its exit status, or 124
#                                   after SIGKILL when it outlives SECS
#   track_pid PID                   kill PID at exit like bg (harness cleanup list)
#   pid_field F PID KEY             "STREAM<TAB>VALUE" per stream whose comment block of
#                                   PID (one block per endpoint) has "KEY: VALUE"
#   assert_pid_view F PID ROLE LIBRE [NSTREAMS]
#                                   PID has streams (exactly NSTREAMS if given), its
#                                   Role is ROLE and its Library matches LIBRE (ERE)
#                                   in every one of them; sets $PID_STREAMS
#   assert_one_stream_per_connection F PORT...   no real connection to a server PORT
#                                   written as two streams (both ends are traced here)
#   assert_http_stream F STREAM     a request and a "200" response dissected as HTTP
#   assert_match F SERVER_PORT DIR MIN [ARGS]   follow.py match, byte-exact both ways
#   assert_peers_agree CLI SRV      the peers' own records (<port>.c2s/.s2c in CLI and
#                                   SRV) agree: what one sent, the other received
#   export_objects F DIR            tshark --export-objects http into DIR
#   assert_object_exported DIR FILE WHAT   an exported object is identical to FILE
#   run_sample_lib_test LIB LIBRE   the whole test of a sample peer: sample client ->
#                                   sample server and sample client -> nginx (OpenSSL)
#   assert_capture_clean F PORT...  tshark reads F, no expert warnings, no bytes lost,
#                                   one stream per connection to a server PORT
#   node_init                       node is there (else skip); $NODE (the executable) and
#                                   $LIBRE (ERE of the Library: comment its OpenSSL gives),
#                                   logged with node's and its OpenSSL's versions
#   start_nginx_downloads           nginx on a new port $HP (plain-HTTP backend $BACK)
#                                   serving big.bin (1 MB); post.bin (300 kB) here
#   write_get_post_client FILE      python client FILE: its start from stdin, then GET
#                                   /big.bin into py-big.bin and POST post.bin to /echo
#                                   (answer in py-post.out)
#   assert_exported_copies DIR FILE N WHAT   exactly N exported objects identical to FILE
#   assert_post_body F PID FILE     the last stream of PID ends with FILE (its POST body)
#   tls_server_port                 e2e_cert, and a free port in $P for a TLS server
#   start_py_server MAXCONNS LIFETIME [ARG...]   tls_peer.py server on $P (records in
#                                   srv/, log server.log), pid in $SRV, port ready
#   start_slow_client               tls_peer.py client on $P sending 4 MB slowly (records
#                                   in cli/), pid in $CLI, returns once 300000 bytes went
#   connection_streams F CPORT SPORT   the streams of the connection CPORT -> SPORT
#   assert_prefix_of_intended F WHAT   the one connection in cli/ (*.c2s.intended) is
#                                   captured as a prefix of what its client meant to send

SAMPLES_OUT=${E2E_SAMPLES:-$REPO/.output/samples}
FG_PID=""

need_tools() {
	local t
	for t in "$@"; do
		command -v "${t%%:*}" >/dev/null ||
			fail "missing tool ${t%%:*} (package ${t#*:}): run scripts/setup.sh"
	done
}

peer_bin() {
	local b=$SAMPLES_OUT/tls_peer_$1
	[ -x "$b" ] || fail "sample peer $b not built: run 'make samples'"
	echo "$b"
}

pattern_file() {
	"$PY" -c '
import sys
n, seed = int(sys.argv[2]), int(sys.argv[3], 0)
with open(sys.argv[1], "wb") as f:
    f.write(bytes(((i * 31 + (i >> 8) + seed) & 255) for i in range(n)))
' "$1" "$2" "$3"
}

track_pid() { _E2E_PIDS+=("$1"); }

wait_bounded() {
	local pid=$1 secs=$2 rc=0
	if ! wait_pid_exit "$pid" "$secs"; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 124
	fi
	wait "$pid" || rc=$?
	return $rc
}

# run_fg OUT ERR CMD...: CMD in the background so that its pid is known, then waited for.
run_fg() {
	local out=$1 err=$2
	shift 2
	"$@" </dev/null >"$out" 2>"$err" &
	FG_PID=$!
	track_pid "$FG_PID"
	wait_bounded "$FG_PID" 60
}

pid_field() {
	"$PY" "$E2E_DIR/follow.py" streams "$1" | "$PY" -c '
import json, sys
pid, key = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    e = json.loads(line)
    for c in e["comments"]:
        if c.get("PID") == pid and key in c:
            print("%d\t%s" % (e["stream"], c[key]))
' "$2" "$3"
}

assert_pid_view() {
	local f=$1 pid=$2 role=$3 libre=$4 want=${5:-} libs roles n
	libs=$(pid_field "$f" "$pid" Library)
	[ -n "$libs" ] || fail "no stream has a comment with 'PID: $pid' and a Library line; streams: $(streams_summary "$f")"
	PID_STREAMS=$(printf '%s\n' "$libs" | cut -f1 | sort -nu | tr '\n' ' ')
	n=$(printf '%s\n' "$libs" | cut -f1 | sort -nu | wc -l)
	if [ -n "$want" ]; then
		assert_eq "$n" "$want" "number of streams of pid $pid"
	fi
	if cut -f2 <<<"$libs" | grep -vE -- "$libre" >/dev/null; then
		fail "pid $pid: Library does not match /$libre/ in: $(printf '%s\n' "$libs" | cut -f2 | sort -u | tr '\n' ';')"
	fi
	ok "pid $pid: Library /$libre/ ($(printf '%s\n' "$libs" | cut -f2 | sort -u | head -n 1)) in streams $PID_STREAMS"
	roles=$(pid_field "$f" "$pid" Role | cut -f2 | sort -u | tr '\n' ' ')
	assert_eq "$roles" "$role " "Role of pid $pid"
}

# streams_summary F: one line per stream (number, real ports, PIDs, commands), for messages
streams_summary() {
	"$PY" "$E2E_DIR/follow.py" streams "$1" | "$PY" -c '
import json, sys
out = []
for line in sys.stdin:
    e = json.loads(line)
    who = ",".join("%s/%s/%s" % (c.get("PID"), c.get("Cmd"), c.get("Library", "?"))
                   for c in e["comments"])
    out.append("#%d %s->%s [%s]" % (e["stream"], e["real_client_port"], e["real_server_port"], who))
print("; ".join(out) or "(none)")
'
}

assert_one_stream_per_connection() {
	local f=$1 dup
	shift
	dup=$("$PY" "$E2E_DIR/follow.py" streams "$f" | "$PY" -c '
import json, sys
ports = set(int(p) for p in sys.argv[1:])
seen = {}
for line in sys.stdin:
    e = json.loads(line)
    if e["real_server_port"] not in ports:
        continue
    seen.setdefault((e["real_client_port"], e["real_server_port"]), []).append(str(e["stream"]))
print("; ".join("%s->%s in streams %s" % (k[0], k[1], ",".join(v))
                for k, v in sorted(seen.items(), key=str) if len(v) > 1))
' "$@")
	[ -z "$dup" ] || fail "connections written as more than one stream: $dup; streams: $(streams_summary "$f")"
	ok "every connection to port(s) $* is one stream"
}

assert_http_stream() {
	local f=$1 s=$2
	assert_ge "$(frame_count "$f" "tcp.stream==$s && http.request")" 1 "HTTP requests dissected in stream $s"
	assert_ge "$(frame_count "$f" "tcp.stream==$s && http.response.code==200")" 1 "HTTP 200 responses dissected in stream $s"
}

assert_match() {
	local f=$1 port=$2 dir=$3 min=$4
	shift 4
	"$PY" "$E2E_DIR/follow.py" match "$f" --server-port "$port" --expect "$dir" --min-streams "$min" "$@" ||
		fail "capture is not byte-exact for the connections to port $port (expected: $dir); streams: $(streams_summary "$f")"
	ok "connections to port $port byte-exact in both directions ($(find "$dir" -name '*.c2s' | wc -l) expected)"
}

assert_peers_agree() {
	local f b
	for f in "$1"/*.c2s; do
		b=$(basename "$f" .c2s)
		cmp -s "$f" "$2/$b.c2s" && cmp -s "$1/$b.s2c" "$2/$b.s2c" ||
			fail "peers disagree on connection $b (no capture involved)"
	done
	ok "peers agree on all $(find "$1" -name '*.c2s' | wc -l) connections"
}

export_objects() {
	rm -rf "$2"
	mkdir -p "$2"
	tsh -r "$1" -q --export-objects "http,$2" >/dev/null || fail "tshark --export-objects failed"
}

assert_object_exported() {
	local dir=$1 file=$2 what=$3 o
	for o in "$dir"/*; do
		[ -f "$o" ] && cmp -s "$o" "$file" && {
			ok "$what: an exported HTTP object is identical to $(basename "$file") ($(stat -c %s "$file") bytes)"
			return 0
		}
	done
	fail "$what: no exported HTTP object identical to $(basename "$file") ($(stat -c %s "$file") bytes); objects: $(ls -l "$dir" | tail -n +2 | awk '{print $5, $9}' | tr '\n' ';')"
}

# run_sample_lib_test LIB LIBRE: the sample peer of LIB as client and server, and its
# client against nginx (OpenSSL). Judged: peers agree; the capture is clean, byte-exact
# both ways, HTTP dissected and exported, every PID with its Role and Library.
run_sample_lib_test() {
	local lib=$1 libre=$2 bin sp hp s pid
	local cli_pids=() ng_pids=()
	e2e_init
	bin=$(peer_bin "$lib")
	e2e_cert
	pattern_file resp.bin 300000 0x00 # the sample server's body (BODY_BYTES 300000)
	pattern_file req.bin 200000 0x5a  # a sample client's POST body (REQUEST_BYTES 200000)
	pattern_file nreq.bin 1000000 0x5a
	mkdir srv cli ncli
	pick_port
	hp=$PORT
	start_nginx "$hp"
	pick_port
	sp=$PORT
	cp resp.bin "$NGINX_ROOT/lib" # nginx's /lib: the same pattern, from OpenSSL
	start_capture out.pcapng

	# Sample server: 2 connections, then it exits.
	bg server.log env TLS_PEER_RECORD=srv "$bin" server "$sp" "$CERT" "$KEY" 2 300000
	local srv=$BG_PID
	wait_port "$sp" 10
	run_fg get.out get.err env TLS_PEER_RECORD=cli "$bin" client localhost "$sp" "$CERT" ||
		fail "sample client GET failed: $(cat get.err)"
	cli_pids+=("$FG_PID")
	run_fg post.out post.err env TLS_PEER_RECORD=cli "$bin" client localhost "$sp" "$CERT" 200000 ||
		fail "sample client POST failed: $(cat post.err)"
	cli_pids+=("$FG_PID")
	wait_pid_exit "$srv" 20 || fail "sample server still running after its 2 connections"
	wait "$srv" || fail "sample server failed: $(cat server.log)"
	# Sample client -> nginx: GET /lib and POST /echo.
	run_fg nget.out nget.err env TLS_PEER_RECORD=ncli "$bin" client localhost "$hp" "$CERT" ||
		fail "sample client GET to nginx failed: $(cat nget.err)"
	ng_pids+=("$FG_PID")
	run_fg npost.out npost.err env TLS_PEER_RECORD=ncli "$bin" client localhost "$hp" "$CERT" 1000000 /echo ||
		fail "sample client POST to nginx failed: $(cat npost.err)"
	ng_pids+=("$FG_PID")
	sleep 1 # let nginx finish its side of the closes
	stop_capture

	# The peers themselves (no capture involved).
	assert_files_equal get.out resp.bin "GET body received by the $lib client"
	assert_files_equal post.out resp.bin "POST answer received by the $lib client"
	assert_contains "$(cat server.log)" "POST /lib, 200000 body bytes" "$lib server log"
	assert_not_contains "$(cat server.log)" "NOT matching" "$lib server log"
	for s in cli/*.c2s; do
		cmp -s "$s" "srv/$(basename "$s")" && cmp -s "${s%.c2s}.s2c" "srv/$(basename "${s%.c2s}").s2c" ||
			fail "client and server records of $(basename "$s" .c2s) differ (no capture involved)"
	done
	ok "$lib client and server agree on both connections"
	assert_files_equal nget.out resp.bin "GET body received from nginx"
	assert_eq "$(cat npost.out)" "received 1000000 bytes" "nginx's answer to the POST"

	local F=out.pcapng
	assert_capture_clean "$F" "$sp" "$hp"

	# Who: each sample client has one stream, as a client, through LIB.
	for pid in "${cli_pids[@]}" "${ng_pids[@]}"; do
		assert_pid_view "$F" "$pid" client "$libre" 1
		assert_contains "$(pid_field "$F" "$pid" Cmd | cut -f2)" "tls_peer_" "Cmd of pid $pid"
		assert_http_stream "$F" "${PID_STREAMS% }"
	done
	assert_pid_view "$F" "$srv" server "$libre" 2
	local w found=""
	for w in $(nginx_worker_pids); do
		[ -n "$(pid_field "$F" "$w" Library)" ] && found=$w
	done
	[ -n "$found" ] || fail "no stream with the nginx worker's PID ($(nginx_worker_pids | tr '\n' ' '))"
	assert_pid_view "$F" "$found" server '^OpenSSL 3'

	# What: byte for byte, both directions, both servers.
	assert_match "$F" "$sp" cli 2
	assert_match "$F" "$hp" ncli 2
	local reqs
	reqs=$(tfields "$F" "http.request && (tcp.port==$sp || tcp.port==$hp)" http.request.method http.request.uri | sort | uniq -c)
	log "HTTP requests:"$'\n'"$reqs"
	assert_contains "$reqs" "2 GET	/lib" "HTTP requests (sample server and nginx)"
	assert_contains "$reqs" "1 POST	/lib" "HTTP requests"
	assert_contains "$reqs" "1 POST	/echo" "HTTP requests"
	export_objects "$F" objs
	assert_object_exported objs resp.bin "response body"
	assert_object_exported objs req.bin "POST body to the $lib server"
	assert_object_exported objs nreq.bin "POST body to nginx"
	log "PASS"
}

# nginx_plain_port: the plain-HTTP backend port of start_nginx's configuration (a first,
# non-TLS request lets a freshly started curl wait before its TLS transfers).
nginx_plain_port() {
	grep -oE 'listen 127\.0\.0\.1:[0-9]+;' "$NGINX_DIR/nginx.conf" | head -n 1 | grep -oE '[0-9]+'
}

# list_block OUT PATH: the block of "tlspcap --list" output OUT that starts with PATH
list_block() {
	awk -v p="$2" '$0 == p {on = 1} on && $0 == "" {exit} on {print}' "$1"
}

assert_capture_clean() {
	local f=$1
	shift
	assert_tshark_reads "$f"
	assert_no_expert_warnings "$f"
	assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
	log "streams: $(streams_summary "$f")"
	assert_one_stream_per_connection "$f" "$@"
}

# Which OpenSSL node uses: Debian's own nodejs links libssl.so.3 (through libnode), the
# nodesource build has it inside the executable.
node_init() {
	need_tools node:nodejs
	NODE=$(readlink -f "$(command -v node)")
	if grep -q 'libssl\.so\.3' <<<"$(ldd "$NODE" 2>/dev/null)"; then
		LIBRE='^OpenSSL 3.*libssl\.so\.3'
	else
		LIBRE="OpenSSL.*\\($NODE\\)"
	fi
	log "node $(node --version) ($NODE), OpenSSL $(node -p process.versions.openssl): expecting Library /$LIBRE/"
}

# start_nginx_downloads [SPEC...]: nginx on $HP (and the listeners SPEC... of start_nginx)
start_nginx_downloads() {
	pick_port
	HP=$PORT
	start_nginx "$HP" "$@"
	BACK=$(nginx_plain_port)
	[ -n "$BACK" ] || fail "no plain-HTTP port in nginx.conf"
	head -c 1000000 /dev/urandom >"$NGINX_ROOT/big.bin"
	head -c 300000 /dev/urandom >post.bin
}

write_get_post_client() {
	{
		cat
		cat <<'PY'
base = "https://127.0.0.1:%s" % port
with urllib.request.urlopen(base + "/big.bin", context=ctx, timeout=20) as r:
    open("py-big.bin", "wb").write(r.read())
req = urllib.request.Request(base + "/echo", data=open("post.bin", "rb").read(), method="POST",
                             headers={"Content-Type": "application/octet-stream"})
with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
    open("py-post.out", "wb").write(r.read())
PY
	} >"$1"
}

assert_exported_copies() {
	local dir=$1 file=$2 want=$3 what=$4 o n=0
	for o in "$dir"/*; do cmp -s "$o" "$file" && n=$((n + 1)); done
	assert_eq "$n" "$want" "$what"
}

assert_post_body() {
	local f=$1 pid=$2 body=$3 s
	s=$(pid_field "$f" "$pid" Library | cut -f1 | sort -n | tail -n 1)
	stream_bytes "$f" "$s" client >post-c2s.bin
	tail -c "$(stat -c %s "$body")" post-c2s.bin >post-body.bin
	assert_files_equal post-body.bin "$body" "python's POST body in stream $s"
}

tls_server_port() {
	e2e_cert
	pick_port
	P=$PORT
}

start_py_server() {
	local max=$1 life=$2
	shift 2
	bg server.log "$PY" "$E2E_DIR/tls_peer.py" server --port "$P" --cert "$CERT" --key "$KEY" \
		--out srv --max-conns "$max" --lifetime "$life" "$@"
	SRV=$BG_PID
	wait_port "$P" 10
}

# run_py_clients DIR COUNT CONCURRENCY SEED SIZES: COUNT tls_peer.py connections to a server
# started for them on $P, both ends' records in DIR (and srv); returns once both are done
run_py_clients() {
	local dir=$1 n=$2
	start_py_server "$n" 100
	mv server.log "server-$dir.log"
	bg "client-$dir.log" "$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out "$dir" \
		--count "$n" --concurrency "$3" --seed "$4" --sizes "$5"
	CLI=$BG_PID
	wait_pid_exit "$CLI" 60 || fail "client still running after 60 s"
	wait "$CLI" || { cat "client-$dir.log" >&2; fail "tls_peer client failed"; }
	wait_pid_exit "$SRV" 20 || fail "server did not finish its $n connections"
	sleep 0.5
}

start_slow_client() {
	local i
	# 4 MB at 2000 bytes per 10 ms: ~20 s if left alone
	bg client.log "$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out cli \
		--sizes 4000000 --slow 2000 --progress progress
	CLI=$BG_PID
	for ((i = 0; i < 300; i++)); do
		[ -s progress ] && [ "$(cat progress)" -ge 300000 ] && break
		sleep 0.1
	done
	[ -s progress ] && [ "$(cat progress)" -ge 300000 ] || fail "client did not send 300000 bytes in 30 s"
}

connection_streams() {
	"$PY" "$E2E_DIR/follow.py" streams "$1" | "$PY" -c '
import json,sys
for l in sys.stdin:
    e=json.loads(l)
    if e["real_client_port"]==int(sys.argv[1]) and e["real_server_port"]==int(sys.argv[2]): print(e["stream"])' "$2" "$3"
}

assert_prefix_of_intended() {
	local f=$1 what=$2 intended cport
	intended=$(ls cli/*.c2s.intended)
	cport=$(basename "$intended" .c2s.intended)
	mkdir expect
	cp "$intended" "expect/$cport.c2s"
	: >"expect/$cport.s2c"
	"$PY" "$E2E_DIR/follow.py" match "$f" --server-port "$P" --expect expect --prefix ||
		fail "$what is not a prefix of the intended bytes"
}
