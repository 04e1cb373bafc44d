#!/usr/bin/env bash
# Wireshark's extcap interface: "make install" (DESTDIR staging, then PREFIX with the extcap
# link in tshark's personal extcap folder of a private HOME) makes "tshark -D" list
# "tlspcap (TLS plaintext (tlspcap))"; "tshark -i tlspcap -a duration:N" captures a
# curl -> nginx exchange byte-exact; a capture filter (-f) and the interface options
# (-o extcap.tlspcap.comm:curl, .pid:PID, .snapshotlength:200) given to tshark are
# honoured; uninstall removes it all.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
need_tools make:make capinfos:tshark

# Staged install: every file where PREFIX and EXTCAPDIR say, the link to the final path.
make -s -C "$REPO" install DESTDIR="$E2E_TMP/dest" PREFIX=/usr/local >install.log 2>&1 ||
	{ cat install.log >&2; fail "make install DESTDIR=... failed"; }
D=$E2E_TMP/dest
EXT=$(find "$D" -path '*/wireshark/extcap/tlspcap')
[ -x "$D/usr/local/sbin/tlspcap" ] || fail "no $D/usr/local/sbin/tlspcap"
[ -f "$D/usr/local/share/man/man8/tlspcap.8" ] || fail "no man page under $D"
[ -n "$EXT" ] || fail "no extcap link under $D: $(find "$D" | tr '\n' ' ')"
assert_eq "$(readlink "$EXT")" /usr/local/sbin/tlspcap "extcap link target"
assert_contains "$EXT" /usr/lib/x86_64-linux-gnu/wireshark/extcap/ "extcap link path (Debian's folder)"
cmp -s "$D/usr/local/share/man/man8/tlspcap.8" "$REPO/capture/tlspcap.8" || fail "the installed man page differs"
make -s -C "$REPO" uninstall DESTDIR="$E2E_TMP/dest" PREFIX=/usr/local >>install.log 2>&1 || fail "make uninstall failed"
left=$(find "$D" -type f -o -type l)
assert_eq "$left" "" "files left after make uninstall DESTDIR=..."

# A real install whose link lands in the personal extcap folder of a private HOME.
H=$E2E_TMP/home
make -s -C "$REPO" install PREFIX="$E2E_TMP/prefix" EXTCAPDIR="$H/.config/wireshark/extcap" \
	>>install.log 2>&1 || fail "make install PREFIX=... failed"
list=$(HOME=$H tshark -D 2>/dev/null)
assert_contains "$list" "tlspcap (TLS plaintext (tlspcap))" "tshark -D"

# Wireshark's questions: the link type, the dialog's options, the filter check (an empty
# answer means valid, else the first line is the error shown under the filter box).
X=$E2E_TMP/prefix/sbin/tlspcap
assert_contains "$("$X" --extcap-interface tlspcap --extcap-dlts)" "dlt {number=12}{name=RAW}" "--extcap-dlts"
cfg=$("$X" --extcap-interface tlspcap --extcap-config)
for call in --pid --comm --snapshot-length; do assert_contains "$cfg" "{call=$call}" "--extcap-config"; done
assert_eq "$("$X" --extcap-interface tlspcap --extcap-capture-filter "tcp port $RANDOM")" "" "filter check of a valid expression"
assert_contains "$("$X" --extcap-interface tlspcap --extcap-capture-filter 'tcp port')" "syntax error" "filter check of a bad expression"

e2e_cert
pick_port
P1=$PORT
pick_port
P2=$PORT
start_nginx "$P1" "$P2"
head -c 1000000 /dev/urandom >"$NGINX_ROOT/big.bin"
head -c 300000 /dev/urandom >post.bin

# tshark_capture OUT SECS ARGS...: tshark -i tlspcap in the background; returns once the
# extcap capture runs (tlspcap is ready when its section header reached tshark's file).
tshark_capture() {
	local out=$1 secs=$2 i
	shift 2
	HOME=$H tshark -n -i tlspcap -a "duration:$secs" -w "$out" "$@" >"$out.log" 2>&1 &
	TSHARK=$!
	track_pid "$TSHARK"
	for ((i = 0; i < 100; i++)); do
		[ -s "$out" ] && pgrep -f -- "--capture --extcap-interface tlspcap" >/dev/null && break
		sleep 0.1
	done
	[ -s "$out" ] || { cat "$out.log" >&2; fail "tshark -i tlspcap wrote nothing in 10 s"; }
	sleep 0.5
}

# 1. A whole exchange: GET 1 MB and POST 300 kB, byte-exact.
tshark_capture all.pcapng 6
curl -sS --http1.1 --cacert "$CERT" --max-time 20 -o got.bin "https://127.0.0.1:$P1/big.bin" \
	--next --http1.1 --cacert "$CERT" --max-time 20 --data-binary @post.bin -o post.out \
	"https://127.0.0.1:$P1/echo" 2>curl.err || fail "curl failed: $(cat curl.err)"
wait_bounded "$TSHARK" 30 || fail "tshark did not stop after its duration: $(tail -n 5 all.pcapng.log)"
grep -i 'error' all.pcapng.log && fail "tshark reported an error (tlspcap wrote to stderr)"
assert_files_equal got.bin "$NGINX_ROOT/big.bin" "curl's download"
assert_eq "$(cat post.out)" "received 300000 bytes" "nginx's answer to the POST"
assert_tshark_reads all.pcapng
assert_no_expert_warnings all.pcapng
assert_one_stream_per_connection all.pcapng "$P1"
export_objects all.pcapng objs
assert_object_exported objs "$NGINX_ROOT/big.bin" "GET through tshark -i tlspcap"
assert_object_exported objs post.bin "POST body through tshark -i tlspcap"

# 2. tshark's capture filter and an interface option: only curl's view of the connection
# to P2.
tshark_capture filtered.pcapng 5 -f "tcp port $P2" -o extcap.tlspcap.comm:curl
for p in "$P1" "$P2"; do
	curl -sS --http1.1 --cacert "$CERT" --max-time 20 -o "got$p.bin" "https://127.0.0.1:$p/big.bin" \
		2>curl.err || fail "curl to $p failed: $(cat curl.err)"
done
wait_bounded "$TSHARK" 30 || fail "tshark did not stop after its duration"
assert_tshark_reads filtered.pcapng
"$PY" "$E2E_DIR/follow.py" streams filtered.pcapng >filtered.streams
ports=$("$PY" -c '
import json, sys
print(" ".join(sorted({c.get("Remote", "?").rsplit(":", 1)[-1] for e in map(json.loads, open(sys.argv[1])) for c in e["comments"]})))' filtered.streams)
assert_eq "$ports" "$P2" "real server ports in the filtered capture"
cmds=$("$PY" -c '
import json, sys
print(" ".join(sorted({c.get("Cmd", "?") for e in map(json.loads, open(sys.argv[1])) for c in e["comments"]})))' filtered.streams)
assert_eq "$cmds" curl "commands in the capture with comm curl"
export_objects filtered.pcapng fobjs
assert_object_exported fobjs "$NGINX_ROOT/big.bin" "the GET on port $P2"

# 3. The dialog's process IDs and snap length, as tshark passes them (-o extcap.IFACE.CALL):
# only the children of one shell (started before the capture, it runs curl once told to),
# each TLS call cut to 200 bytes; a curl of another shell is not in the file.
bg traced.log bash -c 'for ((i = 0; i < 200; i++)); do [ -e go ] && break; sleep 0.05; done
	exec curl -sS --http1.1 --cacert "$1" --max-time 20 -o traced.bin "https://127.0.0.1:$2/big.bin"' \
	traced "$CERT" "$P1"
TRACED=$BG_PID
tshark_capture pid.pcapng 5 -o "extcap.tlspcap.pid:$TRACED" -o extcap.tlspcap.snapshotlength:200
curl -sS --http1.1 --cacert "$CERT" --max-time 20 -o other.bin "https://127.0.0.1:$P2/big.bin" ||
	fail "the untraced curl failed"
touch go
wait_bounded "$TRACED" 30 || fail "the traced curl did not finish"
wait "$TRACED" || fail "the traced curl failed: $(cat traced.log)"
assert_files_equal traced.bin "$NGINX_ROOT/big.bin" "the traced curl's download"
wait_bounded "$TSHARK" 30 || fail "tshark did not stop after its duration"
assert_tshark_reads pid.pcapng
"$PY" "$E2E_DIR/follow.py" streams pid.pcapng >pid.streams
pids=$("$PY" -c '
import json, sys
print(" ".join(sorted({c.get("PID", "?") + "/" + c.get("Remote", "?").rsplit(":", 1)[-1] for e in map(json.loads, open(sys.argv[1])) for c in e["comments"]})))' pid.streams)
assert_eq "$pids" "$TRACED/$P1" "PID/real server port of the streams with extcap.tlspcap.pid:$TRACED"
cut=$(frame_count pid.pcapng 'tcp.len > 0 && frame.cap_len < frame.len')
assert_ge "$cut" 1 "frames cut by the snap length"
max=$(tfields pid.pcapng 'tcp.len > 0' frame.cap_len | sort -n | tail -n 1)
[ "$max" -le 260 ] || fail "a frame of $max captured bytes with snap length 200 (200 + IP and TCP headers)"
ok "captured bytes per frame at most 200 + headers ($max)"

make -s -C "$REPO" uninstall PREFIX="$E2E_TMP/prefix" EXTCAPDIR="$H/.config/wireshark/extcap" \
	>>install.log 2>&1 || fail "make uninstall failed"
list=$(HOME=$H tshark -D 2>/dev/null)
assert_not_contains "$list" "tlspcap" "tshark -D after make uninstall"
log "PASS"
