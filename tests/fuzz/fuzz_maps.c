// SPDX-License-Identifier: MIT
/*
 * Fuzz target: arbitrary text as /proc/PID/maps, read through
 * proc_maps__for_each_fd with a small buffer (lines cross chunk boundaries)
 * and each line parsed by proc_maps__parse_line.
 *
 * Input: one byte choosing the buffer size (2..257 bytes), then the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proc_maps.h"

static int check_line(char *line, void *ctx)
{
	struct proc_maps_entry e;
	size_t len = strlen(line);

	if (proc_maps__parse_line(line, &e))
		return 0;
	/* the path lies in the line; the permissions are a string */
	if (e.path < line || e.path > line + len || strlen(e.perms) >= sizeof(e.perms))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sz;
	char *buf;
	int fd;

	if (!size)
		return 0;
	sz = 2 + data[0];
	buf = malloc(sz);
	fd = memfd_create("maps", MFD_CLOEXEC);
	if (!buf || fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1) ||
	    lseek(fd, 0, SEEK_SET))
		abort();
	proc_maps__for_each_fd(fd, buf, sz, check_line, NULL);
	close(fd);
	free(buf);
	return 0;
}
