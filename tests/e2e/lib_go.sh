# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Go peers for the tests of Go crypto/tls (test_go_*.sh): tests/e2e/go/tlsgo.go, built at
# test time by Debian's Go (standard library only) with GOCACHE/GOPATH in the work dir.
# Source it after lib.sh and lib_peers.sh.
#
#   go_init                           e2e_init, then tlsgo built into $G (default build)
#   go_build OUT [GO BUILD ARGS...]   build tlsgo into OUT (environment such as
#                                     CGO_ENABLED=0 passes through); fails with go's output
#   go_library_re BIN                 ERE of the Library: comment for the Go binary BIN
#                                     ("Go crypto/tls go1.19.8 (BIN)")
#   start_go_server BIN PORT LOG [ARG...]   tlsgo http-server on PORT, pid in $GO_SRV

go_build() {
	local out=$1
	shift
	need_tools go:golang-go
	GOCACHE=$E2E_TMP/go-cache GOPATH=$E2E_TMP/gopath GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local \
		go build "$@" -o "$out" "$E2E_DIR/go/tlsgo.go" >"$out.build.log" 2>&1 ||
		fail "go build $* failed: $(tail -n 5 "$out.build.log")"
}

go_library_re() {
	local v
	v=$(go env GOVERSION)
	printf '^Go crypto/tls %s \\(%s\\)$' "${v//./\\.}" "$1"
}

start_go_server() {
	local bin=$1 port=$2 logf=$3
	shift 3
	e2e_cert
	bg "$logf" "$bin" http-server -port "$port" -cert "$CERT" -key "$KEY" "$@"
	GO_SRV=$BG_PID
	wait_port "$port" 10
}

go_init() {
	e2e_init
	G=$E2E_TMP/tlsgo
	go_build "$G"
}
