#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prepare a Debian 12 machine to build and test tlspcap. Idempotent; run as root.
#   - installs the build and test packages (apt-get update only when needed)
#   - mounts tracefs at /sys/kernel/tracing
# Quiet on success apart from one summary line; apt output goes to $SETUP_LOG and
# its tail is shown on failure.
set -euo pipefail

PACKAGES=(
	clang llvm bpftool libbpf-dev libelf-dev libpcap-dev libcap-ng-dev libzstd-dev zlib1g-dev
	libcmocka-dev libssl-dev libcapstone-dev make gcc pkg-config
	# ASan, UBSan and libFuzzer runtimes for clang (make sanitize, make fuzz)
	libclang-rt-14-dev
	tshark nginx curl openssl python3 procps iproute2
	# Other TLS libraries (tests/e2e/test_lib_*.sh, samples/tls_peer_*.c): their peers
	# and the development files of the sample peers.
	gnutls-bin wget libnss3-tools nodejs
	android-libboringssl-dev libwolfssl-dev libmbedtls-dev libnss3-dev
	# Rotation and compression tests: mergecap/capinfos (wireshark-common), zstd, and
	# script(1) for a terminal (bsdutils).
	wireshark-common zstd bsdutils
	# Go crypto/tls (tests/test_go_binary.c, tests/e2e/test_go_*.sh): the Go toolchain
	# that builds the test programs, and Go programs as Debian ships them (the tests
	# start them themselves)
	golang-go caddy etcd-server etcd-client
	# Redaction of database passwords (tests/e2e/test_redact_db.sh): psql against a
	# PostgreSQL server with TLS, redis-cli --tls against redis-server
	postgresql postgresql-client redis-server redis-tools
	# ... and of MySQL/MariaDB (tests/e2e/test_redact_mysql.sh): mariadb against mariadbd
	mariadb-server mariadb-client
	# The benchmark's peer tracer (scripts/bench.sh: bcc's sslsniff in bpftrace).
	bpftrace
	# perf stat counts the Go peers' EAGAIN reads and writes (tests/e2e/test_go_concurrent.sh)
	linux-perf
	# gRPC core from python, on the system libssl (tests/e2e/test_grpc_python.sh)
	python3-grpcio
	# The e2e harness (tests/e2e) also uses timeout/env --default-signal/mkfifo/od
	# (coreutils), cmp (diffutils) and mountpoint (util-linux): essential packages.
)
TRACEFS=/sys/kernel/tracing
SETUP_LOG=${SETUP_LOG:-/tmp/tlspcap-setup.log}

die() { echo "setup: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: must run as root (try: sudo $0)" >&2
	exit 2
fi

installed() { # PKG -> 0 when dpkg has it fully installed
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

candidate() { # PKG -> 0 when apt knows an installable version
	local c
	c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
	[ -n "$c" ] && [ "$c" != "(none)" ]
}

lists_fresh() { # 0 when package lists exist and are younger than a day
	local newest
	newest=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)
	[ -n "$newest" ]
}

apt_fail() {
	echo "setup: $1 failed; last lines of $SETUP_LOG:" >&2
	tail -n 30 "$SETUP_LOG" >&2 || true
	exit 1
}

missing=()
for p in "${PACKAGES[@]}"; do
	installed "$p" || missing+=("$p")
done

: >"$SETUP_LOG"
updated=no
if [ ${#missing[@]} -gt 0 ]; then
	need_update=no
	lists_fresh || need_update=yes
	if [ $need_update = no ]; then
		for p in "${missing[@]}"; do
			candidate "$p" || { need_update=yes; break; }
		done
	fi
	if [ $need_update = yes ]; then
		echo "+ apt-get update" >>"$SETUP_LOG"
		timeout 600 apt-get update >>"$SETUP_LOG" 2>&1 || apt_fail "apt-get update"
		updated=yes
	fi
	# tshark asks whether non-root users may capture: answer "no" without a prompt.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections >>"$SETUP_LOG" 2>&1 || apt_fail "debconf-set-selections"
	echo "+ apt-get install ${missing[*]}" >>"$SETUP_LOG"
	DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get install -y --no-upgrade \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" >>"$SETUP_LOG" 2>&1 || apt_fail "apt-get install"
	for p in "${missing[@]}"; do
		installed "$p" || apt_fail "installing $p"
	done
fi

tracefs=already
if ! mountpoint -q "$TRACEFS"; then
	[ -d "$TRACEFS" ] || die "$TRACEFS does not exist (kernel without tracefs?)"
	mount -t tracefs tracefs "$TRACEFS" >>"$SETUP_LOG" 2>&1 ||
		{ tail -n 5 "$SETUP_LOG" >&2; die "cannot mount tracefs at $TRACEFS"; }
	tracefs=mounted
fi
[ -e "$TRACEFS/events/syscalls" ] || die "$TRACEFS/events/syscalls missing (no syscall tracepoints?)"
[ -e /sys/kernel/btf/vmlinux ] || die "/sys/kernel/btf/vmlinux missing: kernel without BTF"

echo "setup: ${#PACKAGES[@]} packages ok (${#missing[@]} installed, apt-get update: $updated), tracefs $tracefs at $TRACEFS, kernel $(uname -r)"
