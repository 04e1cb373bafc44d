#!/usr/bin/env bash
# Bad command lines: exit status 2 and a message naming the problem; nothing left running.
source "$(dirname "$0")/lib.sh"
e2e_init
[ -x "$TLSPCAP" ] || fail "tlspcap binary not found at $TLSPCAP (make tlspcap)"

# expect_usage_error REGEX ARGS... : exit 2, stderr matches REGEX (ERE, case-insensitive)
expect_usage_error() {
	local re=$1 rc=0 err
	shift
	timeout -k 5 10 "$TLSPCAP" "$@" >stdout.txt 2>stderr.txt </dev/null || rc=$?
	err=$(cat stderr.txt)
	[ "$rc" = 2 ] || fail "tlspcap $*: exit status $rc, want 2 (stderr: $err)"
	grep -qiE -- "$re" <<<"$err" || fail "tlspcap $*: message does not name the problem /$re/: $err"
	! grep -qE '^tlspcap: capturing' stderr.txt || fail "tlspcap $*: started capturing"
	ok "tlspcap $* -> exit 2: $(head -n 1 stderr.txt)"
}

expect_usage_error 'abc|snaplen|-s' -w x.pcapng -s abc
expect_usage_error '999999999' -w x.pcapng -p 999999999
expect_usage_error 'abc|pid|-p' -w x.pcapng -p abc
expect_usage_error '/nonexistent/dir/x' -w /nonexistent/dir/x
expect_usage_error 'bogus|unrecognized|unknown|invalid' -w x.pcapng --bogus
expect_usage_error '-w|output|usage' -p 1
expect_usage_error 'abc|count|-c' -w x.pcapng -c abc
expect_usage_error 'no TLS functions' -w x.pcapng --lib /bin/true
[ ! -e /nonexistent/dir/x ] || fail "/nonexistent/dir/x exists"

# A full disk is no usage error, but it is reported before capturing starts.
rc=0
timeout -k 5 20 "$TLSPCAP" -w /dev/full -- true >stdout.txt 2>stderr.txt </dev/null || rc=$?
[ "$rc" -ne 0 ] || fail "tlspcap -w /dev/full: exit status 0"
grep -q 'No space left on device' stderr.txt || fail "tlspcap -w /dev/full: no ENOSPC message: $(cat stderr.txt)"
! grep -qE '^tlspcap: capturing' stderr.txt || fail "tlspcap -w /dev/full: started capturing"
ok "tlspcap -w /dev/full -> exit $rc: $(tail -n 1 stderr.txt)"
log "PASS"
