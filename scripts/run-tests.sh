#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the test suites: scripts/run-tests.sh [unit|sanitize|fuzz|e2e|all]   (default: all)
#   unit:     every executable .output/tests/test_* (cmocka), 120 s each
#   sanitize: the same tests built with ASan+UBSan, .output-sanitize/tests/test_* (make sanitize)
#   fuzz:     every .output-sanitize/fuzz/fuzz_* for FUZZ_SECONDS (default 60) from its seeds
#             in tests/fuzz/corpus/NAME; a crash, leak, UBSan report or 10 s input fails
#   e2e:      every tests/e2e/test_*.sh (needs root), 300 s each
# Prints "PASS name (Ns)", "FAIL name ..." (with the tail of the test's output) or
# "SKIP name: reason" (a test exits 77 only when the environment makes it impossible),
# then one final line "tests: N passed, N failed[, N skipped]". Exit 1 if anything failed.
# Environment: UNIT_TIMEOUT, E2E_TIMEOUT, FUZZ_SECONDS (seconds), FUZZ_JOBS (targets at once), TESTS_FILTER (regex on test names),
# TLSPCAP (binary under test, default ./tlspcap), E2E_KEEP=1 (keep every e2e work dir).
# Logs: .output/test-logs/<name>.log; failed e2e work dirs are kept under .output/e2e/;
# fuzz inputs found are kept in .output-sanitize/fuzz-corpus/NAME, crashes in .output-sanitize/fuzz-crashes/.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

MODE=${1:-all}
case $MODE in
unit | sanitize | fuzz | e2e | all) ;;
-h | --help)
	sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: $0 [unit|sanitize|fuzz|e2e|all]" >&2
	exit 2
	;;
esac

UNIT_TIMEOUT=${UNIT_TIMEOUT:-120}
E2E_TIMEOUT=${E2E_TIMEOUT:-300}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
TESTS_FILTER=${TESTS_FILTER:-}
LOGDIR=$ROOT/.output/test-logs
TAIL_LINES=${TAIL_LINES:-40}
mkdir -p "$LOGDIR/sanitize" "$LOGDIR/fuzz"
# Sanitizer reports are fatal and name the line (UBSan is built with -fno-sanitize-recover);
# strict_string_checks reports strtoul() and friends on bytes with no NUL in the buffer
# even when the digits stop first (the redaction stage's held bytes are unterminated).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
skipped=0

filtered_out() { [ -n "$TESTS_FILTER" ] && ! [[ $1 =~ $TESTS_FILTER ]]; }

show_tail() { # LOG
	echo "----- last $TAIL_LINES lines of $1 -----"
	tail -n "$TAIL_LINES" "$1" | sed 's/^/    /'
	echo "-----"
}

# run_one NAME TIMEOUT CMD... : run with a timeout, output to the log, report.
run_one() {
	local name=$1 limit=$2 log start rc secs
	shift 2
	log=$LOGDIR/$name.log
	start=$(date +%s)
	# timeout puts the test in its own process group and, on expiry, signals the
	# whole group (TERM, then KILL 10 s later), so helpers the test started die too.
	timeout -k 10 "$limit" "$@" </dev/null >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0)
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
		;;
	77)
		echo "SKIP $name: $(grep -v '^[[:space:]]*$' "$log" | tail -n 1)"
		skipped=$((skipped + 1))
		;;
	124 | 137)
		echo "FAIL $name (timed out after ${limit}s)"
		show_tail "$log"
		failed=$((failed + 1))
		;;
	*)
		echo "FAIL $name (exit $rc, ${secs}s)"
		show_tail "$log"
		failed=$((failed + 1))
		;;
	esac
}

# fail_one NAME MESSAGE : count a failure that happened before the test could run.
fail_one() {
	echo "FAIL $1 ($2)"
	failed=$((failed + 1))
}

# run_unit DIR PREFIX: every cmocka test binary in DIR; PREFIX names the suite.
run_unit() {
	local dir=$1 prefix=$2 t name found=0 src
	# A test source without its binary means the build did not produce it.
	for src in tests/test_*.c; do
		[ -e "$src" ] || continue
		name=$(basename "$src" .c)
		filtered_out "$prefix$name" && continue
		[ -x "$dir/$name" ] || fail_one "$prefix$name" "no binary $dir/$name: run make unit (make sanitize)"
	done
	for t in "$dir"/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		name=$(basename "$t")
		filtered_out "$prefix$name" && continue
		found=1
		# cmocka: plain output, and no colours in the logs.
		CMOCKA_MESSAGE_OUTPUT=stdout run_one "$prefix$name" "$UNIT_TIMEOUT" "$t"
	done
	if [ $found = 0 ] && [ -z "$TESTS_FILTER" ]; then
		fail_one "${prefix}unit" "no unit test binaries in $dir"
	fi
}

# Each fuzz target: its seeds (read only) plus the inputs it found before.  Targets run
# FUZZ_JOBS at a time (one per core): each is one single-threaded libFuzzer process, and
# nothing else runs during this stage.  Results are reported in the targets' order.
run_fuzz() {
	local src name t seeds work crashes res=.output-sanitize/fuzz-results i=0 n p s f
	rm -rf "$res"
	mkdir -p "$res"
	for src in tests/fuzz/fuzz_*.c; do
		[ -e "$src" ] || continue
		name=$(basename "$src" .c)
		filtered_out "fuzz/$name" && continue
		t=.output-sanitize/fuzz/$name
		if ! [ -x "$t" ]; then
			fail_one "fuzz/$name" "no binary $t: run make sanitize"
			continue
		fi
		seeds=tests/fuzz/corpus/${name#fuzz_}
		work=.output-sanitize/fuzz-corpus/${name#fuzz_}
		crashes=.output-sanitize/fuzz-crashes
		mkdir -p "$work" "$crashes"
		while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do wait -n; done
		i=$((i + 1))
		(
			passed=0 failed=0 skipped=0
			run_one "fuzz/$name" $((FUZZ_SECONDS + 120)) "$t" -max_total_time="$FUZZ_SECONDS" \
				-timeout=10 -rss_limit_mb=2048 -error_exitcode=1 -print_final_stats=1 \
				-artifact_prefix="$crashes/$name-" "$work" "$seeds"
			echo "$passed $failed $skipped" >"$res/$i.counts"
		) >"$res/$i.out" &
	done
	wait
	for ((n = 1; n <= i; n++)); do
		cat "$res/$n.out"
		if read -r p f s <"$res/$n.counts" 2>/dev/null; then
			passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
		else
			fail_one "fuzz target $n" "its runner left no result"
		fi
	done
}

run_e2e() {
	local t name found=0 scripts=()
	for t in tests/e2e/test_*.sh; do
		[ -f "$t" ] || continue
		name=e2e/$(basename "$t" .sh)
		filtered_out "$name" && continue
		scripts+=("$t")
	done
	if [ ${#scripts[@]} -eq 0 ]; then
		[ -z "$TESTS_FILTER" ] && fail_one e2e "no tests/e2e/test_*.sh found"
		return
	fi
	if [ "$(id -u)" -ne 0 ]; then
		for t in "${scripts[@]}"; do
			fail_one "e2e/$(basename "$t" .sh)" "e2e tests must run as root"
		done
		return
	fi
	export TLSPCAP=${TLSPCAP:-$ROOT/tlspcap}
	export E2E_WORKDIR=$ROOT/.output/e2e
	rm -rf "$E2E_WORKDIR"
	mkdir -p "$E2E_WORKDIR"
	for t in "${scripts[@]}"; do
		name=e2e/$(basename "$t" .sh)
		mkdir -p "$LOGDIR/e2e"
		run_one "$name" "$E2E_TIMEOUT" bash "$t"
	done
}

case $MODE in
unit) run_unit .output/tests "" ;;
sanitize) run_unit .output-sanitize/tests sanitize/ ;;
fuzz) run_fuzz ;;
e2e) run_e2e ;;
all)
	run_unit .output/tests ""
	run_unit .output-sanitize/tests sanitize/
	run_fuzz
	run_e2e
	;;
esac

summary="tests: $passed passed, $failed failed"
[ $skipped -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ $failed -eq 0 ]
