#!/usr/bin/env bash
# Long runs: SIGUSR1 prints the running summary without stopping the capture; on a terminal
# a live status line (connections, bytes, lost) is rewritten at most once a second (3 or 4
# times in 3.5 s); not when stderr is a pipe, even on a terminal, and not with -q.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
need_tools script:bsdutils
e2e_init
tls_server_port

start_capture out.pcapng
start_py_server 2 60
bg client.log "$PY" "$E2E_DIR/tls_peer.py" client --port "$P" --cafile "$CERT" --out cli \
	--count 2 --concurrency 1 --seed 1 --sizes 100000,50000
wait_pid_exit "$BG_PID" 30 || fail "client still running"
sleep 0.5
kill -USR1 "$CAPTURE_PID"
wait_file_line "$CAPTURE_LOG" '^tlspcap: [0-9]+ connections' 5 || fail "no summary on stderr after SIGUSR1"
sleep 0.3
_e2e_alive "$CAPTURE_PID" || fail "tlspcap stopped after SIGUSR1"
ok "SIGUSR1 printed the summary and the capture goes on"
assert_ge "$(capture_stat connections)" 2 "connections in the running summary"
assert_contains "$(cat "$CAPTURE_LOG")" "bytes written to out.pcapng" "running summary"
assert_eq "$(grep -c '^tlspcap: lost: ' "$CAPTURE_LOG")" 1 "loss lines in the running summary"
assert_contains "$(grep '^tlspcap: lost: ' "$CAPTURE_LOG")" "records (0 bytes, each traced end's copy counted) dropped by a full ring buffer" "running summary's loss line"
stop_capture
assert_eq "$(grep -cE '^tlspcap: [0-9]+ connections' "$CAPTURE_LOG")" 2 "summaries (SIGUSR1 and the end)"
assert_eq "$(grep -c '^tlspcap: lost: ' "$CAPTURE_LOG")" 2 "loss lines (SIGUSR1 and the end)"
assert_not_contains "$(cat "$CAPTURE_LOG")" " open), " "stderr in a file (no status line)"
assert_tshark_reads out.pcapng

# a terminal: script(1) gives tlspcap a pty as stderr
script -qec "timeout -s INT 3.5 $TLSPCAP -w tty.pcapng" tty.log >/dev/null </dev/null || true
n=$(tr '\r' '\n' <tty.log | grep -cE '^tlspcap: [0-9]+ connections \([0-9]+ open\), [0-9]+ bytes, lost: [0-9]+ bytes, [0-9]+ records' || true)
log "status lines on the terminal in 3.5 s: $n"
assert_ge "$n" 3 "status refreshes on a terminal in 3.5 s"
[ "$n" -le 4 ] || fail "$n status refreshes in 3.5 s: more than once a second"
ok "$n status refreshes in 3.5 s (at most 4)"
assert_contains "$(cat tty.log)" "bytes written to tty.pcapng" "summary after the status line"
# a terminal, but stderr piped: no status line
script -qec "timeout -s INT 2.5 $TLSPCAP -w pipe.pcapng 2>&1 | cat" pipe.log >/dev/null </dev/null || true
assert_contains "$(cat pipe.log)" "bytes written to pipe.pcapng" "summary through a pipe"
assert_not_contains "$(cat pipe.log)" " open), " "stderr through a pipe on a terminal"
script -qec "timeout -s INT 2 $TLSPCAP -q -w quiet.pcapng" quiet.log >/dev/null </dev/null || true
assert_contains "$(cat quiet.log)" "bytes written to quiet.pcapng" "summary with -q"
assert_not_contains "$(cat quiet.log)" " open), " "terminal output with -q"
log "PASS"
