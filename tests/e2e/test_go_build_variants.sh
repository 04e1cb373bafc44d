#!/usr/bin/env bash
# One Go program built six ways: default, CGO_ENABLED=1, CGO_ENABLED=0 (static),
# -ldflags='-s -w' (no .symtab), strip(1), -buildmode=pie. Every build is found and
# described alike by --list (version, functions, RET counts), and the same echo exchange
# (3 connections, 1 B to 1 MiB each way) is captured byte-exact for each, with both PIDs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
source "$(dirname "$0")/lib_go.sh"
e2e_init
VARIANTS=(default cgo nocgo sw stripped pie)
# in parallel: the PIE and the static build recompile the standard library
go_build "$E2E_TMP/default" &
CGO_ENABLED=1 go_build "$E2E_TMP/cgo" &
CGO_ENABLED=0 go_build "$E2E_TMP/nocgo" &
go_build "$E2E_TMP/sw" -ldflags='-s -w' &
go_build "$E2E_TMP/pie" -buildmode=pie &
for job in $(jobs -p); do wait "$job" || fail "a go build failed"; done
cp default stripped
strip stripped
ok "built ${VARIANTS[*]}"
grep -q ' .symtab ' <<<"$(readelf -SW sw)" && fail "-s -w build still has .symtab"
grep -q ' .symtab ' <<<"$(readelf -SW stripped)" && fail "stripped build still has .symtab"
grep -q 'DYN' <<<"$(readelf -hW pie)" || fail "-buildmode=pie did not give a PIE"
grep -q INTERP <<<"$(readelf -lW nocgo)" && fail "CGO_ENABLED=0 build is dynamically linked"

want=""
for v in "${VARIANTS[@]}"; do
	desc=$("$TLSPCAP" --list --lib "$E2E_TMP/$v" | sed -n "\\|^$E2E_TMP/$v\$|,/^\$/p" | grep -E '^  (library|functions):')
	[ -n "$desc" ] || fail "--list --lib $v: no entry for it"
	assert_contains "$desc" "library:    Go crypto/tls $(go env GOVERSION)" "--list of the $v build"
	[ -z "$want" ] && want=$desc
	assert_eq "$desc" "$want" "--list of the $v build (as the default build)"
done

e2e_cert
start_capture out.pcapng -v
declare -A PORTS CLIS SRVS
for v in "${VARIANTS[@]}"; do
	pick_port
	PORTS[$v]=$PORT
	mkdir -p "cli-$v" "srv-$v"
	bg "srv-$v.log" "$E2E_TMP/$v" echo-server -port "$PORT" -cert "$CERT" -key "$KEY" -out "srv-$v" -conns 3
	SRVS[$v]=$BG_PID
	wait_probed "$E2E_TMP/$v"
	wait_port "$PORT" 10
	bg "cli-$v.log" "$E2E_TMP/$v" echo-client -port "$PORT" -ca "$CERT" -out "cli-$v" -conns 3
	CLIS[$v]=$BG_PID
	wait_bounded "${CLIS[$v]}" 30 || fail "$v client failed: $(tail -n 3 "cli-$v.log")"
	wait_bounded "${SRVS[$v]}" 10 || fail "$v server failed: $(tail -n 3 "srv-$v.log")"
done
sleep 0.5
stop_capture

F=out.pcapng
assert_tshark_reads "$F"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
for v in "${VARIANTS[@]}"; do
	assert_pid_view "$F" "${CLIS[$v]}" client "$(go_library_re "$E2E_TMP/$v")" 3
	assert_pid_view "$F" "${SRVS[$v]}" server "$(go_library_re "$E2E_TMP/$v")" 3
	assert_match "$F" "${PORTS[$v]}" "cli-$v" 3
	log "variant $v: 3 connections, $(cat "cli-$v"/*.c2s "cli-$v"/*.s2c | wc -c) bytes, byte-exact"
done
log "PASS"
