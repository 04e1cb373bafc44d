#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes the seed inputs of fuzz_elf (tests/fuzz/corpus/elf/) from this machine's real
# TLS libraries, cut down: for each, a small ELF file built with Debian's toolchain that
# defines the TLS functions the real file defines (same names, same symbol versions, a
# GNU hash table) and carries its version text as the real file or its sibling does.
# A seed is one byte naming the file (fuzz_elf.c: file_names) and the ELF bytes.
# Run from the repository root: bash tests/fuzz/make_elf_seeds.sh
set -euo pipefail

OUT=tests/fuzz/corpus/elf
L=/usr/lib/x86_64-linux-gnu
TLS_FUNCS='^(SSL_(write|read|set_[rw]?fd)|gnutls_(record_(send|recv)|transport_set_)|PR_(Write|Read|Send|Recv|Writev)$|wolfSSL_(write|read|set_fd)$|mbedtls_ssl_(write|read|set_bio))'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# seed NAME INDEX FILE VERSION_FILE VERSION_RE [static]
seed() {
	local name=$1 index=$2 file=$3 vfile=$4 vre=$5 kind=${6:-shared}
	local src=$work/$name.c map=$work/$name.map banner ver f
	banner=$(set +o pipefail; strings -a "$vfile" | grep -m1 -E "$vre")
	: >"$src"
	declare -A versions=()
	# "SSL_write@@OPENSSL_3.0.0" -> function SSL_write in version node OPENSSL_3.0.0
	while read -r f; do
		ver=${f#*@@}
		[ "$ver" = "$f" ] && ver=""
		f=${f%%@*}
		echo "void $f(void) {}" >>"$src"
		versions[${ver:-BASE}]+="$f; "
	done < <(nm -D --defined-only "$file" | awk '{print $3}' | grep -E "$TLS_FUNCS" | sort -u)
	printf 'const char tls_version_text[] = "%s";\n' "$banner" >>"$src"
	if [ "$kind" = static ]; then
		# an executable with the functions in .symtab only, as a static build has them
		echo 'void _start(void) { for (;;); }' >>"$src"
		gcc -Os -nostdlib -static -fno-asynchronous-unwind-tables -fno-stack-protector \
			-Wl,-z,norelro -Wl,-z,noseparate-code -Wl,--build-id=none "$src" -o "$work/$name"
	else
		: >"$map"
		for ver in "${!versions[@]}"; do
			[ "$ver" = BASE ] && continue
			echo "$ver { global: ${versions[$ver]} };" >>"$map"
		done
		[ -s "$map" ] || echo "{ global: ${versions[BASE]} tls_version_text; local: *; };" >"$map"
		gcc -Os -shared -fPIC -nostdlib -fno-asynchronous-unwind-tables -fno-stack-protector \
			-Wl,--hash-style=gnu -Wl,-z,norelro -Wl,-z,noseparate-code -Wl,--build-id=none \
			-Wl,--version-script="$map" "$src" -o "$work/$name"
	fi
	{ printf "\\x$(printf %02x "$index")"; cat "$work/$name"; } >"$OUT/$name"
}

mkdir -p "$OUT"
seed libssl.so.3 0 $L/libssl.so.3 $L/libcrypto.so.3 '^OpenSSL [0-9]'
seed libssl.so-boringssl 1 $L/android/libssl.so $L/android/libcrypto.so '^BoringSSL'
seed libgnutls.so.30 2 $L/libgnutls.so.30 $L/libgnutls.so.30 'GnuTLS [0-9]'
seed libnspr4.so 3 $L/libnspr4.so $L/libnss3.so 'Version: NSS [0-9]'
seed libwolfssl.so.35 4 $L/libwolfssl.so.35 $L/libwolfssl.so.35 '^wolfSSL [0-9]'
seed libmbedtls.so.14 5 $L/libmbedtls.so.14 $L/libmbedcrypto.so.7 '^mbed TLS [0-9]'
seed node 6 /usr/bin/node /usr/bin/node '^OpenSSL [0-9]' static
ls -l "$OUT"
