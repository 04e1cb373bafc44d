#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# How tlspcap found the socket of each TLS call, per TLS library, and how many streams the
# end-to-end tests verified byte for byte:  scripts/attribution-report.sh [TEST...]
#
# Runs each e2e test (default: tests/e2e/test_lib_*.sh, test_python_concurrent,
# test_nginx_http1, test_nginx_http2, test_openssl_sclient) as root with E2E_KEEP=1 and
# E2E_WORKDIR=$REPORT_DIR/work, then reads from each kept work dir:
#   - tlspcap.N.log, the harness capture's summary line "TLS calls tied to their socket:
#     A by a syscall inside the call, B by cached context, C by API hint, D by syscall
#     order (memory BIO), E not at all (F contexts tied later by order)";
#   - the capture file (the "-w FILE" of the test's "start:" line): the Library: line of
#     every stream comment, i.e. which libraries made those calls;
#   - the test's own output: what it verified byte for byte, from its ok/match lines:
#       streams  whole streams, both directions ("match: N streams ... byte-exact" of
#                follow.py, "node (all): N of M connections attributed and byte-exact",
#                or both "... bytes of/in stream S" lines of a per-stream comparison);
#       bodies   single HTTP bodies (an exported HTTP object or a "body in stream S"
#                identical to the file sent), which do not cover the whole stream.
# The call counts are per capture, not per library: the summary line does not split them.
# A capture whose comments name one library gives that library's row; a test that mixes
# libraries (the sample clients and gnutls/wget talk to nginx, i.e. OpenSSL) is reported
# as one "mixed" row naming every library with its number of connection ends.
# test_lib_node_concurrent runs two extra per-process captures (tlspcap.client.log and
# tlspcap.server.log) of the same traffic; only its harness capture is counted here.
#
# Env: REPORT_DIR (.output/attribution-report), TLSPCAP, E2E_TIMEOUT (300 s per test),
# REPORT_ONLY=1 (run nothing: re-read the logs and work dirs of the last run).
# A stream is the test's when one of its ends was started with an argument in the work dir
# (cert, CA file, nginx prefix) or is a program the test script names (tstclnt, node, ...);
# other streams are traffic of other programs on the machine (a heuristic: a foreign
# program with the same name as one of the test's would be counted as the test's). They
# are reported, not counted under a library; the call counts cannot exclude them.
# Output: the table on stdout (also $REPORT_DIR/report.txt); test logs in
# $REPORT_DIR/logs/. Exit status 1 if any test failed (its row is still printed).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
[ "$(id -u)" -eq 0 ] || {
	echo "attribution-report: the e2e tests need root" >&2
	exit 2
}
REPORT_DIR=${REPORT_DIR:-$ROOT/.output/attribution-report}
E2E_TIMEOUT=${E2E_TIMEOUT:-300}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

if [ $# -gt 0 ]; then
	TESTS=("$@")
else
	TESTS=(tests/e2e/test_lib_*.sh tests/e2e/test_python_concurrent.sh tests/e2e/test_nginx_http1.sh
		tests/e2e/test_nginx_http2.sh tests/e2e/test_openssl_sclient.sh)
fi
[ -x "${TLSPCAP:-$ROOT/tlspcap}" ] || {
	echo "attribution-report: ${TLSPCAP:-$ROOT/tlspcap} not built (make tlspcap)" >&2
	exit 2
}

RUNS=$REPORT_DIR/runs.tsv # name, status, seconds, work dir
failed=0
[ "${REPORT_ONLY:-0}" = 1 ] && TESTS=() # re-read the last run's logs and work dirs
if [ ${#TESTS[@]} -gt 0 ]; then
	rm -rf "$REPORT_DIR"
	mkdir -p "$REPORT_DIR/logs" "$REPORT_DIR/work"
	: >"$RUNS"
fi
for t in "${TESTS[@]}"; do
	[ -f "$t" ] || t=tests/e2e/$t
	[ -f "$t" ] || t=$t.sh
	[ -f "$t" ] || {
		echo "attribution-report: no test $t" >&2
		exit 2
	}
	name=$(basename "$t" .sh)
	log=$REPORT_DIR/logs/$name.log
	start=$(date +%s)
	E2E_KEEP=1 E2E_WORKDIR=$REPORT_DIR/work timeout -k 10 "$E2E_TIMEOUT" bash "$t" </dev/null >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) st=PASS ;;
	77) st=SKIP ;;
	124 | 137) st=TIMEOUT failed=1 ;;
	*) st="FAIL($rc)" failed=1 ;;
	esac
	wd=$(grep -oE 'work dir kept: .*' "$log" | tail -n 1 | sed 's/^work dir kept: //')
	[ -n "$wd" ] || wd=$(ls -d "$REPORT_DIR/work/$name".* 2>/dev/null | tail -n 1)
	printf '%s\t%s\t%s\t%s\n' "$name" "$st" "$secs" "$wd" >>"$RUNS"
	echo "attribution-report: $name $st (${secs}s)" >&2
done

"$PY" - "$ROOT/tests/e2e" "$RUNS" "$REPORT_DIR/logs" <<'PY' | tee "$REPORT_DIR/report.txt"
import collections, os, re, sys
sys.path.insert(0, sys.argv[1])
import follow

CALLS = re.compile(r"TLS calls tied to their socket: (\d+) by a syscall inside the call, (\d+) by cached "
                   r"context, (\d+) by API hint, (\d+) by syscall order \(memory BIO\), (\d+) not at all "
                   r"\((\d+) contexts tied later by order\)")


def short_lib(s):
    """'OpenSSL 3.0.17 1 Jul 2025 (/usr/lib/x86_64-linux-gnu/libssl.so.3)' -> 'OpenSSL 3.0.17 (libssl.so.3)'"""
    m = re.match(r"^(.*?)\s*\((/[^)]*)\)\s*$", s)
    name, path = (m.group(1), m.group(2)) if m else (s, "")
    name = re.sub(r"\s+\d{1,2} \w{3} \d{4}$", "", name)  # OpenSSL's build date
    return "%s (%s)" % (name, os.path.basename(path)) if path else name


rows = []
for line in open(sys.argv[2]):
    name, status, secs, wd = line.rstrip("\n").split("\t")
    log = open(os.path.join(sys.argv[3], name + ".log"), errors="replace").read()
    r = {"test": name, "status": status, "calls": None, "libs": collections.Counter(),
         "streams": 0, "bodies": 0, "note": "", "foreign": set(), "nforeign": 0}
    rows.append(r)
    if not wd or not os.path.isdir(wd):
        r["note"] = "no work dir"
        continue
    script = ""
    for f in ("%s.sh" % name,):
        try:
            script = open(os.path.join(sys.argv[1], f), errors="replace").read()
        except OSError:
            pass
    named = lambda cmd: bool(cmd) and re.search(r"(?<![\w.-])%s(?![\w.-])" % re.escape(cmd), script) is not None
    clog = os.path.join(wd, "tlspcap.1.log")
    if os.path.exists(clog):
        ms = CALLS.findall(open(clog, errors="replace").read())
        if ms:
            r["calls"] = tuple(int(x) for x in ms[-1])
    # the capture file: "start: /path/tlspcap -w FILE ..." (first capture of the test)
    m = re.search(r"\] start: \S+ -w (\S+)", log)
    cap = os.path.join(wd, "stdout.pcapng" if m and m.group(1) == "-" else (m.group(1) if m else "out.pcapng"))
    if os.path.exists(cap):
        try:
            for e in follow.stream_info(cap):
                # the test's own streams: one of its ends was started with an argument in
                # the work dir (cert, CA file, nginx prefix, NSS db); others are foreign
                if not any(wd in c.get("Args", "") or named(c.get("Cmd")) for c in e["comments"]):
                    r["foreign"].add("%s" % ",".join(sorted(set(c.get("Cmd", "?") for c in e["comments"] if "PID" in c))))
                    r["nforeign"] += 1
                    continue
                for c in e["comments"]:
                    if "Library" in c:
                        r["libs"][short_lib(c["Library"])] += 1
        except SystemExit as ex:
            r["note"] = "tshark: %s" % ex
    # what the test verified byte for byte
    streams = 0
    for m in re.finditer(r"^match: (\d+) streams for \d+ connections to port \d+, \d+ bytes, byte-exact", log, re.M):
        streams += int(m.group(1))
    m = re.search(r"node \(all\): (\d+) of \d+ connections attributed and byte-exact", log)
    if m:
        streams += int(m.group(1))
    dirs = collections.defaultdict(set)
    for m in re.finditer(r"ok: (.*) bytes (?:of|in) stream (\d+)\b.*: identical", log):
        dirs[m.group(2)].add(m.group(1))
    streams += sum(1 for v in dirs.values() if len(v) >= 2)
    r["streams"] = streams
    if r["nforeign"]:
        r["note"] = ("calls include %d streams of other programs (%s), not counted under libraries"
                     % (r["nforeign"], " ".join(sorted(r["foreign"]))))
    r["bodies"] = len(re.findall(r"ok: .*(?:an exported HTTP object is identical|body in stream \d+.*: identical)", log))
    # "exported HTTP objects identical to the 5 MB file = 2 (>= 2)" (nginx_http1)
    r["bodies"] += sum(int(x) for x in re.findall(r"ok: exported HTTP objects identical to .* = (\d+)", log))
    # "5 MB body reassembled from HTTP/2 DATA frames of stream 0 = '1'" (nginx_http2, follow.py h2data)
    r["bodies"] += sum(int(x) for x in re.findall(r"ok: .*body reassembled from HTTP/2 DATA frames of stream \d+ = '(\d+)'", log))

W = [26, 8, 44, 36, 8, 7]
hdr = ["test", "result", "libraries (connection ends in the capture)",
       "calls: syscall / cached / hint / order / none (later)", "streams", "bodies"]
print("Per test (calls: the capture's summary line, all libraries of the capture together;")
print("streams: whole streams verified byte-exact both ways; bodies: single HTTP bodies verified)")
print()
print(" | ".join(h for h in hdr))
print("-|-".join("-" * 8 for _ in hdr))
bylib = collections.OrderedDict()
for r in rows:
    libs = "; ".join("%s x%d" % (k, v) for k, v in sorted(r["libs"].items())) or "-"
    mixed = len(r["libs"]) > 1
    c = r["calls"]
    calls = ("%d / %d / %d / %d / %d (%d)" % c if c else "-") + ("*" if r["nforeign"] else "")
    print(" | ".join([r["test"], r["status"], ("MIXED: " if mixed else "") + libs, calls,
                      str(r["streams"]), str(r["bodies"])]) + ("  [%s]" % r["note"] if r["note"] else ""))
    key = ("mixed: " + " + ".join(sorted(r["libs"]))) if mixed else (next(iter(r["libs"]), "(no streams)"))
    b = bylib.setdefault(key, {"calls": [0] * 6, "streams": 0, "bodies": 0, "tests": []})
    if r["nforeign"]:
        b["foreign"] = True
    if c:
        b["calls"] = [x + y for x, y in zip(b["calls"], c)]
    b["streams"] += r["streams"]
    b["bodies"] += r["bodies"]
    b["tests"].append(r["test"].replace("test_", "") + ("" if r["status"] == "PASS" else "(" + r["status"] + ")"))
print()
print("Per library (a test whose capture holds several libraries is a 'mixed' row: the summary")
print("line does not split its calls by library)")
print()
print("library | calls: syscall / cached / hint / order / none (contexts tied later by order) | streams verified byte-exact | bodies | tests")
print("-|-|-|-|-")
for k, b in bylib.items():
    print("%s | %d / %d / %d / %d / %d (%d)%s | %d | %d | %s" % ((k,) + tuple(b["calls"]) + ("*" if b.get("foreign") else "", b["streams"], b["bodies"], ", ".join(b["tests"]))))
if any(r["nforeign"] for r in rows):
    print()
    print("* the capture also held other programs' TLS streams (the machine was not quiet): the")
    print("  summary counts their calls too; they are not counted under any library.")
PY
grep -qvP '\tPASS\t|\tSKIP\t' "$RUNS" && failed=1
exit $failed
