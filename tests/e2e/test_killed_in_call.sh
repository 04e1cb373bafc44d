#!/usr/bin/env bash
# A traced client SIGKILLed while two of its threads wait inside SSL_read: the probes'
# per-thread call state and the process's sessions and sockets go with it (nothing stale
# for a later thread or process with the same ids), both streams end with FIN and keep
# the bytes sent before the kill. A client one of whose threads exits inside SSL_read
# while the process goes on: that thread's call state goes, the process's sessions stay,
# and what it writes afterwards is captured. The capture goes on: a later client is
# captured whole.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
e2e_cert
pick_port
P=$PORT

# entries_of MAP TGID: entries of the probes' MAP that belong to process TGID
entries_of() {
	bpftool -j map dump name "$1" >"$E2E_TMP/map.json" 2>/dev/null || { echo 0; return; }
	"$PY" -c '
import json, sys
tgid = int(sys.argv[2])
def owner(e):
    k = e.get("formatted", {}).get("key")
    if isinstance(k, dict):
        return k["tgid"]
    if isinstance(k, int):          # threads: pid_tgid
        return k >> 32
    raw = bytes(int(b, 16) for b in e["key"])
    return int.from_bytes(raw[4:8] if len(raw) == 8 else raw[0:4], "little")
print(sum(owner(e) == tgid for e in json.load(open(sys.argv[1]))))' "$E2E_TMP/map.json" "$2"
}

# a TLS server that completes handshakes and never writes
bg server.log "$PY" -c '
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ls = socket.create_server(("127.0.0.1", int(sys.argv[3])))
conns = []
while True:
    c, _ = ls.accept()
    conns.append(ctx.wrap_socket(c, server_side=True))' "$CERT" "$KEY" "$P"
wait_port "$P" 10
start_capture out.pcapng
bg client.log "$PY" -c '
import socket, ssl, sys, threading, time
ctx = ssl.create_default_context(cafile=sys.argv[1])
def run(i):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2]))), server_hostname="localhost")
    s.sendall(b"thread %d dies inside SSL_read" % i)
    print("blocked", flush=True)
    s.recv(100)
for i in range(2):
    threading.Thread(target=run, args=(i,)).start()
time.sleep(60)' "$CERT" "$P"
CLIENT=$BG_PID
for ((i = 0; i < 100; i++)); do
	[ "$(grep -c blocked client.log)" = 2 ] && break
	sleep 0.1
done
[ "$(grep -c blocked client.log)" = 2 ] || fail "the client threads did not get to SSL_read"
sleep 0.5
assert_ge "$(entries_of threads "$CLIENT")" 2 "call state of the client's threads inside SSL_read"
assert_ge "$(entries_of sessions "$CLIENT")" 2 "the client's TLS sessions"
kill -KILL "$CLIENT"
wait_pid_exit "$CLIENT" 10 || fail "client still alive after SIGKILL"
sleep 0.5
assert_eq "$(entries_of threads "$CLIENT")" 0 "call state left of the killed client's threads"
assert_eq "$(entries_of sessions "$CLIENT")" 0 "sessions left of the killed client"
assert_eq "$(entries_of sockets "$CLIENT")" 0 "sockets left of the killed client"

# one thread exits inside SSL_read; its process goes on
bg tx.log "$SAMPLES_OUT/thread_exit_client" "$P" 500
TX=$BG_PID
wait_file_line tx.log '^blocked ' 10 || fail "the thread did not get to SSL_read: $(cat tx.log)"
sleep 0.3
assert_ge "$(entries_of threads "$TX")" 1 "call state of the thread inside SSL_read"
wait_file_line tx.log '^exited ' 10 || fail "the thread did not exit: $(cat tx.log)"
assert_eq "$(entries_of threads "$TX")" 0 "call state left of the thread that exited"
assert_ge "$(entries_of sessions "$TX")" 2 "sessions of the process that goes on"
wait_file_line tx.log '^wrote$' 10 || fail "the process did not go on: $(cat tx.log)"
wait_pid_exit "$TX" 10 || fail "thread_exit_client did not end"

# the capture goes on
pick_port
HP=$PORT
start_nginx "$HP"
echo "after the kill" >"$NGINX_ROOT/index.html"
curl -sS --http1.1 --cacert "$CERT" --max-time 10 -o body.out "https://127.0.0.1:$HP/index.html" ||
	fail "curl failed"
sleep 0.5
stop_capture
assert_tshark_reads out.pcapng
for i in 0 1; do
	s=$(tfields out.pcapng "tcp.payload contains \"thread $i dies\"" tcp.stream | head -n 1)
	[ -n "$s" ] || fail "no stream with the bytes thread $i sent before the kill"
	assert_ge "$(frame_count out.pcapng "tcp.stream==$s && tcp.flags.fin==1")" 1 "FIN frames in thread $i's stream"
	assert_contains "$(stream_comment out.pcapng "$s")" "PID: $CLIENT" "thread $i's stream comment"
done
for text in "thread exits inside SSL_read" "the process goes on"; do
	s=$(tfields out.pcapng "tcp.payload contains \"$text\"" tcp.stream | head -n 1)
	[ -n "$s" ] || fail "no stream with '$text'"
	assert_contains "$(stream_comment out.pcapng "$s")" "PID: $TX" "the stream of '$text'"
done
assert_ge "$(frame_count out.pcapng 'http.file_data contains "after the kill"')" 1 "the later curl's response"
log "PASS"
