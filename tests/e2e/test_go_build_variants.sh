#!/usr/bin/env bash
# One Go program built four ways, each with CGO_ENABLED=1 and =0: default, -ldflags='-s -w'
# (no .symtab), strip(1), -buildmode=pie (both PIEs keep their pclntab in a section named
# .data.rel.ro.gopclntab). The cgo builds are dynamically linked (an INTERP program
# header), the pure-Go ones but the PIE are static. Every build is found and described alike by --list (version, functions,
# RET counts), and the same echo exchange (1 B to 1 MiB each way) is captured byte-exact
# for each, with both PIDs; one line per variant sums it up.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
source "$(dirname "$0")/lib_go.sh"
e2e_init
VARIANTS=()
for cgo in 1 0; do
	for how in default sw strip pie; do
		VARIANTS+=("cgo$cgo-$how")
	done
done
# The PIE and the pure-Go builds recompile the standard library: the first of each in
# parallel, then the others from the build cache (~65 s in all on 2 cores).
wait_builds() {
	local job
	for job in $(jobs -p); do wait "$job" || fail "a go build failed"; done
}
CGO_ENABLED=1 go_build "$E2E_TMP/cgo1-default" &
CGO_ENABLED=1 go_build "$E2E_TMP/cgo1-pie" -buildmode=pie &
CGO_ENABLED=0 go_build "$E2E_TMP/cgo0-default" &
wait_builds
CGO_ENABLED=1 go_build "$E2E_TMP/cgo1-sw" -ldflags='-s -w' &
CGO_ENABLED=0 go_build "$E2E_TMP/cgo0-sw" -ldflags='-s -w' &
CGO_ENABLED=0 go_build "$E2E_TMP/cgo0-pie" -buildmode=pie &
wait_builds
for cgo in 1 0; do
	cp "cgo$cgo-default" "cgo$cgo-strip"
	strip "cgo$cgo-strip"
done
ok "built ${VARIANTS[*]}"
for v in "${VARIANTS[@]}"; do
	sections=$(readelf -SW "$v")
	case $v in
	*-sw | *-strip) ! grep -q ' .symtab ' <<<"$sections" || fail "$v still has a .symtab" ;;
	*) grep -q ' .symtab ' <<<"$sections" || fail "$v has no .symtab" ;;
	esac
	case $v in
	*-pie) grep -q 'DYN' <<<"$(readelf -hW "$v")" || fail "$v is no PIE" ;;
	esac
	if [[ $v == cgo1-* || $v == cgo0-pie ]]; then
		grep -q INTERP <<<"$(readelf -lW "$v")" || fail "$v has no INTERP program header"
	else
		! grep -q INTERP <<<"$(readelf -lW "$v")" || fail "$v is dynamically linked"
	fi
done
ok "cgo builds and the pure-Go PIE have an INTERP header, the other pure-Go builds none"
for v in cgo1-pie cgo0-pie; do
	grep -q ' .data.rel.ro.gopclntab ' <<<"$(readelf -SW "$v")" || fail "$v has no .data.rel.ro.gopclntab section"
done
ok "both PIEs keep their pclntab in .data.rel.ro.gopclntab"

want=""
declare -A FUNCS
for v in "${VARIANTS[@]}"; do
	desc=$("$TLSPCAP" --list --lib "$E2E_TMP/$v" | sed -n "\\|^$E2E_TMP/$v\$|,/^\$/p" | grep -E '^  (library|functions):')
	[ -n "$desc" ] || fail "--list --lib $v: no entry for it"
	assert_contains "$desc" "library:    Go crypto/tls $(go env GOVERSION)" "--list of $v"
	[ -z "$want" ] && want=$desc
	assert_eq "$desc" "$want" "--list of $v (as ${VARIANTS[0]})"
	FUNCS[$v]=$(grep -oE 'functions: .*' <<<"$desc" | sed 's/^functions: *//')
done

e2e_cert
start_capture out.pcapng -v
declare -A PORTS CLIS SRVS
for v in "${VARIANTS[@]}"; do
	pick_port
	PORTS[$v]=$PORT
	mkdir -p "cli-$v" "srv-$v"
	bg "srv-$v.log" "$E2E_TMP/$v" echo-server -port "$PORT" -cert "$CERT" -key "$KEY" -out "srv-$v" -conns 1
	SRVS[$v]=$BG_PID
	wait_probed "$E2E_TMP/$v"
	wait_port "$PORT" 10
	bg "cli-$v.log" "$E2E_TMP/$v" echo-client -port "$PORT" -ca "$CERT" -out "cli-$v" -conns 1
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
	assert_pid_view "$F" "${CLIS[$v]}" client "$(go_library_re "$E2E_TMP/$v")" 1
	assert_pid_view "$F" "${SRVS[$v]}" server "$(go_library_re "$E2E_TMP/$v")" 1
	assert_match "$F" "${PORTS[$v]}" "cli-$v" 1
done
for v in "${VARIANTS[@]}"; do
	log "variant $v: $(go env GOVERSION), ${FUNCS[$v]}; $(cat "cli-$v"/*.c2s "cli-$v"/*.s2c | wc -c) bytes byte-exact both ways, both PIDs"
done
log "PASS"
