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
#include "ensure_mem.h"
#include "probe_point.h"
#include "probes.h"
#include "proc_maps.h"

/* ld.so maps a program's libraries within milliseconds of exec. */
#define LOOK_DELAY_NS 20000000ull
#define MAX_PENDING_LOOKS 1024
/* Reading every process's maps costs milliseconds: at most once a second. */
#define SWEEP_INTERVAL_NS 1000000000ull
/*
 * Sweeps in a row that find no process mapping a copy before it is
 * detached: a child its last process forked while exiting may have had a pid
 * the walk of /proc had passed already.
 */
#define SWEEPS_UNMAPPED 2
#define MAPS_BUF_SZ (64 * 1024)
#define MAX_EXEC_WINDOWS 1024

struct pending_look {
	pid_t pid;
	uint64_t due_ns;
};

/* What the tracker keeps of a library of the set, at the same index. */
struct tracked_library {
	uint32_t id;		/* in the records' library field: never reused */
	bool probed;		/* its probes are attached */
	bool candidate;		/* this sweep: one a new process would not map again */
	bool mapped;		/* this sweep: some process maps it */
	unsigned int unmapped;	/* sweeps in a row that found it a candidate nobody maps */
	struct probe_point points[TLS_LIBRARY_MAX_SITES];
};

struct library_tracker {
	struct probes *probes;      /* NULL for discovery only */
	bool verbose;
	struct library_set set;
	struct disasm *disasm;
	struct tracked_library *libs; /* by index in the set */
	size_t nr_libs, libs_cap;
	/* by id, for as long as the capture runs: a detached copy's connections
	 * are still described after it */
	char **labels;
	size_t nr_labels, labels_cap;
	unsigned int attached;
	struct pending_look pending[MAX_PENDING_LOOKS];
	size_t nr_pending;
	bool sweep_armed;	/* a process exited or executed: look for unmapped copies */
	uint64_t sweep_due_ns;
	char *maps_buf;
	void (*late_probes)(void *ctx, pid_t pid);
	void *late_probes_ctx;
	/* exec -> attached of the programs probed at their exec, ns: all, the first ones kept */
	uint64_t windows[MAX_EXEC_WINDOWS];
	size_t nr_windows;
	uint64_t least_window, most_window;
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
	t->set.disasm = t->disasm;
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
	size_t i;

	if (!t)
		return;
	library_set__clear(&t->set);
	disasm__free(t->disasm);
	for (i = 0; i < t->nr_labels; i++)
		free(t->labels[i]);
	free(t->labels);
	free(t->libs);
	free(t->maps_buf);
	free(t);
}

/* One line per function of library @index: where its probe sits and why. */
static void library_tracker__print_points(const struct library_tracker *t, size_t index,
					  const char *indent, FILE *out)
{
	const struct tls_library *lib = &t->set.libs[index];
	size_t i;

	for (i = 0; i < TLS_LIBRARY_MAX_SITES && lib->type->sites[i].symbol; i++) {
		const struct probe_point *pt = &t->libs[index].points[i];

		if (!(lib->sites_found & (1u << i)))
			continue;
		fprintf(out, "%s%s: %s at offset %#" PRIx64 ", %s: %s\n", indent,
			lib->type->sites[i].symbol, probe_point_kind__name(pt->kind), pt->offset,
			pt->emulated ? "emulated" : "single-stepped", pt->why);
	}
}

/* A label, probe points and an id for library @i of the set, new since the last call. */
static int library_tracker__track(struct library_tracker *t, size_t i)
{
	const struct tls_library *lib = &t->set.libs[i];
	struct tracked_library *tl;
	char *label;
	int err;

	if (t->nr_labels > TLSPCAP_COOKIE_LIBRARY_MASK)
		return -ENOSPC; /* ids are never reused: 16 million copies */
	err = ensure_mem((void **)&t->libs, &t->libs_cap, sizeof(*t->libs), i + 1);
	if (!err)
		err = ensure_mem((void **)&t->labels, &t->labels_cap, sizeof(*t->labels),
				  t->nr_labels + 1);
	if (err)
		return err;
	if (asprintf(&label, "%s%s%s (%s)", lib->name, *lib->version ? " " : "", lib->version,
		     *lib->mapped_path ? lib->mapped_path : lib->path) < 0)
		return -ENOMEM;
	tl = &t->libs[i];
	memset(tl, 0, sizeof(*tl));
	tl->id = t->nr_labels;
	t->labels[t->nr_labels++] = label;
	probe_points__choose(t->disasm, lib, tl->points);
	return 0;
}

static void library_tracker__note_window(struct library_tracker *t, uint64_t ns)
{
	if (!t->nr_windows || ns < t->least_window)
		t->least_window = ns;
	if (ns > t->most_window)
		t->most_window = ns;
	if (t->nr_windows < MAX_EXEC_WINDOWS)
		t->windows[t->nr_windows] = ns;
	t->nr_windows++;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t library_tracker__exec_windows(const struct library_tracker *t, double *least,
				     double *median, double *most)
{
	uint64_t sorted[MAX_EXEC_WINDOWS];
	size_t n = t->nr_windows < MAX_EXEC_WINDOWS ? t->nr_windows : MAX_EXEC_WINDOWS;

	if (!n)
		return 0;
	memcpy(sorted, t->windows, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	*least = t->least_window / 1e6;
	*median = (n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2) / 1e6;
	*most = t->most_window / 1e6;
	return t->nr_windows;
}

/*
 * Labels, probe points and probes for the libraries the set gained since the last call;
 * @exec_ns (0 if none): the exec that brought them, to report how long its
 * program ran unprobed.
 */
static int library_tracker__attach_since(struct library_tracker *t, uint64_t exec_ns)
{
	int ret;

	for (; t->nr_libs < t->set.count; t->nr_libs++) {
		size_t i = t->nr_libs;
		const struct tls_library *lib = &t->set.libs[i];
		const char *label;

		ret = library_tracker__track(t, i);
		if (ret)
			return ret;
		label = t->labels[t->libs[i].id];
		if (!t->probes)
			continue;
		if (lib->refused[0]) {
			fprintf(stderr, "tlspcap: not probing %s: %s\n", label, lib->refused);
			continue;
		}
		ret = probes__attach_library(t->probes, lib, t->libs[i].id, t->libs[i].points);
		if (ret < 0) {
			/* A process gone by now took its files along: not worth a line but with -v. */
			if (ret != -ENOENT || t->verbose || !access(lib->path, F_OK))
				fprintf(stderr, "tlspcap: attaching to %s: %s\n", lib->path, strerror(-ret));
			continue;
		}
		if (exec_ns)
			library_tracker__note_window(t, clock__monotonic_ns() - exec_ns);
		if (t->verbose) {
			if (exec_ns)
				fprintf(stderr, "tlspcap: probing %s: %d functions, %.1f ms after its exec\n",
					label, ret, (clock__monotonic_ns() - exec_ns) / 1e6);
			else
				fprintf(stderr, "tlspcap: probing %s: %d functions\n", label, ret);
			library_tracker__print_points(t, i, "tlspcap:   ", stderr);
		}
		t->libs[i].probed = true;
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
	/* the program it ran before may have been the last to map a copy */
	library_tracker__note_exit(t, exec_ns);
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

void library_tracker__note_exit(struct library_tracker *t, uint64_t now_ns)
{
	if (t->sweep_armed)
		return;
	t->sweep_armed = true;
	t->sweep_due_ns = now_ns + SWEEP_INTERVAL_NS;
}

struct maps_sweep {
	struct library_tracker *t;
	size_t unseen;		/* candidates no process was seen mapping yet */
};

/*
 * Marks the candidates a maps line shows mapped. By inode alone: the device
 * maps shows is not always the one stat gives (btrfs subvolumes), and a
 * match too many only keeps a copy probed.
 */
static int maps_sweep__line(char *line, void *ctx)
{
	struct maps_sweep *sw = ctx;
	struct proc_maps_entry e;
	size_t i;

	if (!strchr(line, '/') || proc_maps__parse_line(line, &e) || !e.inode)
		return 0;
	for (i = 0; i < sw->t->nr_libs; i++) {
		struct tracked_library *tl = &sw->t->libs[i];

		if (tl->candidate && !tl->mapped && sw->t->set.libs[i].ino == e.inode) {
			tl->mapped = true;
			sw->unseen--;
		}
	}
	return sw->unseen ? 0 : 1;
}

/* One process's maps, for maps_sweep__walk. */
static int maps_sweep__process(pid_t pid, void *ctx)
{
	struct maps_sweep *sw = ctx;
	int err = proc_maps__for_each(pid, sw->t->maps_buf, MAPS_BUF_SZ, maps_sweep__line, sw);

	/* Gone meanwhile. One whose maps we may not read (another user
	 * namespace's init) is skipped as discovery skips it. */
	if (err == -ENOENT || err == -ESRCH || err == -EACCES || err == -EPERM)
		return 0;
	return err == -E2BIG ? -EAGAIN : err; /* 1: every candidate seen */
}

/*
 * Walks every process's maps for the candidates. Returns 0 when each was
 * seen or all maps were read, -EAGAIN when one could not be parsed (nothing
 * may be detached then), or -errno.
 */
static int maps_sweep__walk(struct maps_sweep *sw)
{
	struct library_tracker *t = sw->t;
	int err;

	if (!t->maps_buf && !(t->maps_buf = malloc(MAPS_BUF_SZ)))
		return -ENOMEM;
	err = proc_maps__for_each_process(maps_sweep__process, sw);
	return err == 1 ? 0 : err;
}

static int library_tracker__detach(struct library_tracker *t, size_t i)
{
	struct tracked_library *tl = &t->libs[i];
	int ret;

	if (tl->probed) {
		ret = probes__detach_library(t->probes, tl->id);
		if (ret < 0)
			return ret;
		t->attached--;
	}
	if (t->verbose)
		fprintf(stderr, "tlspcap: %s %s: no process maps it\n",
			tl->probed ? "detached" : "forgetting", t->labels[tl->id]);
	/* mapped again later, the file is found again by the look at that process */
	library_set__remove(&t->set, i);
	t->libs[i] = t->libs[--t->nr_libs];
	return 0;
}

/*
 * Detaches the copies of libraries that no process maps any more and no new
 * process would map again (see tls_library__remappable): their links, fds
 * and entries would otherwise pile up as copies come and go. The maps
 * decide, not mmap events: a forked child maps its parent's libraries
 * without one.
 */
static int library_tracker__sweep(struct library_tracker *t)
{
	struct maps_sweep sw = { t, 0 };
	size_t i;
	int err;

	t->sweep_armed = false;
	for (i = 0; i < t->nr_libs; i++) {
		t->libs[i].candidate = !tls_library__remappable(&t->set.libs[i]);
		t->libs[i].mapped = false;
		sw.unseen += t->libs[i].candidate;
	}
	if (!sw.unseen)
		return 0;
	err = maps_sweep__walk(&sw);
	if (err == -EAGAIN)
		return 0; /* unsure: the next exit sweeps again */
	if (err)
		return err;
	/* downwards: the last entry takes a detached one's index */
	for (i = t->nr_libs; i-- > 0;) {
		struct tracked_library *tl = &t->libs[i];

		if (!tl->candidate || tl->mapped) {
			tl->unmapped = 0;
			continue;
		}
		if (++tl->unmapped < SWEEPS_UNMAPPED) {
			t->sweep_armed = true;
			continue;
		}
		err = library_tracker__detach(t, i);
		if (err)
			return err;
	}
	return 0;
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
	if (t->sweep_armed && t->sweep_due_ns <= now_ns) {
		err = library_tracker__sweep(t);
		if (t->sweep_armed)
			t->sweep_due_ns = now_ns + SWEEP_INTERVAL_NS;
		return err;
	}
	return 0;
}

int library_tracker__ms_until_due(const struct library_tracker *t, uint64_t now_ns)
{
	uint64_t soonest = t->sweep_armed ? t->sweep_due_ns : UINT64_MAX;
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

	for (i = 0; !err && i < t->nr_libs; i++) {
		fprintf(out, "%sprobe points in %s:\n", i ? "" : "\n", t->labels[t->libs[i].id]);
		library_tracker__print_points(t, i, "  ", out);
	}
	return err;
}
