// SPDX-License-Identifier: MIT
#include "library_tracker.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "discover.h"
#include "disasm.h"
#include "probe_point.h"
#include "probes.h"

/* ld.so maps a program's libraries within milliseconds of exec. */
#define LOOK_DELAY_NS 20000000ull
#define MAX_PENDING_LOOKS 1024
#define LABEL_MAX (PATH_MAX + 160)

struct pending_look {
	pid_t pid;
	uint64_t due_ns;
};

struct library_tracker {
	struct probes *probes;      /* NULL for discovery only */
	bool verbose;
	struct library_set set;
	struct disasm *disasm;
	char (*labels)[LABEL_MAX];  /* by library index */
	struct probe_point (*points)[TLS_LIBRARY_MAX_SITES]; /* by library index */
	size_t nr_labels;
	unsigned int attached;
	struct pending_look pending[MAX_PENDING_LOOKS];
	size_t nr_pending;
	void (*late_probes)(void *ctx, pid_t pid);
	void *late_probes_ctx;
};

struct library_tracker *library_tracker__new(struct probes *probes, bool verbose)
{
	struct library_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->probes = probes;
	t->verbose = verbose;
	t->set.verbose = verbose;
	t->disasm = disasm__new();
	if (!t->disasm) {
		free(t);
		return NULL;
	}
	return t;
}

void library_tracker__on_late_probes(struct library_tracker *t, void (*fn)(void *ctx, pid_t pid),
				     void *ctx)
{
	t->late_probes = fn;
	t->late_probes_ctx = ctx;
}

/* @pid brought the libraries attached since @attached_before: tell the hook. */
static void library_tracker__probed_late(struct library_tracker *t, pid_t pid,
					 unsigned int attached_before)
{
	if (t->late_probes && t->attached > attached_before)
		t->late_probes(t->late_probes_ctx, pid);
}

void library_tracker__free(struct library_tracker *t)
{
	if (!t)
		return;
	library_set__clear(&t->set);
	disasm__free(t->disasm);
	free(t->labels);
	free(t->points);
	free(t);
}

/* One line per function of library @index: where its probe sits and why. */
static void library_tracker__print_points(const struct library_tracker *t, size_t index,
					  const char *indent, FILE *out)
{
	const struct tls_library *lib = &t->set.libs[index];
	size_t i;

	for (i = 0; i < TLS_LIBRARY_MAX_SITES && lib->type->sites[i].symbol; i++) {
		const struct probe_point *pt = &t->points[index][i];

		if (!(lib->sites_found & (1u << i)))
			continue;
		fprintf(out, "%s%s: %s at offset %#" PRIx64 ", %s: %s\n", indent,
			lib->type->sites[i].symbol, probe_point_kind__name(pt->kind), pt->offset,
			pt->emulated ? "emulated" : "single-stepped", pt->why);
	}
}

/*
 * Labels, probe points and probes for the libraries the set gained since the last call;
 * @exec_ns (0 if none): the exec that brought them, to report how long its
 * program ran unprobed.
 */
static int library_tracker__attach_since(struct library_tracker *t, uint64_t exec_ns)
{
	size_t i, first = t->nr_labels;
	int ret;

	if (t->set.count > t->nr_labels) {
		char (*labels)[LABEL_MAX] = realloc(t->labels, t->set.count * sizeof(*labels));
		struct probe_point (*points)[TLS_LIBRARY_MAX_SITES];

		if (!labels)
			return -ENOMEM;
		t->labels = labels;
		points = realloc(t->points, t->set.count * sizeof(*points));
		if (!points)
			return -ENOMEM;
		t->points = points;
		t->nr_labels = t->set.count;
	}
	for (i = first; i < t->set.count; i++) {
		const struct tls_library *lib = &t->set.libs[i];

		snprintf(t->labels[i], LABEL_MAX, "%s%s%s (%s)", lib->name, *lib->version ? " " : "",
			 lib->version, *lib->mapped_path ? lib->mapped_path : lib->path);
		probe_points__choose(t->disasm, lib, t->points[i]);
		if (!t->probes)
			continue;
		if (lib->refused[0]) {
			fprintf(stderr, "tlspcap: not probing %s: %s\n", t->labels[i], lib->refused);
			continue;
		}
		ret = probes__attach_library(t->probes, lib, (uint32_t)i, t->points[i]);
		if (ret < 0) {
			/* A process gone by now took its files along: not worth a line but with -v. */
			if (ret != -ENOENT || t->verbose || !access(lib->path, F_OK))
				fprintf(stderr, "tlspcap: attaching to %s: %s\n", lib->path, strerror(-ret));
			continue;
		}
		if (t->verbose) {
			if (exec_ns)
				fprintf(stderr, "tlspcap: probing %s: %d functions, %.1f ms after its exec\n",
					t->labels[i], ret, (clock__monotonic_ns() - exec_ns) / 1e6);
			else
				fprintf(stderr, "tlspcap: probing %s: %d functions\n", t->labels[i], ret);
			library_tracker__print_points(t, i, "tlspcap:   ", stderr);
		}
		t->attached++;
	}
	return 0;
}

static int library_tracker__attach_new(struct library_tracker *t)
{
	return library_tracker__attach_since(t, 0);
}

int library_tracker__scan(struct library_tracker *t, const pid_t *pids, size_t nr_pids)
{
	int err = library_set__scan(&t->set, pids, nr_pids, getpid(), NULL);

	if (err) {
		fprintf(stderr, "tlspcap: scanning for TLS libraries: %s\n", strerror(-err));
		return err;
	}
	return library_tracker__attach_new(t);
}

int library_tracker__add_path(struct library_tracker *t, const char *path)
{
	int err = library_set__add_path(&t->set, path);

	if (err == -ENOENT)
		fprintf(stderr, "tlspcap: --lib %s: no TLS functions found in it\n", path);
	else if (err)
		fprintf(stderr, "tlspcap: --lib %s: %s\n", path, strerror(-err));
	return err ? err : library_tracker__attach_new(t);
}

int library_tracker__note_program(struct library_tracker *t, pid_t pid, uint64_t exec_ns)
{
	unsigned int attached_before = t->attached;
	int err = library_set__scan_exe(&t->set, pid, NULL);

	if (err && err != -EACCES && err != -EPERM)
		return err;
	library_tracker__note_exec(t, pid, exec_ns);
	err = library_tracker__attach_since(t, exec_ns);
	if (!err)
		library_tracker__probed_late(t, pid, attached_before);
	return err;
}

int library_tracker__add_program(struct library_tracker *t, const char *path)
{
	int err = library_set__add_path(&t->set, path);

	if (err == -ENOENT || err == -EACCES || err == -EISDIR)
		return 0; /* no TLS of its own, or nothing we can read: execvp will tell */
	return err ? err : library_tracker__attach_new(t);
}

void library_tracker__note_exec(struct library_tracker *t, pid_t pid, uint64_t now_ns)
{
	size_t i;

	for (i = 0; i < t->nr_pending; i++)
		if (t->pending[i].pid == pid)
			return; /* one look covers a burst of mappings */
	if (t->nr_pending == MAX_PENDING_LOOKS)
		return; /* a fork bomb of execs: the next events retry */
	t->pending[t->nr_pending].pid = pid;
	t->pending[t->nr_pending].due_ns = now_ns + LOOK_DELAY_NS;
	t->nr_pending++;
}

int library_tracker__run_due(struct library_tracker *t, uint64_t now_ns)
{
	size_t i = 0;
	int err;

	while (i < t->nr_pending) {
		pid_t pid = t->pending[i].pid;
		unsigned int attached_before = t->attached;

		if (t->pending[i].due_ns > now_ns) {
			i++;
			continue;
		}
		t->pending[i] = t->pending[--t->nr_pending];
		err = library_set__scan_pid(&t->set, pid, NULL);
		/* The process may be gone already: nothing to probe then. */
		if (err && err != -ENOENT && err != -ESRCH && err != -EACCES)
			return err;
		/* Attached per process: each knows which process ran unprobed. */
		err = library_tracker__attach_new(t);
		if (err)
			return err;
		library_tracker__probed_late(t, pid, attached_before);
	}
	return 0;
}

int library_tracker__ms_until_due(const struct library_tracker *t, uint64_t now_ns)
{
	uint64_t soonest = UINT64_MAX;
	size_t i;

	for (i = 0; i < t->nr_pending; i++)
		if (t->pending[i].due_ns < soonest)
			soonest = t->pending[i].due_ns;
	if (soonest == UINT64_MAX)
		return -1;
	return soonest <= now_ns ? 0 : (int)((soonest - now_ns + 999999) / 1000000);
}

const char *library_tracker__label(const struct library_tracker *t, uint32_t index)
{
	return index < t->nr_labels ? t->labels[index] : "unknown library";
}

unsigned int library_tracker__attached(const struct library_tracker *t)
{
	return t->attached;
}

unsigned int library_tracker__processes(const struct library_tracker *t)
{
	return t->set.nr_processes;
}

int library_tracker__print(const struct library_tracker *t, FILE *out)
{
	int err = library_set__print(&t->set, out);
	size_t i;

	for (i = 0; !err && i < t->set.count; i++) {
		fprintf(out, "%sprobe points in %s:\n", i ? "" : "\n", t->labels[i]);
		library_tracker__print_points(t, i, "  ", out);
	}
	return err;
}
