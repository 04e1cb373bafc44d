// SPDX-License-Identifier: MIT
/*
 * Discovery of TLS implementations: files named like one in /proc/PID/maps
 * and the library directories, and executables with one linked in. Names
 * only nominate a file; the functions it defines decide which row of
 * tls_libraries.c it is, if any.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover.h"
#include "disasm.h"
#include "elf_file.h"
#include "ensure_mem.h"
#include "go_binary.h"
#include "proc_maps.h"

#if defined(__x86_64__)
#define MULTIARCH_DIR "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH_DIR "aarch64-linux-gnu"
#endif

static const char *const library_dirs[] = {
#ifdef MULTIARCH_DIR
	"/usr/lib/" MULTIARCH_DIR,
	"/lib/" MULTIARCH_DIR,
	/* Debian's BoringSSL (android-libboringssl) */
	"/usr/lib/" MULTIARCH_DIR "/android",
#endif
	"/usr/lib",
	"/usr/local/lib",
	"/usr/lib64",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DELETED_SUFFIX " (deleted)"
/* where Debian puts BoringSSL's libssl.so.0 */
#define ANDROID_DIR "/android/"
/* the longest Go function body decoded for its RETs */
#define GO_BODY_MAX (256 * 1024)
/* maps lines are at most ~100 bytes plus a PATH_MAX path */
#define MAPS_BUF_SZ (64 * 1024)

struct rejected_file {
	dev_t dev;
	ino_t ino;
	/* inode numbers are reused, and files rewritten in place */
	struct timespec mtime;
};

static bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Length of @s without a trailing " (deleted)" */
static size_t undeleted_len(const char *s)
{
	size_t len = strlen(s), sfx = strlen(DELETED_SUFFIX);

	if (len >= sfx && !strcmp(s + len - sfx, DELETED_SUFFIX))
		return len - sfx;
	return len;
}

/* snprintf that reports truncation instead of handing out a wrong path */
static int __attribute__((format(printf, 3, 4)))
path_printf(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return (size_t)n < sz ? 0 : -ENAMETOOLONG;
}

/* 0: @type names the file; 1: @type is for executables, naming none; 2: neither */
static int type__rank(const struct tls_library_type *type, const char *base)
{
	if (!type->dir_prefix && !type->map_match)
		return 1;
	if ((type->dir_prefix && str_has_prefix(base, type->dir_prefix)) ||
	    (type->map_match && strstr(base, type->map_match)))
		return 0;
	return 2;
}

static size_t type__nr_sites(const struct tls_library_type *type)
{
	size_t n = 0;

	while (n < TLS_LIBRARY_MAX_SITES && type->sites[n].symbol)
		n++;
	return n;
}

/*
 * The function names of every row (required and sites), sorted and unique,
 * and which of them one file defines: one pass over its symbols answers for
 * all rows at once.
 */
struct symbols {
	const char **names;
	uint64_t *offset;	/* file offset of a defined function, 0 if not defined */
	size_t count;
};

struct symbol_key {
	const char *name;
	size_t len;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_key_name(const void *k, const void *e)
{
	const struct symbol_key *key = k;
	const char *name = *(const char *const *)e;
	int c = strncmp(key->name, name, key->len);

	/* equal over key->len: a longer name sorts after the key */
	return c ? c : -(unsigned char)name[key->len];
}

static void symbols__free(struct symbols *syms)
{
	free(syms->names);
	free(syms->offset);
}

static int symbols__init(struct symbols *syms)
{
	size_t max = tls_library_types_count * (TLS_LIBRARY_MAX_SITES + 2), n = 0, i, j;

	syms->count = 0;
	syms->names = calloc(max, sizeof(*syms->names));
	syms->offset = calloc(max, sizeof(*syms->offset));
	if (!syms->names || !syms->offset) {
		symbols__free(syms);
		return -ENOMEM;
	}
	for (i = 0; i < tls_library_types_count; i++) {
		const struct tls_library_type *type = &tls_library_types[i];

		for (j = 0; j < ARRAY_SIZE(type->required); j++)
			if (type->required[j])
				syms->names[n++] = type->required[j];
		for (j = 0; j < type__nr_sites(type); j++)
			syms->names[n++] = type->sites[j].symbol;
	}
	qsort(syms->names, n, sizeof(*syms->names), cmp_names);
	for (i = 0; i < n; i++)
		if (!syms->count || strcmp(syms->names[syms->count - 1], syms->names[i]))
			syms->names[syms->count++] = syms->names[i];
	return 0;
}

static const char **symbols__lookup(const struct symbols *syms, const char *name, size_t len)
{
	struct symbol_key key = { name, len };

	return bsearch(&key, syms->names, syms->count, sizeof(*syms->names), cmp_key_name);
}

static bool symbols__has(const struct symbols *syms, const char *name)
{
	const char **hit = symbols__lookup(syms, name, strlen(name));

	return hit && syms->offset[hit - syms->names];
}

static bool symbols__has_required(const struct symbols *syms, const struct tls_library_type *type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(type->required); i++)
		if (type->required[i] && !symbols__has(syms, type->required[i]))
			return false;
	return true;
}

static uint64_t symbols__offset(const struct symbols *syms, const char *name)
{
	const char **hit = symbols__lookup(syms, name, strlen(name));

	return hit ? syms->offset[hit - syms->names] : 0;
}

/* Which sites @lib's file defines, and where: uprobes attach at file offsets. */
static void symbols__sites(const struct symbols *syms, struct tls_library *lib)
{
	size_t i;

	lib->sites_found = 0;
	for (i = 0; i < type__nr_sites(lib->type); i++) {
		lib->site_offsets[i] = symbols__offset(syms, lib->type->sites[i].symbol);
		if (lib->site_offsets[i])
			lib->sites_found |= 1u << i;
	}
}

static bool symbols__has_all_sites(const struct symbols *syms, const struct tls_library_type *type)
{
	size_t i;

	for (i = 0; i < type__nr_sites(type); i++)
		if (!symbols__has(syms, type->sites[i].symbol))
			return false;
	return true;
}

/* Whether some row has all it needs and all its sites among what was read */
static bool symbols__complete(const struct symbols *syms)
{
	size_t i;

	for (i = 0; i < tls_library_types_count; i++) {
		const struct tls_library_type *type = &tls_library_types[i];

		if (symbols__has_required(syms, type) && symbols__has_all_sites(syms, type))
			return true;
	}
	return false;
}

/* File offset of a function's address: 0 (never a function's) if unmapped */
static uint64_t function_offset(struct elf_file *ef, uint64_t addr)
{
	uint64_t off;

	return addr && !elf_file__offset_of(ef, addr, &off) ? off : 0;
}

struct symbols_walk {
	struct symbols *syms;
	struct elf_file *ef;
};

/* Marks a defined function if it is one of the names wanted */
static int symbols__mark(const struct elf_symbol *sym, void *ctx)
{
	struct symbols_walk *w = ctx;
	/* .symtab of objects built with .symver: "SSL_write@@OPENSSL_3.0.0" */
	const char **hit = symbols__lookup(w->syms, sym->name, sym->name_len);

	if (hit)
		w->syms->offset[hit - w->syms->names] = function_offset(w->ef, sym->addr);
	return 0;
}

/* Each name through .gnu.hash, or else a walk of all of .dynsym */
static int symbols__read_dynsym(struct symbols *syms, struct elf_file *ef)
{
	struct symbols_walk w = { syms, ef };
	struct elf_symbol sym;
	size_t i;
	int err;

	for (i = 0; i < syms->count; i++) {
		err = elf_file__dynsym_lookup(ef, syms->names[i], &sym);
		if (err == -ENOENT)
			continue;
		if (err == -EOPNOTSUPP)
			return elf_file__for_each_function(ef, SHT_DYNSYM, symbols__mark, &w);
		if (err)
			return err;
		syms->offset[i] = function_offset(ef, sym.addr);
	}
	return 0;
}

static int symbols__read(struct symbols *syms, struct elf_file *ef)
{
	struct symbols_walk w = { syms, ef };
	int err;

	memset(syms->offset, 0, syms->count * sizeof(*syms->offset));
	err = symbols__read_dynsym(syms, ef);
	/* static builds keep their functions in .symtab only (if not stripped) */
	if (!err && !symbols__complete(syms))
		err = elf_file__for_each_function(ef, SHT_SYMTAB, symbols__mark, &w);
	return err;
}

/* Initialises @syms and reads them from the ELF file at @path; on error nothing is left to free. */
static int symbols__load(struct symbols *syms, const char *path)
{
	struct elf_file *ef;
	int err;

	err = symbols__init(syms);
	if (err)
		return err;
	ef = elf_file__open(path);
	err = ef ? symbols__read(syms, ef) : -errno;
	elf_file__close(ef);
	if (err)
		symbols__free(syms);
	return err;
}

static int tls_library__read_go(struct tls_library *lib, struct elf_file *ef, struct disasm *d);

int tls_library__read_functions(struct tls_library *lib)
{
	struct symbols syms;
	struct elf_file *ef;
	int err;

	if (!lib->type)
		return -EINVAL;
	if (lib->type->kind == TLS_LIBRARY_GO) {
		ef = elf_file__open(lib->path);
		err = ef ? tls_library__read_go(lib, ef, NULL) : -errno;
		elf_file__close(ef);
		return err;
	}
	err = symbols__load(&syms, lib->path);
	if (err)
		return err;
	symbols__sites(&syms, lib);
	symbols__free(&syms);
	return 0;
}

static void copy_text(char *buf, size_t sz, const char *text, size_t len)
{
	if (len >= sz)
		len = sz - 1;
	memcpy(buf, text, len);
	buf[len] = '\0';
}

/*
 * Looks in .rodata for @prefix followed by a digit. A whole string is a
 * banner: all of it after @prefix is the version ("OpenSSL 3.0.19 27 Jan
 * 2026"); within other text only the word is ("Enabled GnuTLS 3.7.9
 * logging...", NSS's "Version: NSS 3.87.1" right after binary data). A
 * string that is just @prefix ("BoringSSL") names the implementation but no
 * version: "". The first banner wins, then the first word, then the name.
 * Returns 0, -ENOENT if none is there, or -errno.
 */
static int find_version(const char *path, const char *prefix, char *buf, size_t sz)
{
	enum { NONE, NAME, WORD } found = NONE;
	size_t plen = strlen(prefix), size;
	const char *start, *end, *p, *hit;
	struct elf_section rodata;
	struct elf_file *ef;
	const void *data;
	int err;

	ef = elf_file__open(path);
	if (!ef)
		return -errno;
	err = elf_file__section_by_name(ef, ".rodata", &rodata);
	if (!err && rodata.type != SHT_PROGBITS)
		err = -ENOENT;
	if (!err)
		err = elf_file__section_data(ef, &rodata, &data, &size);
	if (err == -ENODATA)
		err = -ENOENT;
	if (err)
		goto cleanup;
	start = data;
	end = start + size;
	for (p = start; (hit = memmem(p, end - p, prefix, plen)); p = hit + 1) {
		const char *v = hit + plen, *w;
		bool whole = hit == start || !hit[-1];

		if (v < end && isdigit((unsigned char)*v)) {
			if (whole) {
				copy_text(buf, sz, v, strnlen(v, end - v));
				goto cleanup;
			}
			if (found < WORD) {
				for (w = v; w < end && *w && !isspace((unsigned char)*w); w++)
					;
				copy_text(buf, sz, v, w - v);
				found = WORD;
			}
		} else if (whole && found < NAME && (v == end || !*v)) {
			buf[0] = '\0';
			found = NAME;
		}
	}
	err = found ? 0 : -ENOENT;

cleanup:
	elf_file__close(ef);
	return err;
}

struct sibling_lookup {
	const char *path;	/* as the process sees it */
	size_t len;
	unsigned long start, end;
};

static int sibling_lookup__line(char *line, void *ctx)
{
	struct sibling_lookup *sl = ctx;
	struct proc_maps_entry e;

	if (proc_maps__parse_line(line, &e) || undeleted_len(e.path) != sl->len ||
	    strncmp(e.path, sl->path, sl->len))
		return 0;
	sl->start = e.start;
	sl->end = e.end;
	return 1;
}

/* Where the sibling holding the version text (libcrypto for libssl) is */
static int sibling_path(const struct tls_library *lib, char *out, size_t sz)
{
	const struct tls_library_type *type = lib->type;
	const char *seen = lib->mapped_path[0] ? lib->mapped_path : lib->path;
	size_t seen_len = undeleted_len(seen), from_len = strlen(type->sibling_from);
	char want[PATH_MAX];
	struct sibling_lookup sl = {};
	const char *base, *slash, *rest;
	char *buf;
	int err, rest_len, n = 0;
	pid_t pid;

	slash = memrchr(seen, '/', seen_len);
	if (!slash)
		return -ENOENT;
	base = slash + 1;
	if (strncmp(base, type->sibling_from, from_len))
		return -ENOENT;
	/* libssl.so.3 -> libcrypto.so.3, libmbedtls.so.2.28.3 -> libmbedcrypto.so.2.28.3 */
	rest = base + from_len;
	rest_len = seen + seen_len - rest;
	if (sscanf(lib->path, "/proc/%d/map_files/%n", &pid, &n) < 1 || !n) {
		/* a plain or /proc/PID/root path: the sibling is beside it */
		slash = strrchr(lib->path, '/');
		return path_printf(out, sz, "%.*s/%s%.*s", (int)(slash - lib->path), lib->path,
				   type->sibling_to, rest_len, rest);
	}

	/*
	 * A replaced library: the file now beside it may be a newer release
	 * than the one running, so take the sibling the process maps.
	 */
	err = path_printf(want, sizeof(want), "%.*s/%s%.*s", (int)(slash - seen), seen,
			  type->sibling_to, rest_len, rest);
	if (err)
		return err;
	buf = malloc(MAPS_BUF_SZ);
	if (!buf)
		return -ENOMEM;
	sl.path = want;
	sl.len = strlen(want);
	err = proc_maps__for_each(pid, buf, MAPS_BUF_SZ, sibling_lookup__line, &sl);
	free(buf);
	if (err < 0)
		return err;
	if (!err)
		return -ENOENT;
	return path_printf(out, sz, "/proc/%d/map_files/%lx-%lx", pid, sl.start, sl.end);
}

int tls_library__read_version(struct tls_library *lib)
{
	const struct tls_library_type *type = lib->type;
	char sibling[PATH_MAX];
	int err;

	lib->version[0] = '\0';
	if (!type || !type->version_prefix)
		return -EINVAL;
	/* static builds and single-file libraries carry it themselves */
	err = find_version(lib->path, type->version_prefix, lib->version, sizeof(lib->version));
	if (err != -ENOENT || !type->sibling_from)
		return err;
	err = sibling_path(lib, sibling, sizeof(sibling));
	if (err)
		return err;
	return find_version(sibling, type->version_prefix, lib->version, sizeof(lib->version));
}

/*
 * Chooses @lib's row from the functions it defines: of the rows whose
 * required functions it has, those naming the file come first, then those
 * for executables, then any. Of several, as for a libssl.so that OpenSSL's
 * and BoringSSL's rows both name, the first whose version text the file or
 * its sibling carries wins, else BoringSSL under Debian's android directory,
 * else the first. Needs path and mapped_path; fills the rest but counts
 * (type stays NULL if no row fits).
 */
static void tls_library__classify(struct tls_library *lib, const struct symbols *syms)
{
	const char *base = path_basename(lib->mapped_path[0] ? lib->mapped_path : lib->path);
	const struct tls_library_type *type, *first = NULL;
	int best = 3;
	size_t i;

	for (i = 0; i < tls_library_types_count; i++) {
		type = &tls_library_types[i];
		if (symbols__has_required(syms, type) && type__rank(type, base) < best)
			best = type__rank(type, base);
	}
	if (best == 3)
		return;
	for (i = 0; i < tls_library_types_count; i++) {
		type = &tls_library_types[i];
		if (!symbols__has_required(syms, type) || type__rank(type, base) != best)
			continue;
		if (!first)
			first = type;
		lib->type = type;
		/* its version text (or name) is there: it is this one */
		if (!tls_library__read_version(lib))
			goto found;
	}
	lib->type = first;
	type = tls_library_type__find(TLS_LIBRARY_BORINGSSL);
	if (type && (strstr(lib->path, ANDROID_DIR) || strstr(lib->mapped_path, ANDROID_DIR)) &&
	    symbols__has_required(syms, type) && type__rank(type, base) == best)
		lib->type = type;

found:
	snprintf(lib->name, sizeof(lib->name), "%s", lib->type->name);
	symbols__sites(syms, lib);
}

void library_set__clear(struct library_set *set)
{
	if (!set)
		return;
	free(set->libs);
	free(set->rejected);
	memset(set, 0, sizeof(*set));
}

void library_set__remove(struct library_set *set, size_t index)
{
	if (index >= set->count)
		return;
	set->libs[index] = set->libs[--set->count];
}

/* Whether @path names a file directly in one of library_dirs */
static bool in_library_dir(const char *path, size_t len)
{
	const char *slash = memrchr(path, '/', len);
	size_t i;

	for (i = 0; slash && i < ARRAY_SIZE(library_dirs); i++)
		if ((size_t)(slash - path) == strlen(library_dirs[i]) &&
		    !strncmp(path, library_dirs[i], slash - path))
			return true;
	return false;
}

bool tls_library__remappable(const struct tls_library *lib)
{
	const char *seen = lib->mapped_path[0] ? lib->mapped_path : lib->path;
	size_t len = undeleted_len(seen);
	struct stat st;

	if (len != strlen(seen))
		return false; /* deleted or replaced when found */
	/* A /proc/PID/... path ends with its process, not with the file. Only a
	 * file known to be gone counts: one we may not look at (-Z) is kept. */
	if (!str_has_prefix(lib->path, "/proc/")) {
		if (stat(lib->path, &st))
			return errno != ENOENT && errno != ENOTDIR;
		if (st.st_dev != lib->dev || st.st_ino != lib->ino)
			return false;
	}
	return lib->lasting || in_library_dir(seen, len);
}

static struct tls_library *library_set__find(struct library_set *set, dev_t dev, ino_t ino)
{
	size_t i;

	for (i = 0; i < set->count; i++)
		if (set->libs[i].dev == dev && set->libs[i].ino == ino)
			return &set->libs[i];
	return NULL;
}

static bool library_set__is_rejected(const struct library_set *set, const struct stat *st)
{
	size_t i;

	for (i = 0; i < set->nr_rejected; i++) {
		const struct rejected_file *r = &set->rejected[i];

		if (r->dev == st->st_dev && r->ino == st->st_ino &&
		    r->mtime.tv_sec == st->st_mtim.tv_sec && r->mtime.tv_nsec == st->st_mtim.tv_nsec)
			return true;
	}
	return false;
}

static int library_set__reject(struct library_set *set, const struct stat *st)
{
	int err;

	err = ensure_mem((void **)&set->rejected, &set->rejected_cap, sizeof(*set->rejected),
			 set->nr_rejected + 1);
	if (err)
		return err;
	set->rejected[set->nr_rejected++] =
		(struct rejected_file){ st->st_dev, st->st_ino, st->st_mtim };
	return 0;
}

/* Counts @pid for @lib unless listed already; returns whether it did */
static bool tls_library__add_process(struct tls_library *lib, pid_t pid)
{
	size_t i;

	for (i = 0; i < lib->nr_pids_listed; i++)
		if (lib->pids[i] == pid)
			return false;
	if (lib->nr_pids_listed < TLS_LIBRARY_MAX_PIDS)
		lib->pids[lib->nr_pids_listed++] = pid;
	lib->nr_processes++;
	return true;
}

struct path_stat {
	char *path;
	int err;
	struct stat st;
};

/* A file in the maps of the process being scanned, named like a TLS library */
struct mapped_file {
	char path[PATH_MAX];		/* verbatim from maps */
	unsigned long inode;
	unsigned long start, end;	/* its executable mapping, else its first */
	bool exec;
	ssize_t lib;			/* index in the set, -1 if none */
};

struct scan {
	struct library_set *set;
	struct path_stat *stats;	/* stat() per path string, for this scan */
	size_t nr_stats, stats_cap;
	struct mapped_file *files;
	size_t nr_files, files_cap;
	char *buf;			/* MAPS_BUF_SZ, for reading maps */
	struct stat root, mntns;	/* ours, to spot other roots/namespaces */
	size_t added;
};

static void scan__free(struct scan *s)
{
	size_t i;

	for (i = 0; i < s->nr_stats; i++)
		free(s->stats[i].path);
	free(s->stats);
	free(s->files);
	free(s->buf);
}

static int scan__init(struct scan *s, struct library_set *set)
{
	memset(s, 0, sizeof(*s));
	s->set = set;
	s->buf = malloc(MAPS_BUF_SZ);
	if (!s->buf)
		return -ENOMEM;
	if (stat("/", &s->root) || stat("/proc/self/ns/mnt", &s->mntns))
		return -errno;
	return 0;
}

/* stat() once per path string: hundreds of processes map the same library */
static int scan__stat(struct scan *s, const char *path, struct stat *st)
{
	struct path_stat *ps;
	size_t i;
	int err;

	for (i = 0; i < s->nr_stats; i++) {
		if (!strcmp(s->stats[i].path, path)) {
			*st = s->stats[i].st;
			return s->stats[i].err;
		}
	}
	err = ensure_mem((void **)&s->stats, &s->stats_cap, sizeof(*s->stats), s->nr_stats + 1);
	if (err)
		return err;
	ps = &s->stats[s->nr_stats];
	ps->path = strdup(path);
	if (!ps->path)
		return -ENOMEM;
	ps->err = stat(path, &ps->st) ? -errno : 0;
	s->nr_stats++;
	*st = ps->st;
	return ps->err;
}

static void __attribute__((format(printf, 2, 3)))
tls_library__refuse(struct tls_library *lib, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lib->refused, sizeof(lib->refused), fmt, ap);
	va_end(ap);
}

/* Site @i of Go executable @lib at [@start, @end): its entry and every RET */
static int tls_library__go_site(struct tls_library *lib, struct elf_file *ef, struct disasm *d,
				size_t i, uint64_t start, uint64_t end)
{
	const char *name = lib->type->sites[i].symbol;
	uint64_t rets[TLS_LIBRARY_MAX_RETS];
	size_t n, j, size = end - start;
	uint8_t *body;
	int err;

	if (size > GO_BODY_MAX) {
		tls_library__refuse(lib, "%s: a body of %zu bytes, more than the %d KiB decoded", name,
				    size, GO_BODY_MAX / 1024);
		return 0;
	}
	if (elf_file__offset_of(ef, start, &lib->site_offsets[i])) {
		tls_library__refuse(lib, "%s: not in the file's code", name);
		return 0;
	}
	body = malloc(size);
	if (!body)
		return -ENOMEM;
	err = elf_file__read_vaddr(ef, start, body, size);
	if (!err)
		err = disasm__find_rets(d, body, size, start, rets,
					TLS_LIBRARY_MAX_RETS - lib->nr_rets, &n);
	free(body);
	/* the handshakes only name a connection's socket early: Write and Read matter */
	if (err == -ENOSPC && lib->type->sites[i].role == TLS_ROLE_GO_HANDSHAKE)
		return 0;
	if (err == -EINVAL || err == -ENOENT || err == -ENOSPC) {
		/* a RET missed would leave its calls open: probe all or nothing */
		tls_library__refuse(lib, "%s: %s", name,
				    err == -ENOSPC ? "too many RET instructions"
						   : "its code does not decode cleanly");
		return 0;
	}
	if (err)
		return err;
	for (j = 0; j < n; j++) {
		if (elf_file__offset_of(ef, rets[j], &lib->ret_offsets[lib->nr_rets])) {
			tls_library__refuse(lib, "%s: a RET outside the file's code", name);
			return 0;
		}
		lib->ret_sites[lib->nr_rets++] = i;
	}
	lib->sites_found |= 1u << i;
	return 0;
}

/*
 * A Go executable: its sites from .gopclntab (kept by stripped builds), its
 * version from .go.buildinfo, and a uprobe site on every RET of each, found
 * by decoding the bodies: uretprobes crash Go programs (the runtime copies
 * stacks and meets a foreign return address). What cannot be probed safely
 * stays listed with the reason. @d: the caller's decoder, or NULL for one of
 * its own. Returns 0 (type NULL: no Go program with crypto/tls) or -errno.
 */
static int tls_library__read_go(struct tls_library *lib, struct elf_file *ef, struct disasm *d)
{
	const struct tls_library_type *type = tls_library_type__find(TLS_LIBRARY_GO);
	struct disasm *own = NULL;
	struct go_pclntab tab;
	uint64_t start, end;
	size_t i;
	int err;

	lib->type = NULL;
	err = go_binary__read(ef, lib->version, sizeof(lib->version), &tab);
	if (err == -ENOENT || err == -EINVAL) {
		err = 0; /* no Go program, or none we can read */
		goto cleanup;
	}
	lib->type = type;
	snprintf(lib->name, sizeof(lib->name), "%s", type->name);
	if (err == -EPROTONOSUPPORT || err == -EBADMSG) {
		if (err == -EBADMSG)
			tls_library__refuse(lib, "malformed .gopclntab header");
		else if (tab.magic == GO_PCLNTAB_MAGIC_116)
			tls_library__refuse(lib, "built by Go 1.16 or 1.17: their .gopclntab layout "
						 "(magic %#x) is not read, only Go 1.18's and later",
					    tab.magic);
		else if (tab.magic == GO_PCLNTAB_MAGIC_12)
			tls_library__refuse(lib, "built by Go 1.2 to 1.15: stack-based calling "
						 "convention, not probed (Go 1.18 and later are)");
		else
			tls_library__refuse(lib, "a .gopclntab layout not known here (magic %#x)",
					    tab.magic);
		err = 0;
		goto cleanup;
	}
	if (err)
		goto cleanup;
	if (!d) {
		d = own = disasm__new();
		if (!d) {
			err = -errno;
			goto cleanup;
		}
	}
	lib->sites_found = 0;
	lib->nr_rets = 0;
	for (i = 0; !err && !lib->refused[0] && i < type__nr_sites(type); i++) {
		err = go_pclntab__find_func(&tab, type->sites[i].symbol, &start, &end);
		if (err == -ENOENT && type->sites[i].role == TLS_ROLE_GO_HANDSHAKE) {
			err = 0; /* a client-only or server-only program */
			continue;
		}
		if (err == -ENOENT) {
			/* a Go program that does not use crypto/tls */
			lib->type = NULL;
			err = 0;
			goto cleanup;
		}
		if (err == -EINVAL) {
			tls_library__refuse(lib, "malformed .gopclntab");
			err = 0;
		} else if (!err) {
			err = tls_library__go_site(lib, ef, d, i, start, end);
		}
	}

cleanup:
	disasm__free(own);
	return err;
}

/*
 * Reads and classifies @lib (type NULL: no TLS library), the file opened
 * once; -EINVAL: no ELF file. Go first: a Go program's functions are in its
 * .gopclntab, and its long .symtab (if any) names no C library's.
 */
static int tls_library__identify(struct tls_library *lib, struct disasm *d)
{
	struct symbols syms;
	struct elf_file *ef;
	int err;

	ef = elf_file__open(lib->path);
	if (!ef)
		return -errno;
	err = tls_library__read_go(lib, ef, d);
	if (err || lib->type)
		goto cleanup;
	err = symbols__init(&syms);
	if (err)
		goto cleanup;
	err = symbols__read(&syms, ef);
	if (!err)
		tls_library__classify(lib, &syms);
	symbols__free(&syms);
	/* Go's names without a crypto/tls .gopclntab to probe them by */
	if (lib->type && lib->type->kind == TLS_LIBRARY_GO)
		lib->type = NULL;

cleanup:
	elf_file__close(ef);
	return err;
}

/* Why a file that could not be read is skipped, for -v */
static const char *skip_reason(int err)
{
	switch (err) {
	case -EINVAL:
		return "not a well-formed ELF file";
	case -ERANGE:
		return "its section headers lie past the end of the file (cut short?)";
	case -EIO:
		return "the file shrank while it was read";
	}
	return strerror(-err);
}

static bool maps_name_wanted(const char *base)
{
	size_t i;

	for (i = 0; i < tls_library_types_count; i++)
		if (tls_library_types[i].map_match && strstr(base, tls_library_types[i].map_match))
			return true;
	return false;
}

/*
 * Finds or adds the entry for the file at @path (seen as @mapped by a process,
 * or NULL; @lasting: see tls_library.lasting). *@idx is its index in the set,
 * or -1 if it is no TLS library.
 */
static int scan__resolve(struct scan *s, const char *path, const char *mapped, bool lasting,
			 ssize_t *idx)
{
	struct library_set *set = s->set;
	struct tls_library *lib;
	struct stat st;
	int err;

	*idx = -1;
	err = scan__stat(s, path, &st);
	if (err)
		return err;
	if (!S_ISREG(st.st_mode) || library_set__is_rejected(set, &st))
		return 0;
	lib = library_set__find(set, st.st_dev, st.st_ino);
	if (lib) {
		/* a /proc/PID/... path dies with PID; a plain one lasts */
		if (str_has_prefix(lib->path, "/proc/") && !str_has_prefix(path, "/proc/")) {
			err = path_printf(lib->path, sizeof(lib->path), "%s", path);
			if (err)
				return err;
		}
		if (mapped && !lib->mapped_path[0]) {
			err = path_printf(lib->mapped_path, sizeof(lib->mapped_path), "%s", mapped);
			if (err)
				return err;
		}
		lib->lasting |= lasting;
		*idx = lib - set->libs;
		return 0;
	}

	err = ensure_mem((void **)&set->libs, &set->cap, sizeof(*set->libs), set->count + 1);
	if (err)
		return err;
	lib = &set->libs[set->count];
	memset(lib, 0, sizeof(*lib));
	err = path_printf(lib->path, sizeof(lib->path), "%s", path);
	if (!err && mapped)
		err = path_printf(lib->mapped_path, sizeof(lib->mapped_path), "%s", mapped);
	if (err)
		return err;
	lib->dev = st.st_dev;
	lib->ino = st.st_ino;
	lib->lasting = lasting;
	err = tls_library__identify(lib, set->disasm);
	/*
	 * A file we cannot read whole (malformed, or changed by its owner while
	 * we read) is skipped, never the scan: it is another user's file.  A
	 * malformed one is remembered (until its mtime changes); one that
	 * changed is read again next time.
	 */
	if (err && err != -ENOMEM) {
		if (set->verbose)
			fprintf(stderr, "tlspcap: skipping %s: %s\n", path, skip_reason(err));
		return err == -EINVAL || err == -ERANGE ? library_set__reject(set, &st) : 0;
	}
	if (err)
		return err;
	/* a namesake (NSS's libssl3.so): remember, skip */
	if (!lib->type) {
		if (set->verbose && maps_name_wanted(path_basename(path)))
			fprintf(stderr, "tlspcap: skipping %s: no TLS functions in it\n", path);
		return library_set__reject(set, &st);
	}
	*idx = set->count++;
	s->added++;
	return 0;
}

static int scan__maps_line(char *line, void *ctx)
{
	struct scan *s = ctx;
	struct proc_maps_entry e;
	struct mapped_file *f;
	const char *slash;
	size_t i, len;
	int err;

	/* nearly every line is rejected here, before any parsing */
	slash = strrchr(line, '/');
	if (!slash || !maps_name_wanted(slash + 1))
		return 0;
	if (proc_maps__parse_line(line, &e))
		return 0;
	len = strlen(e.path);
	if (e.path[0] != '/' || !e.inode || len >= PATH_MAX)
		return 0;

	for (i = 0; i < s->nr_files; i++) {
		f = &s->files[i];
		if (f->inode == e.inode && !strcmp(f->path, e.path)) {
			if (e.perms[2] == 'x' && !f->exec) {
				f->start = e.start;
				f->end = e.end;
				f->exec = true;
			}
			return 0;
		}
	}
	err = ensure_mem((void **)&s->files, &s->files_cap, sizeof(*s->files), s->nr_files + 1);
	if (err)
		return err;
	f = &s->files[s->nr_files++];
	memcpy(f->path, e.path, len + 1);
	f->inode = e.inode;
	f->start = e.start;
	f->end = e.end;
	f->exec = e.perms[2] == 'x';
	f->lib = -1;
	return 0;
}

/*
 * 1 if paths in @pid's maps must be opened through /proc/PID/root. Compare
 * identities: readlink(/proc/PID/root) says "/" for a process in a container
 * (its own mount namespace), and a private mount namespace may mount other
 * files over the same paths.
 */
static int scan__foreign_root(struct scan *s, pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	if (stat(path, &st))
		return -errno;
	if (st.st_dev != s->root.st_dev || st.st_ino != s->root.st_ino)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	if (stat(path, &st))
		return -errno;
	return st.st_dev != s->mntns.st_dev || st.st_ino != s->mntns.st_ino;
}

static bool path_has_inode(const char *path, unsigned long inode)
{
	struct stat st;

	return !stat(path, &st) && st.st_ino == inode;
}

/*
 * The path by which we open the file @pid maps as @seen (inode @inode):
 * @gone (a /proc/PID/... link to the inode) if it was replaced on disk;
 * for a process with another root, /proc/PID/root + @seen in a container
 * (maps shows its own view), @seen itself in a chroot of our mount
 * namespace (maps shows our view), checked by inode, else @gone. *@foreign
 * caches whether the root differs (-1: not known yet).
 */
static int scan__file_path(struct scan *s, pid_t pid, int *foreign, const char *seen,
			   unsigned long inode, const char *gone, char *out, size_t sz)
{
	int err;

	if (undeleted_len(seen) != strlen(seen))
		return path_printf(out, sz, "%s", gone);
	if (*foreign < 0) {
		*foreign = scan__foreign_root(s, pid);
		if (*foreign < 0)
			return *foreign;
	}
	if (!*foreign)
		return path_printf(out, sz, "%s", seen);
	err = path_printf(out, sz, "/proc/%d/root%s", pid, seen);
	if (!err && path_has_inode(out, inode))
		return 0;
	if (path_has_inode(seen, inode))
		return path_printf(out, sz, "%s", seen);
	return path_printf(out, sz, "%s", gone);
}

/* The executable of @pid, in case it has a TLS implementation linked in */
static int scan__exe(struct scan *s, pid_t pid, int *foreign, ssize_t *idx)
{
	char link[64], seen[PATH_MAX], path[PATH_MAX];
	struct tls_library *lib;
	struct stat st;
	ssize_t n;
	int err;

	*idx = -1;
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	/* nearly every executable is known by now either way: one stat() */
	if (stat(link, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || library_set__is_rejected(s->set, &st))
		return 0;
	lib = library_set__find(s->set, st.st_dev, st.st_ino);
	if (lib && !str_has_prefix(lib->path, "/proc/")) {
		*idx = lib - s->set->libs;
		return 0;
	}
	n = readlink(link, seen, sizeof(seen));
	if (n < 0)
		return -errno;
	if ((size_t)n == sizeof(seen))
		return -ENAMETOOLONG;
	seen[n] = '\0';
	if (seen[0] != '/')
		return 0;
	err = scan__file_path(s, pid, foreign, seen, st.st_ino, link, path, sizeof(path));
	if (err)
		return err;
	return scan__resolve(s, path, seen, true, idx);
}

/* Whether to go on with the other files of a process after @err */
static bool file_error_skippable(int err)
{
	/* process exited, file gone, or no usable path: nothing to probe */
	return err == -ENOENT || err == -ESRCH || err == -ENAMETOOLONG;
}

static int scan__process(struct scan *s, pid_t pid)
{
	int err, foreign = -1;
	char path[PATH_MAX], gone[64];
	bool counted = false;
	ssize_t exe;
	size_t i, j;

	s->nr_files = 0;
	err = proc_maps__for_each(pid, s->buf, MAPS_BUF_SZ, scan__maps_line, s);
	if (err)
		goto cleanup;

	for (i = 0; i < s->nr_files; i++) {
		struct mapped_file *f = &s->files[i];

		snprintf(gone, sizeof(gone), "/proc/%d/map_files/%lx-%lx", pid, f->start, f->end);
		err = scan__file_path(s, pid, &foreign, f->path, f->inode, gone, path, sizeof(path));
		if (!err)
			err = scan__resolve(s, path, f->path, false, &f->lib);
		if (file_error_skippable(err))
			continue;
		if (err)
			goto cleanup;
		if (f->lib < 0)
			continue;
		for (j = 0; j < i && s->files[j].lib != f->lib; j++)
			;
		if (j == i)
			counted |= tls_library__add_process(&s->set->libs[f->lib], pid);
	}

	err = scan__exe(s, pid, &foreign, &exe);
	if (file_error_skippable(err))
		exe = -1;
	else if (err)
		goto cleanup;
	for (j = 0; exe >= 0 && j < s->nr_files && s->files[j].lib != exe; j++)
		;
	if (exe >= 0 && j == s->nr_files)
		counted |= tls_library__add_process(&s->set->libs[exe], pid);
	if (counted)
		s->set->nr_processes++;
	err = 0;

cleanup:
	/* processes vanish while we look at them; that is no error */
	if (err == -ENOENT || err == -ESRCH)
		err = 0;
	return err;
}

struct process_walk {
	struct scan *s;
	pid_t skip_pid;
};

/* One process of /proc, unless it is the one to skip. */
static int scan__listed_process(pid_t pid, void *ctx)
{
	struct process_walk *w = ctx;
	int err;

	if (pid == w->skip_pid)
		return 0;
	err = scan__process(w->s, pid);
	/* unlike a pid asked for, one we may not read is no reason to fail */
	if (err == -EACCES || err == -EPERM)
		err = 0;
	return err;
}

static int scan__processes(struct scan *s, const pid_t *pids, size_t nr_pids, pid_t skip_pid)
{
	struct process_walk w = { s, skip_pid };
	size_t i;
	int err = 0;

	if (nr_pids) {
		for (i = 0; i < nr_pids && !err; i++)
			if (pids[i] != skip_pid)
				err = scan__process(s, pids[i]);
		return err;
	}
	return proc_maps__for_each_process(scan__listed_process, &w);
}

static bool dir_name_wanted(const char *name)
{
	size_t i;

	for (i = 0; i < tls_library_types_count; i++)
		if (tls_library_types[i].dir_prefix &&
		    str_has_prefix(name, tls_library_types[i].dir_prefix))
			return true;
	return false;
}

/* One entry of a library directory: a library when its name is wanted. */
static int scan__directory_entry(struct scan *s, const char *dir_path, const char *name)
{
	char path[PATH_MAX], real[PATH_MAX];
	ssize_t idx;
	int err;

	if (!dir_name_wanted(name))
		return 0;
	err = path_printf(path, sizeof(path), "%s/%s", dir_path, name);
	if (err)
		return err;
	/* libssl.so -> libssl.so.3: one inode, named by its real path */
	if (!realpath(path, real))
		return errno == ENOMEM ? -ENOMEM : 0; /* else a dangling symlink or loop */
	err = scan__resolve(s, real, NULL, true, &idx);
	return err == -ENOENT ? 0 : err;
}

static int scan__directory(struct scan *s, const char *dir_path)
{
	DIR *dir = opendir(dir_path);
	struct dirent *de;
	int err = 0;

	if (!dir)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	while (!err) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			err = -errno;
			break;
		}
		err = scan__directory_entry(s, dir_path, de->d_name);
	}
	closedir(dir);
	return err;
}

static int scan__directories(struct scan *s)
{
	struct stat seen[ARRAY_SIZE(library_dirs)], st;
	size_t i, j, nr_seen = 0;
	int err;

	for (i = 0; i < ARRAY_SIZE(library_dirs); i++) {
		if (stat(library_dirs[i], &st)) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return -errno;
		}
		/* /lib is often a symlink to /usr/lib: read each directory once */
		for (j = 0; j < nr_seen; j++)
			if (seen[j].st_dev == st.st_dev && seen[j].st_ino == st.st_ino)
				break;
		if (j < nr_seen)
			continue;
		seen[nr_seen++] = st;
		err = scan__directory(s, library_dirs[i]);
		if (err)
			return err;
	}
	return 0;
}

int library_set__scan(struct library_set *set, const pid_t *pids, size_t nr_pids,
		      pid_t skip_pid, size_t *added)
{
	struct scan s;
	size_t i;
	int err;

	for (i = 0; i < set->count; i++) {
		set->libs[i].nr_processes = 0;
		set->libs[i].nr_pids_listed = 0;
	}
	set->nr_processes = 0;

	err = scan__init(&s, set);
	/* directories first, so host libraries get their plain real paths */
	if (!err)
		err = scan__directories(&s);
	if (!err)
		err = scan__processes(&s, pids, nr_pids, skip_pid);
	if (added)
		*added = s.added;
	scan__free(&s);
	return err;
}

int library_set__scan_pid(struct library_set *set, pid_t pid, size_t *added)
{
	struct scan s;
	int err;

	err = scan__init(&s, set);
	if (!err)
		err = scan__process(&s, pid);
	if (added)
		*added = s.added;
	scan__free(&s);
	return err;
}

int library_set__scan_exe(struct library_set *set, pid_t pid, size_t *added)
{
	int err, foreign = -1;
	struct scan s;
	ssize_t idx;

	err = scan__init(&s, set);
	if (!err)
		err = scan__exe(&s, pid, &foreign, &idx);
	if (added)
		*added = s.added;
	scan__free(&s);
	return file_error_skippable(err) ? 0 : err;
}

int library_set__add_path(struct library_set *set, const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	struct scan s;
	ssize_t idx;
	int err;

	memset(&s, 0, sizeof(s));
	s.set = set;
	/*
	 * The real name: libmbedtls.so.14 -> libmbedtls.so.2.28.3, whose
	 * sibling is libmbedcrypto.so.2.28.3. But /proc/PID/root/... would
	 * resolve to our own root.
	 */
	if (str_has_prefix(path, "/proc/"))
		err = path_printf(real, sizeof(real), "%s", path);
	else
		err = realpath(path, real) ? 0 : -errno;
	if (!err)
		err = scan__stat(&s, real, &st);
	if (!err && !S_ISREG(st.st_mode))
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (!err)
		err = scan__resolve(&s, real, NULL, true, &idx);
	if (!err && idx < 0)
		err = -ENOENT;
	scan__free(&s);
	return err;
}

const char *tls_library__functions_text(const struct tls_library *lib, char *buf, size_t size)
{
	size_t i, len = 0;
	int n;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (i = 0; lib->type && i < type__nr_sites(lib->type); i++) {
		if (!(lib->sites_found & (1u << i)))
			continue;
		n = snprintf(buf + len, size - len, "%s%s", len ? " " : "", lib->type->sites[i].symbol);
		if (n >= 0 && (size_t)n < size - len && lib->type->kind == TLS_LIBRARY_GO) {
			size_t rets = 0, j;

			for (j = 0; j < lib->nr_rets; j++)
				rets += lib->ret_sites[j] == i;
			n += snprintf(buf + len + n, size - len - n, " (%zu RET%s)", rets,
				      rets == 1 ? "" : "s");
		}
		if (n < 0 || (size_t)n >= size - len) {
			buf[len] = '\0';	/* whole names only */
			break;
		}
		len += n;
	}
	return buf;
}

/* The command name of @pid, "?" once it is gone */
static void read_comm(pid_t pid, char *buf, size_t sz)
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sz - 1);
		close(fd);
	}
	if (n <= 0) {
		snprintf(buf, sz, "?");
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

int library_set__print(const struct library_set *set, FILE *out)
{
	char text[1024], comm[32];
	size_t i, j;

	if (!set->count) {
		fprintf(out, "No TLS library found: no file in the library directories, in the "
			     "processes' maps or among their executables defines the functions of ");
		for (i = 0; i < tls_library_types_count; i++)
			fprintf(out, "%s%s", i ? (i + 1 < tls_library_types_count ? ", " : " or ") : "",
				tls_library_types[i].name);
		fprintf(out, ".\nNothing can be captured; name a file with --lib PATH.\n");
		return ferror(out) ? -EIO : 0;
	}
	fprintf(out, "%zu TLS librar%s, mapped by %u process%s:\n", set->count,
		set->count == 1 ? "y" : "ies", set->nr_processes,
		set->nr_processes == 1 ? "" : "es");
	for (i = 0; i < set->count; i++) {
		const struct tls_library *lib = &set->libs[i];

		fprintf(out, "\n%s\n", lib->path);
		if (lib->mapped_path[0] && strcmp(lib->mapped_path, lib->path))
			fprintf(out, "  seen as:    %s\n", lib->mapped_path);
		fprintf(out, "  library:    %s %s\n", lib->name,
			lib->version[0] ? lib->version : "(version unknown)");
		fprintf(out, "  functions:  %s\n",
			tls_library__functions_text(lib, text, sizeof(text)));
		if (lib->refused[0])
			fprintf(out, "  refused:    %s\n", lib->refused);
		fprintf(out, "  processes:  %u", lib->nr_processes);
		for (j = 0; j < lib->nr_pids_listed; j++) {
			read_comm(lib->pids[j], comm, sizeof(comm));
			fprintf(out, " %s(%d)", comm, lib->pids[j]);
		}
		if (lib->nr_processes > lib->nr_pids_listed)
			fprintf(out, " ...");
		if (!lib->nr_processes)
			fprintf(out, " (probed for processes that load it later)");
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}
