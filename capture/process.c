// SPDX-License-Identifier: MIT
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROCESS_BUCKETS 1024

struct process_entry {
	struct process_info info;
	struct process_entry *next;               /* in its bucket */
	struct process_entry *older, *newer;      /* by insertion, for eviction */
};

struct process_cache {
	struct process_entry *buckets[PROCESS_BUCKETS];
	struct process_entry *oldest, *newest;
	size_t count;
};

struct process_cache *process_cache__new(void)
{
	return calloc(1, sizeof(struct process_cache));
}

void process_cache__free(struct process_cache *cache)
{
	struct process_entry *e, *newer;

	if (!cache)
		return;
	for (e = cache->oldest; e; e = newer) {
		newer = e->newer;
		free(e);
	}
	free(cache);
}

static ssize_t read_proc_file(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

static void read_status(struct process_info *info)
{
	char buf[4096], *line, *save = NULL;

	if (read_proc_file(info->pid, "status", buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "PPid:", 5))
			info->ppid = (pid_t)strtol(line + 5, NULL, 10);
		else if (!strncmp(line, "Uid:", 4))
			info->uid = (uid_t)strtoul(line + 4, NULL, 10);
	}
}

static void read_info(struct process_info *info, const char *comm_hint)
{
	char buf[PROCESS_ARGS_MAX];
	ssize_t n, i;

	n = read_proc_file(info->pid, "comm", info->comm, sizeof(info->comm));
	if (n <= 0) {
		info->gone = true;
		snprintf(info->comm, sizeof(info->comm), "%s", comm_hint ? comm_hint : "?");
		return;
	}
	info->comm[strcspn(info->comm, "\n")] = '\0';
	n = read_proc_file(info->pid, "cmdline", buf, sizeof(buf));
	/* Arguments are NUL-separated; the last one ends with NUL too. */
	for (i = 0; i < n; i++)
		if (buf[i] == '\0' || buf[i] == '\n')
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n > 0 ? n : 0] = '\0';
	snprintf(info->args, sizeof(info->args), "%s", buf);
	read_status(info);
	snprintf(buf, sizeof(buf), "/proc/%d/root", info->pid);
	n = readlink(buf, info->root, sizeof(info->root) - 1);
	info->root[n > 0 ? n : 0] = '\0';
}

static void process_cache__remove(struct process_cache *cache, struct process_entry *e)
{
	struct process_entry **link = &cache->buckets[(unsigned int)e->info.pid % PROCESS_BUCKETS];

	for (; *link; link = &(*link)->next) {
		if (*link == e) {
			*link = e->next;
			break;
		}
	}
	if (e->older)
		e->older->newer = e->newer;
	else
		cache->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		cache->newest = e->older;
	cache->count--;
	free(e);
}

static struct process_entry *process_cache__find(struct process_cache *cache, pid_t pid)
{
	struct process_entry *e = cache->buckets[(unsigned int)pid % PROCESS_BUCKETS];

	for (; e; e = e->next)
		if (e->info.pid == pid)
			return e;
	return NULL;
}

const struct process_info *process_cache__get(struct process_cache *cache, pid_t pid,
					      const char *comm_hint)
{
	struct process_entry **bucket = &cache->buckets[(unsigned int)pid % PROCESS_BUCKETS];
	struct process_entry *e = process_cache__find(cache, pid);

	if (e)
		return &e->info;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->info.pid = pid;
	read_info(&e->info, comm_hint);
	e->next = *bucket;
	*bucket = e;
	e->older = cache->newest;
	if (cache->newest)
		cache->newest->newer = e;
	else
		cache->oldest = e;
	cache->newest = e;
	if (++cache->count > PROCESS_CACHE_MAX)
		process_cache__remove(cache, cache->oldest);
	return &e->info;
}

void process_cache__forget(struct process_cache *cache, pid_t pid)
{
	struct process_entry *e = process_cache__find(cache, pid);

	if (e)
		process_cache__remove(cache, e);
}

void process_cache__refresh(struct process_cache *cache, pid_t pid)
{
	const struct process_info *info;

	process_cache__forget(cache, pid);
	info = process_cache__get(cache, pid, NULL);
	/* Already gone: let a later reader name it from what its records say. */
	if (info && info->gone)
		process_cache__forget(cache, pid);
}
