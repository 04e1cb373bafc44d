/* SPDX-License-Identifier: MIT */
/*
 * Discovery: which files to put uprobes on, and which of the TLS
 * implementations in tls_libraries.c each one is.
 *
 * libbpf 1.1 does not resolve bare library names through ld.so.cache, so every
 * file is handed over as a path that opens the very inode the processes map.
 */
#ifndef TLSPCAP_DISCOVER_H
#define TLSPCAP_DISCOVER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "tls_libraries.h"

#define TLS_LIBRARY_MAX_PIDS 16
#define TLS_LIBRARY_MAX_RETS 64

struct tls_library {
	/*
	 * Absolute path handed to libbpf. For a process mapping a replaced
	 * file ("(deleted)") it is /proc/PID/map_files/START-END (or
	 * /proc/PID/exe); for one in another mount namespace or chroot it is
	 * /proc/PID/root/PATH. Such paths stay valid only while that process
	 * lives; a later scan that sees the same inode under a plain path
	 * switches to the plain path.
	 */
	char path[PATH_MAX];
	/* The path as the process sees it, verbatim from maps or the exe
	 * link ("" if only found in a library directory or by --lib). */
	char mapped_path[PATH_MAX];
	const struct tls_library_type *type;
	char name[32];			/* type->name */
	char version[64];		/* "3.0.19 27 Jan 2026"; "" when the file has none */
	dev_t dev;			/* identity: uprobes attach to an inode, */
	ino_t ino;			/* so the set holds one entry per inode */
	unsigned int nr_processes;	/* processes mapping it at the last scan */
	/* the first processes seen mapping it, for --list */
	pid_t pids[TLS_LIBRARY_MAX_PIDS];
	size_t nr_pids_listed;
	unsigned int sites_found;	/* bit i: type->sites[i].symbol is defined */
	uint64_t site_offsets[TLS_LIBRARY_MAX_SITES]; /* file offset of each site found */
	/* Go: the file offset of every RET of each site, for uprobes */
	uint64_t ret_offsets[TLS_LIBRARY_MAX_RETS];
	uint8_t ret_sites[TLS_LIBRARY_MAX_RETS];	/* the site index of each */
	size_t nr_rets;
	/* why the file is not probed, for --list; "" when it is */
	char refused[160];
	/* found by the directory scan, --lib or as a process's executable:
	 * new processes may map it at any time */
	bool lasting;
};

struct rejected_file;
struct disasm;

struct library_set {
	struct tls_library *libs;	/* moves when a scan adds: keep indices */
	size_t count;
	size_t cap;
	unsigned int nr_processes;	/* processes with at least one library */
	/* files found to be no TLS implementation, so rescans skip them */
	struct rejected_file *rejected;
	size_t nr_rejected, rejected_cap;
	bool verbose;			/* say on stderr why a file is skipped */
	struct disasm *disasm;		/* the caller's, for Go bodies (NULL: one per file) */
};

/*
 * Scans the standard library directories (non-recursive, with Debian's
 * android/ for BoringSSL), then every process (or only @pids when
 * @nr_pids > 0) except @skip_pid: the files in /proc/PID/maps named like a
 * TLS library and the executable (/proc/PID/exe, for OpenSSL linked in). A
 * file counts only if its symbols say so (Debian's NSS libssl3.so is not
 * OpenSSL). Adds files whose (dev, ino) is not yet in @set, so it can be
 * called again to pick up new ones; *@added (if non-NULL) gets how many were
 * added. Process counts and lists are recomputed by every scan. Processes
 * that exit during the scan are skipped, and so are those whose maps we may
 * not read (-EACCES/-EPERM) unless they were asked for in @pids.
 * Returns 0 or -errno.
 */
int library_set__scan(struct library_set *set, const pid_t *pids, size_t nr_pids,
		      pid_t skip_pid, size_t *added);

/*
 * Scans one process, typically one that just started: its maps and its
 * executable, and counts it as one more process of each library it maps (a
 * pid already listed in lib->pids is not counted twice). Returns 0 (also
 * when @pid is gone) or -errno.
 */
int library_set__scan_pid(struct library_set *set, pid_t pid, size_t *added);

/*
 * Looks at @pid's executable only, typically right at its exec: a program
 * with its TLS code linked in (Go, static OpenSSL) is added at once, before
 * the libraries its loader maps are there to see. Does not count processes
 * (the later library_set__scan_pid does). Returns 0 (also when @pid is gone)
 * or -errno.
 */
int library_set__scan_exe(struct library_set *set, pid_t pid, size_t *added);

/*
 * Adds the ELF file at @path (--lib): a library or an executable, whatever
 * its name; its symbols choose the row. Returns 0 if added or already in
 * @set, -ENOENT if it does not exist or defines no known TLS functions (as
 * any file that is no ELF file), -EISDIR for a directory, or -errno.
 */
int library_set__add_path(struct library_set *set, const char *path);

/*
 * Writes a table of @set for --list: per file its path (and the process's
 * view when it differs), library and version, functions found, processes
 * (how many, then the first few as comm(pid)); says so when it is empty.
 * Returns 0 or -errno.
 */
int library_set__print(const struct library_set *set, FILE *out);

/* Drops entry @index; the last entry takes its index. */
void library_set__remove(struct library_set *set, size_t index);

/*
 * Whether a new process may map @lib's file again at any time: one found by
 * the directory scan, --lib or as an executable, or seen in a library
 * directory (also a container's), unless it was deleted or replaced since.
 * A copy elsewhere (LD_LIBRARY_PATH, a chroot) is mapped again only by a
 * process that goes looking for it. Looks at the file (stat).
 */
bool tls_library__remappable(const struct tls_library *lib);

/* Frees the entries; accepts NULL and a zeroed struct; leaves @set zeroed. */
void library_set__clear(struct library_set *set);

/*
 * Fills @lib->version from the text in lib->path, or else in the sibling
 * file the row names (libssl.so.3 carries no version: "OpenSSL 3.0.19 27 Jan
 * 2026" is in libcrypto.so.3). For a /proc/PID/map_files path the sibling is
 * looked up among that process's mappings, so a replaced libcrypto yields
 * the version actually running. Needs path, mapped_path and type.
 * Returns 0 (version may be "" if the file only names itself, as BoringSSL
 * does), -ENOENT if no such text was found (version is ""), or -errno.
 */
int tls_library__read_version(struct tls_library *lib);

/*
 * Sets @lib->sites_found from the functions defined in .dynsym, then
 * .symtab (for static builds), matching "name@@VERSION" by name.
 * Needs path and type. Returns 0 or -errno (-EINVAL if not an ELF file).
 */
int tls_library__read_functions(struct tls_library *lib);

/* "SSL_write SSL_read ..." for the sites found, with "(N RETs)" after each
 * Go function, cut to fit; returns @buf. */
const char *tls_library__functions_text(const struct tls_library *lib, char *buf, size_t size);

#endif /* TLSPCAP_DISCOVER_H */
