/* SPDX-License-Identifier: MIT */
/*
 * -Z USER: once the capture runs, tlspcap gives up root as tcpdump does,
 * keeping only the capabilities that probing libraries found later needs.
 */
#ifndef TLSPCAP_PRIVILEGES_H
#define TLSPCAP_PRIVILEGES_H

#include <sys/types.h>

/* Becomes @uid/@gid (no supplementary groups) with only those capabilities
 * and an empty bounding set.  Returns 0 or -errno (-EPERM if not root). */
int privileges__drop(uid_t uid, gid_t gid);

#endif /* TLSPCAP_PRIVILEGES_H */
