/* SPDX-License-Identifier: MIT */
/*
 * Discovery: which files to put uprobes on.
 *
 * libbpf 1.1 does not resolve bare library names through ld.so.cache, so every
 * library is handed over as a path that opens the very inode the processes map.
 */
#ifndef TLSPCAP_DISCOVER_H
#define TLSPCAP_DISCOVER_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* One value per supported TLS implementation; each is a row in discover.c. */
enum tls_library_kind {
	TLS_LIBRARY_OPENSSL = 1,
};

/* Entry points probed; one bit each so a library records what it defines. */
enum tls_function {
	TLS_FN_SSL_WRITE	= 1 << 0,
	TLS_FN_SSL_READ		= 1 << 1,
	TLS_FN_SSL_WRITE_EX	= 1 << 2,
	TLS_FN_SSL_READ_EX	= 1 << 3,
	TLS_FN_SSL_SET_FD	= 1 << 4,
	TLS_FN_SSL_SET_RFD	= 1 << 5,
	TLS_FN_SSL_SET_WFD	= 1 << 6,
};

struct tls_library {
	/*
	 * Absolute path handed to libbpf. For a process mapping a replaced
	 * file ("(deleted)") it is /proc/PID/map_files/START-END; for one in
	 * another mount namespace or chroot it is /proc/PID/root/PATH. Such
	 * paths stay valid only while that process lives; a later scan that
	 * sees the same inode under a plain path switches to the plain path.
	 */
	char path[PATH_MAX];
	/* The path as the process sees it, verbatim from maps ("" if only
	 * found in a library directory). */
	char mapped_path[PATH_MAX];
	enum tls_library_kind kind;
	char name[32];			/* "OpenSSL" */
	char version[64];		/* "3.0.19 27 Jan 2026"; "" when not found */
	dev_t dev;			/* identity: uprobes attach to an inode, */
	ino_t ino;			/* so the set holds one entry per inode */
	unsigned int nr_processes;	/* processes mapping it at the last scan */
	unsigned int functions;		/* bitmask of enum tls_function defined */
};

struct library_set {
	struct tls_library *libs;	/* moves when a scan adds: keep indices */
	size_t count;
	size_t cap;
	unsigned int nr_processes;	/* processes with at least one library */
};

/*
 * Scans /proc/PID/maps of every process (or only @pids when @nr_pids > 0),
 * except @skip_pid, and the standard library directories (non-recursive) for
 * TLS libraries. A file counts only if its symbols say so (Debian's NSS
 * libssl3.so is not OpenSSL). Adds files whose (dev, ino) is not yet in @set,
 * so it can be called again to pick up new ones; *@added (if non-NULL) gets
 * how many were added. Process counts are recomputed by every scan.
 * Processes that exit during the scan are skipped, and so are those whose maps
 * we may not read (-EACCES/-EPERM) unless they were asked for in @pids.
 * Returns 0 or -errno.
 */
int library_set__scan(struct library_set *set, const pid_t *pids, size_t nr_pids,
		      pid_t skip_pid, size_t *added);

/* Frees the entries; accepts NULL and a zeroed struct; leaves @set zeroed. */
void library_set__clear(struct library_set *set);

/*
 * Fills @lib->version from lib->path, or else from the companion library
 * beside it (libssl.so.3 carries no version text; "OpenSSL 3.0.19 27 Jan
 * 2026" is in libcrypto.so.3). For a /proc/PID/map_files path the companion
 * is looked up among that process's mappings, so a replaced libcrypto yields
 * the version actually running. Needs path, mapped_path and kind.
 * Returns 0, -ENOENT if no version text was found (version is ""), or -errno.
 */
int tls_library__read_version(struct tls_library *lib);

/*
 * Sets @lib->functions to the functions defined as FUNC symbols in .dynsym,
 * then .symtab (for static builds), matching "name@@VERSION" by name.
 * Returns 0 or -errno (-EINVAL if lib->path is not an ELF file).
 */
int tls_library__read_functions(struct tls_library *lib);

/* "SSL_write" etc.; NULL for a value that is not a single known function. */
const char *tls_function__name(enum tls_function fn);

#endif /* TLSPCAP_DISCOVER_H */
