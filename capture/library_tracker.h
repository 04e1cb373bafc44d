/* SPDX-License-Identifier: MIT */
/*
 * The libraries being probed: found by discovery, attached by probes, and
 * kept current while the capture runs.  A process that executes or maps
 * code is looked at again shortly after (its loader is still mapping), so a
 * library that appears later is probed within a fraction of a second.
 */
#ifndef TLSPCAP_LIBRARY_TRACKER_H
#define TLSPCAP_LIBRARY_TRACKER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct probes;
struct library_tracker;

/* @probes may be NULL: discovery only (--list). */
struct library_tracker *library_tracker__new(struct probes *probes, bool verbose);
/*
 * @fn sees each running process that libraries were just probed for: the
 * calls it made before then are not in the records, so what it has open
 * now is joined mid-connection.
 */
void library_tracker__on_late_probes(struct library_tracker *t, void (*fn)(void *ctx, pid_t pid),
				     void *ctx);
void library_tracker__free(struct library_tracker *t);
/* Scans the host (or @pids) and attaches to what it finds; returns 0 or -errno. */
int library_tracker__scan(struct library_tracker *t, const pid_t *pids, size_t nr_pids);
/* --lib PATH; returns 0 or -errno after printing why. */
int library_tracker__add_path(struct library_tracker *t, const char *path);
/*
 * @pid executed a program at @exec_ns (CLOCK_MONOTONIC): its executable is
 * probed now if it carries its own TLS code (Go), its libraries at the later
 * look that this schedules. Returns 0 or -errno.
 */
int library_tracker__note_program(struct library_tracker *t, pid_t pid, uint64_t exec_ns);
/* The program -- COMMAND runs, probed before it starts if it carries its own
 * TLS code; a program without any is no error. Returns 0 or -errno. */
int library_tracker__add_program(struct library_tracker *t, const char *path);
/* A process executed or mapped code at @now_ns (CLOCK_MONOTONIC): look at it soon. */
void library_tracker__note_exec(struct library_tracker *t, pid_t pid, uint64_t now_ns);
/*
 * A process exited (or executed another program) at @now_ns: a second later
 * every process's maps are read, and the probes of library copies that none
 * maps any more, and that no new process would map again, are detached.
 */
void library_tracker__note_exit(struct library_tracker *t, uint64_t now_ns);
/* Looks at the processes whose time has come, and sweeps when due; returns 0 or -errno. */
int library_tracker__run_due(struct library_tracker *t, uint64_t now_ns);
/* Milliseconds until the next look is due, or -1 when none is pending. */
int library_tracker__ms_until_due(const struct library_tracker *t, uint64_t now_ns);
/* "OpenSSL 3.0.19 27 Jan 2026 (/usr/lib/.../libssl.so.3)" for a record's library field. */
const char *library_tracker__label(const struct library_tracker *t, uint32_t index);
/* Libraries probed now (detached ones no longer count). */
unsigned int library_tracker__attached(const struct library_tracker *t);
/*
 * The programs probed at their exec (their TLS code linked in: Go, static
 * OpenSSL): how many, and the least, median and largest time from the exec
 * to their probes being attached, in ms (the median of the first 1024).
 * Returns the count; 0 leaves the others untouched.
 */
size_t library_tracker__exec_windows(const struct library_tracker *t, double *least,
				     double *median, double *most);
unsigned int library_tracker__processes(const struct library_tracker *t);
int library_tracker__print(const struct library_tracker *t, FILE *out);

#endif /* TLSPCAP_LIBRARY_TRACKER_H */
