/* SPDX-License-Identifier: MIT */
/*
 * What the stream comments say about a process, read from /proc once per
 * process (at exec when possible: short-lived ones are gone by the time
 * their streams are written) and cached until it exits.  The cache holds the
 * most recent PROCESS_CACHE_MAX processes; older ones are read again.
 */
#ifndef TLSPCAP_PROCESS_H
#define TLSPCAP_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

#define PROCESS_ARGS_MAX 512
#define PROCESS_CACHE_MAX 4096

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
/* Reads /proc/PID again (the process executed a new program). */
void process_cache__refresh(struct process_cache *cache, pid_t pid);
void process_cache__forget(struct process_cache *cache, pid_t pid);

#endif /* TLSPCAP_PROCESS_H */
