/* SPDX-License-Identifier: MIT */
/*
 * Reading /proc/PID/maps. The kernel writes the lines, but the path at the
 * end of each is whatever name a process gave the file it mapped: parsed
 * with every field checked, never trusted to be short or well-formed.
 */
#ifndef TLSPCAP_PROC_MAPS_H
#define TLSPCAP_PROC_MAPS_H

#include <stddef.h>
#include <sys/types.h>

struct proc_maps_entry {
	unsigned long start, end;	/* the mapped address range */
	char perms[5];			/* "r-xp" */
	unsigned long inode;		/* 0 for an anonymous mapping */
	const char *path;		/* in the line; "" if none, may end in " (deleted)" */
};

/* Parses one line (without its '\n'). Returns 0 or -EINVAL. */
int proc_maps__parse_line(const char *line, struct proc_maps_entry *e);

typedef int (*proc_maps_line_fn)(char *line, void *ctx);

/*
 * Calls @fn for every line read from @fd (NUL-terminated, without '\n'),
 * reading in @sz-byte chunks into @buf; a nonzero return of @fn stops the
 * walk and is returned. A line longer than @sz - 1 gives -E2BIG.
 */
int proc_maps__for_each_fd(int fd, char *buf, size_t sz, proc_maps_line_fn fn, void *ctx);

/* The same for /proc/@pid/maps; -errno of open(2) if it cannot be read. */
int proc_maps__for_each(pid_t pid, char *buf, size_t sz, proc_maps_line_fn fn, void *ctx);

/*
 * Calls @fn for the pid of every process /proc lists; a nonzero return of
 * @fn stops the walk and is returned. 0, that return, or -errno.
 */
int proc_maps__for_each_process(int (*fn)(pid_t pid, void *ctx), void *ctx);

#endif /* TLSPCAP_PROC_MAPS_H */
