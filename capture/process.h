/* SPDX-License-Identifier: MIT */
/*
 * What the stream comments say about a process, read from /proc once per
 * process and cached until it exits.
 */
#ifndef TLSPCAP_PROCESS_H
#define TLSPCAP_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

#define PROCESS_ARGS_MAX 512

struct process_info {
	pid_t pid;
	pid_t ppid;
	uid_t uid;
	bool gone;                    /* /proc/PID vanished before it was read */
	char comm[17];
	char args[PROCESS_ARGS_MAX];  /* command line, arguments joined by spaces */
	char root[64];                /* "/" or what /proc/PID/root points to */
};

struct process_cache;

struct process_cache *process_cache__new(void);
void process_cache__free(struct process_cache *cache);
/* Reads /proc/PID on first use; @comm_hint names a process already gone. */
const struct process_info *process_cache__get(struct process_cache *cache, pid_t pid,
					      const char *comm_hint);
void process_cache__forget(struct process_cache *cache, pid_t pid);

#endif /* TLSPCAP_PROCESS_H */
