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
readelf -SW sw | grep -q ' .symtab ' && fail "-s -w build still has .symtab"
readelf -SW stripped | grep -q ' .symtab ' && fail "stripped build still has .symtab"
readelf -hW pie | grep -q 'DYN' || fail "-buildmode=pie did not give a PIE"
readelf -lW nocgo | grep -q INTERP && fail "CGO_ENABLED=0 build is dynamically linked"

want=""
for v in "${VARIANTS[@]}"; do
	desc=$("$TLSPCAP" --list --lib "$E2E_TMP/$v" | sed -n "\\|^$E2E_TMP/$v\$|,/^\$/p" | grep -E '^  (library|functions):')
	[ -n "$desc" ] || fail "--list --lib $v: no entry for it"
	assert_contains "$desc" "library:    Go crypto/tls $(go env GOVERSION)" "--list of the $v build"
	[ -z "$want" ] && want=$desc
	assert_eq "$desc" "$want" "--list of the $v build (as the default build)"
done

e2e_cert
# Each variant's client is captured as `-- COMMAND`, its server untraced: the variants are
# judged on their own calls (a Go echo pair traced from both ends is a known open bug:
# README, Limitations).
for v in "${VARIANTS[@]}"; do
	pick_port
	mkdir -p "cli-$v" "srv-$v"
	bg "srv-$v.log" "$E2E_TMP/$v" echo-server -port "$PORT" -cert "$CERT" -key "$KEY" -out "srv-$v" -conns 3
	srv=$BG_PID
	wait_port "$PORT" 10
	F=out-$v.pcapng
	timeout 60 "$TLSPCAP" -w "$F" -- "$E2E_TMP/$v" echo-client -port "$PORT" -ca "$CERT" \
		-out "cli-$v" -conns 3 >"cli-$v.log" 2>"tlspcap-$v.log" ||
		fail "$v client under tlspcap failed: $(tail -n 3 "cli-$v.log" "tlspcap-$v.log")"
	wait_bounded "$srv" 10 || fail "$v server failed: $(tail -n 3 "srv-$v.log")"
	assert_tshark_reads "$F"
	assert_eq "$(capture_stat 'bytes lost' "tlspcap-$v.log")" 0 "bytes lost (summary, $v)"
	lib=$(streams_with_comment "$F" "Library: Go crypto/tls $(go env GOVERSION) \\($E2E_TMP/$v\\)" | wc -l)
	assert_eq "$lib" 3 "streams of the $v client naming its Go library"
	assert_eq "$(streams_with_comment "$F" 'Role: server' | wc -l)" 0 "server views in the $v capture"
	assert_match "$F" "$PORT" "cli-$v" 3
	log "variant $v: 3 connections, $(cat "cli-$v"/*.c2s "cli-$v"/*.s2c | wc -c) bytes, byte-exact"
done
log "PASS"
