#!/usr/bin/env bash
# A Go server already running when a system-wide capture starts is found through
# /proc/PID/exe and probed at the start: its view of curl's new connection (3 requests) is
# whole, byte-exact, with its PID and Go library; the connection a keep-alive Go client
# opened before the start is marked joined mid-connection, its later POST bodies whole.
# Then, a system-wide capture already running when a Go server and then a Go client start (new
# execs of a binary tlspcap has never seen): the executable is probed at its exec, and the
# client's requests over its ~300 ms of life are all captured, byte-exact. Then, ten times,
# a copy of the binary made after tlspcap started (a file never seen) runs at once as a
# client (no waiting for its probes): 6 requests 50 ms apart on one connection. Each copy
# is probed at its exec within 100 ms and its connection is in the file with its PID; for
# three, its bytes: the same as the server's view when the probes beat its first TLS call,
# else marked joined mid-connection, each direction a tail of the server's view from its
# first recorded byte on, with at least 3 whole answers and POST bodies (a Read already
# parked at the attach returns unseen: the first answer after it lacks its head). The
# window between each exec and its probes being attached is reported (tlspcap -v and the
# summary's least/median/most).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
source "$(dirname "$0")/lib_go.sh"
go_init
"$G" pattern 100000 blob.bin
head -c 50000 /dev/urandom >post.bin
head -c 20000 /dev/urandom >ka.bin

# A Go server running before tlspcap starts, found through /proc/PID/exe by the discovery
# at start: a copy of $G, which the part below wants unseen. A keep-alive client connects
# before the start and sends again after it.
cp "$G" "$E2E_TMP/early"
pick_port
P0=$PORT
start_go_server "$E2E_TMP/early" "$P0" early.log -h1
EARLY=$GO_SRV
bg ka.log "$E2E_TMP/early" http-client -url "https://127.0.0.1:$P0" -ca "$CERT" -get 1000 -post ka.bin -h1 \
	-repeat 6 -pause 1s
KA=$BG_PID
for ((i = 0; i < 50; i++)); do
	ka_port=$(ss -Htn state established "( dport = :$P0 )" | awk '{ sub(/.*:/, "", $3); print $3 }' | head -n 1)
	[ -n "$ka_port" ] && break
	sleep 0.1
done
[ -n "$ka_port" ] || fail "the keep-alive client did not connect within 5 s"
start_capture early.pcapng -v
grep -qE "^tlspcap: probing Go crypto/tls .*\($E2E_TMP/early\)" "$CAPTURE_LOG" ||
	fail "the discovery at start did not probe the running Go server: $(grep -E 'probing' "$CAPTURE_LOG" | head -n 5)"
run_fg early-curl.out early-curl.err curl -sS --http1.1 --cacert "$CERT" --max-time 30 -o early-1.bin \
	"https://127.0.0.1:$P0/blob/100000" --next --http1.1 --cacert "$CERT" --max-time 30 --data-binary @post.bin \
	"https://127.0.0.1:$P0/echo" --next --http1.1 --cacert "$CERT" --max-time 30 -o early-2.bin \
	"https://127.0.0.1:$P0/blob/100000" || fail "curl -> the running Go server: $(cat early-curl.err)"
assert_files_equal early-1.bin blob.bin "curl's download from the running Go server (no capture involved)"
assert_contains "$(cat early-curl.out)" "received 50000 bytes $(sha256sum <post.bin | cut -d' ' -f1)" "the running Go server's answer to curl's POST"
wait_pid_exit "$KA" 15 || fail "the keep-alive client still runs after 15 s"
wait "$KA" || fail "keep-alive client: $(cat ka.log)"
assert_eq "$(cat ka.log)" "ok HTTP/1.1" "the keep-alive client, started before tlspcap"
sleep 0.5
stop_capture
kill "$EARLY"
F=early.pcapng
assert_tshark_reads "$F"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
assert_pid_view "$F" "$EARLY" server "$(go_library_re "$E2E_TMP/early")" 2
early_streams=${PID_STREAMS% }
for s in $early_streams; do
	comment=$(stream_comment "$F" "$s")
	if grep -qE "^Remote: 127\.0\.0\.1:$ka_port\$" <<<"$comment"; then
		ka_stream=$s
		assert_contains "$comment" "joined mid-connection" "the running Go server's view of the connection opened before the start (stream $s)"
	else
		assert_not_contains "$comment" "joined mid-connection" "the running Go server's view of curl's new connection (stream $s)"
	fi
done
[ -n "${ka_stream:-}" ] || fail "no stream of the running Go server for the keep-alive client's port $ka_port"
mkdir -p early-objects
tsh -r "$F" -2 -R "tcp.stream in {${early_streams// /,}}" --export-objects http,early-objects >/dev/null
assert_exported_copies early-objects blob.bin 2 "the running Go server's answers to curl's new connection (its view)"
assert_exported_copies early-objects post.bin 1 "curl's POST body as the running Go server read it"
n=0
for o in early-objects/*; do cmp -s "$o" ka.bin && n=$((n + 1)); done
assert_ge "$n" 3 "whole POST bodies of the keep-alive client after the start, as the running Go server read them"

pick_port
P1=$PORT

start_capture out.pcapng -v
grep -q "$G" "$CAPTURE_LOG" && fail "tlspcap knew $G before it ran"
start_go_server "$G" "$P1" srv.log -h1
wait_probed "$G"
run_fg cli.out cli.err "$G" http-client -url "https://127.0.0.1:$P1" -ca "$CERT" -get 100000 \
	-post post.bin -h1 -repeat 6 -pause 50ms || fail "Go client: $(cat cli.err)"
CLI=$FG_PID
assert_eq "$(cat cli.out)" "ok HTTP/1.1" "Go client started after tlspcap"
COPIES=10
declare -A COPY_PID
for ((i = 1; i <= COPIES; i++)); do
	cp "$G" "$E2E_TMP/fresh$i"
	run_fg "fresh$i.out" "fresh$i.err" "$E2E_TMP/fresh$i" http-client -url "https://127.0.0.1:$P1" -ca "$CERT" \
		-get 100000 -post post.bin -h1 -repeat 6 -pause 50ms || fail "fresh copy $i: $(cat "fresh$i.err")"
	COPY_PID[$i]=$FG_PID
	assert_eq "$(cat "fresh$i.out")" "ok HTTP/1.1" "fresh copy $i of the Go client, run at once"
done
sleep 0.5
stop_capture

windows=$(grep -oE "probing Go crypto/tls .*\\($G\\): [0-9]+ functions, [0-9.]+ ms after its exec" "$CAPTURE_LOG" |
	grep -oE '[0-9.]+ ms' || true)
[ -n "$windows" ] || fail "tlspcap -v did not report probing $G at an exec: $(grep -E 'probing|not probing' "$CAPTURE_LOG" | head -n 5)"
log "exec -> attached: $(printf '%s\n' "$windows" | tr '\n' ' ')"

line=$(grep '^tlspcap: programs probed at their exec' "$CAPTURE_LOG") || fail "no exec window line in the summary"
log "$line"
assert_ge "$(grep -oE 'exec: [0-9]+' <<<"$line" | grep -oE '[0-9]+')" $((COPIES + 1)) "programs probed at their exec (summary): the server and the copies"

F=out.pcapng
assert_tshark_reads "$F"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
assert_pid_view "$F" "$CLI" client "$(go_library_re "$G")"
assert_pid_view "$F" "$GO_SRV" server "$(go_library_re "$G")"
mkdir -p objects
streams=${PID_STREAMS% }
# -2 -R: only the server's streams go to the tap (-Y would export them all)
tsh -r "$F" -2 -R "tcp.stream in {${streams// /,}}" --export-objects http,objects >/dev/null
assert_exported_copies objects blob.bin $((6 * (COPIES + 1))) "the answers to the late Go clients (the server's view)"
assert_exported_copies objects post.bin $((6 * (COPIES + 1))) "the POST bodies of the late Go clients (the server's view)"
# the copies' own views, each alone
occurrences() { "$PY" -c 'import sys; print(open(sys.argv[1], "rb").read().count(open(sys.argv[2], "rb").read()))' "$1" "$2"; }
is_suffix() { "$PY" -c 'import sys; a, b = (open(f, "rb").read() for f in sys.argv[1:]); sys.exit(not (a and b.endswith(a)))' "$1" "$2"; }
whole=0
for ((i = 1; i <= COPIES; i++)); do
	w=$(grep -oE "probing Go crypto/tls .*\($E2E_TMP/fresh$i\): [0-9]+ functions, [0-9.]+ ms after its exec" "$CAPTURE_LOG" |
		grep -oE '[0-9.]+ ms' | cut -d' ' -f1) || fail "fresh copy $i was not probed at its exec"
	awk -v w="$w" 'BEGIN { exit !(w < 100) }' || fail "fresh copy $i probed $w ms after its exec (want < 100)"
	assert_pid_view "$F" "${COPY_PID[$i]}" client "$(go_library_re "$E2E_TMP/fresh$i")" 1
	s=${PID_STREAMS% }
	# the bytes of three (tshark reads the file four times for each)
	if [ "$i" -gt 3 ]; then
		ok "fresh copy $i: probed $w ms after its exec, its stream $s"
		continue
	fi
	# the server's view of the same connection (whole: the server was probed long before)
	comment=$(stream_comment "$F" "$s")
	cport=$(grep -oE '^Local: 127\.0\.0\.1:[0-9]+' <<<"$comment" | grep -oE '[0-9]+$' | head -n 1)
	other=$(connection_streams "$F" "$cport" "$P1" | grep -vx "$s" | head -n 1) || true
	[ -n "$other" ] || fail "fresh copy $i: no server view of its connection (port $cport)"
	for dir in client server; do
		stream_bytes "$F" "$s" $dir >"copy$i.$dir"
		stream_bytes "$F" "$other" $dir >"server$i.$dir"
	done
	# whole bodies in each direction (a joined view may start inside an answer)
	answers=$(occurrences "copy$i.server" blob.bin)
	posts=$(occurrences "copy$i.client" post.bin)
	if grep -q "joined mid-connection" <<<"$comment"; then
		state=joined
		# from its first recorded byte on, each direction as the server saw it
		for dir in client server; do
			is_suffix "copy$i.$dir" "server$i.$dir" ||
				fail "fresh copy $i: its joined view's $dir bytes are no tail of the server's view"
		done
		# probed within 100 ms of 300: the requests after the first are there
		[ "$answers" -ge 3 ] && [ "$posts" -ge 3 ] ||
			fail "fresh copy $i: joined, $answers answers and $posts POST bodies in its stream $s (want >= 3)"
	else
		state=whole
		whole=$((whole + 1))
		for dir in client server; do
			assert_files_equal "copy$i.$dir" "server$i.$dir" "fresh copy $i: its $dir bytes, as the server saw them"
		done
	fi
	ok "fresh copy $i: probed $w ms after its exec, its stream $s $state: $answers whole answers, $posts POST bodies, byte-exact"
done
log "fresh copies captured whole: $whole of 3 (the others joined mid-connection)"
log "PASS"
