#!/usr/bin/env bash
# tlspcap -w - | tshark -r - : the pcapng stream on stdout is read live by tshark.
source "$(dirname "$0")/lib.sh"
e2e_init
pick_port
HP=$PORT
start_nginx "$HP"
echo "through a pipe" >"$NGINX_ROOT/index.html"
mkfifo pipe
# reader: keep a copy of the raw stream and let tshark dissect it from stdin
bash -c 'tee raw.pcapng <pipe | tshark -n -r - -T fields -e tcp.stream -e http.request.uri -e frame.comment >fields.txt 2>tshark.err' &
READER=$!
_E2E_PIDS+=("$READER")
CAPTURE_STDOUT=$E2E_TMP/pipe
start_capture -

curl -sS --http1.1 --cacert "$CERT" --max-time 20 -o body.out "https://127.0.0.1:$HP/index.html?pipe" ||
	fail "curl failed"
sleep 0.5
stop_capture
wait_pid_exit "$READER" 30 || fail "tshark reading the pipe did not finish"
wait "$READER" || fail "tee | tshark -r - exited non-zero: $(grep -v '^Running' tshark.err | tail -n 3)"
ok "tshark -r - read the pipe to its end"
assert_eq "$(head -c 4 raw.pcapng | od -An -tx1 | tr -d ' ')" 0a0d0d0a "first bytes on stdout (pcapng section header)"
assert_contains "$(cat fields.txt)" "/index.html?pipe" "fields tshark read from the pipe"
assert_contains "$(cat fields.txt)" "Cmd: curl" "fields tshark read from the pipe"
assert_tshark_reads raw.pcapng
assert_no_expert_warnings raw.pcapng
log "PASS"
