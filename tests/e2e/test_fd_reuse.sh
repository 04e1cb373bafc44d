#!/usr/bin/env bash
# One client closes and reconnects 12 times, getting the same fd number each time: every
# connection is its own stream, byte-exact, with "FD: <n>" in its comment.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
tls_server_port
N=12

start_capture out.pcapng

start_py_server "$N" 60
"$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out cli --count "$N" \
	--reuse-fd --seed 9 --max-size 200000 >client.log 2>&1 &
CLI=$!
wait "$CLI" || { cat client.log >&2; fail "client failed (or fd numbers not reused)"; }
wait_pid_exit "$SRV" 20 || fail "server did not finish"
sleep 0.5
stop_capture

FD=$(sort -u cli/*.fd)
assert_eq "$(echo "$FD" | wc -l)" 1 "distinct client fd numbers"
F=out.pcapng
assert_tshark_reads "$F"
assert_no_expert_warnings "$F" -d "tcp.port==$P,data" # random binary payload
"$PY" "$E2E_DIR/follow.py" match "$F" --server-port "$P" --expect cli --min-streams "$N" ||
	fail "fd-reuse connections not byte-exact / not separated"
n=$("$PY" "$E2E_DIR/follow.py" streams "$F" | "$PY" -c '
import json,sys
pid,fd=sys.argv[1],sys.argv[2]
print(sum(1 for l in sys.stdin for c in json.loads(l)["comments"] if c.get("PID")==pid and c.get("FD")==fd))' "$CLI" "$FD")
assert_ge "$n" "$N" "streams with 'PID: $CLI' and 'FD: $FD'"
log "PASS"
