// SPDX-License-Identifier: MIT
/*
 * Tests for capture/go_binary.c: hand-made pclntab and buildinfo tables
 * (both header magics, every truncation, lying fields) placed against an
 * inaccessible page so that any read past their end faults, the fuzz seeds cut
 * from a real build, then real Go programs built here with Debian's Go,
 * stripped and not.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "discover.h"
#include "elf_file.h"
#include "go_binary.h"

#define TEXT_START 0x401000
#define PCLN_OFF 136
#define NAMES_OFF 72

static const struct {
	const char *name;
	uint32_t entry;
} funcs[] = {
	{ "main.main", 0x0 },
	{ "crypto/tls.(*Conn).Write", 0x40 },
	{ "crypto/tls.(*Conn).Read", 0x100 },
};
#define NR_FUNCS 3
#define TEXT_END 0x180

static void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/*
 * A Go 1.18+ pclntab: header, names at NAMES_OFF, the function table at
 * PCLN_OFF followed by one 8-byte _func record per function. Returns its size.
 */
static size_t make_pclntab(uint8_t *buf, size_t cap, uint32_t magic)
{
	size_t names = NAMES_OFF, recs = PCLN_OFF + NR_FUNCS * 8 + 8, i;

	memset(buf, 0, cap);
	put_u32(buf, magic);
	buf[6] = 1;
	buf[7] = 8;
	put_u64(buf + 8, NR_FUNCS);
	put_u64(buf + 24, TEXT_START);
	put_u64(buf + 32, NAMES_OFF);
	put_u64(buf + 64, PCLN_OFF);
	for (i = 0; i < NR_FUNCS; i++) {
		size_t rec = recs + i * 8;

		put_u32(buf + PCLN_OFF + i * 8, funcs[i].entry);
		put_u32(buf + PCLN_OFF + i * 8 + 4, rec - PCLN_OFF);
		put_u32(buf + rec, funcs[i].entry);
		put_u32(buf + rec + 4, names - NAMES_OFF);
		strcpy((char *)buf + names, funcs[i].name);
		names += strlen(funcs[i].name) + 1;
		assert_true(names <= PCLN_OFF);
	}
	put_u32(buf + PCLN_OFF + NR_FUNCS * 8, TEXT_END);
	assert_true(recs + NR_FUNCS * 8 <= cap);
	return recs + NR_FUNCS * 8;
}

/* Two pages, the second inaccessible: bytes placed to end at the boundary. */
static uint8_t *guard;
static long page;

static int map_guard(void **state)
{
	page = sysconf(_SC_PAGESIZE);
	guard = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard == MAP_FAILED)
		return -1;
	return mprotect(guard + page, page, PROT_NONE);
}

static int unmap_guard(void **state)
{
	return munmap(guard, 2 * page);
}

static const uint8_t *at_page_end(const uint8_t *bytes, size_t len)
{
	uint8_t *p = guard + page - len;

	assert_true(len <= (size_t)page);
	memcpy(p, bytes, len);
	return p;
}

static void assert_functions(const struct go_pclntab *tab)
{
	uint64_t start, end;
	size_t i;

	for (i = 0; i < NR_FUNCS; i++) {
		assert_int_equal(go_pclntab__find_func(tab, funcs[i].name, &start, &end), 0);
		assert_int_equal(start, TEXT_START + funcs[i].entry);
		assert_int_equal(end, TEXT_START + (i + 1 < NR_FUNCS ? funcs[i + 1].entry : TEXT_END));
	}
	assert_int_equal(go_pclntab__find_func(tab, "crypto/tls.(*Conn).Close", &start, &end),
			 -ENOENT);
	assert_int_equal(go_pclntab__find_func(tab, "crypto/tls.(*Conn).Writ", &start, &end),
			 -ENOENT);
}

static void test_both_magics(void **state)
{
	uint32_t magics[] = { GO_PCLNTAB_MAGIC_118, GO_PCLNTAB_MAGIC_120 };
	uint8_t buf[512];
	struct go_pclntab tab;
	size_t i, size;

	for (i = 0; i < 2; i++) {
		size = make_pclntab(buf, sizeof(buf), magics[i]);
		assert_int_equal(go_pclntab__parse(&tab, at_page_end(buf, size), size), 0);
		assert_int_equal(tab.magic, magics[i]);
		assert_int_equal(tab.nfunc, NR_FUNCS);
		assert_int_equal(tab.text_start, TEXT_START);
		assert_functions(&tab);
	}
}

static void test_other_versions_refused(void **state)
{
	uint8_t buf[512];
	struct go_pclntab tab;
	size_t size = make_pclntab(buf, sizeof(buf), 0xfffffffa); /* Go 1.16, 1.17 */

	assert_int_equal(go_pclntab__parse(&tab, buf, size), -EPROTONOSUPPORT);
	assert_int_equal(tab.magic, GO_PCLNTAB_MAGIC_116);
	put_u32(buf, 0xfffffffb); /* Go 1.2 - 1.15 */
	assert_int_equal(go_pclntab__parse(&tab, buf, size), -EPROTONOSUPPORT);
	assert_int_equal(tab.magic, GO_PCLNTAB_MAGIC_12);
	put_u32(buf, 0x12345678);
	assert_int_equal(go_pclntab__parse(&tab, buf, size), -EINVAL);
	/* 32-bit words, another quantum */
	size = make_pclntab(buf, sizeof(buf), GO_PCLNTAB_MAGIC_118);
	buf[7] = 4;
	assert_int_equal(go_pclntab__parse(&tab, buf, size), -EINVAL);
	buf[7] = 8;
	buf[6] = 4;
	assert_int_equal(go_pclntab__parse(&tab, buf, size), -EINVAL);
}

/* Every prefix of the table: parse or lookups fail, nothing is read past it. */
static void test_truncated(void **state)
{
	uint8_t buf[512];
	struct go_pclntab tab;
	uint64_t start, end;
	size_t size = make_pclntab(buf, sizeof(buf), GO_PCLNTAB_MAGIC_120), len, i, found;

	for (len = 0; len < size; len++) {
		if (go_pclntab__parse(&tab, at_page_end(buf, len), len)) {
			continue;
		}
		assert_true(len >= 72);
		for (i = 0, found = 0; i < NR_FUNCS; i++)
			if (!go_pclntab__find_func(&tab, funcs[i].name, &start, &end)) {
				assert_int_equal(start, TEXT_START + funcs[i].entry);
				found++;
			}
		/* the last _func record is cut: that function cannot be found */
		assert_true(found < NR_FUNCS);
	}
	assert_int_equal(go_pclntab__parse(&tab, at_page_end(buf, size), size), 0);
	assert_functions(&tab);
}

static int lookup_all(const uint8_t *buf, size_t size)
{
	struct go_pclntab tab;
	uint64_t start, end;
	int err = go_pclntab__parse(&tab, at_page_end(buf, size), size);
	size_t i;

	for (i = 0; !err && i < NR_FUNCS; i++)
		err = go_pclntab__find_func(&tab, funcs[i].name, &start, &end);
	return err;
}

static void test_lying_fields(void **state)
{
	uint8_t buf[512];
	size_t size = make_pclntab(buf, sizeof(buf), GO_PCLNTAB_MAGIC_118), i;
	size_t recs = PCLN_OFF + NR_FUNCS * 8 + 8;

	assert_int_equal(lookup_all(buf, size), 0);
	/* more functions than the table holds; a count that overflows */
	put_u64(buf + 8, (size - PCLN_OFF) / 8);
	assert_int_equal(lookup_all(buf, size), -EINVAL);
	put_u64(buf + 8, UINT64_MAX / 4);
	assert_int_equal(lookup_all(buf, size), -EINVAL);
	put_u64(buf + 8, NR_FUNCS);
	/* the function table or the names outside */
	put_u64(buf + 64, size);
	assert_int_equal(lookup_all(buf, size), -EINVAL);
	put_u64(buf + 64, UINT64_MAX - 2);
	assert_int_equal(lookup_all(buf, size), -EINVAL);
	put_u64(buf + 64, PCLN_OFF);
	put_u64(buf + 32, size + 100);
	assert_int_equal(lookup_all(buf, size), -EINVAL);
	put_u64(buf + 32, NAMES_OFF);
	assert_int_equal(lookup_all(buf, size), 0);

	/* a record outside, one naming another entry, names outside or negative */
	put_u32(buf + PCLN_OFF + 4, size);
	assert_int_equal(lookup_all(buf, size), -EINVAL);
	put_u32(buf + PCLN_OFF + 4, UINT32_MAX - 3);
	assert_int_equal(lookup_all(buf, size), -EINVAL);
	put_u32(buf + PCLN_OFF + 4, recs - PCLN_OFF);
	put_u32(buf + recs, 0x20);
	assert_int_equal(lookup_all(buf, size), -EINVAL);
	put_u32(buf + recs, 0);
	put_u32(buf + recs + 4, (uint32_t)-8);
	assert_int_equal(lookup_all(buf, size), -EINVAL);
	put_u32(buf + recs + 4, size);
	assert_int_equal(lookup_all(buf, size), -EINVAL);
	put_u32(buf + recs + 4, 0);
	assert_int_equal(lookup_all(buf, size), 0);

	/* functions out of order: an end before the start */
	put_u32(buf + PCLN_OFF + NR_FUNCS * 8, 0x80);
	assert_int_equal(lookup_all(buf, size), -EINVAL);
	put_u32(buf + PCLN_OFF + NR_FUNCS * 8, TEXT_END);

	/* a name running to the end of the table, unterminated */
	memset(buf + size, 'x', sizeof(buf) - size);
	put_u64(buf + 32, size);
	put_u32(buf + recs + 4, 0);
	assert_int_equal(lookup_all(buf, sizeof(buf)), -EINVAL);
	put_u64(buf + 32, NAMES_OFF);

	/* any byte of header and tables set to extreme values: no fault */
	for (i = 0; i < size; i++) {
		uint8_t values[] = { 0x00, 0x7f, 0x80, 0xff }, saved = buf[i];
		size_t v;

		for (v = 0; v < sizeof(values); v++) {
			buf[i] = values[v];
			lookup_all(buf, size);
		}
		buf[i] = saved;
	}
	assert_int_equal(lookup_all(buf, size), 0);
}

static void test_search(void **state)
{
	uint8_t table[512], buf[1024];
	struct go_pclntab tab;
	size_t size = make_pclntab(table, sizeof(table), GO_PCLNTAB_MAGIC_118);

	memset(buf, 0xaa, sizeof(buf));
	/* a magic number with no valid header after it */
	put_u32(buf + 8, GO_PCLNTAB_MAGIC_118);
	put_u32(buf + 16, GO_PCLNTAB_MAGIC_120);
	buf[22] = 1;
	buf[23] = 8;
	memcpy(buf + 256, table, size);
	assert_int_equal(go_pclntab__search(at_page_end(buf, 256 + size), 256 + size), 256);
	/* the pointer-aligned header only */
	memmove(buf + 260, buf + 256, size);
	memset(buf + 256, 0, 4);
	assert_int_equal(go_pclntab__search(buf, 260 + size), -ENOENT);
	assert_int_equal(go_pclntab__search(at_page_end(buf, 40), 40), -ENOENT);
	assert_int_equal(go_pclntab__search(buf, 0), -ENOENT);
	assert_int_equal(go_pclntab__parse(&tab, buf + 260, size), 0);
}

static size_t make_buildinfo(uint8_t *buf, const char *version)
{
	size_t len = strlen(version);

	memset(buf, 0, 64);
	memcpy(buf, "\xff Go buildinf:", 14);
	buf[14] = 8;
	buf[15] = 2;
	buf[32] = len;
	memcpy(buf + 33, version, len);
	buf[33 + len] = 0x10; /* the module info's length follows */
	return 34 + len;
}

static void test_buildinfo(void **state)
{
	uint8_t buf[128];
	char version[32];
	size_t size = make_buildinfo(buf, "go1.19.8"), len;

	assert_int_equal(go_buildinfo__version(at_page_end(buf, size), size, version,
					       sizeof(version)), 0);
	assert_string_equal(version, "go1.19.8");
	/* no room for it in the caller's buffer */
	assert_int_equal(go_buildinfo__version(buf, size, version, 8), -EINVAL);
	for (len = 0; len < 33 + 8; len++)
		assert_int_equal(go_buildinfo__version(at_page_end(buf, len), len, version,
						       sizeof(version)), -EINVAL);
	/* a length beyond the section, a varint that never ends */
	buf[32] = 0x7f;
	assert_int_equal(go_buildinfo__version(at_page_end(buf, size), size, version,
					       sizeof(version)), -EINVAL);
	memset(buf + 32, 0xff, size - 32);
	assert_int_equal(go_buildinfo__version(at_page_end(buf, size), size, version,
					       sizeof(version)), -EINVAL);
	/* control characters are no version */
	size = make_buildinfo(buf, "go1.19\n8");
	assert_int_equal(go_buildinfo__version(buf, size, version, sizeof(version)), -EINVAL);
	/* Go before 1.18: pointers into the file */
	size = make_buildinfo(buf, "go1.17.1");
	buf[15] = 0;
	assert_int_equal(go_buildinfo__version(buf, size, version, sizeof(version)),
			 -EPROTONOSUPPORT);
	buf[1] = 'g';
	assert_int_equal(go_buildinfo__version(buf, size, version, sizeof(version)), -EINVAL);
}

static char tmpdir[64];

static int run(const char *cmd)
{
	int status = system(cmd);

	return status == 0 ? 0 : -1;
}

static const char go_program[] =
	"package main\n"
	"import (\"crypto/tls\"; \"fmt\")\n"
	"func main() {\n"
	"	fmt.Println(tls.CipherSuiteName(0x1301))\n"
	"	if c, err := tls.Dial(\"tcp\", \"\", nil); err == nil { c.Write(nil); c.Read(nil) }\n"
	"}\n";

/* Builds the same program plainly and -ldflags=-s -w, and strips a copy
 * (a PIE rebuilds the standard library: the e2e tests build that one) */
static int build_go(void **state)
{
	char cmd[1024];
	FILE *f;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_go_binary.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/main.go", tmpdir);
	f = fopen(cmd, "w");
	if (!f)
		return -1;
	fputs(go_program, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && export GOCACHE=%s/cache GOPATH=%s/gopath GO111MODULE=off && "
		 "go build -o plain main.go && go build -ldflags='-s -w' -o sw main.go && "
		 "cp plain stripped && strip stripped",
		 tmpdir, tmpdir, tmpdir);
	return run(cmd);
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return run(cmd);
}

/* The toolchain's own version, as "go1.19.8" */
static void go_version(char *buf, size_t sz)
{
	FILE *p = popen("go env GOVERSION", "r");

	assert_non_null(p);
	assert_non_null(fgets(buf, sz, p));
	buf[strcspn(buf, "\n")] = '\0';
	pclose(p);
}

static void test_real_binaries(void **state)
{
	static const char *const variants[] = { "plain", "sw", "stripped" };
	static const char *const names[] = { "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read" };
	char path[PATH_MAX], version[32], want[32];
	struct elf_symbol sym;
	struct go_pclntab tab;
	uint64_t start, end, seg_start, seg_end;
	size_t v, i;

	go_version(want, sizeof(want));
	for (v = 0; v < 3; v++) {
		struct elf_file *ef;

		snprintf(path, sizeof(path), "%s/%s", tmpdir, variants[v]);
		ef = elf_file__open(path);
		assert_non_null(ef);
		assert_int_equal(go_binary__read(ef, version, sizeof(version), &tab), 0);
		assert_string_equal(version, want);
		for (i = 0; i < 2; i++) {
			assert_int_equal(go_pclntab__find_func(&tab, names[i], &start, &end), 0);
			assert_int_equal(elf_file__exec_segment(ef, start, &seg_start, &seg_end), 0);
			assert_true(end <= seg_end);
			/* where .symtab survives, it agrees */
			if (v == 0) {
				assert_int_equal(elf_file__find_function(ef, names[i], &sym), 0);
				assert_int_equal(sym.addr, start);
				assert_true(sym.addr + sym.size <= end);
			} else {
				assert_int_equal(elf_file__find_function(ef, names[i], &sym), -ENOENT);
			}
		}
		elf_file__close(ef);
	}
	/* no Go in a C program */
	{
		struct elf_file *ef = elf_file__open("/bin/true");

		assert_non_null(ef);
		assert_int_equal(go_binary__read(ef, version, sizeof(version), &tab), -ENOENT);
		assert_string_equal(version, "");
		elf_file__close(ef);
	}
}

/* Discovery takes a Go program, stripped or not, as the Go row with its RETs. */
static void test_discovered(void **state)
{
	static const char *const variants[] = { "plain", "stripped" };
	struct library_set set = {};
	char path[PATH_MAX], text[256], want[32];
	size_t v, rets[2];

	go_version(want, sizeof(want));
	for (v = 0; v < 2; v++) {
		const struct tls_library *lib;

		snprintf(path, sizeof(path), "%s/%s", tmpdir, variants[v]);
		assert_int_equal(library_set__add_path(&set, path), 0);
		assert_int_equal(set.count, v + 1);
		lib = &set.libs[v];
		assert_non_null(lib->type);
		assert_int_equal(lib->type->kind, TLS_LIBRARY_GO);
		assert_string_equal(lib->name, "Go crypto/tls");
		assert_string_equal(lib->version, want);
		assert_string_equal(lib->refused, "");
		/* Write, Read, and the client's handshake (the server's is not linked in) */
		assert_int_equal(lib->sites_found, 7);
		assert_true(lib->site_offsets[0] && lib->site_offsets[1] &&
			    lib->site_offsets[0] != lib->site_offsets[1]);
		/* each function returns somewhere, the probes are in the file */
		assert_true(lib->nr_rets >= 3);
		assert_int_equal(lib->ret_sites[0], 0);
		assert_int_equal(lib->ret_sites[lib->nr_rets - 1], 2);
		rets[v] = lib->nr_rets;
		tls_library__functions_text(lib, text, sizeof(text));
		assert_non_null(strstr(text, "crypto/tls.(*Conn).Write ("));
		assert_non_null(strstr(text, " RETs) crypto/tls.(*Conn).Read ("));
	}
	/* stripping changes nothing of the code */
	assert_int_equal(rets[0], rets[1]);
	assert_memory_equal(set.libs[0].ret_offsets, set.libs[1].ret_offsets,
			    rets[0] * sizeof(uint64_t));
	library_set__clear(&set);
}

/* Copies tmpdir/plain to tmpdir/@name and writes @len bytes of @bytes at @offset */
static void patched_copy(const char *name, uint64_t offset, const void *bytes, size_t len,
			 char *path)
{
	char cmd[3 * PATH_MAX];
	FILE *f;

	snprintf(path, PATH_MAX, "%s/%s", tmpdir, name);
	snprintf(cmd, sizeof(cmd), "cp %s/plain %s", tmpdir, path);
	assert_int_equal(run(cmd), 0);
	f = fopen(path, "r+");
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)offset, SEEK_SET), 0);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* What cannot be probed safely is listed, refused, with the reason. */
static void test_refused(void **state)
{
	static const uint8_t old_magic[] = { 0xfa, 0xff, 0xff, 0xff }; /* Go 1.16, 1.17 */
	static const uint8_t older_magic[] = { 0xfb, 0xff, 0xff, 0xff }; /* Go 1.2 to 1.15 */
	static const uint8_t new_magic[] = { 0xf2, 0xff, 0xff, 0xff }; /* a later Go's */
	static const uint8_t huge_nfunc[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
	static const uint8_t bad_code[] = { 0x06, 0x06, 0x06, 0x06 };  /* push es: not in 64-bit mode */
	struct library_set set = {};
	struct elf_section sec;
	struct elf_symbol sym;
	char path[PATH_MAX];
	struct elf_file *ef;
	uint8_t rets[TLS_LIBRARY_MAX_RETS];
	uint64_t write_off, hs_off;

	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	ef = elf_file__open(path);
	assert_non_null(ef);
	assert_int_equal(elf_file__section_by_name(ef, ".gopclntab", &sec), 0);
	assert_int_equal(elf_file__find_function(ef, "crypto/tls.(*Conn).Write", &sym), 0);
	assert_int_equal(elf_file__offset_of(ef, sym.addr + 16, &write_off), 0);
	assert_int_equal(elf_file__find_function(ef, "crypto/tls.(*Conn).clientHandshake", &sym), 0);
	assert_true(sym.size > sizeof(rets));
	assert_int_equal(elf_file__offset_of(ef, sym.addr, &hs_off), 0);
	elf_file__close(ef);
	memset(rets, 0xc3, sizeof(rets)); /* ret */

	patched_copy("old", sec.offset, old_magic, sizeof(old_magic), path);
	assert_int_equal(library_set__add_path(&set, path), 0);
	assert_int_equal(set.libs[0].type->kind, TLS_LIBRARY_GO);
	assert_string_equal(set.libs[0].refused,
			    "built by Go 1.16 or 1.17: their .gopclntab layout (magic 0xfffffffa) is "
			    "not read, only Go 1.18's and later");

	patched_copy("undecodable", write_off, bad_code, sizeof(bad_code), path);
	assert_int_equal(library_set__add_path(&set, path), 0);
	assert_int_equal(set.count, 2);
	assert_string_equal(set.libs[1].refused,
			    "crypto/tls.(*Conn).Write: its code does not decode cleanly");

	patched_copy("older", sec.offset, older_magic, sizeof(older_magic), path);
	assert_int_equal(library_set__add_path(&set, path), 0);
	assert_string_equal(set.libs[2].refused, "built by Go 1.2 to 1.15: stack-based calling "
						 "convention, not probed (Go 1.18 and later are)");
	patched_copy("newer", sec.offset, new_magic, sizeof(new_magic), path);
	assert_int_equal(library_set__add_path(&set, path), 0);
	assert_string_equal(set.libs[3].refused, "a .gopclntab layout not known here (magic 0xfffffff2)");
	/* a header whose function count passes the table's end */
	patched_copy("lying", sec.offset + 8, huge_nfunc, sizeof(huge_nfunc), path);
	assert_int_equal(library_set__add_path(&set, path), 0);
	assert_int_equal(set.count, 5);
	assert_int_equal(set.libs[4].type->kind, TLS_LIBRARY_GO);
	assert_string_equal(set.libs[4].refused, "malformed .gopclntab header");
	/* a handshake whose RETs do not fit what Write and Read left: it alone goes unprobed */
	patched_copy("many_rets", hs_off, rets, sizeof(rets), path);
	assert_int_equal(library_set__add_path(&set, path), 0);
	assert_int_equal(set.count, 6);
	assert_string_equal(set.libs[5].refused, "");
	assert_int_equal(set.libs[5].sites_found, 3);
	assert_true(set.libs[5].nr_rets >= 2 && set.libs[5].nr_rets < TLS_LIBRARY_MAX_RETS);
	assert_int_equal(set.libs[5].ret_sites[set.libs[5].nr_rets - 1], 1);
	/* --list says it under each file */
	{
		char *text = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&text, &len);

		assert_non_null(out);
		assert_int_equal(library_set__print(&set, out), 0);
		assert_int_equal(fclose(out), 0);
		assert_non_null(strstr(text, "/old\n  library:    Go crypto/tls"));
		assert_non_null(strstr(text, "\n  refused:    built by Go 1.16 or 1.17: their "
					     ".gopclntab layout (magic 0xfffffffa) is not read"));
		assert_non_null(strstr(text, "\n  refused:    malformed .gopclntab header\n"));
		free(text);
	}
	library_set__clear(&set);
}

/* The committed fuzz seeds cut from a real go1.19.8 build (tests/fuzz/make_go_seeds.py) */
static size_t read_seed(const char *name, uint8_t *buf, size_t sz)
{
	char path[128];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "tests/fuzz/corpus/go_binary/%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, sz, f);
	assert_true(n < sz);
	fclose(f);
	return n;
}

static void test_real_seeds(void **state)
{
	static const char *const names[] = { "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read",
					     "main.main" };
	uint8_t buf[1024];
	struct go_pclntab tab;
	uint64_t start, end;
	char version[32];
	size_t size, i;

	size = read_seed("real-pclntab", buf, sizeof(buf));
	assert_int_equal(go_pclntab__parse(&tab, at_page_end(buf, size), size), 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(go_pclntab__find_func(&tab, names[i], &start, &end), 0);
		assert_true(start >= tab.text_start && end > start);
	}
	size = read_seed("real-buildinfo", buf, sizeof(buf));
	assert_int_equal(go_buildinfo__version(at_page_end(buf, size), size, version,
					       sizeof(version)), 0);
	assert_string_equal(version, "go1.19.8");
}

int main(void)
{
	const struct CMUnitTest tables[] = {
		cmocka_unit_test(test_both_magics),
		cmocka_unit_test(test_other_versions_refused),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_lying_fields),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_buildinfo),
		cmocka_unit_test(test_real_seeds),
	};
	const struct CMUnitTest binaries[] = {
		cmocka_unit_test(test_real_binaries),
		cmocka_unit_test(test_discovered),
		cmocka_unit_test(test_refused),
	};
	int failed = cmocka_run_group_tests(tables, map_guard, unmap_guard);

	return failed + cmocka_run_group_tests(binaries, build_go, remove_tmpdir);
}
