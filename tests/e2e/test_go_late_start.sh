#!/usr/bin/env bash
# System-wide capture already running when a Go server and then a Go client start (new
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
