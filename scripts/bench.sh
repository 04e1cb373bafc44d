#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tlspcap benchmark (issue #5): what tlspcap costs the traced application, and whether
# it keeps up.  Usage: scripts/bench.sh [--short] [--rounds N] [--modes "rr bulk"] [--no-hold]
# [--no-bpf-stats] [--no-calls]
#
#   make bench                     build tlspcap + .output/bench/{tls_load,bench_floor,bench_calls}, run this
#   make bench BENCH_ARGS=--short  (or scripts/bench.sh --short) a few seconds, for CI
#
# For each mode (rr: 2 connections, 100 B requests / 1000 B responses; bulk: 4 connections,
# 16 KiB SSL_write calls, 1 GiB) it runs, interleaved (ROUNDS rounds, order rotated):
#   none   no tracing
#   floor  the classic floor: bench_floor, empty BPF programs at the entries of the
#          functions tlspcap probes (bpf/floor.bpf.c)
#   chosen the new floor: the same empty programs at tlspcap's chosen probe points
#          (bench_floor --chosen, capture/probe_point.h)
#   file   tlspcap -w FILE (default settings); the capture is verified byte for byte
#   null   tlspcap -w /dev/null
#   peer   a bpftrace program doing what bcc's sslsniff does: uprobe SSL_write,
#          uprobe+uretprobe SSL_read, printing each buffer (as far as bpftrace's
#          buf() goes) to a file
# and prints per-run rows, medians and ratios (rr: added microseconds per round trip
# against none), tlspcap's CPU seconds (and per GB captured), peak RSS (total and
# beyond its ring buffer mappings), ready time (start -> "tlspcap: capturing"), bytes lost
# (tlspcap's summary) and the verifier's verdict.  Then: 10,000 connections held open under
# tlspcap (RSS while open / after close), ready time with a few hundred extra processes,
# per call of every library with a sample peer the cost of an empty program at the
# function entry against at the chosen point (bench_calls, --no-calls skips it), and
# per-program BPF run time (kernel.bpf_stats_enabled) in a separate tlspcap run.
#
# Asserts nothing about speed.  Exits 1 if something is broken: a load run fails, tlspcap
# does not start or exits non-zero, or a capture does not verify (missing/mismatched bytes).
# Builds nothing: run `make bench-tools tlspcap` first (make bench does).
# Environment: TLSPCAP (binary, default ./tlspcap), BENCH_WORK (scratch dir, default
# .output/bench/run), RR_CONNS RR_SECONDS BULK_CONNS BULK_MB HOLD_CONNS HOLD_SECONDS
# EXTRA_PROCS CALLS to override the sizes.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

SHORT=0
ROUNDS=
DO_HOLD=1
DO_STATS=1
DO_CALLS=1
MODES="rr bulk"
while [ $# -gt 0 ]; do
	case $1 in
	--short) SHORT=1 ;;
	--rounds) ROUNDS=$2; shift ;;
	--no-hold) DO_HOLD=0 ;;
	--no-bpf-stats) DO_STATS=0 ;;
	--no-calls) DO_CALLS=0 ;;
	--modes) MODES=$2; shift ;;
	-h | --help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 [--short] [--rounds N] [--modes 'rr bulk'] [--no-hold] [--no-bpf-stats] [--no-calls]" >&2; exit 2 ;;
	esac
	shift
done

if [ "$SHORT" = 1 ]; then
	: "${ROUNDS:=1}" "${RR_CONNS:=2}" "${RR_SECONDS:=1}" "${BULK_CONNS:=4}" "${BULK_MB:=64}"
	: "${HOLD_CONNS:=200}" "${HOLD_SECONDS:=1}" "${EXTRA_PROCS:=0}" "${CALLS:=20000}"
	DO_STATS=0
else
	: "${ROUNDS:=3}" "${RR_CONNS:=2}" "${RR_SECONDS:=5}" "${BULK_CONNS:=4}" "${BULK_MB:=1024}"
	: "${HOLD_CONNS:=10000}" "${HOLD_SECONDS:=5}" "${EXTRA_PROCS:=300}" "${CALLS:=100000}"
fi

TLSPCAP=${TLSPCAP:-./tlspcap}
BIN=$ROOT/.output/bench
LOAD=$BIN/tls_load
FLOOR=$BIN/bench_floor
CALLS_BIN=$BIN/bench_calls
WORK=${BENCH_WORK:-$ROOT/.output/bench/run}
CONFIGS=(none floor chosen file null peer)
FAILED=0

if ! command -v bpftrace >/dev/null; then
	echo "bench: bpftrace missing (the peer): run scripts/setup.sh" >&2
	exit 2
fi
for f in "$TLSPCAP" "$LOAD" "$FLOOR" "$CALLS_BIN"; do
	if [ ! -x "$f" ]; then
		echo "bench: $f missing: run 'make bench-tools tlspcap' (or 'make bench')" >&2
		exit 2
	fi
done
if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (BPF)" >&2
	exit 2
fi
mkdir -p "$WORK" || exit 1
RESULTS=$WORK/results.tsv
: >"$RESULTS"

LIBSSL=$(ldd "$LOAD" | awk '/libssl\.so/ {print $3; exit}')
LIBSSL=$(readlink -f "$LIBSSL")
[ -n "$LIBSSL" ] || { echo "bench: cannot find the libssl tls_load uses" >&2; exit 2; }

fail() {
	echo "bench: FAIL: $*" >&2
	FAILED=1
}

now_ns() { date +%s%N; }

# Busy CPU seconds of the whole machine so far (from /proc/stat).
busy_s() { awk '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8) / 100}' /proc/stat; }

# Other tracers: processes other than $1 with BPF/perf attachments (e.g. a colleague's
# tlspcap in a test): they trace "none" too and wreck the comparison.
foreign_tracers() {
	bpftool perf show 2>/dev/null | awk -v me="${1:-0}" '$1 == "pid" && $2 != me {print $2}' | sort -u | tr '\n' ' '
}

# Waits up to 120 s for the machine to be free of other tracers; returns what is left.
wait_quiet() {
	local i f
	for i in $(seq 240); do
		f=$(foreign_tracers)
		[ -z "$f" ] && return 0
		[ "$i" = 1 ] && echo "  (waiting for other tracers to go: pids $f)" >&2
		sleep 0.5
	done
	echo "$f"
}

# wait_for FILE PATTERN SECONDS: 0 once PATTERN is in FILE.
wait_for() {
	local deadline=$(($(date +%s) + $3))
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.002
	done
}

# The section lists of the floor and tlspcap objects must agree (same probe points).
check_floor_mirrors_tlspcap() {
	local a b
	a=$(llvm-objdump -t .output/tlspcap.bpf.o 2>/dev/null | awk '$3 == "F" && $4 ~ /^(uprobe|uretprobe|tracepoint|tp_btf|kprobe|fentry|fexit)/ {print $4}' | sort | uniq -c)
	b=$(llvm-objdump -t .output/floor.bpf.o 2>/dev/null | awk '$3 == "F" && $4 ~ /^(uprobe|uretprobe|tracepoint|tp_btf|kprobe|fentry|fexit)/ {print $4}' | sort | uniq -c)
	if [ -z "$a" ] || [ -z "$b" ]; then
		echo "bench: note: could not compare program sections (llvm-objdump or .bpf.o missing)"
	elif [ "$a" != "$b" ]; then
		echo "bench: WARNING: bpf/floor.bpf.c no longer mirrors bpf/tlspcap.bpf.c's SEC() list:"
		diff <(echo "$a") <(echo "$b") | sed 's/^/    /'
	fi
}

# Kilobytes of RSS in tlspcap's BPF map mappings (the ring buffer, mapped twice).
ring_rss_kb() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / {bpf = ($0 ~ /anon_inode:bpf/)} bpf && /^Rss:/ {s += $2} END {print s + 0}' "/proc/$1/smaps" 2>/dev/null || echo 0
}
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# The peer: bcc's sslsniff (entry SSL_write, entry and return SSL_read, every buffer
# printed) in bpftrace.
peer_script() {
	cat <<EOF
uprobe:$LIBSSL:SSL_write { printf("WRITE %d %d %d %r\\n", pid, tid, arg2, buf(arg1, arg2)); }
uprobe:$LIBSSL:SSL_read { @rbuf[tid] = arg1; }
uretprobe:$LIBSSL:SSL_read /@rbuf[tid]/ {
	if ((int32)retval > 0) { printf("READ %d %d %d %r\\n", pid, tid, (int32)retval, buf(@rbuf[tid], (int32)retval)); }
	delete(@rbuf[tid]);
}
EOF
}

# run_load MODE MANIFEST: runs tls_load, prints its result line's rate.
run_load() {
	local out
	case $1 in
	rr) out=$("$LOAD" rr -c "$RR_CONNS" -d "$RR_SECONDS" -M "$2" -S "$SEED") ;;
	bulk) out=$("$LOAD" bulk -c "$BULK_CONNS" -m "$BULK_MB" -M "$2" -S "$SEED") ;;
	esac || { echo 0; return 1; }
	sed -n 's/^tls_load: cpu=\([0-9.]*\)/\1/p' <<<"$out" >"$WORK/load_cpu"
	sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$out"
}

# start_tlspcap OUTPUT LOG: starts tlspcap under /usr/bin/time; sets TL_PID, TIME_PID, READY_MS.
start_tlspcap() {
	local t0 i
	# a log left by an earlier run would say "capturing" before this one truncates it
	rm -f "$WORK/time.txt" "$2"
	t0=$(now_ns)
	/usr/bin/time -f 'BENCHTIME %e %U %S %M' -o "$WORK/time.txt" "$TLSPCAP" -w "$1" 2>"$2" &
	TIME_PID=$!
	TL_PID=
	for i in $(seq 500); do
		TL_PID=$(pgrep -P "$TIME_PID" | head -1)
		[ -n "$TL_PID" ] && break
		sleep 0.001
	done
	if ! wait_for "$2" 'tlspcap: capturing' 30; then
		fail "tlspcap did not start: $(tail -3 "$2")"
		[ -n "$TL_PID" ] && kill -INT "$TL_PID" 2>/dev/null
		wait "$TIME_PID" 2>/dev/null
		return 1
	fi
	READY_MS=$((($(now_ns) - t0) / 1000000))
}

# stop_tlspcap LOG: SIGINT, wait; sets CPU_S, HWM_KB (from time -v %M), TL_RC.
stop_tlspcap() {
	kill -INT "$TL_PID" 2>/dev/null
	wait "$TIME_PID"
	TL_RC=$?
	[ "$TL_RC" = 0 ] || fail "tlspcap exited with status $TL_RC: $(tail -3 "$1")"
	read -r _ _ user sys maxrss < <(grep BENCHTIME "$WORK/time.txt")
	CPU_S=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN {printf "%.2f", u + s}')
	HWM_KB=${maxrss:-0}
}

# One measurement: MODE CONFIG ROUND -> a row in $RESULTS.
#   mode config round rate cpu_s hwm_kb ring_kb ready_ms lost_bytes dropped_bytes verify
#   load_cpu_s other_cpu_s ("!" when other tracers were attached)
measure() {
	local mode=$1 config=$2 round=$3 manifest=$WORK/manifest.$1 cap=$WORK/capture.pcapng
	local log=$WORK/$config.$mode.$round.log rate ring=0 lost=- dropped=- verify=- vline fp captured=-
	CPU_S=- HWM_KB=- READY_MS=-
	SEED=$((round * 16 + ${#config}))
	local noisy= busy0 busy1 other
	# The last capture's gigabyte still being written back would slow this run's writes.
	sync
	noisy=$(wait_quiet)
	rm -f "$log" "$WORK/peer.out" # an old one would say "attached" too early
	busy0=$(busy_s)
	case $config in
	none)
		rate=$(run_load "$mode" "$manifest")
		;;
	floor | chosen)
		"$FLOOR" $([ "$config" = chosen ] && echo --chosen) "$LIBSSL" 2>"$log" &
		fp=$!
		if ! wait_for "$log" 'floor: attached' 30; then
			fail "bench_floor did not attach: $(cat "$log")"
			kill -INT $fp 2>/dev/null; wait $fp
			return
		fi
		rate=$(run_load "$mode" "$manifest")
		kill -INT $fp; wait $fp || fail "bench_floor failed"
		;;
	peer)
		peer_script >"$WORK/peer.bt"
		bpftrace -o "$WORK/peer.out" "$WORK/peer.bt" 2>"$log" &
		fp=$!
		if ! wait_for "$WORK/peer.out" 'Attaching' 60; then
			fail "bpftrace did not attach: $(cat "$log")"
			kill -INT $fp 2>/dev/null; wait $fp
			return
		fi
		rate=$(run_load "$mode" "$manifest")
		kill -INT $fp; wait $fp || fail "bpftrace failed: $(tail -3 "$log")"
		rm -f "$WORK/peer.out"
		;;
	file | null)
		local target=$cap
		[ "$config" = null ] && target=/dev/null
		rm -f "$cap"
		start_tlspcap "$target" "$log" || return
		rate=$(run_load "$mode" "$manifest")
		ring=$(ring_rss_kb "$TL_PID")
		stop_tlspcap "$log"
		lost=$(sed -n 's/^tlspcap: .* \([0-9]*\) bytes lost$/\1/p' "$log")
		captured=$(sed -n 's/^tlspcap: .* \([0-9]*\) bytes in streams,.*/\1/p' "$log")
		dropped=$(sed -n 's/^tlspcap: lost: [0-9]* records (\([0-9]*\) bytes[,)].*/\1/p' "$log")
		if [ "$config" = file ]; then
			vline=$("$LOAD" verify -M "$manifest" "$cap")
			if [ $? = 0 ]; then
				verify=OK
			else
				verify=FAIL
				fail "capture of $mode round $round does not verify: $vline"
			fi
			echo "$vline" >>"$WORK/verify.log"
			rm -f "$cap"
		fi
		;;
	esac
	case ${rate:-0} in 0 | 0.0 | "") fail "$mode under $config: tls_load failed" ;; esac
	busy1=$(busy_s)
	[ -z "$noisy" ] && noisy=$(foreign_tracers "${fp:-${TL_PID:-0}}")
	# CPU used during the run by neither the load nor tlspcap (kernel threads included)
	other=$(awk -v a="$busy0" -v b="$busy1" -v l="$(cat "$WORK/load_cpu" 2>/dev/null)" -v t="$CPU_S" \
		'BEGIN {o = b - a - l - (t == "-" ? 0 : t); printf "%.2f", o < 0 ? 0 : o}')
	[ -n "$noisy" ] && other="$other!"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$config" "$round" "${rate:-0}" \
		"$CPU_S" "$HWM_KB" "$ring" "$READY_MS" "${lost:--}" "${dropped:--}" "$verify" \
		"$(cat "$WORK/load_cpu" 2>/dev/null)" "$other" "${captured:--}" >>"$RESULTS"
	printf '  %-5s %-6s round %s  rate %10s %-4s  load cpu %5ss  other cpu %5ss  tlspcap cpu %5ss  peak RSS %7s KiB (ring %6s)  ready %4s ms  lost %s (ring drops %s)  verify %s\n' \
		"$mode" "$config" "$round" "${rate:-0}" "$([ "$mode" = rr ] && echo rt/s || echo MB/s)" \
		"$(cat "$WORK/load_cpu" 2>/dev/null)" "$other" "$CPU_S" "$HWM_KB" "$ring" "$READY_MS" "${lost:--}" "${dropped:--}" "$verify"
	[ -n "$noisy" ] && echo "    ^ other tracers were attached (pids $noisy): this run is not comparable"
}

summary() {
	local mode=$1 unit=$2 conns=$3
	awk -F'\t' -v mode="$mode" -v unit="$unit" -v conns="$conns" '
	function median(list,   n, a, i, j, t) {
		n = split(list, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		if (!n) return 0
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	# rr: microseconds a round trip takes longer than untraced (each connection waits for its own)
	function added_us(r) { return r && none ? (conns / r - conns / none) * 1e6 : 0 }
	$1 == mode {
		rate[$2] = rate[$2] " " $4
		if ($5 != "-") cpu[$2] = cpu[$2] " " $5
		if ($6 != "-") { hwm[$2] = hwm[$2] " " $6; beyond[$2] = beyond[$2] " " ($6 - $7) }
		if ($8 != "-") ready[$2] = ready[$2] " " $8
		if ($9 != "-") { lost[$2] += $9; drop[$2] += $10 }
		if ($11 != "-") { vruns[$2]++; if ($11 == "OK") vok[$2]++ }
		if ($14 != "-" && $14 + 0 > 0 && $5 != "-") cpugb[$2] = cpugb[$2] " " ($5 / ($14 / 1e9))
	}
	END {
		printf "\n%s: medians over rounds\n", mode
		printf "  %-6s %12s %8s %8s %8s %9s %8s %10s %12s %12s %9s %18s %s\n", "config", unit, "x none", "x floor", "x peer",
			mode == "rr" ? "+us/rt" : "", "cpu s", "cpu s/GB", "peakRSS MiB", "beyond ring", "ready ms", "bytes lost", "verified"
		split("none floor chosen file null peer", order, " ")
		none = median(rate["none"]); floor = median(rate["floor"]); peer = median(rate["peer"])
		for (k = 1; k <= 6; k++) {
			c = order[k]; r = median(rate[c])
			printf "  %-6s %12.1f %8.3f %8.3f %8.3f %9s %8s %10s %12s %12s %9s %18s %s\n", c, r,
				none ? r / none : 0, floor ? r / floor : 0, peer ? r / peer : 0,
				mode == "rr" ? sprintf("%.1f", added_us(r)) : "",
				cpu[c] != "" ? sprintf("%.2f", median(cpu[c])) : "-",
				cpugb[c] != "" ? sprintf("%.2f", median(cpugb[c])) : "-",
				hwm[c] != "" ? sprintf("%.1f", median(hwm[c]) / 1024) : "-",
				beyond[c] != "" ? sprintf("%.1f", median(beyond[c]) / 1024) : "-",
				ready[c] != "" ? median(ready[c]) : "-",
				c == "file" || c == "null" ? lost[c] " (ring " drop[c] ")" : "-",
				vruns[c] ? vok[c] + 0 "/" vruns[c] " OK" : "-"
		}
		f = median(rate["file"]); n = median(rate["null"]); ch = median(rate["chosen"])
		printf "  ratios: tlspcap(file)/none %.3f, /floor %.3f, /peer %.3f | tlspcap(null)/none %.3f | floor/none %.3f, chosen/none %.3f\n",
			none ? f / none : 0, floor ? f / floor : 0, peer ? f / peer : 0, none ? n / none : 0,
			none ? floor / none : 0, none ? ch / none : 0
		if (mode == "rr")
			printf "  added per round trip: floor %.1f us, chosen %.1f us, tlspcap(file) %.1f us (%.2f of the floor'"'"'s), peer %.1f us\n",
				added_us(floor), added_us(ch), added_us(f), added_us(floor) ? added_us(f) / added_us(floor) : 0, added_us(peer)
	}' "$RESULTS"
}

echo "bench: tlspcap $($TLSPCAP --version 2>/dev/null | awk '{print $2}'), kernel $(uname -r), $(nproc) CPUs, $(ls /proc | grep -c '^[0-9]') processes, libssl $LIBSSL"
echo "bench: rounds=$ROUNDS rr: $RR_CONNS conns x ${RR_SECONDS}s (100 B / 1000 B); bulk: $BULK_CONNS conns, $BULK_MB MiB in 16 KiB writes"
check_floor_mirrors_tlspcap
for mode in $MODES; do
	echo "bench: $mode"
	for round in $(seq 1 "$ROUNDS"); do
		for i in "${!CONFIGS[@]}"; do
			measure "$mode" "${CONFIGS[$(((i + round - 1) % ${#CONFIGS[@]}))]}" "$round"
		done
	done
done
[[ " $MODES " == *" rr "* ]] && summary rr "rt/s" "$RR_CONNS"
[[ " $MODES " == *" bulk "* ]] && summary bulk "MB/s" "$BULK_CONNS"

# 10,000 connections open at once under tlspcap: RSS while open and after they close.
if [ "$DO_HOLD" = 1 ]; then
	echo
	echo "bench: hold: $HOLD_CONNS connections open for ${HOLD_SECONDS}s under tlspcap -w FILE"
	hlog=$WORK/hold.log
	hcap=$WORK/hold.pcapng
	if start_tlspcap "$hcap" "$WORK/tlspcap.hold.log"; then
		ring=$(ring_rss_kb "$TL_PID")
		base_rss=$(status_kb "$TL_PID" VmRSS)
		"$LOAD" hold -c "$HOLD_CONNS" -t "$HOLD_SECONDS" -M "$WORK/manifest.hold" -S 7 >"$hlog" 2>&1 &
		lp=$!
		open_rss=- open_hwm=-
		while ! grep -q 'hold: .* open' "$hlog" && kill -0 $lp 2>/dev/null; do sleep 0.1; done
		if grep -q 'hold: .* open' "$hlog"; then
			sleep 1 # tlspcap has read every record by now (waiting streams open after 250 ms)
			open_rss=$(status_kb "$TL_PID" VmRSS)
			open_hwm=$(status_kb "$TL_PID" VmHWM)
		fi
		wait $lp || fail "tls_load hold failed: $(tail -3 "$hlog")"
		sleep 1
		closed_rss=$(status_kb "$TL_PID" VmRSS)
		stop_tlspcap "$WORK/tlspcap.hold.log"
		vline=$("$LOAD" verify -M "$WORK/manifest.hold" "$hcap") || fail "hold capture does not verify: $vline"
		echo "$vline" >>"$WORK/verify.log"
		rm -f "$hcap"
		mib() { awk -v k="$1" 'BEGIN {if (k == "-") print "-"; else printf "%.1f", k / 1024}'; }
		echo "  $(grep 'hold:.*open' "$hlog")"
		echo "  tlspcap RSS: idle $(mib "$base_rss") MiB, with $HOLD_CONNS open $(mib "$open_rss") MiB, after close $(mib "$closed_rss") MiB; peak $(mib "$HWM_KB") MiB; ring mappings $(mib "$ring") MiB"
		echo "  beyond ring: idle $(mib $((base_rss - ring))) MiB, open $(mib $((open_rss - ring))) MiB, after close $(mib $((closed_rss - ring))) MiB, peak $(mib $((HWM_KB - ring))) MiB; cpu ${CPU_S}s"
		echo "  $(grep '^tlspcap: [0-9]* connections' "$WORK/tlspcap.hold.log")"
		echo "  $vline"
	fi
fi

# Ready time with a few hundred more processes (some of them mapping libssl).
if [ "$EXTRA_PROCS" -gt 0 ]; then
	echo
	pids=()
	for i in $(seq 1 "$EXTRA_PROCS"); do
		if [ $((i % 10)) = 0 ]; then
			"$LOAD" hold -c 1 -t 120 -S 3 >/dev/null 2>&1 & # maps libssl, 2 processes
		else
			sleep 120 &
		fi
		pids+=($!)
	done
	sleep 2
	nprocs=$(ls /proc | grep -c '^[0-9]')
	readies=()
	for r in 1 2 3; do
		start_tlspcap /dev/null "$WORK/tlspcap.ready.log" || break
		readies+=("$READY_MS")
		stop_tlspcap "$WORK/tlspcap.ready.log"
	done
	echo "bench: ready time with $nprocs processes: ${readies[*]} ms ($(grep -o 'capturing on .*processes' "$WORK/tlspcap.ready.log"))"
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
fi

# Per call, for every library with a sample peer: the empty floor program at the function
# entry against at tlspcap's chosen point (bench_calls: calls that return at once).
if [ "$DO_CALLS" = 1 ]; then
	echo
	echo "bench: per-call cost, ns per call ($CALLS calls each; + = added to untraced): empty programs at the entry vs at the chosen point"
	printf '  %-26s %9s %14s %14s %s\n' function untraced "at entry" "at chosen" "chosen point"
	D=/usr/lib/x86_64-linux-gnu
	for spec in "openssl $LIBSSL" "boringssl $D/android/libssl.so.0" "wolfssl $D/libwolfssl.so.35" \
		"mbedtls $D/libmbedtls.so.14" "nspr $D/libnspr4.so"; do
		read -r kind lib <<<"$spec"
		[ -e "$lib" ] || { echo "  ($kind: $lib missing)"; continue; }
		for config in none floor chosen; do
			fp=
			if [ "$config" != none ]; then
				rm -f "$WORK/calls.$config.log"
				"$FLOOR" --uprobes-only $([ "$config" = chosen ] && echo --chosen) "$lib" 2>"$WORK/calls.$config.log" &
				fp=$!
				wait_for "$WORK/calls.$config.log" 'floor: attached' 30 || { fail "bench_floor on $lib: $(cat "$WORK/calls.$config.log")"; kill -INT $fp; wait $fp; continue; }
			fi
			LD_LIBRARY_PATH=$(dirname "$lib") "$CALLS_BIN" "$kind" "$lib" "$CALLS" >"$WORK/calls.$config" ||
				fail "bench_calls $kind failed"
			[ -n "$fp" ] && { kill -INT $fp; wait $fp; }
		done
		join <(sort "$WORK/calls.none") <(sort "$WORK/calls.floor") | join - <(sort "$WORK/calls.chosen") |
			while read -r fn n e c; do
				pt=$(grep "floor:   $fn:" "$WORK/calls.chosen.log" | head -1 | awk '{print $3}')
				printf '  %-26s %9s %14s %14s %s\n' "$kind $fn" "$n" "$e (+$((e - n)))" "$c (+$((c - n)))" "${pt:-?}"
			done
	done
fi

# Per-program BPF cost (not part of the timed table: stats add overhead to every program).
if [ "$DO_STATS" = 1 ] && command -v bpftool >/dev/null; then
	echo
	old=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -q -w kernel.bpf_stats_enabled=1
	for mode in rr bulk; do
		SEED=99
		start_tlspcap /dev/null "$WORK/tlspcap.stats.log" || break
		run_load "$mode" "$WORK/manifest.stats" >/dev/null
		echo "bench: BPF programs under $mode (kernel.bpf_stats_enabled=1): avg ns per run, runs"
		bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
progs = [p for p in json.load(sys.stdin) if p.get("name", "").startswith("probe_") and p.get("run_cnt")]
for p in sorted(progs, key=lambda p: -p["run_time_ns"]):
    print("  %-26s %8.0f ns  %10d runs  %8.3f s total" % (p["name"], p["run_time_ns"] / p["run_cnt"], p["run_cnt"], p["run_time_ns"] / 1e9))
'
		stop_tlspcap "$WORK/tlspcap.stats.log"
	done
	sysctl -q -w kernel.bpf_stats_enabled="$old"
fi

echo
if [ "$FAILED" = 0 ]; then
	echo "bench: OK (results: $RESULTS)"
else
	echo "bench: FAILED (see above; results: $RESULTS)"
fi
exit "$FAILED"
