// SPDX-License-Identifier: MIT
/*
 * Tests for capture/elf_file.c: real files built here by cc (versioned
 * symbols, both hash styles), this test's own executable (bytes read from the
 * file match the code running), and copies whose headers lie or that shrink
 * while open.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "elf_file.h"

static char tmpdir[64];
static char lib_gnu[PATH_MAX], lib_sysv[PATH_MAX];

static const char lib_source[] =
	"int foo_impl(int x) { return x * 3 + 1; }\n"
	"__asm__(\".symver foo_impl, foo@@V1\");\n"
	"int bar(int x) { return x - 7; }\n"
	"int data_not_function = 5;\n";
static const char version_script[] = "V1 { global: foo; bar; data_not_function; local: *; };\n";

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int build_libs(void **state)
{
	char src[PATH_MAX], map[PATH_MAX], cmd[8 * PATH_MAX];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_elf_file.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(src, sizeof(src), "%s/lib.c", tmpdir);
	snprintf(map, sizeof(map), "%s/lib.map", tmpdir);
	snprintf(lib_gnu, sizeof(lib_gnu), "%s/libgnu.so", tmpdir);
	snprintf(lib_sysv, sizeof(lib_sysv), "%s/libsysv.so", tmpdir);
	if (write_file(src, lib_source) || write_file(map, version_script))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "cc -O2 -shared -fPIC -Wl,--version-script=%s -Wl,--hash-style=gnu -o %s %s && "
		 "cc -O2 -shared -fPIC -Wl,--version-script=%s -Wl,--hash-style=sysv -o %s %s",
		 map, lib_gnu, src, map, lib_sysv, src);
	return system(cmd) ? -1 : 0;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) ? -1 : 0;
}

/* A function of this executable whose bytes the test compares with the file's */
__attribute__((noinline, used)) int elf_file_test_target(int x)
{
	return x * x + 42;
}

static void test_open_errors(void **state)
{
	elf_file__close(NULL);
	errno = 0;
	assert_null(elf_file__open("/nonexistent/libfoo.so"));
	assert_int_equal(errno, ENOENT);
	assert_null(elf_file__open("/etc/hostname"));
	assert_int_equal(errno, EINVAL);
	assert_null(elf_file__open("/tmp"));
	assert_int_equal(errno, EISDIR);
}

static void test_versioned_symbols(void **state)
{
	struct elf_file *ef = elf_file__open(lib_gnu);
	struct elf_symbol sym, sym2;
	uint64_t off, start, end;
	unsigned char a[16], b[16];

	assert_non_null(ef);
	/* through .gnu.hash: .dynsym says "foo", versioned apart */
	assert_int_equal(elf_file__dynsym_lookup(ef, "foo", &sym), 0);
	assert_string_equal(sym.name, "foo");
	assert_int_equal(sym.type, STT_FUNC);
	assert_true(sym.size > 0);
	assert_int_equal(elf_file__dynsym_lookup(ef, "bar", &sym2), 0);
	assert_int_not_equal(sym.addr, sym2.addr);
	/* an object, and names that are not there */
	assert_int_equal(elf_file__dynsym_lookup(ef, "data_not_function", &sym2), -ENOENT);
	assert_int_equal(elf_file__dynsym_lookup(ef, "foo_impl", &sym2), -ENOENT);
	assert_int_equal(elf_file__dynsym_lookup(ef, "fo", &sym2), -ENOENT);

	/* .symtab keeps "foo@@V1": found by its bare name */
	assert_int_equal(elf_file__find_function(ef, "foo_impl", &sym2), 0);
	assert_int_equal(sym2.addr, sym.addr);
	assert_int_equal(elf_file__find_function(ef, "data_not_function", &sym2), -ENOENT);

	assert_int_equal(elf_file__offset_of(ef, sym.addr, &off), 0);
	assert_int_equal(elf_file__exec_segment(ef, sym.addr, &start, &end), 0);
	assert_true(start <= sym.addr && sym.addr + sym.size <= end);
	assert_int_equal(elf_file__read_vaddr(ef, sym.addr, a, sizeof(a)), 0);
	assert_int_equal(elf_file__read(ef, off, b, sizeof(b)), 0);
	assert_memory_equal(a, b, sizeof(a));
	/* ranges past the file's end or past the segment's file bytes */
	assert_int_equal(elf_file__read(ef, elf_file__size(ef) - 4, a, 8), -ERANGE);
	assert_int_equal(elf_file__read(ef, UINT64_MAX - 2, a, 8), -ERANGE);
	assert_int_equal(elf_file__read_vaddr(ef, end - 4, a, 8), -ENOENT);
	assert_int_equal(elf_file__offset_of(ef, UINT64_MAX - 1, &off), -ENOENT);
	assert_int_equal(elf_file__exec_segment(ef, 0x7fffffffffff, &start, &end), -ENOENT);
	elf_file__close(ef);
}

struct versioned {
	int found_foo;
	int found_bar;
};

static int note_versioned(const struct elf_symbol *sym, void *ctx)
{
	struct versioned *v = ctx;

	if (!strcmp(sym->name, "foo@@V1") && sym->name_len == 3)
		v->found_foo++;
	if (!strcmp(sym->name, "bar"))
		v->found_bar++;
	/* only defined functions reach here */
	assert_true(sym->type == STT_FUNC || sym->type == STT_GNU_IFUNC);
	return 0;
}

static int stop_at_bar(const struct elf_symbol *sym, void *ctx)
{
	return strcmp(sym->name, "bar") ? 0 : 7;
}

static void test_walk_and_sysv_hash(void **state)
{
	struct elf_file *ef = elf_file__open(lib_sysv);
	struct versioned v = {};
	struct elf_symbol sym;
	struct elf_section sec;

	assert_non_null(ef);
	/* no .gnu.hash: the lookup says so, the search walks */
	assert_int_equal(elf_file__section_by_type(ef, SHT_GNU_HASH, &sec), -ENOENT);
	assert_int_equal(elf_file__dynsym_lookup(ef, "foo", &sym), -EOPNOTSUPP);
	assert_int_equal(elf_file__find_function(ef, "foo", &sym), 0);
	assert_int_equal(elf_file__for_each_function(ef, SHT_SYMTAB, note_versioned, &v), 0);
	assert_int_equal(v.found_foo, 1);
	assert_int_equal(v.found_bar, 1);
	assert_int_equal(elf_file__for_each_function(ef, SHT_DYNSYM, stop_at_bar, NULL), 7);
	elf_file__close(ef);
}

static void test_sections(void **state)
{
	struct elf_file *ef = elf_file__open(lib_gnu);
	struct elf_section text, bss, sec;
	const void *data;
	size_t size;

	assert_non_null(ef);
	assert_int_equal(elf_file__section_by_name(ef, ".text", &text), 0);
	assert_string_equal(text.name, ".text");
	assert_int_equal(text.type, SHT_PROGBITS);
	assert_true(text.flags & SHF_EXECINSTR);
	assert_int_equal(elf_file__section_data(ef, &text, &data, &size), 0);
	assert_int_equal(size, text.size);
	assert_int_equal(elf_file__section_by_type(ef, SHT_DYNSYM, &sec), 0);
	assert_string_equal(sec.name, ".dynsym");
	assert_int_equal(elf_file__section_by_name(ef, ".gopclntab", &sec), -ENOENT);
	/* no bytes in the file */
	if (!elf_file__section_by_name(ef, ".bss", &bss))
		assert_int_equal(elf_file__section_data(ef, &bss, &data, &size), -ENODATA);
	elf_file__close(ef);
}

/* The bytes the file holds for a function are those the CPU runs. */
static void test_own_code(void **state)
{
	struct elf_file *ef = elf_file__open("/proc/self/exe");
	unsigned char buf[256];
	struct elf_symbol sym;
	uintptr_t base;

	assert_non_null(ef);
	assert_int_equal(elf_file__find_function(ef, "elf_file_test_target", &sym), 0);
	assert_true(sym.size > 0 && sym.size <= sizeof(buf));
	assert_int_equal(elf_file__read_vaddr(ef, sym.addr, buf, sym.size), 0);
	base = (uintptr_t)elf_file_test_target - sym.addr;
	assert_memory_equal(buf, (const void *)(base + sym.addr), sym.size);
	assert_int_equal(elf_file_test_target(3), 51);
	elf_file__close(ef);
}

static int copy_file(const char *from, const char *to)
{
	char cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "cp %s %s", from, to);
	return system(cmd);
}

/* Rewrites the section and program headers of the 64-bit ELF file @path */
static void patch_headers(const char *path, void (*fn)(Elf64_Ehdr *, Elf64_Shdr *, Elf64_Phdr *,
							  off_t size))
{
	int fd = open(path, O_RDWR);
	Elf64_Ehdr eh;
	Elf64_Shdr *sh;
	Elf64_Phdr *ph;
	struct stat st;
	size_t phnum;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(pread(fd, &eh, sizeof(eh), 0), sizeof(eh));
	sh = calloc(eh.e_shnum, sizeof(*sh));
	ph = calloc(eh.e_phnum, sizeof(*ph));
	assert_non_null(sh);
	assert_non_null(ph);
	assert_int_equal(pread(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff),
			 eh.e_shnum * sizeof(*sh));
	assert_int_equal(pread(fd, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff),
			 eh.e_phnum * sizeof(*ph));
	phnum = eh.e_phnum;
	fn(&eh, sh, ph, st.st_size);
	assert_int_equal(pwrite(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff),
			 eh.e_shnum * sizeof(*sh));
	assert_int_equal(pwrite(fd, ph, phnum * sizeof(*ph), eh.e_phoff), phnum * sizeof(*ph));
	assert_int_equal(pwrite(fd, &eh, sizeof(eh), 0), sizeof(eh));
	free(sh);
	free(ph);
	close(fd);
}

/* Every section's bytes past the end of the file, every segment's too big */
static void lie_about_sizes(Elf64_Ehdr *eh, Elf64_Shdr *sh, Elf64_Phdr *ph, off_t size)
{
	size_t i;

	for (i = 1; i < eh->e_shnum; i++)
		if (i != eh->e_shstrndx)
			sh[i].sh_size = (uint64_t)size * 16 + 0x10000;
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			ph[i].p_filesz = UINT64_MAX - 0x100;
}

/* A .gnu.hash cut to its header: its buckets lie past its end */
static void lie_about_hash(Elf64_Ehdr *eh, Elf64_Shdr *sh, Elf64_Phdr *ph, off_t size)
{
	size_t i;

	for (i = 1; i < eh->e_shnum; i++)
		if (sh[i].sh_type == SHT_GNU_HASH)
			sh[i].sh_size = 16;
}

/* 65,520 program headers (0xffff would mean "see section 0") */
static void lie_about_phnum(Elf64_Ehdr *eh, Elf64_Shdr *sh, Elf64_Phdr *ph, off_t size)
{
	eh->e_phnum = 0xfff0;
}

static void test_lying_headers(void **state)
{
	char path[PATH_MAX];
	struct elf_file *ef;
	struct elf_symbol sym;
	struct elf_section sec;
	const void *data;
	uint64_t off;
	size_t size;

	snprintf(path, sizeof(path), "%s/lying.so", tmpdir);
	assert_int_equal(copy_file(lib_gnu, path), 0);
	patch_headers(path, lie_about_sizes);
	ef = elf_file__open(path);
	assert_non_null(ef);
	assert_int_equal(elf_file__section_by_name(ef, ".text", &sec), 0);
	assert_int_equal(elf_file__section_data(ef, &sec, &data, &size), -EINVAL);
	assert_true(elf_file__find_function(ef, "foo", &sym) < 0);
	/* no segment has its claimed bytes in the file */
	assert_int_equal(elf_file__offset_of(ef, sec.addr, &off), -ENOENT);
	elf_file__close(ef);

	/* an unusable hash table: the symbols are walked instead */
	assert_int_equal(copy_file(lib_gnu, path), 0);
	patch_headers(path, lie_about_hash);
	ef = elf_file__open(path);
	assert_non_null(ef);
	assert_int_equal(elf_file__dynsym_lookup(ef, "foo", &sym), -EOPNOTSUPP);
	assert_int_equal(elf_file__find_function(ef, "foo", &sym), 0);
	elf_file__close(ef);

	assert_int_equal(copy_file(lib_gnu, path), 0);
	patch_headers(path, lie_about_phnum);
	assert_null(elf_file__open(path));
	assert_int_equal(errno, EINVAL);
}

/* Section headers past the end (a file cut short, a lying e_shoff or e_shnum): ERANGE */
static void test_section_table_past_end(void **state)
{
	char path[PATH_MAX];
	Elf64_Ehdr eh;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/cut.so", tmpdir);
	assert_int_equal(copy_file(lib_gnu, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 3), 0);
	assert_null(elf_file__open(path));
	assert_int_equal(errno, ERANGE);

	assert_int_equal(copy_file(lib_gnu, path), 0);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &eh, sizeof(eh), 0), sizeof(eh));
	eh.e_shoff = st.st_size + 4096;
	assert_int_equal(pwrite(fd, &eh, sizeof(eh), 0), sizeof(eh));
	assert_null(elf_file__open(path));
	assert_int_equal(errno, ERANGE);
	eh.e_shoff = st.st_size - 64;
	eh.e_shnum = 0xff00;
	assert_int_equal(pwrite(fd, &eh, sizeof(eh), 0), sizeof(eh));
	close(fd);
	assert_null(elf_file__open(path));
	assert_int_equal(errno, ERANGE);
}

/* A file cut short while open: errors, never SIGBUS or bytes from nowhere */
static void test_file_shrinks(void **state)
{
	char path[PATH_MAX];
	struct elf_file *ef;
	struct elf_symbol sym;
	struct elf_section text;
	unsigned char buf[16];

	snprintf(path, sizeof(path), "%s/shrinking.so", tmpdir);
	assert_int_equal(copy_file(lib_gnu, path), 0);
	ef = elf_file__open(path);
	assert_non_null(ef);
	assert_int_equal(elf_file__section_by_name(ef, ".text", &text), 0);
	assert_int_equal(truncate(path, 512), 0);
	assert_true(elf_file__find_function(ef, "foo", &sym) < 0);
	assert_int_equal(elf_file__read(ef, text.offset, buf, sizeof(buf)), -EIO);
	assert_int_equal(elf_file__read_vaddr(ef, text.addr, buf, sizeof(buf)), -EIO);
	elf_file__close(ef);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_versioned_symbols),
		cmocka_unit_test(test_walk_and_sysv_hash),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_own_code),
		cmocka_unit_test(test_lying_headers),
		cmocka_unit_test(test_section_table_past_end),
		cmocka_unit_test(test_file_shrinks),
	};

	return cmocka_run_group_tests(tests, build_libs, remove_tmpdir);
}
