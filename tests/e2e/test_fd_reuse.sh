#!/usr/bin/env bash
# One client closes and reconnects 12 times, getting the same fd number each time: every
# connection is its own stream, byte-exact, with "FD: <n>" in its comment. Then fd numbers
# reused across fork and exec: a parent's connection on fd N closed and a forked child's
# new connection on N; a parent's connection left open on N while its child closes its
# copy and connects on N; a process that executes a program with its connection still
# open (its TLS state gone: the stream ends saying so) and connects again. Each is its own
# stream with its own process's PID, byte-exact (the server's records).
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

# ---- across fork and exec: a second capture, a server on another port
pick_port
P=$PORT
bg server2.log "$PY" "$E2E_DIR/tls_peer.py" server --port "$P" --cert "$CERT" --key "$KEY" \
	--out srv2 --max-conns 6 --lifetime 60
SRV2=$BG_PID
wait_port "$P" 10
# prints "WHAT PID FD CLIENT_PORT" per connection; tls_peer.py's protocol (8-byte header
# with both lengths, the request, then the response up to the server's close)
cat >fork_client.py <<'PY'
import os, socket, ssl, struct, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
def connect(what):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20),
                        server_hostname="localhost")
    print(what, os.getpid(), s.fileno(), s.getsockname()[1], flush=True)
    return s
def exchange(s, tag, n_c2s, n_s2c):
    s.sendall(struct.pack(">II", n_c2s, n_s2c) + (tag * n_c2s)[:n_c2s])
    got = 0
    while got < n_s2c:
        b = s.recv(65536)
        if not b:
            raise EOFError("response cut at %d of %d" % (got, n_s2c))
        got += len(b)
def child(fn):
    pid = os.fork()
    if pid == 0:
        fn()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        sys.exit("child failed")
if len(sys.argv) > 3:  # after the exec: the connection left open is fd sys.argv[3]
    exchange(connect("exec-new"), b"after exec ", 3000, 9000)
    os.close(int(sys.argv[3]))
    sys.exit(0)
a = connect("fork-closed-parent")
exchange(a, b"parent, then closed ", 5000, 7000)
a.close()
child(lambda: exchange(connect("fork-closed-child"), b"child reusing the fd ", 6000, 8000))
b = connect("fork-open-parent")
def reuse():
    b.close()  # the child's copy of fd N only
    exchange(connect("fork-open-child"), b"child next to the open fd ", 4000, 6000)
child(reuse)
exchange(b, b"parent after the child ", 7000, 5000)
c = connect("exec-old")
exchange(c, b"before exec ", 2000, 4000)
os.set_inheritable(c.fileno(), True)
os.execv(sys.executable, [sys.executable, sys.argv[0], str(port), cafile, str(c.fileno())])
PY
# the client and its children alone traced (-- COMMAND): one view per stream, whose end
# is the stream's
timeout -k 5 60 "$TLSPCAP" -w fork.pcapng -- "$PY" fork_client.py "$P" "$CERT" >fork.log 2>fork.err ||
	fail "forking client (or its capture) failed: $(cat fork.err)"
wait_pid_exit "$SRV2" 20 || fail "server did not finish"
cat fork.log
F=fork.pcapng
assert_tshark_reads "$F"
row() { grep "^$1 " fork.log | cut -d' ' -f"$2"; }
assert_eq "$(row fork-closed-parent 3)" "$(row fork-closed-child 3)" "fd of the parent's closed connection and the child's new one"
assert_eq "$(row fork-open-parent 3)" "$(row fork-open-child 3)" "fd of the parent's open connection and the child's new one"
"$PY" "$E2E_DIR/follow.py" match "$F" --server-port "$P" --expect srv2 --min-streams 6 ||
	fail "connections across fork/exec not byte-exact / not separated"
for what in fork-closed-parent fork-closed-child fork-open-parent fork-open-child exec-old exec-new; do
	s=$(connection_streams "$F" "$(row "$what" 4)" "$P")
	assert_eq "$(echo "$s" | wc -w)" 1 "streams of $what"
	c=$(stream_comment "$F" "$s")
	assert_contains "$c" "PID: $(row "$what" 2)" "$what's stream"
	assert_contains "$c" "FD: $(row "$what" 3)" "$what's stream"
done
assert_eq "$(row exec-old 2)" "$(row exec-new 2)" "the pid before and after the exec"
assert_contains "$(stream_comment "$F" "$(connection_streams "$F" "$(row exec-old 4)" "$P")")" \
	"tlspcap: process $(row exec-old 2) executed another program" "the stream left open by the exec"
log "PASS"
