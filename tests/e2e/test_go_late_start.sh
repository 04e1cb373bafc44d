#!/usr/bin/env bash
# System-wide capture already running when a Go server and then a Go client start (new
# execs of a binary tlspcap has never seen): the executable is probed at its exec, and the
# client's requests over its ~300 ms of life are all captured, byte-exact. The window
# between each exec and its probes being attached is reported (tlspcap -v).
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
sleep 0.5
stop_capture

windows=$(grep -oE "probing Go crypto/tls .*\\($G\\): [0-9]+ functions, [0-9.]+ ms after its exec" "$CAPTURE_LOG" |
	grep -oE '[0-9.]+ ms' || true)
[ -n "$windows" ] || fail "tlspcap -v did not report probing $G at an exec: $(grep -E 'probing|not probing' "$CAPTURE_LOG" | head -n 5)"
log "exec -> attached: $(printf '%s\n' "$windows" | tr '\n' ' ')"

F=out.pcapng
assert_tshark_reads "$F"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
assert_pid_view "$F" "$CLI" client "$(go_library_re "$G")"
assert_pid_view "$F" "$GO_SRV" server "$(go_library_re "$G")"
export_objects "$F" objects
assert_exported_copies objects blob.bin 6 "the 6 answers to the late Go client, from its first request on"
assert_exported_copies objects post.bin 6 "the 6 POST bodies of the late Go client"
log "PASS"
