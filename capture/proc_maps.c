// SPDX-License-Identifier: MIT
#include "proc_maps.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int proc_maps__parse_line(const char *line, struct proc_maps_entry *e)
{
	int off = 0;

	memset(e, 0, sizeof(*e));
	/* start-end perms offset dev inode [path] */
	if (sscanf(line, "%lx-%lx %4s %*s %*s %lu %n", &e->start, &e->end, e->perms, &e->inode,
		   &off) < 4 || !off)
		return -EINVAL;
	e->path = line + off;
	return 0;
}

int proc_maps__for_each_fd(int fd, char *buf, size_t sz, proc_maps_line_fn fn, void *ctx)
{
	size_t len = 0;
	ssize_t n;
	int err;

	if (sz < 2)
		return -EINVAL;
	while ((n = read(fd, buf + len, sz - 1 - len)) > 0) {
		char *line = buf, *nl;

		len += n;
		while ((nl = memchr(line, '\n', buf + len - line))) {
			*nl = '\0';
			err = fn(line, ctx);
			if (err)
				return err;
			line = nl + 1;
		}
		len -= line - buf;
		if (len == sz - 1)
			return -E2BIG;
		memmove(buf, line, len);
	}
	return n < 0 ? -errno : 0;
}

int proc_maps__for_each(pid_t pid, char *buf, size_t sz, proc_maps_line_fn fn, void *ctx)
{
	char path[64];
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = proc_maps__for_each_fd(fd, buf, sz, fn, ctx);
	close(fd);
	return err;
}

int proc_maps__for_each_process(int (*fn)(pid_t pid, void *ctx), void *ctx)
{
	struct dirent *de;
	DIR *dir = opendir("/proc");
	int err = 0;

	if (!dir)
		return -errno;
	while (!err) {
		char *end;
		long pid;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			err = -errno;
			break;
		}
		pid = strtol(de->d_name, &end, 10);
		if (!*end && end != de->d_name && pid > 0 && pid <= INT_MAX)
			err = fn((pid_t)pid, ctx);
	}
	closedir(dir);
	return err;
}
