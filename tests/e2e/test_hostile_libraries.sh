#!/usr/bin/env bash
# Malformed copies of libssl.so.3 (section headers past the end, a huge section count, a
# .dynsym larger than the file or past its end, a .dynstr without terminators, a huge
# .gnu.hash, cut to a third) mapped by a process in a chroot: each is skipped with its
# reason in -v (or probed, if what discovery reads is still whole), a good copy beside
# them is probed, tlspcap keeps running, and a curl -> nginx exchange is captured whole.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
need_tools chroot:coreutils gcc:gcc
e2e_cert
SYSSSL=/usr/lib/x86_64-linux-gnu/libssl.so.3
ROOT=$E2E_TMP/root
mkdir -p "$ROOT/lib/good"
cp "$SYSSSL" "$ROOT/lib/good/libssl.so.3"

BAD="shoff-past-end shnum-huge dynsym-size-huge dynsym-offset-past-end dynstr-unterminated gnu-hash-huge truncated"
"$PY" - "$SYSSSL" "$ROOT/lib" $BAD <<'PY' || fail "making the malformed copies"
import os, struct, sys
src, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
base = open(src, "rb").read()
shoff, = struct.unpack_from("<Q", base, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", base, 0x3a)
sh = lambda i: shoff + i * shentsize
field = lambda i, off: struct.unpack_from("<Q", base, sh(i) + off)[0]   # 0x18 offset, 0x20 size
strtab = field(shstrndx, 0x18)
def name(i):
    n = strtab + struct.unpack_from("<I", base, sh(i))[0]
    return base[n:base.index(b"\0", n)].decode()
idx = {name(i): i for i in range(shnum)}
def unterminated(d):
    o, n = field(idx[".dynstr"], 0x18), field(idx[".dynstr"], 0x20)
    d[o:o + n] = d[o:o + n].replace(b"\0", b"A")
corrupt = {
    "shoff-past-end": lambda d: struct.pack_into("<Q", d, 0x28, len(d) + 4096),
    "shnum-huge": lambda d: struct.pack_into("<H", d, 0x3c, 0xffff),
    "dynsym-size-huge": lambda d: struct.pack_into("<Q", d, sh(idx[".dynsym"]) + 0x20, 1 << 40),
    "dynsym-offset-past-end": lambda d: struct.pack_into("<Q", d, sh(idx[".dynsym"]) + 0x18, len(d) + 64),
    "dynstr-unterminated": unterminated,
    "gnu-hash-huge": lambda d: struct.pack_into("<I", d, field(idx[".gnu.hash"], 0x18), 0xffffffff),
    "truncated": lambda d: d.__delitem__(slice(len(d) // 3, None)),
}
for n in names:
    d = bytearray(base)
    corrupt[n](d)
    os.makedirs(f"{out}/{n}")
    open(f"{out}/{n}/libssl.so.3", "wb").write(d)
PY

# a static program for the chroot: maps each file executable, says ready, waits
cat >mapper.c <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int fd = open(argv[i], O_RDONLY);
		if (fd < 0 || fstat(fd, &st) || mmap(NULL, st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED)
			return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sleep(30);
	return 0;
}
C
gcc -static -O1 mapper.c -o "$ROOT/mapper" || fail "building the static mapper"

pick_port
HP=$PORT
start_nginx "$HP"
echo "unaffected" >"$NGINX_ROOT/index.html"
start_capture out.pcapng -v
args=(/lib/good/libssl.so.3)
for b in $BAD; do args+=("/lib/$b/libssl.so.3"); done
bg mapper.log chroot "$ROOT" /mapper "${args[@]}"
MAPPER=$BG_PID
wait_file_line mapper.log '^ready' 10 || fail "the mapper did not map its files: $(cat mapper.log)"
wait_file_line "$CAPTURE_LOG" "probing .*/lib/good/libssl.so.3" 10 ||
	fail "the good copy in the chroot was not probed: $(grep -c . "$CAPTURE_LOG") lines in the log"
ok "the good copy in the chroot is probed"
for b in $BAD; do
	line=$(grep -E "(skipping|probing) .*/lib/$b/libssl.so.3" "$CAPTURE_LOG" | head -n 1)
	[ -n "$line" ] || fail "no verdict on /lib/$b/libssl.so.3 in -v"
	log "$b: ${line#tlspcap: }"
done
# the reason, precisely: a section table past the end (cut short, or lying offsets and
# counts) is not "no TLS functions"
for b in shoff-past-end shnum-huge truncated; do
	grep -qE "skipping .*/lib/$b/libssl.so.3: its section headers lie past the end of the file" "$CAPTURE_LOG" ||
		fail "/lib/$b/libssl.so.3 not skipped as cut short"
done
for b in dynsym-size-huge dynsym-offset-past-end dynstr-unterminated; do
	grep -qE "skipping .*/lib/$b/libssl.so.3: not a well-formed ELF file" "$CAPTURE_LOG" ||
		fail "/lib/$b/libssl.so.3 not skipped as malformed"
done
ok "the malformed copies are skipped with their reasons"
_e2e_alive "$CAPTURE_PID" || fail "tlspcap died"
curl -sS --http1.1 --cacert "$CERT" --max-time 10 -o body.out "https://127.0.0.1:$HP/index.html" ||
	fail "curl failed"
sleep 0.5
stop_capture
assert_tshark_reads out.pcapng
assert_ge "$(frame_count out.pcapng 'http.file_data contains "unaffected"')" 1 "the curl response in the file"
log "PASS"
