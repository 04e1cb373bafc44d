#!/usr/bin/env bash
# -p PID: only the traced process's connections are in the capture (the other client and
# the untraced server are absent). --comm NAME: only processes with that name.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
tls_server_port

# --- -p PID
start_py_server 6 90
# start_client WHO: a client that waits for the file "go" before connecting
start_client() {
	bg "client-$1.log" "$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" \
		--out "cli-$1" --count 3 --concurrency 3 --seed "$RANDOM" --max-size 100000 --start-after go
}
start_client a
CLI_a=$BG_PID
start_client b
CLI_b=$BG_PID
start_capture pid.pcapng -p "$CLI_a"
touch go
wait_pid_exit "$CLI_a" 60 || fail "client a still running"
wait_pid_exit "$CLI_b" 60 || fail "client b still running"
wait "$CLI_a" || fail "client a failed: $(cat client-a.log)"
wait "$CLI_b" || fail "client b failed: $(cat client-b.log)"
sleep 0.5
stop_capture
F=pid.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data" # random binary payload
# match fails on any stream to $P that is not one of client a's connections
"$PY" "$E2E_DIR/follow.py" match "$F" --server-port "$P" --expect cli-a --min-streams 3 ||
	fail "-p $CLI_a: capture is not exactly client a's 3 connections"
ok "-p $CLI_a: exactly client a's connections, byte-exact"
assert_eq "$(streams_with_key "$F" PID "$CLI_b" | wc -l)" 0 "streams of untraced client b (pid $CLI_b)"
assert_eq "$(streams_with_key "$F" PID "$SRV" | wc -l)" 0 "streams of untraced server (pid $SRV)"

wait_pid_exit "$SRV" 20 || fail "first server did not exit after its 6 connections"

# --- --comm curl: curl traced, python client and nginx not
pick_port
HP=$PORT
start_nginx "$HP"
echo comm >"$NGINX_ROOT/index.html"
bg server2.log "$PY" "$E2E_DIR/tls_peer.py" server --port "$P" --cert "$CERT" --key "$KEY" \
	--out srv2 --max-conns 2 --lifetime 60
wait_port "$P" 10
start_capture comm.pcapng --comm curl
"$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out cli-c --count 2 \
	--max-size 50000 >client-c.log 2>&1 || fail "python client failed"
curl -sS --http1.1 --cacert "$CERT" --max-time 20 -o /dev/null "https://127.0.0.1:$HP/index.html?comm" ||
	fail "curl failed"
sleep 0.5
stop_capture
F=comm.pcapng
assert_tshark_reads "$F"
all=$("$PY" "$E2E_DIR/follow.py" streams "$F")
cmds=$(printf '%s\n' "$all" | "$PY" -c '
import json,sys
for l in sys.stdin:
    for c in json.loads(l)["comments"]: print(c.get("Cmd"))' | sort -u)
[ -n "$cmds" ] || fail "--comm curl: no commented stream at all"
assert_eq "$cmds" curl "Cmd: values with --comm curl"
assert_contains "$(tfields "$F" http.request http.request.uri)" "/index.html?comm" "requests with --comm curl"
log "PASS"
