#!/usr/bin/env bash
# Soak: for SOAK_SECONDS (default 60; make soak: 300) short-lived TLS processes (curl,
# python) in loops, one long keep-alive connection, and new copies of libssl/libcrypto
# mapped (a python client run on each copy) and deleted, all captured with both ends traced
# (nginx). Every 5 s: tlspcap's RSS and open fds, entries in use in the probes' maps,
# probe links (soak.tsv, also printed). Checks: no byte lost, every connection a
# stream, RSS bounded during the load and after it, each library copy detached once
# its process is gone (links and fds back to where they were before the load).
source "$(dirname "$0")/lib.sh"
e2e_init
SECS=${SOAK_SECONDS:-60}
pick_port
HP=$PORT
start_nginx "$HP"
head -c 2000 /dev/urandom >"$NGINX_ROOT/small"
LIBDIR=/usr/lib/x86_64-linux-gnu
URL=https://127.0.0.1:$HP/small

map_entries() { # NAME -> entries in use in every map of that name
	bpftool -j map dump name "$1" 2>/dev/null | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0
}
sample() { # PHASE
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(($(date +%s) - T0))" "$1" \
		"$(awk '/^VmRSS/ {print $2}' "/proc/$CAPTURE_PID/status")" \
		"$(ls "/proc/$CAPTURE_PID/fd" | wc -l)" "$(map_entries threads)" \
		"$(map_entries sessions)" "$(map_entries sockets)" "$(map_entries traced_tgids)" \
		"$(probe_links)" | tee -a soak.tsv
}

start_capture out.pcapng -q -v
T0=$(date +%s)
END=$((T0 + SECS))
printf 'sec\tphase\trss_kb\tfds\tthreads\tsessions\tsockets\ttgids\tlinks\n' | tee soak.tsv
sample start

# short-lived processes, each one request on its own connection
curl_loop() {
	local n=0
	while [ "$(date +%s)" -lt "$END" ]; do
		curl -sS --http1.1 --cacert "$CERT" --max-time 10 -o /dev/null "$URL" && n=$((n + 1))
	done
	echo "$n" >"$1"
}
# one request on its own connection, DELAY seconds after python loaded libssl
py_get() { # DELAY
	"$PY" -c '
import socket, ssl, sys, time
time.sleep(float(sys.argv[3]))
ctx = ssl.create_default_context(cafile=sys.argv[1])
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2]))), server_hostname="localhost") as s:
    s.sendall(b"GET /small HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    while s.recv(65536): pass' "$CERT" "$HP" "$1"
}
py_loop() {
	local n=0
	while [ "$(date +%s)" -lt "$END" ]; do
		py_get 0 && n=$((n + 1))
	done
	echo "$n" >"$1"
}
# long keep-alive connections: a request every 20 ms, a new connection only when nginx
# ends one (keepalive_requests); prints requests and connections
keepalive() {
	"$PY" -c '
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[1])
requests = conns = 0
while time.time() < float(sys.argv[3]):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2]))), server_hostname="localhost")
    f = s.makefile("rb")
    conns += 1
    try:
        while time.time() < float(sys.argv[3]):
            s.sendall(b"GET /small HTTP/1.1\r\nHost: localhost\r\n\r\n")
            length = 0
            while (line := f.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"): length = int(line.split(b":")[1])
            if not line: break
            f.read(length)
            requests += 1
            time.sleep(0.02)
    except (ssl.SSLError, OSError):
        pass
    s.close()
print(requests, conns)' "$CERT" "$HP" "$END" >"$1"
}
# a fresh copy of libssl+libcrypto every 2 s, used by one python client, then deleted
copies_loop() {
	local n=0 d
	while [ "$(date +%s)" -lt "$END" ]; do
		d=$E2E_TMP/libcopy.$n
		mkdir "$d" && cp "$LIBDIR/libssl.so.3" "$LIBDIR/libcrypto.so.3" "$d/"
		# a client that waits past the look at its new mapping (20 ms after exec, longer
		# on a busy machine), so the copy is probed before it is used
		LD_LIBRARY_PATH=$d py_get 0.3 && n=$((n + 1))
		rm -rf "$d"
		sleep 2
	done
	echo "$n" >"$1"
}
curl_loop curl1.n & L1=$!
curl_loop curl2.n & L2=$!
py_loop py.n & L3=$!
keepalive keepalive.n & L4=$!
copies_loop copies.n & L5=$!
_E2E_PIDS+=("$L1" "$L2" "$L3" "$L4" "$L5")
while [ "$(date +%s)" -lt "$END" ]; do
	sleep 5
	sample load
done
for p in "$L1" "$L2" "$L3" "$L4" "$L5"; do
	wait_pid_exit "$p" 30 || fail "a load loop did not stop"
done
# closed streams are written and their memory given back within a few polls, and
# the last copy is detached two sweeps (a second apart) after its client exited
START_LINKS=$(awk -F'\t' '$2 == "start" {print $9}' soak.tsv)
for ((i = 0; i < 20; i++)); do
	sleep 0.5
	[ "$(probe_links)" -le "$START_LINKS" ] && break
done
sleep 1
sample after
sample after2
stop_capture INT

read -r ka_requests ka_conns <keepalive.n
clients=$(($(cat curl1.n) + $(cat curl2.n) + $(cat py.n) + $(cat copies.n) + ka_conns))
log "clients: $(cat curl1.n)+$(cat curl2.n) curl, $(cat py.n) python, $(cat copies.n) on library copies, $ka_requests requests on $ka_conns keep-alive connections"
log "summary: $(grep -E '^tlspcap: [0-9]+ connections' "$CAPTURE_LOG" | tail -n 1)"
copy_re='\(/.*/libcopy\.[0-9]+/libssl\.so\.3\)'
probed=$(grep -cE "^tlspcap: probing .*$copy_re: " "$CAPTURE_LOG" || true)
detached=$(grep -cE "^tlspcap: detached .*$copy_re: no process maps it\$" "$CAPTURE_LOG" || true)
log "library copies: $(cat copies.n) used, $probed probed, $detached detached"
assert_eq "$probed" "$(cat copies.n)" "copies probed (each before its client used it)"
assert_eq "$detached" "$probed" "copies detached (each once no process maps it)"
# libraries of other programs on this host probed during the soak and still probed (none
# in CI): their links are no leak
initial=$(sed -n 's/^tlspcap: capturing on \([0-9]*\) librar.*/\1/p' "$CAPTURE_LOG")
others=$(($(grep -E '^tlspcap: probing ' "$CAPTURE_LOG" | grep -cvE "$copy_re: " || true) - initial -
	$(grep -E '^tlspcap: detached ' "$CAPTURE_LOG" | grep -cvE "$copy_re: " || true)))
[ "$others" -gt 0 ] && log "$others libraries of other programs probed meanwhile: up to $((others * 17)) links more allowed"
assert_eq "$(capture_stat "bytes lost")" 0 "bytes lost"
assert_ge "$(capture_stat "connections")" "$clients" "connections (one per client connection)"
"$PY" - soak.tsv "$others" <<'PY' || fail "resource use grew (soak.tsv above)"
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
load = [r for r in rows if r[1] == "load"]
start, end = rows[0], rows[-1]
col = lambda r, i: int(r[i])
warm = col(load[len(load) // 4], 2)     # RSS a quarter into the load
peak_late = max(col(r, 2) for r in load[len(load) // 2:])
print(f"rss kB: start {col(start, 2)}, warm {warm}, peak in the 2nd half {peak_late}, after {col(end, 2)}")
print(f"after the load: {end[4]} threads, {end[5]} sessions, {end[6]} sockets, {end[7]} tgids in the maps")
peak_links = max(col(r, 8) for r in load)
print(f"fds: start {col(start, 3)}, after {col(end, 3)}; links: start {col(start, 8)}, "
      f"peak {peak_links}, after {col(end, 8)}")
ok = peak_late <= warm + 32768 and col(end, 2) <= warm + 16384
# each copy is detached once its client is gone: its links and their fds go with it;
# a copy every 2 s and 2-3 s to detach one: at most 3 copies (4 links each) at a time
others = 17 * max(0, int(sys.argv[2]))  # a link per BPF program on a library: 17 at most
ok &= col(end, 8) <= col(start, 8) + others
ok &= col(end, 3) - col(start, 3) <= max(0, col(end, 8) - col(start, 8)) + 4
ok &= peak_links <= col(start, 8) + 3 * 4 + others
# the maps keep nothing of the processes that exited: what is left belongs to nginx's
# workers (a session per TLS context address they reuse), not one per client
ok &= all(col(end, i) <= 64 for i in (4, 5, 6, 7))
sys.exit(0 if ok else 1)
PY
ok "RSS bounded during and after the load, copies detached (links and fds back), no map entries of exited processes"
assert_tshark_reads out.pcapng
log "PASS"
