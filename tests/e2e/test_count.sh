#!/usr/bin/env bash
# -c COUNT: tlspcap stops by itself after COUNT records, exit 0, with a readable file.
source "$(dirname "$0")/lib.sh"
e2e_init
pick_port
HP=$PORT
start_nginx "$HP"
echo count >"$NGINX_ROOT/index.html"

start_capture out.pcapng -c 3
for ((i = 0; i < 20; i++)); do
	curl -sS --http1.1 --cacert "$CERT" --max-time 10 -o /dev/null "https://127.0.0.1:$HP/index.html?n=$i" ||
		fail "curl $i failed"
	_e2e_alive "$CAPTURE_PID" || break
	sleep 0.2
done
wait_pid_exit "$CAPTURE_PID" 30 || fail "tlspcap -c 3 still running after 20 requests + 30 s"
rc=0
wait "$CAPTURE_PID" || rc=$?
CAPTURE_PID=""
tail -n 2 "$CAPTURE_LOG" | sed 's/^/    /'
assert_eq "$rc" 0 "exit status of tlspcap -c 3"
assert_eq "$(capture_stat records)" 3 "records in the summary (exactly -c)"
assert_tshark_reads out.pcapng
assert_no_expert_warnings out.pcapng
log "PASS"
