// SPDX-License-Identifier: MIT
/* Discovery of TLS libraries in /proc/PID/maps and the library directories. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover.h"

/* Supporting another TLS implementation means adding a row here. */
struct library_type {
	enum tls_library_kind kind;
	const char *name;
	const char *dir_prefix;		/* library dirs: basename starts with */
	const char *map_match;		/* maps: basename contains */
	unsigned int required;		/* functions that make it the real thing */
	const char *version_prefix;	/* version text: prefix, then a digit */
	const char *sibling_from;	/* no version text in the file itself? */
	const char *sibling_to;		/* then look in the file renamed so */
};

static const struct library_type library_types[] = {
	{
		.kind = TLS_LIBRARY_OPENSSL,
		.name = "OpenSSL",
		.dir_prefix = "libssl.so",
		.map_match = "libssl",
		.required = TLS_FN_SSL_WRITE | TLS_FN_SSL_READ,
		.version_prefix = "OpenSSL ",
		.sibling_from = "libssl",
		.sibling_to = "libcrypto",
	},
};

static const struct {
	enum tls_function fn;
	const char *name;
} tls_functions[] = {
	{ TLS_FN_SSL_WRITE, "SSL_write" },
	{ TLS_FN_SSL_READ, "SSL_read" },
	{ TLS_FN_SSL_WRITE_EX, "SSL_write_ex" },
	{ TLS_FN_SSL_READ_EX, "SSL_read_ex" },
	{ TLS_FN_SSL_SET_FD, "SSL_set_fd" },
	{ TLS_FN_SSL_SET_RFD, "SSL_set_rfd" },
	{ TLS_FN_SSL_SET_WFD, "SSL_set_wfd" },
};

#if defined(__x86_64__)
#define MULTIARCH_DIR "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH_DIR "aarch64-linux-gnu"
#endif

static const char *const library_dirs[] = {
#ifdef MULTIARCH_DIR
	"/usr/lib/" MULTIARCH_DIR,
	"/lib/" MULTIARCH_DIR,
#endif
	"/usr/lib",
	"/usr/local/lib",
	"/usr/lib64",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DELETED_SUFFIX " (deleted)"
/* maps lines are at most ~100 bytes plus a PATH_MAX path */
#define MAPS_BUF_SZ (64 * 1024)

const char *tls_function__name(enum tls_function fn)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tls_functions); i++)
		if (tls_functions[i].fn == fn)
			return tls_functions[i].name;
	return NULL;
}

static const struct library_type *library_type__find(enum tls_library_kind kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(library_types); i++)
		if (library_types[i].kind == kind)
			return &library_types[i];
	return NULL;
}

static bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
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

static int ensure_mem(void **data, size_t *cap, size_t elem_sz, size_t need)
{
	size_t new_cap = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return 0;
	while (new_cap < need)
		new_cap *= 2;
	p = reallocarray(*data, new_cap, elem_sz);
	if (!p)
		return -ENOMEM;
	*data = p;
	*cap = new_cap;
	return 0;
}

struct elf_file {
	int fd;
	Elf *elf;
};

static void elf_file__close(struct elf_file *ef)
{
	elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
}

static int elf_file__open(struct elf_file *ef, const char *path)
{
	int err;

	ef->elf = NULL;
	ef->fd = -1;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	ef->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ef->fd < 0)
		return -errno;
	/* mmap: only the symbol tables and .rodata get touched */
	ef->elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF) {
		err = -EINVAL;
		goto cleanup;
	}
	return 0;

cleanup:
	elf_file__close(ef);
	return err;
}

static unsigned int function_of_symbol(const char *sym)
{
	/* .symtab of objects built with .symver spells "SSL_write@@OPENSSL_3.0.0" */
	size_t len = strcspn(sym, "@"), i;

	for (i = 0; i < ARRAY_SIZE(tls_functions); i++) {
		const char *name = tls_functions[i].name;

		if (strlen(name) == len && !strncmp(sym, name, len))
			return tls_functions[i].fn;
	}
	return 0;
}

static int elf_file__functions(struct elf_file *ef, Elf64_Word sh_type, unsigned int *found)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr shdr;
	GElf_Sym sym;
	size_t i, n;

	while ((scn = elf_nextscn(ef->elf, scn))) {
		if (!gelf_getshdr(scn, &shdr))
			return -EINVAL;
		if (shdr.sh_type != sh_type || !shdr.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			return -EINVAL;
		n = shdr.sh_size / shdr.sh_entsize;
		for (i = 0; i < n; i++) {
			const char *name;
			int type;

			if (!gelf_getsym(data, i, &sym))
				return -EINVAL;
			type = GELF_ST_TYPE(sym.st_info);
			/* an undefined SSL_write is an import, not an implementation */
			if (sym.st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_GNU_IFUNC))
				continue;
			name = elf_strptr(ef->elf, shdr.sh_link, sym.st_name);
			if (!name)
				return -EINVAL;
			*found |= function_of_symbol(name);
		}
	}
	return 0;
}

int tls_library__read_functions(struct tls_library *lib)
{
	unsigned int found = 0, all = 0;
	struct elf_file ef;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(tls_functions); i++)
		all |= tls_functions[i].fn;
	err = elf_file__open(&ef, lib->path);
	if (err)
		return err;
	err = elf_file__functions(&ef, SHT_DYNSYM, &found);
	/* static builds keep their functions in .symtab only (if not stripped) */
	if (!err && found != all)
		err = elf_file__functions(&ef, SHT_SYMTAB, &found);
	if (!err)
		lib->functions = found;
	elf_file__close(&ef);
	return err;
}

/* Copies the text after @prefix of the first .rodata string "<prefix><digit>..." */
static int find_version(const char *path, const char *prefix, char *buf, size_t sz)
{
	size_t shstrndx, plen = strlen(prefix);
	struct elf_file ef;
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr shdr;
	int err;

	err = elf_file__open(&ef, path);
	if (err)
		return err;
	if (elf_getshdrstrndx(ef.elf, &shstrndx)) {
		err = -EINVAL;
		goto cleanup;
	}
	err = -ENOENT;
	while ((scn = elf_nextscn(ef.elf, scn))) {
		const char *name, *start, *end, *p, *hit;

		if (!gelf_getshdr(scn, &shdr)) {
			err = -EINVAL;
			goto cleanup;
		}
		name = elf_strptr(ef.elf, shstrndx, shdr.sh_name);
		if (!name) {
			err = -EINVAL;
			goto cleanup;
		}
		if (shdr.sh_type != SHT_PROGBITS || strcmp(name, ".rodata"))
			continue;
		data = elf_rawdata(scn, NULL);
		if (!data) {
			err = -EINVAL;
			goto cleanup;
		}
		if (!data->d_buf)
			continue;
		start = data->d_buf;
		end = start + data->d_size;
		for (p = start; (hit = memmem(p, end - p, prefix, plen)); p = hit + 1) {
			const char *v = hit + plen;
			size_t len;

			/* whole strings only: "built on: OpenSSL 3..." is not it */
			if ((hit != start && hit[-1]) || v >= end || !isdigit((unsigned char)*v))
				continue;
			len = strnlen(v, end - v);
			if (len >= sz)
				len = sz - 1;
			memcpy(buf, v, len);
			buf[len] = '\0';
			err = 0;
			goto cleanup;
		}
	}

cleanup:
	elf_file__close(&ef);
	return err;
}

typedef int (*maps_line_fn)(char *line, void *ctx);

/*
 * Calls @fn for every line of /proc/@pid/maps (NUL-terminated, without '\n'),
 * reading in @sz-byte chunks into @buf; a nonzero return of @fn stops the walk
 * and is returned.
 */
static int maps__for_each(pid_t pid, char *buf, size_t sz, maps_line_fn fn, void *ctx)
{
	size_t len = 0;
	char path[64];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + len, sz - 1 - len)) > 0) {
		char *line = buf, *nl;

		len += n;
		while ((nl = memchr(line, '\n', buf + len - line))) {
			*nl = '\0';
			err = fn(line, ctx);
			if (err)
				goto cleanup;
			line = nl + 1;
		}
		len -= line - buf;
		if (len == sz - 1) {
			err = -E2BIG;
			goto cleanup;
		}
		memmove(buf, line, len);
	}
	if (n < 0)
		err = -errno;

cleanup:
	close(fd);
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
	unsigned long start, end;
	const char *path;
	int off = 0;

	if (sscanf(line, "%lx-%lx %*s %*s %*s %*u %n", &start, &end, &off) < 2 || !off)
		return 0;
	path = line + off;
	if (undeleted_len(path) != sl->len || strncmp(path, sl->path, sl->len))
		return 0;
	sl->start = start;
	sl->end = end;
	return 1;
}

/* Where the companion file holding the version text (libcrypto for libssl) is */
static int sibling_path(const struct tls_library *lib, const struct library_type *type,
			char *out, size_t sz)
{
	const char *seen = lib->mapped_path[0] ? lib->mapped_path : lib->path;
	size_t seen_len = undeleted_len(seen);
	char dir[PATH_MAX], want[PATH_MAX];
	struct sibling_lookup sl = {};
	const char *base, *slash;
	char *buf;
	pid_t pid;
	int err, n;

	slash = memrchr(seen, '/', seen_len);
	if (!slash)
		return -ENOENT;
	base = slash + 1;
	if (strncmp(base, type->sibling_from, strlen(type->sibling_from)))
		return -ENOENT;
	n = 0;
	if (sscanf(lib->path, "/proc/%d/map_files/%n", &pid, &n) < 1 || !n) {
		/* a plain or /proc/PID/root path: the companion is beside it */
		slash = strrchr(lib->path, '/');
		return path_printf(out, sz, "%.*s/%s%.*s", (int)(slash - lib->path), lib->path,
				   type->sibling_to,
				   (int)(seen + seen_len - base - strlen(type->sibling_from)),
				   base + strlen(type->sibling_from));
	}

	/*
	 * A replaced library: the file now beside it may be a newer release
	 * than the one running, so take the companion the process maps.
	 */
	err = path_printf(dir, sizeof(dir), "%.*s", (int)(slash - seen), seen);
	if (err)
		return err;
	err = path_printf(want, sizeof(want), "%s/%s%.*s", dir, type->sibling_to,
			  (int)(seen + seen_len - base - strlen(type->sibling_from)),
			  base + strlen(type->sibling_from));
	if (err)
		return err;
	buf = malloc(MAPS_BUF_SZ);
	if (!buf)
		return -ENOMEM;
	sl.path = want;
	sl.len = strlen(want);
	err = maps__for_each(pid, buf, MAPS_BUF_SZ, sibling_lookup__line, &sl);
	free(buf);
	if (err < 0)
		return err;
	if (!err)
		return -ENOENT;
	return path_printf(out, sz, "/proc/%d/map_files/%lx-%lx", pid, sl.start, sl.end);
}

int tls_library__read_version(struct tls_library *lib)
{
	const struct library_type *type = library_type__find(lib->kind);
	char sibling[PATH_MAX];
	int err;

	lib->version[0] = '\0';
	if (!type)
		return -EINVAL;
	/* static builds and single-file libraries carry it themselves */
	err = find_version(lib->path, type->version_prefix, lib->version, sizeof(lib->version));
	if (err != -ENOENT)
		return err;
	err = sibling_path(lib, type, sibling, sizeof(sibling));
	if (err)
		return err;
	return find_version(sibling, type->version_prefix, lib->version, sizeof(lib->version));
}

void library_set__clear(struct library_set *set)
{
	if (!set)
		return;
	free(set->libs);
	memset(set, 0, sizeof(*set));
}

static struct tls_library *library_set__find(struct library_set *set, dev_t dev, ino_t ino)
{
	size_t i;

	for (i = 0; i < set->count; i++)
		if (set->libs[i].dev == dev && set->libs[i].ino == ino)
			return &set->libs[i];
	return NULL;
}

struct path_stat {
	char *path;
	int err;
	struct stat st;
};

struct file_id {
	dev_t dev;
	ino_t ino;
};

/* A candidate file in the maps of the process being scanned */
struct mapped_file {
	const struct library_type *type;
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
	struct file_id *rejected;	/* candidates that failed the symbol check */
	size_t nr_rejected, rejected_cap;
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
	free(s->rejected);
	free(s->files);
	free(s->buf);
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

static bool scan__is_rejected(const struct scan *s, const struct stat *st)
{
	size_t i;

	for (i = 0; i < s->nr_rejected; i++)
		if (s->rejected[i].dev == st->st_dev && s->rejected[i].ino == st->st_ino)
			return true;
	return false;
}

/*
 * Finds or adds the entry for the file at @path (seen as @mapped by a process,
 * or NULL). *@idx is its index in the set, or -1 if it is not a @type library.
 */
static int scan__resolve(struct scan *s, const struct library_type *type, const char *path,
			 const char *mapped, ssize_t *idx)
{
	struct library_set *set = s->set;
	struct tls_library *lib;
	struct stat st;
	int err;

	*idx = -1;
	err = scan__stat(s, path, &st);
	if (err)
		return err;
	if (!S_ISREG(st.st_mode) || scan__is_rejected(s, &st))
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
	lib->kind = type->kind;
	snprintf(lib->name, sizeof(lib->name), "%s", type->name);
	lib->dev = st.st_dev;
	lib->ino = st.st_ino;

	err = tls_library__read_functions(lib);
	if (err == -EINVAL || (!err && (lib->functions & type->required) != type->required)) {
		/* not an ELF, or a namesake (NSS's libssl3.so): remember, skip */
		err = ensure_mem((void **)&s->rejected, &s->rejected_cap, sizeof(*s->rejected),
				 s->nr_rejected + 1);
		if (err)
			return err;
		s->rejected[s->nr_rejected++] = (struct file_id){ st.st_dev, st.st_ino };
		return 0;
	}
	if (err)
		return err;
	/* the version is informational: a library without one is still probed */
	tls_library__read_version(lib);

	*idx = set->count++;
	s->added++;
	return 0;
}

static int scan__maps_line(char *line, void *ctx)
{
	const struct library_type *type = NULL;
	unsigned long start, end, inode;
	struct scan *s = ctx;
	struct mapped_file *f;
	const char *path, *base;
	size_t i, len;
	char perms[5];
	int off = 0, err;

	/* nearly every line is rejected here, before any parsing */
	for (i = 0; i < ARRAY_SIZE(library_types) && !type; i++)
		if (strstr(line, library_types[i].map_match))
			type = &library_types[i];
	if (!type)
		return 0;
	if (sscanf(line, "%lx-%lx %4s %*s %*s %lu %n", &start, &end, perms, &inode, &off) < 4 ||
	    !off)
		return 0;
	path = line + off;
	len = strlen(path);
	if (path[0] != '/' || !inode || len >= PATH_MAX)
		return 0;
	base = strrchr(path, '/') + 1;
	if (!strstr(base, type->map_match))
		return 0;

	for (i = 0; i < s->nr_files; i++) {
		f = &s->files[i];
		if (f->inode == inode && !strcmp(f->path, path)) {
			if (perms[2] == 'x' && !f->exec) {
				f->start = start;
				f->end = end;
				f->exec = true;
			}
			return 0;
		}
	}
	err = ensure_mem((void **)&s->files, &s->files_cap, sizeof(*s->files), s->nr_files + 1);
	if (err)
		return err;
	f = &s->files[s->nr_files++];
	f->type = type;
	memcpy(f->path, path, len + 1);
	f->inode = inode;
	f->start = start;
	f->end = end;
	f->exec = perms[2] == 'x';
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

static int scan__process(struct scan *s, pid_t pid)
{
	int err, foreign = -1;
	bool counted = false;
	char path[PATH_MAX];
	size_t i, j;

	s->nr_files = 0;
	err = maps__for_each(pid, s->buf, MAPS_BUF_SZ, scan__maps_line, s);
	if (err)
		goto cleanup;

	for (i = 0; i < s->nr_files; i++) {
		struct mapped_file *f = &s->files[i];

		if (undeleted_len(f->path) != strlen(f->path)) {
			/* replaced on disk: only the mapping still leads to it */
			err = path_printf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", pid,
					  f->start, f->end);
		} else {
			if (foreign < 0) {
				foreign = scan__foreign_root(s, pid);
				if (foreign < 0) {
					err = foreign;
					goto cleanup;
				}
			}
			if (foreign)
				err = path_printf(path, sizeof(path), "/proc/%d/root%s", pid, f->path);
			else
				err = path_printf(path, sizeof(path), "%s", f->path);
		}
		if (!err)
			err = scan__resolve(s, f->type, path, f->path, &f->lib);
		/* process exited, file gone, or no usable path: nothing to probe */
		if (err == -ENOENT || err == -ESRCH || err == -ENAMETOOLONG)
			continue;
		if (err)
			goto cleanup;
		if (f->lib < 0)
			continue;
		for (j = 0; j < i && s->files[j].lib != f->lib; j++)
			;
		if (j == i) {
			s->set->libs[f->lib].nr_processes++;
			counted = true;
		}
	}
	if (counted)
		s->set->nr_processes++;
	err = 0;

cleanup:
	/* processes vanish while we look at them; that is no error */
	if (err == -ENOENT || err == -ESRCH)
		err = 0;
	return err;
}

static int scan__processes(struct scan *s, const pid_t *pids, size_t nr_pids, pid_t skip_pid)
{
	struct dirent *de;
	DIR *dir;
	size_t i;
	int err = 0;

	if (nr_pids) {
		for (i = 0; i < nr_pids && !err; i++)
			if (pids[i] != skip_pid)
				err = scan__process(s, pids[i]);
		return err;
	}

	dir = opendir("/proc");
	if (!dir)
		return -errno;
	for (;;) {
		char *end;
		long pid;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			err = -errno;
			break;
		}
		pid = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || pid <= 0 || pid == skip_pid)
			continue;
		err = scan__process(s, pid);
		/* unlike a pid asked for, one we may not read is no reason to fail */
		if (err == -EACCES || err == -EPERM)
			err = 0;
		if (err)
			break;
	}
	closedir(dir);
	return err;
}

static int scan__directory(struct scan *s, const char *dir_path)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct dirent *de;
	ssize_t idx;
	DIR *dir;
	size_t i;
	int err = 0;

	dir = opendir(dir_path);
	if (!dir)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			err = -errno;
			break;
		}
		for (i = 0; i < ARRAY_SIZE(library_types); i++) {
			const struct library_type *type = &library_types[i];

			if (!str_has_prefix(de->d_name, type->dir_prefix))
				continue;
			err = path_printf(path, sizeof(path), "%s/%s", dir_path, de->d_name);
			if (err)
				goto cleanup;
			/* libssl.so -> libssl.so.3: one inode, named by its real path */
			if (!realpath(path, real)) {
				if (errno != ENOMEM)
					continue;	/* dangling symlink or loop */
				err = -ENOMEM;
				goto cleanup;
			}
			err = scan__resolve(s, type, real, NULL, &idx);
			if (err == -ENOENT)
				err = 0;
			if (err)
				goto cleanup;
		}
	}

cleanup:
	closedir(dir);
	return err;
}

static int scan__directories(struct scan *s)
{
	struct file_id seen[ARRAY_SIZE(library_dirs)];
	size_t i, j, nr_seen = 0;
	struct stat st;
	int err;

	for (i = 0; i < ARRAY_SIZE(library_dirs); i++) {
		if (stat(library_dirs[i], &st)) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return -errno;
		}
		/* /lib is often a symlink to /usr/lib: read each directory once */
		for (j = 0; j < nr_seen; j++)
			if (seen[j].dev == st.st_dev && seen[j].ino == st.st_ino)
				break;
		if (j < nr_seen)
			continue;
		seen[nr_seen++] = (struct file_id){ st.st_dev, st.st_ino };
		err = scan__directory(s, library_dirs[i]);
		if (err)
			return err;
	}
	return 0;
}

int library_set__scan(struct library_set *set, const pid_t *pids, size_t nr_pids,
		      pid_t skip_pid, size_t *added)
{
	struct scan s = { .set = set };
	size_t i;
	int err;

	for (i = 0; i < set->count; i++)
		set->libs[i].nr_processes = 0;
	set->nr_processes = 0;

	s.buf = malloc(MAPS_BUF_SZ);
	if (!s.buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (stat("/", &s.root) || stat("/proc/self/ns/mnt", &s.mntns)) {
		err = -errno;
		goto cleanup;
	}
	/* directories first, so host libraries get their plain real paths */
	err = scan__directories(&s);
	if (!err)
		err = scan__processes(&s, pids, nr_pids, skip_pid);

cleanup:
	if (added)
		*added = s.added;
	scan__free(&s);
	return err;
}
