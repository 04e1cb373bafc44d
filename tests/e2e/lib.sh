# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Harness for the end-to-end tests: source it from tests/e2e/test_*.sh.
#
#   e2e_tmpdir                  work dir in $E2E_TMP; an EXIT trap stops the capture,
#                               every tracked background process and nginx, then removes it
#                               (kept on failure when $E2E_WORKDIR is set, or with E2E_KEEP=1)
#   bg LOG CMD...               start CMD in the background, output to LOG, pid in $BG_PID
#   e2e_cert                    self-signed cert for localhost/127.0.0.1/::1: $CERT $KEY
#   pick_port                   free loopback TCP port (20000-29999) in $PORT
#   start_nginx SPEC...         nginx with TLS listeners; SPEC = PORT | 127.0.0.1:PORT |
#                               [::1]:PORT, optionally followed by ",http2".
#                               Docroot $NGINX_ROOT; POST /echo reads the whole body and
#                               answers "received N bytes"; $NGINX_EXTRA (if set) goes
#                               into the TLS server block. $NGINX_PID (master),
#                               nginx_worker_pids prints the workers.
#   start_capture OUT [ARGS]    $TLSPCAP -w OUT ARGS in the background; waits for
#                               "tlspcap: capturing". OUT "-" writes stdout to $CAPTURE_STDOUT.
#   stop_capture [SIG]          SIGINT (or SIG), wait <= 30 s, assert exit 0
#   capture_stat NAME           number before NAME in the summary ("records", "bytes lost")
#   wait_probed FILE            the capture (started with -v) says it probes FILE (exec'd late)
#   need_ipv6                   skip the test unless ::1 is on lo
#   wait_port PORT [SECS]       wait_file_line FILE REGEX SECS   wait_pid_exit PID SECS
#   assert_tshark_reads F       assert_no_expert_warnings F [ARGS]  frame_count F [FILTER]
#   assert_no_secrets F SECRET...  none in F's bytes (a .zst: its decompressed bytes)
#   tfields F FILTER FIELD...   stream_bytes F STREAM client|server
#   h2_header_fields F FIELD TSHARK_ARGS...   "name<TAB>value|repr" per HTTP/2 header field
#   streams_with_comment F REGEX   streams_with_key F KEY VALUE  stream_comment F STREAM
#   probe_links                 number of BPF links whose program is one of tlspcap's
#   assert_eq A B WHAT  assert_ne A B WHAT  assert_ge A B WHAT  assert_contains HAY NEEDLE WHAT
#   assert_files_equal F1 F2 WHAT  fail MSG  log MSG  ok MSG
#
# Conventions: every wait is bounded; a test prints "ok: ..." per check and exits non-zero
# on the first failed one; exit 77 only for a genuinely impossible environment.

set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
TLSPCAP=${TLSPCAP:-$REPO/tlspcap}
# System python: linked against the system libssl.so.3 (pyenv shims vary between machines).
PY=${E2E_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3)
E2E_NAME=$(basename "$0" .sh)
export LC_ALL=C

E2E_TMP=""
BG_PID=""
CAPTURE_PID=""
CAPTURE_LOG=""
CAPTURE_OUT=""
CAPTURE_STATUS=""
CAPTURE_STDOUT=""
NGINX_DIR=""
NGINX_ROOT=""
NGINX_PID=""
_E2E_PIDS=()
_E2E_NGINX_PIDFILES=()
_E2E_NCAPTURES=0

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$E2E_NAME" "$*"; }
ok() { log "ok: $*"; }
fail() {
	printf '[%s %s] FAIL: %s\n' "$(date +%H:%M:%S)" "$E2E_NAME" "$*" >&2
	exit 1
}
skip() {
	echo "$*"
	exit 77
}

# ---------------------------------------------------------------- process tracking

_e2e_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# wait_pid_exit PID SECS -> 0 once PID is gone, 1 on timeout
wait_pid_exit() {
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		_e2e_alive "$pid" || return 0 # bash reaps its own children: no zombies
		sleep 0.1
	done
	! _e2e_alive "$pid"
}

_e2e_stop_pid() { # PID: TERM, wait <= 5 s, KILL
	local pid=$1
	_e2e_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait_pid_exit "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
}

_e2e_cleanup() {
	local rc=$? p i
	set +e
	trap - EXIT INT TERM
	if _e2e_alive "$CAPTURE_PID"; then
		kill -INT "$CAPTURE_PID" 2>/dev/null
		wait_pid_exit "$CAPTURE_PID" 10 || kill -KILL "$CAPTURE_PID" 2>/dev/null
	fi
	for p in "${_E2E_NGINX_PIDFILES[@]}"; do
		[ -s "$p" ] && _e2e_stop_pid "$(cat "$p")"
	done
	for ((i = ${#_E2E_PIDS[@]} - 1; i >= 0; i--)); do
		_e2e_stop_pid "${_E2E_PIDS[$i]}"
	done
	wait 2>/dev/null
	if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
		if [ "${E2E_KEEP:-0}" = 1 ] || { [ $rc -ne 0 ] && [ -n "${E2E_WORKDIR:-}" ]; }; then
			echo "[$E2E_NAME] work dir kept: $E2E_TMP" >&2
		else
			rm -rf "$E2E_TMP"
		fi
	fi
	exit $rc
}
trap _e2e_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# e2e_tmpdir: create the test's work dir ($E2E_TMP) and cd into it.
e2e_tmpdir() {
	[ -n "$E2E_TMP" ] && return 0
	if [ -n "${E2E_WORKDIR:-}" ]; then
		mkdir -p "$E2E_WORKDIR"
		E2E_TMP=$(mktemp -d "$E2E_WORKDIR/$E2E_NAME.XXXXXX")
	else
		E2E_TMP=$(mktemp -d "/tmp/tlspcap-e2e-$E2E_NAME.XXXXXX")
	fi
	chmod 755 "$E2E_TMP"
	cd "$E2E_TMP"
}

# e2e_init: root check, tools check, work dir. Every test calls it first.
e2e_init() {
	[ "$(id -u)" -eq 0 ] || fail "e2e tests must run as root"
	local t
	for t in tshark curl openssl nginx ss timeout cmp pgrep "$PY"; do
		command -v "$t" >/dev/null || fail "missing tool $t: run scripts/setup.sh"
	done
	e2e_tmpdir
	log "work dir $E2E_TMP, tlspcap $TLSPCAP"
}

# bg LOG CMD... : start CMD in the background (tracked, killed at exit); pid in $BG_PID.
bg() {
	local out=$1
	shift
	"$@" </dev/null >"$out" 2>&1 &
	BG_PID=$!
	_E2E_PIDS+=("$BG_PID")
}

# ---------------------------------------------------------------- waiting

# wait_port PORT [SECS]: a TCP listener on PORT (any address) within SECS (10).
wait_port() {
	local port=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	fail "nothing listens on port $port after ${secs}s"
}

# wait_file_line FILE REGEX SECS: a line of FILE matches REGEX (ERE) within SECS.
wait_file_line() {
	local file=$1 re=$2 secs=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		[ -f "$file" ] && grep -qE -- "$re" "$file" && return 0
		sleep 0.1
	done
	return 1
}

# need_ipv6: skip unless ::1 is on lo.
need_ipv6() {
	grep -qw '::1' <<<"$(ip -6 addr show dev lo 2>/dev/null)" || skip "no ::1 on lo (IPv6 disabled)"
}

# wait_probed FILE: the running capture (started with -v) probes FILE within 20 s. A program
# found at its exec runs unprobed until then, and connections it opened before are joined
# mid-connection: a test that is not about that waits here before any traffic.
wait_probed() {
	wait_file_line "$CAPTURE_LOG" "^tlspcap: probing .*\\($1\\): " 20 ||
		fail "the capture did not say it probes $1 within 20 s (start_capture ... -v?)"
	ok "the capture probes $1"
}

# wait_file_size FILE BYTES SECS: FILE has at least BYTES within SECS.
wait_file_size() {
	local file=$1 want=$2 secs=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		[ -f "$file" ] && [ "$(stat -c %s "$file")" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

port_busy() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

# pick_port: a free port in 20000-29999 (below the ephemeral range, not a TLS port
# tshark knows) in $PORT.
_E2E_PORTS_GIVEN=" "
pick_port() {
	local i
	for ((i = 0; i < 200; i++)); do
		PORT=$((20000 + RANDOM % 10000))
		# a port handed out earlier may not be bound yet: never give it twice
		[[ $_E2E_PORTS_GIVEN == *" $PORT "* ]] && continue
		if ! port_busy "$PORT"; then
			_E2E_PORTS_GIVEN+="$PORT "
			return 0
		fi
	done
	fail "no free port found"
}

# wait_port_free PORT SECS: another test on this machine may hold a fixed port (443).
wait_port_free() {
	local port=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		port_busy "$port" || return 0
		sleep 0.1
	done
	fail "port $port still in use after ${secs}s: $(ss -Hltnp "sport = :$port" | head -n 3)"
}

# ---------------------------------------------------------------- certificates

# e2e_cert: $CERT/$KEY, made once per work dir.
e2e_cert() {
	CERT=$E2E_TMP/tls/cert.pem
	KEY=$E2E_TMP/tls/key.pem
	[ -s "$CERT" ] && [ -s "$KEY" ] && return 0
	mkdir -p "$E2E_TMP/tls"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$KEY" -out "$CERT" -days 30 \
		-subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
		>"$E2E_TMP/tls/req.log" 2>&1 || {
		cat "$E2E_TMP/tls/req.log" >&2
		fail "openssl req failed"
	}
}

# ---------------------------------------------------------------- nginx

# start_nginx SPEC... (see the header). One nginx per test.
start_nginx() {
	local spec addr flags listens="" ports=() back p
	[ $# -gt 0 ] || fail "start_nginx: no listener"
	e2e_cert
	NGINX_DIR=$E2E_TMP/nginx
	NGINX_ROOT=$NGINX_DIR/www
	mkdir -p "$NGINX_ROOT" "$NGINX_DIR/tmp"
	for spec in "$@"; do
		addr=${spec%%,*}
		flags=""
		[ "$addr" != "$spec" ] && flags=${spec#*,}
		case $addr in
		*:*) ;;
		*) addr=127.0.0.1:$addr ;;
		esac
		ports+=("${addr##*:}")
		listens+="        listen $addr ssl${flags:+ ${flags//,/ }};"$'\n'
	done
	pick_port
	back=$PORT
	cat >"$NGINX_DIR/nginx.conf" <<EOF
user root root;
worker_processes 1;
daemon off;
master_process on;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log info;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/octet-stream;
    keepalive_timeout 10;
    client_body_temp_path $NGINX_DIR/tmp/body;
    proxy_temp_path $NGINX_DIR/tmp/proxy;
    fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
    scgi_temp_path $NGINX_DIR/tmp/scgi;
    server {
$listens
        server_name localhost;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        root $NGINX_ROOT;
        # nginx answers POST on a static location with 405 without reading the body;
        # proxying buffers the whole request body first (proxy_request_buffering on),
        # so every body byte goes through SSL_read.
        location = /echo {
            client_max_body_size 64m;
            proxy_pass http://127.0.0.1:$back/sink;
            proxy_http_version 1.1;
        }
${NGINX_EXTRA:-}
    }
    server {
        listen 127.0.0.1:$back;
        location / {
            client_max_body_size 64m;
            return 200 "received \$content_length bytes\n";
        }
    }
}
EOF
	_E2E_NGINX_PIDFILES+=("$NGINX_DIR/nginx.pid")
	bg "$NGINX_DIR/stderr.log" nginx -p "$NGINX_DIR" -e "$NGINX_DIR/error.log" -c "$NGINX_DIR/nginx.conf"
	NGINX_PID=$BG_PID
	for p in "${ports[@]}" "$back"; do
		if ! _e2e_alive "$NGINX_PID"; then
			cat "$NGINX_DIR/stderr.log" "$NGINX_DIR/error.log" >&2 2>/dev/null
			fail "nginx exited at start"
		fi
		wait_port "$p" 10
	done
	log "nginx pid $NGINX_PID listening on $* (backend $back)"
}

nginx_worker_pids() { pgrep -P "$NGINX_PID" || true; }

# ---------------------------------------------------------------- capture

# start_capture OUT [ARGS...]
start_capture() {
	local out=$1 i
	shift
	[ -x "$TLSPCAP" ] || fail "tlspcap binary not found at $TLSPCAP (make tlspcap)"
	_e2e_alive "$CAPTURE_PID" && fail "start_capture: a capture is already running"
	_E2E_NCAPTURES=$((_E2E_NCAPTURES + 1))
	# shellcheck disable=SC2034 # for the tests
	CAPTURE_OUT=$out
	CAPTURE_LOG=$E2E_TMP/tlspcap.$_E2E_NCAPTURES.log
	CAPTURE_STATUS=""
	log "start: $TLSPCAP -w $out $*"
	# Background jobs of a script ignore SIGINT: give tlspcap the default back.
	if [ "$out" = - ]; then
		: "${CAPTURE_STDOUT:=$E2E_TMP/stdout.pcapng}"
		env --default-signal=INT "$TLSPCAP" -w - "$@" </dev/null >"$CAPTURE_STDOUT" 2>"$CAPTURE_LOG" &
	else
		env --default-signal=INT "$TLSPCAP" -w "$out" "$@" </dev/null >"$E2E_TMP/tlspcap.$_E2E_NCAPTURES.stdout" 2>"$CAPTURE_LOG" &
	fi
	CAPTURE_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -q '^tlspcap: capturing' "$CAPTURE_LOG" 2>/dev/null && break
		if ! _e2e_alive "$CAPTURE_PID"; then
			wait "$CAPTURE_PID" && i=0 || i=$?
			tail -n 30 "$CAPTURE_LOG" >&2
			fail "tlspcap exited (status $i) before 'tlspcap: capturing'"
		fi
		sleep 0.1
	done
	if ! grep -q '^tlspcap: capturing' "$CAPTURE_LOG"; then
		tail -n 30 "$CAPTURE_LOG" >&2
		fail "tlspcap did not print 'tlspcap: capturing' within 20 s"
	fi
	log "tlspcap pid $CAPTURE_PID: $(grep -m1 '^tlspcap: capturing' "$CAPTURE_LOG")"
}

# stop_capture [SIG]: signal (INT), wait <= 30 s, assert exit status 0.
stop_capture() {
	local sig=${1:-INT}
	[ -n "$CAPTURE_PID" ] || fail "stop_capture: no capture started"
	kill -s "$sig" "$CAPTURE_PID" 2>/dev/null || true
	if ! wait_pid_exit "$CAPTURE_PID" 30; then
		tail -n 30 "$CAPTURE_LOG" >&2
		kill -KILL "$CAPTURE_PID" 2>/dev/null
		fail "tlspcap still running 30 s after SIG$sig"
	fi
	CAPTURE_STATUS=0
	wait "$CAPTURE_PID" || CAPTURE_STATUS=$?
	CAPTURE_PID=""
	grep '^tlspcap:' "$CAPTURE_LOG" | tail -n 3 | sed "s/^/[$E2E_NAME]   /"
	if [ "$CAPTURE_STATUS" -ne 0 ]; then
		tail -n 30 "$CAPTURE_LOG" >&2
		fail "tlspcap exited with status $CAPTURE_STATUS after SIG$sig (want 0)"
	fi
	ok "tlspcap exited 0 after SIG$sig"
}

# capture_stat NAME [LOG]: the number before NAME in the last summary line (then in the
# "tlspcap: lost:" line), e.g. capture_stat "bytes lost" -> 0 for
# "tlspcap: 3 connections, ..., 0 bytes lost".
capture_stat() {
	local name=$1 logf=${2:-$CAPTURE_LOG} line v
	line=$(grep -E "^tlspcap: .*[0-9]+ connections" "$logf" | tail -n 1)
	[ -n "$line" ] || fail "no summary line 'tlspcap: N connections, ...' in $logf"
	line+=" $(grep -E '^tlspcap: lost: ' "$logf" | tail -n 1)" # then the loss line
	v=$(printf '%s\n' "$line" | grep -oE "[0-9]+ $name([,;()[:space:]]|\$)" | head -n 1 | grep -oE '^[0-9]+')
	[ -n "$v" ] || fail "summary line has no '$name': $line"
	echo "$v"
}

# ---------------------------------------------------------------- tshark judging

tsh() { tshark -n "$@" 2>/dev/null; }

assert_tshark_reads() {
	local f=$1 rc=0
	[ -s "$f" ] || fail "$f is missing or empty"
	tshark -n -r "$f" >/dev/null 2>"$E2E_TMP/tshark.err" || rc=$?
	if [ $rc -ne 0 ]; then
		grep -v '^Running as user' "$E2E_TMP/tshark.err" | tail -n 5 >&2
		fail "tshark -r $f exited $rc"
	fi
	ok "tshark reads $(basename "$f") ($(frame_count "$f") frames)"
	# Within a stream, frames never go back in time.
	rc=$(tsh -r "$f" -o tcp.calculate_timestamps:TRUE -Y 'tcp.time_delta < 0' -T fields -e frame.number | wc -l)
	[ "$rc" -eq 0 ] || fail "$rc frames of $(basename "$f") are earlier than the frame before them in their stream"
}

# assert_no_expert_warnings F [TSHARK_ARGS...]: e.g. -d tcp.port==$P,data for streams of
# random binary payload, which tshark's heuristic dissectors (SMPP, ...) would otherwise
# misread as some protocol and flag as malformed — not the tool's fault.
assert_no_expert_warnings() {
	local f=$1 out
	shift
	out=$(tsh -r "$f" "$@" -q -z expert,warn) || fail "tshark expert on $f failed"
	if grep -qE '^(Errors|Warns|Warnings) \(' <<<"$out"; then
		printf '%s\n' "$out" | head -n 40 >&2
		fail "tshark expert info of $(basename "$f") has warnings/errors"
	fi
	ok "no expert warnings or errors in $(basename "$f")"
}

# secret: a distinct random secret to plant (S and 24 hex digits), one a call.
secret() { printf 'S%s' "$(openssl rand -hex 12)"; }

# assert_no_secrets F SECRET...: not one SECRET in the bytes of F, or for a .zst in its
# decompressed bytes (compressed bytes would hide a secret: a grep there cannot fail).
assert_no_secrets() {
	local f=$1 bytes=$1 s
	shift
	[ -s "$f" ] || fail "$f is missing or empty"
	if [[ $f == *.zst ]]; then
		bytes=$E2E_TMP/$(basename "$f" .zst).decompressed
		zstd -q -dc "$f" >"$bytes" || fail "zstd -d $f"
	fi
	for s in "$@"; do
		[ -n "$s" ] || fail "assert_no_secrets: an empty secret"
		if grep -q -a -F -e "$s" "$bytes"; then
			fail "secret $s is in $(basename "$bytes")"
		fi
	done
	ok "none of $# secrets is in $(basename "$bytes") ($(stat -c %s "$bytes") bytes)"
}

# frame_count F [FILTER]
frame_count() {
	if [ $# -gt 1 ]; then
		tsh -r "$1" -Y "$2" -T fields -e frame.number | wc -l
	else
		tsh -r "$1" -T fields -e frame.number | wc -l
	fi
}

# tfields F FILTER FIELD... : one line per matching frame, TAB-separated
tfields() {
	local f=$1 filter=$2 a=()
	shift 2
	for x in "$@"; do a+=(-e "$x"); done
	tsh -r "$f" -Y "$filter" -T fields "${a[@]}"
}

# h2_header_fields F FIELD TSHARK_ARGS...: one "name<TAB>FIELD" line per HTTP/2 header
# field of the frames TSHARK_ARGS select (-Y ...), FIELD being http2.header.value or
# http2.header.repr (the unit separator keeps values with commas whole)
h2_header_fields() {
	local f=$1 field=$2
	shift 2
	tsh -r "$f" "$@" -T fields -E aggregator=$'\x1f' -e http2.header.name -e "$field" |
		"$PY" -c '
import sys
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if len(f) == 2:
        for n, v in zip(f[0].split("\x1f"), f[1].split("\x1f")):
            print(n + "\t" + v)'
}

# stream_bytes F STREAM client|server : payload of one direction of tcp.stream to stdout
stream_bytes() { "$PY" "$E2E_DIR/follow.py" bytes "$1" "$2" "$3"; }

# streams_with_comment F REGEX: tcp.stream numbers whose comment matches REGEX (ERE);
# newlines of the comment appear as the two characters \n.
streams_with_comment() {
	tsh -r "$1" -Y frame.comment -T fields -e tcp.stream -e frame.comment |
		grep -E -- "$2" | cut -f1 | sort -nu || true
}

# streams_with_key F KEY VALUE: tcp.stream numbers with a comment line "KEY: VALUE"
streams_with_key() { "$PY" "$E2E_DIR/follow.py" with-key "$1" "$2" "$3"; }

# stream_comment F STREAM: the comment(s) of a stream, real newlines
stream_comment() { "$PY" "$E2E_DIR/follow.py" comment "$1" "$2"; }

# ---------------------------------------------------------------- assertions

assert_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; ok "$3 = '$2'"; }
assert_ne() { [ "$1" != "$2" ] || fail "$3: got '$1', want anything else"; ok "$3 != '$2'"; }
assert_ge() { [ "$1" -ge "$2" ] || fail "$3: got $1, want >= $2"; ok "$3 = $1 (>= $2)"; }
assert_contains() {
	case $1 in
	*"$2"*) ok "$3 contains '$2'" ;;
	*) fail "$3: '$2' not found in: $(printf '%s' "$1" | head -c 600)" ;;
	esac
}
assert_not_contains() {
	case $1 in
	*"$2"*) fail "$3: unexpected '$2' in: $(printf '%s' "$1" | head -c 600)" ;;
	*) ok "$3 does not contain '$2'" ;;
	esac
}
assert_files_equal() {
	cmp "$1" "$2" >/dev/null 2>&1 ||
		fail "$3: $1 ($(stat -c %s "$1" 2>/dev/null) bytes) differs from $2 ($(stat -c %s "$2" 2>/dev/null) bytes): $(cmp "$1" "$2" 2>&1 | head -n 1)"
	ok "$3: identical ($(stat -c %s "$1") bytes)"
}

# ---------------------------------------------------------------- BPF
# probe_links: BPF links whose program is one of tlspcap's (all are named probe_*).
probe_links() {
	bpftool -j prog show >"$E2E_TMP/progs.json" && bpftool -j link show >"$E2E_TMP/links.json" &&
		"$PY" -c '
import json, sys
progs = {p["id"]: p.get("name", "") for p in json.load(open(sys.argv[1]))}
print(sum(progs.get(l.get("prog_id"), "").startswith("probe_") for l in json.load(open(sys.argv[2]))))' \
			"$E2E_TMP/progs.json" "$E2E_TMP/links.json"
}
