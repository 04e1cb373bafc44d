#!/usr/bin/env bash
# tlspcap -w F -- COMMAND: runs the command, captures its traffic, exits with its status.
source "$(dirname "$0")/lib.sh"
e2e_init
[ -x "$TLSPCAP" ] || fail "tlspcap binary not found at $TLSPCAP (make tlspcap)"
pick_port
HP=$PORT
start_nginx "$HP"
echo "command mode" >"$NGINX_ROOT/index.html"

rc=0
timeout -k 5 60 "$TLSPCAP" -w cmd.pcapng -- curl -sS --http1.1 --cacert "$CERT" --max-time 20 \
	-o body.out "https://127.0.0.1:$HP/index.html?cmdmode" 2>tlspcap.log || rc=$?
tail -n 3 tlspcap.log | sed 's/^/    /'
assert_eq "$rc" 0 "exit status of tlspcap -- curl (curl succeeded)"
assert_eq "$(cat body.out)" "command mode" "curl's output"
grep -q '^tlspcap: capturing' tlspcap.log || fail "no 'tlspcap: capturing' line"
grep -qE '^tlspcap: [0-9]+ connections' tlspcap.log || fail "no summary line"
ok "capturing and summary lines present"
assert_eq "$(stat -c %a cmd.pcapng)" 600 "mode of the output file"
assert_tshark_reads cmd.pcapng
assert_no_expert_warnings cmd.pcapng
s=$(streams_with_comment cmd.pcapng 'Cmd: curl')
[ -n "$s" ] || fail "no stream with 'Cmd: curl'"
ok "curl's stream present (tcp.stream $s)"
# curl is gone long before its stream is written: its command line was read at exec.
assert_contains "$(stream_comment cmd.pcapng "$s")" "Args: curl -sS --http1.1" "curl's stream comment"
uris=$(tfields cmd.pcapng http.request http.request.uri)
assert_contains "$uris" "/index.html?cmdmode" "HTTP request URIs"

# The command's failure status is passed through.
pick_port
closed=$PORT
rc=0
timeout -k 5 60 "$TLSPCAP" -w fail.pcapng -- curl -sS --cacert "$CERT" --max-time 10 \
	"https://127.0.0.1:$closed/" 2>fail.log || rc=$?
assert_eq "$rc" 7 "exit status of tlspcap -- curl to a closed port (curl's 7)"
rc=0
timeout -k 5 60 "$TLSPCAP" -w sh.pcapng -- sh -c 'exit 3' 2>sh.log || rc=$?
assert_eq "$rc" 3 "exit status of tlspcap -- sh -c 'exit 3'"
assert_tshark_reads sh.pcapng
log "PASS"
