/* SPDX-License-Identifier: MIT */
/*
 * The BPF side as user space sees it: open, configure (rodata), load, attach
 * the syscall hooks, then attach uprobes library by library.
 */
#ifndef TLSPCAP_PROBES_H
#define TLSPCAP_PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tlspcap.h"

struct tls_library;
struct probe_point;

struct probes_config {
	pid_t self;
	uint64_t snaplen;          /* 0 = all */
	const char *comm;          /* NULL = any */
	bool filter_pids;          /* only pids added with probes__trace_pid and their children */
	uint64_t ring_bytes;       /* power of two */
};

struct probes;

struct probes *probes__open(const struct probes_config *cfg);
void probes__free(struct probes *p);
int probes__trace_pid(struct probes *p, pid_t pid);
/* Attaches every probe site @lib has at its point in @points (see
 * probe_point.h); @index comes back in the records' library field.  If the
 * kernel refuses a point, all go back to their classic points (@points says
 * so).  Returns the number of functions attached (> 0) or -errno. */
int probes__attach_library(struct probes *p, const struct tls_library *lib, uint32_t index,
			   struct probe_point *points);
/* Releases the links attached for @index; returns how many or -errno. */
int probes__detach_library(struct probes *p, uint32_t index);
/* One end of a connection as the probes know it. */
struct probes_view {
	uint32_t tgid;
	uint64_t ssl;      /* the TLS context */
	uint64_t conn_id;
};

/*
 * Both ends of a local connection are traced from its start (their offsets
 * agree): @receiver's probes may leave out the received bytes that
 * @sender's records already carry.  Returns 0 or -errno.
 */
int probes__pair_views(struct probes *p, const struct probes_view *receiver,
		       const struct probes_view *sender);
int probes__events_fd(const struct probes *p);
/* The ring of connection and process events (struct tlspcap_record headers). */
int probes__control_fd(const struct probes *p);
/* Sums the per-CPU counters. */
int probes__read_counters(const struct probes *p, uint64_t counters[TLSPCAP_COUNTER_COUNT]);

#endif /* TLSPCAP_PROBES_H */
