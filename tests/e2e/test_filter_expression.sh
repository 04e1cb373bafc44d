#!/usr/bin/env bash
# tcpdump filter expressions judged on real endpoints: python TLS servers on 127.0.0.1:P1,
# [::1]:P1 and 127.0.0.1:P2, three clients each, captured with 'port P1', 'ip6' and
# 'not host ::1': only the matching connections are in the file, byte-exact, and the
# rejected ones are counted. A bad expression: libpcap's message, exit 2, no file.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
need_ipv6
e2e_cert
pick_port
P1=$PORT
pick_port
P2=$PORT

# A bad expression creates nothing.
rc=0
"$TLSPCAP" -w bad.pcapng port "$P1" and 2>bad.err || rc=$?
assert_eq "$rc" 2 "exit status for 'port $P1 and'"
assert_contains "$(cat bad.err)" "syntax error" "message for the bad expression"
[ ! -e bad.pcapng ] || fail "bad.pcapng was created for a bad expression"
ok "no file for a bad expression"

for spec in "127.0.0.1 $P1 s41" "::1 $P1 s61" "127.0.0.1 $P2 s42"; do
	read -r host port dir <<<"$spec"
	bg "$dir.log" "$PY" "$E2E_DIR/tls_peer.py" server --host "$host" --port "$port" \
		--cert "$CERT" --key "$KEY" --out "$dir" --max-conns 100 --lifetime 120
done
wait_port "$P1" 10
wait_port "$P2" 10

# run_clients TAG: three connections to each server; records in TAG-4.1/ TAG-6.1/ TAG-4.2/
run_clients() {
	local tag=$1 spec host port dir seed=1
	for spec in "127.0.0.1 $P1 4.1" "::1 $P1 6.1" "127.0.0.1 $P2 4.2"; do
		read -r host port dir <<<"$spec"
		seed=$((seed + 1))
		"$PY" "$E2E_DIR/tls_peer.py" client --host "$host" --port "$port" --cafile "$CERT" \
			--out "$tag-$dir" --count 3 --concurrency 3 --seed "$seed" --max-size 200000 \
			>"$tag-$dir.log" 2>&1 || { cat "$tag-$dir.log" >&2; fail "client to [$host]:$port failed"; }
	done
	sleep 0.5
}

# judge F TAG WANT...: every stream of F to P1/P2 belongs to a wanted group (4.1, 6.1,
# 4.2), each wanted group is in F byte-exact, the others are absent.
judge() {
	local f=$1 tag=$2 g port
	shift 2
	assert_tshark_reads "$f"
	assert_no_expert_warnings "$f" -d "tcp.port==$P1,data" -d "tcp.port==$P2,data"
	"$PY" "$E2E_DIR/follow.py" streams "$f" >"$tag.streams"
	for g in 4.1 6.1 4.2; do
		port=$P1
		[ "$g" = 4.2 ] && port=$P2
		mkdir -p "$tag-want-$port"
		case " $* " in
		*" $g "*) cp "$tag-$g"/*.c2s "$tag-$g"/*.s2c "$tag-want-$port/" ;;
		esac
	done
	for port in "$P1" "$P2"; do
		n=$("$PY" -c '
import json, sys
from collections import Counter
c = Counter()
for e in map(json.loads, open(sys.argv[1])):
    cm = [x for x in e["comments"] if x.get("Role") == "server"]
    if cm and cm[0].get("Local", "").endswith(":" + sys.argv[2]):
        c["v6" if cm[0]["Local"].startswith("[") else "v4"] += 1
print(c["v4"], c["v6"])' "$tag.streams" "$port")
		log "$tag: streams to port $port (IPv4 IPv6): $n"
		if [ -z "$(ls "$tag-want-$port")" ]; then
			assert_eq "$n" "0 0" "$tag: streams to port $port"
		else
			"$PY" "$E2E_DIR/follow.py" match "$f" --server-port "$port" --expect "$tag-want-$port" \
				--min-streams 3 || fail "$tag: connections to port $port not byte-exact"
			ok "$tag: the wanted connections to port $port are byte-exact"
		fi
	done
}

# capture_with TAG EXPRESSION... : one capture of the three client groups.
capture_with() {
	local tag=$1
	shift
	start_capture "$tag.pcapng" "$@"
	run_clients "$tag"
	stop_capture
	grep "^tlspcap: filter" "$CAPTURE_LOG" >"$tag.rejected" || fail "$tag: no filter line in the summary"
	cat "$tag.rejected"
}

capture_with port "port $P1"
judge port.pcapng port 4.1 6.1
assert_ge "$(grep -oE '[0-9]+ connections rejected' port.rejected | grep -oE '^[0-9]+')" 3 "port: connections rejected"

capture_with ip6 ip6
judge ip6.pcapng ip6 6.1
v4=$("$PY" -c 'import json,sys; print(sum(1 for e in map(json.loads, open(sys.argv[1])) if not e.get("ipv6")))' ip6.streams)
assert_eq "$v4" 0 "ip6: IPv4 streams in the file"
assert_ge "$(grep -oE '[0-9]+ connections rejected' ip6.rejected | grep -oE '^[0-9]+')" 6 "ip6: connections rejected"

capture_with nothost not host ::1
judge nothost.pcapng nothost 4.1 4.2
v6=$("$PY" -c 'import json,sys; print(sum(1 for e in map(json.loads, open(sys.argv[1])) if e.get("ipv6")))' nothost.streams)
assert_eq "$v6" 0 "not host ::1: IPv6 streams in the file"
log "PASS"
