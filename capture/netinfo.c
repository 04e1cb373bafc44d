// SPDX-License-Identifier: MIT
#include "netinfo.h"

#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TCP_STATE_ESTABLISHED 0x01
#define TCP_STATE_LISTEN 0x0A
#define LISTEN_REFRESH_NS 100000000ull
#define MAX_LOCAL_ADDRS 64

struct inode_set {
	uint64_t *slots;  /* open addressing, 0 = empty */
	size_t cap;
	size_t count;
};

struct netinfo {
	struct inode_set established;
	uint8_t listening[65536 / 8];
	uint64_t listening_read_ns;
	struct {
		int family;
		uint8_t addr[16];
	} local[MAX_LOCAL_ADDRS];
	size_t nr_local;
};

static int inode_set__add(struct inode_set *s, uint64_t inode)
{
	size_t i;

	if (!inode)
		return 0;
	if ((s->count + 1) * 2 > s->cap) {
		struct inode_set bigger = { .cap = s->cap ? s->cap * 2 : 1024 };

		bigger.slots = calloc(bigger.cap, sizeof(uint64_t));
		if (!bigger.slots)
			return -ENOMEM;
		for (i = 0; i < s->cap; i++)
			if (s->slots[i])
				inode_set__add(&bigger, s->slots[i]);
		free(s->slots);
		*s = bigger;
	}
	for (i = inode % s->cap; s->slots[i]; i = (i + 1) % s->cap)
		if (s->slots[i] == inode)
			return 0;
	s->slots[i] = inode;
	s->count++;
	return 0;
}

static bool inode_set__has(const struct inode_set *s, uint64_t inode)
{
	size_t i;

	if (!s->cap || !inode)
		return false;
	for (i = inode % s->cap; s->slots[i]; i = (i + 1) % s->cap)
		if (s->slots[i] == inode)
			return true;
	return false;
}

/* Calls @fn for each socket line of /proc/net/tcp or tcp6. */
static int for_each_tcp_socket(const char *path, void (*fn)(void *ctx, unsigned int local_port,
							    unsigned int state, uint64_t inode),
			       void *ctx)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) /* header */
		goto out;
	while (fgets(line, sizeof(line), f)) {
		unsigned int port, state;
		unsigned long long inode;

		/* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %llu",
			   &port, &state, &inode) == 3)
			fn(ctx, port, state, inode);
	}
out:
	fclose(f);
	return 0;
}

static void add_established(void *ctx, unsigned int port, unsigned int state, uint64_t inode)
{
	struct netinfo *n = ctx;

	if (state == TCP_STATE_ESTABLISHED)
		inode_set__add(&n->established, inode);
}

static void add_listening(void *ctx, unsigned int port, unsigned int state, uint64_t inode)
{
	struct netinfo *n = ctx;

	if (state == TCP_STATE_LISTEN && port < 65536)
		n->listening[port / 8] |= 1u << (port % 8);
}

static void read_local_addresses(struct netinfo *n)
{
	struct ifaddrs *list, *ifa;

	if (getifaddrs(&list))
		return;
	for (ifa = list; ifa && n->nr_local < MAX_LOCAL_ADDRS; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET) {
			n->local[n->nr_local].family = AF_INET;
			memcpy(n->local[n->nr_local++].addr,
			       &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr, 4);
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			n->local[n->nr_local].family = AF_INET6;
			memcpy(n->local[n->nr_local++].addr,
			       &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr, 16);
		}
	}
	freeifaddrs(list);
}

struct netinfo *netinfo__new(void)
{
	struct netinfo *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	read_local_addresses(n);
	return n;
}

void netinfo__free(struct netinfo *n)
{
	if (!n)
		return;
	free(n->established.slots);
	free(n);
}

int netinfo__snapshot_established(struct netinfo *n)
{
	int err = for_each_tcp_socket("/proc/net/tcp", add_established, n);

	if (err)
		return err;
	/* No IPv6 on this host is fine. */
	for_each_tcp_socket("/proc/net/tcp6", add_established, n);
	return 0;
}

int netinfo__snapshot_process(struct netinfo *n, pid_t pid)
{
	char path[64], target[64];
	struct dirent *e;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!err && (e = readdir(dir))) {
		ssize_t len = readlinkat(dirfd(dir), e->d_name, target, sizeof(target) - 1);
		uint64_t inode;

		if (len <= 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%" SCNu64 "]", &inode) == 1)
			err = inode_set__add(&n->established, inode);
	}
	closedir(dir);
	return err;
}

bool netinfo__was_established(const struct netinfo *n, uint64_t socket_inode)
{
	return inode_set__has(&n->established, socket_inode);
}

bool netinfo__is_listening(struct netinfo *n, uint16_t port, uint64_t now_ns)
{
	/* A port listened on once may be a client's ephemeral port now: a hit
	 * is as old as the snapshot, so the snapshot is renewed either way. */
	if (now_ns - n->listening_read_ns < LISTEN_REFRESH_NS)
		return n->listening[port / 8] & (1u << (port % 8));
	n->listening_read_ns = now_ns;
	memset(n->listening, 0, sizeof(n->listening));
	for_each_tcp_socket("/proc/net/tcp", add_listening, n);
	for_each_tcp_socket("/proc/net/tcp6", add_listening, n);
	return n->listening[port / 8] & (1u << (port % 8));
}

bool netinfo__is_local_address(const struct netinfo *n, int family, const uint8_t *addr)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };
	size_t i;

	if (family == AF_INET && addr[0] == 127)
		return true;
	if (family == AF_INET6 && !memcmp(addr, v6_loopback, 16))
		return true;
	for (i = 0; i < n->nr_local; i++)
		if (n->local[i].family == family &&
		    !memcmp(n->local[i].addr, addr, family == AF_INET ? 4 : 16))
			return true;
	return false;
}
