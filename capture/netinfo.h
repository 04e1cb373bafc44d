/* SPDX-License-Identifier: MIT */
/*
 * Facts about this host's sockets that the records do not carry: which
 * ports listen (a connection's role), which connections were open before
 * the probes that see them were attached (joined mid-connection: calls made
 * before then are not in the records), which addresses are local
 * (both ends may be traced).  Read from /proc/net and getifaddrs(), never
 * on the per-call path: once per new connection at most.
 */
#ifndef TLSPCAP_NETINFO_H
#define TLSPCAP_NETINFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct netinfo;

struct netinfo *netinfo__new(void);
void netinfo__free(struct netinfo *n);
/* Remembers the inodes of the TCP connections established now. */
int netinfo__snapshot_established(struct netinfo *n);
/* Remembers the inodes of the sockets process @pid has open now (probes
 * attached for it just now missed the calls it made on them before). */
int netinfo__snapshot_process(struct netinfo *n, pid_t pid);
bool netinfo__was_established(const struct netinfo *n, uint64_t socket_inode);
/* A TCP socket listens on @port (any address); re-reads /proc/net at most every 100 ms. */
bool netinfo__is_listening(struct netinfo *n, uint16_t port, uint64_t now_ns);
/* Loopback or an address of one of this host's interfaces. */
bool netinfo__is_local_address(const struct netinfo *n, int family, const uint8_t *addr);

#endif /* TLSPCAP_NETINFO_H */
