// SPDX-License-Identifier: MIT
/*
 * Tests for capture/library_tracker.c in discovery-only mode (probes NULL,
 * no BPF): the scan of the real host, --lib paths, and the debounced look
 * at processes that executed or mapped code, with a real child that loads a
 * copy of the system's libssl after the first scan.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "library_tracker.h"
#include "test_helpers.h"

#define SYS_LIBSSL "/usr/lib/x86_64-linux-gnu/libssl.so.3"
#define MS 1000000ull
/* library_tracker.c looks LOOK_DELAY after the exec: ld.so is still mapping before */
#define LOOK_DELAY_MS 20
/* and sweeps the maps for unmapped copies a second after an exit */
#define SWEEP_MS 1000
/* PID_MAX_LIMIT on 64-bit is 4194304 (2^22): no process ever has a pid above it. */
#define NO_SUCH_PID 5000000
/* labels are looked up by index; more libraries than this on one host is not expected */
#define LABELS_SEARCHED 4096

struct ctx {
	struct library_tracker *t;
	char dir[64];
	char copy[96];   /* a copy of SYS_LIBSSL: another inode, same contents */
	char copy2[96];
	pid_t child;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* @from's bytes into @to, opened with @flags (a new file, or an old one rewritten in place) */
static int write_file_from(const char *from, const char *to, int flags)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	struct stat st;
	off_t off = 0;
	int err = -1;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CLOEXEC | flags, 0755);
	if (out >= 0 && !fstat(in, &st)) {
		while (off < st.st_size && sendfile(out, in, &off, st.st_size - off) > 0)
			;
		err = off == st.st_size ? 0 : -1;
	}
	if (out >= 0 && close(out))
		err = -1;
	close(in);
	return err;
}

static int copy_file(const char *from, const char *to)
{
	return write_file_from(from, to, O_CREAT | O_EXCL);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	strcpy(c->dir, "/tmp/test_library_tracker.XXXXXX");
	if (!mkdtemp(c->dir))
		return -1;
	snprintf(c->copy, sizeof(c->copy), "%s/libssl.so.3", c->dir);
	snprintf(c->copy2, sizeof(c->copy2), "%s/libssl-other.so.3", c->dir);
	c->t = library_tracker__new(NULL, false);
	if (!c->t)
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	if (c->child > 0) {
		kill(c->child, SIGKILL);
		waitpid(c->child, NULL, 0);
	}
	library_tracker__free(c->t);
	unlink(c->copy);
	unlink(c->copy2);
	rmdir(c->dir);
	free(c);
	return 0;
}

/* The index of the first label containing @needle, or -1. */
static long label_index(const struct library_tracker *t, const char *needle)
{
	long i;

	for (i = 0; i < LABELS_SEARCHED; i++)
		if (strstr(library_tracker__label(t, (uint32_t)i), needle))
			return i;
	return -1;
}

static void assert_label(const struct library_tracker *t, const char *path)
{
	char want[PATH_MAX + 4];
	long i;

	snprintf(want, sizeof(want), "(%s)", path);
	i = label_index(t, want);
	if (i < 0)
		fail_msg("no label ends with %s", want);
	/* "OpenSSL 3.0.x <date> (path)" */
	if (strncmp(library_tracker__label(t, (uint32_t)i), "OpenSSL ", 8))
		fail_msg("label %ld is '%s'", i, library_tracker__label(t, (uint32_t)i));
}

/*
 * python3 -c CODE @lib: loads @lib with ctypes, prints "ready", sleeps.
 * Returns its pid once it is ready.
 */
static pid_t spawn_loader(const char *lib)
{
	static const char code[] = "import ctypes,sys,time; ctypes.CDLL(sys.argv[1]); "
				   "print('ready', flush=True); time.sleep(5)";
	char *argv[] = { "python3", "-c", (char *)code, (char *)lib, NULL };
	char line[16];
	pid_t pid = spawn_until_ready("/usr/bin/python3", argv, NULL, NULL, line);

	if (pid <= 0)
		fail_msg("python3 loading %s said '%s'", lib, line);
	return pid;
}

/*
 * A python3 that loads @lib, forks and exits: its child, which maps @lib
 * without ever having mapped it itself, writes its pid to @pid_file and
 * sleeps. Returns the child's pid once the parent is gone.
 */
static pid_t spawn_forked_loader(const char *lib, const char *pid_file)
{
	static const char code[] =
		"import ctypes,os,sys,time; ctypes.CDLL(sys.argv[1]); parent = os.getpid()\n"
		"if os.fork(): os._exit(0)\n"
		"open(sys.argv[2], 'w').write(str(os.getpid()))\n"
		"while os.getppid() == parent: time.sleep(0.01)\n"
		"print('ready', flush=True); time.sleep(5)";
	char *argv[] = { "python3", "-c", (char *)code, (char *)lib, (char *)pid_file, NULL };
	char line[16];
	pid_t parent = spawn_until_ready("/usr/bin/python3", argv, NULL, NULL, line);
	long child = 0;
	FILE *f;

	if (parent <= 0)
		fail_msg("python3 loading %s and forking said '%s'", lib, line);
	waitpid(parent, NULL, 0);
	f = fopen(pid_file, "r");
	if (!f || fscanf(f, "%ld", &child) != 1 || child <= 0)
		fail_msg("no pid in %s", pid_file);
	fclose(f);
	return (pid_t)child;
}

/* Kills @pid and waits until its memory is gone (2 s at most: it may not be our child). */
static void kill_and_wait(pid_t pid)
{
	char path[64], c;
	int i, fd;

	kill(pid, SIGKILL);
	if (waitpid(pid, NULL, 0) == pid)
		return;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	for (i = 0; i < 200; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		/* a zombie has no maps */
		if (read(fd, &c, 1) <= 0) {
			close(fd);
			return;
		}
		close(fd);
		usleep(10000);
	}
	fail_msg("process %d still maps its files 2 s after SIGKILL", pid);
}

/* Whether --list's table has a row for @path. */
static bool listed(const struct library_tracker *t, const char *path)
{
	char *text = NULL, want[PATH_MAX + 2];
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	bool found;

	assert_non_null(out);
	assert_int_equal(library_tracker__print(t, out), 0);
	assert_int_equal(fclose(out), 0);
	snprintf(want, sizeof(want), "\n%s\n", path);
	found = strstr(text, want) != NULL;
	free(text);
	return found;
}

/* Two sweeps, a second apart, after an exit at @now; returns the time after them. */
static uint64_t sweep_twice(struct library_tracker *t, uint64_t now)
{
	library_tracker__note_exit(t, now);
	assert_int_equal(library_tracker__ms_until_due(t, now), SWEEP_MS);
	assert_int_equal(library_tracker__run_due(t, now + SWEEP_MS * MS - 1), 0);
	assert_int_equal(library_tracker__run_due(t, now + SWEEP_MS * MS), 0);
	assert_int_equal(library_tracker__run_due(t, now + 2 * SWEEP_MS * MS), 0);
	return now + 2 * SWEEP_MS * MS;
}

/* ---- tests -------------------------------------------------------------- */

static void test_scan_host(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(label_index(c->t, "OpenSSL"), -1);
	assert_int_equal(library_tracker__scan(c->t, NULL, 0), 0);
	assert_label(c->t, SYS_LIBSSL);
	/* discovery only: nothing attached */
	assert_int_equal(library_tracker__attached(c->t), 0);
	/* a second scan finds nothing new and keeps the labels by index */
	{
		long i = label_index(c->t, "(" SYS_LIBSSL ")");

		assert_int_equal(library_tracker__scan(c->t, NULL, 0), 0);
		assert_int_equal(label_index(c->t, "(" SYS_LIBSSL ")"), i);
	}
}

static void test_add_path(void **state)
{
	struct ctx *c = *state;
	long before;

	/* no TLS functions in it (a message on stderr says so) */
	assert_int_equal(library_tracker__add_path(c->t, "/bin/true"), -ENOENT);
	assert_int_equal(library_tracker__add_path(c->t, "/nonexistent/libssl.so.3"), -ENOENT);
	assert_int_equal(library_tracker__add_path(c->t, c->dir), -EISDIR);
	assert_int_equal(label_index(c->t, "OpenSSL"), -1);
	/* a library by path, whatever its name */
	assert_int_equal(copy_file(SYS_LIBSSL, c->copy2), 0);
	assert_int_equal(library_tracker__add_path(c->t, c->copy2), 0);
	assert_label(c->t, c->copy2);
	before = label_index(c->t, c->copy2);
	/* again: already in the set, no second label */
	assert_int_equal(library_tracker__add_path(c->t, c->copy2), 0);
	assert_int_equal(label_index(c->t, c->copy2), before);
	assert_int_equal(label_index(c->t, "OpenSSL") , before);
}

static void test_debounce(void **state)
{
	struct ctx *c = *state;
	uint64_t now = now_ns();
	pid_t pid = NO_SUCH_PID;

	assert_int_equal(library_tracker__ms_until_due(c->t, now), -1);
	/* nothing pending: run_due does nothing, successfully */
	assert_int_equal(library_tracker__run_due(c->t, now), 0);
	library_tracker__note_exec(c->t, pid, now);
	assert_int_equal(library_tracker__ms_until_due(c->t, now), LOOK_DELAY_MS);
	/* rounded up: a poll timeout must not wake before the look is due */
	assert_int_equal(library_tracker__ms_until_due(c->t, now + LOOK_DELAY_MS * MS - MS / 2), 1);
	assert_int_equal(library_tracker__ms_until_due(c->t, now + LOOK_DELAY_MS * MS), 0);
	assert_int_equal(library_tracker__ms_until_due(c->t, now + 10 * LOOK_DELAY_MS * MS), 0);
	/* a second note for the same pid (a burst of mappings) adds no second look */
	library_tracker__note_exec(c->t, pid, now + 10 * MS);
	assert_int_equal(library_tracker__ms_until_due(c->t, now), LOOK_DELAY_MS);
	/* not due yet: still pending */
	assert_int_equal(library_tracker__run_due(c->t, now + LOOK_DELAY_MS * MS - 1), 0);
	assert_int_equal(library_tracker__ms_until_due(c->t, now), LOOK_DELAY_MS);
	/* due: the look at a pid that does not exist succeeds and is done */
	assert_int_equal(library_tracker__run_due(c->t, now + LOOK_DELAY_MS * MS), 0);
	assert_int_equal(library_tracker__ms_until_due(c->t, now + LOOK_DELAY_MS * MS), -1);
	/* had the second note made a second look, it would be due at now + 30 ms */
	assert_int_equal(library_tracker__ms_until_due(c->t, now + 100 * MS), -1);

	/* two pids: the sooner decides, each is looked at once */
	library_tracker__note_exec(c->t, pid, now + 5 * MS);
	library_tracker__note_exec(c->t, pid + 1, now);
	assert_int_equal(library_tracker__ms_until_due(c->t, now), LOOK_DELAY_MS);
	assert_int_equal(library_tracker__run_due(c->t, now + LOOK_DELAY_MS * MS), 0);
	assert_int_equal(library_tracker__ms_until_due(c->t, now + LOOK_DELAY_MS * MS), 5);
	assert_int_equal(library_tracker__run_due(c->t, now + (LOOK_DELAY_MS + 5) * MS), 0);
	assert_int_equal(library_tracker__ms_until_due(c->t, now), -1);
}

/* A storm of execs: however many are noted, a run clears them, no error. */
static void test_many_pending(void **state)
{
	struct ctx *c = *state;
	uint64_t now = now_ns();
	int i;

	for (i = 0; i < 3000; i++)
		library_tracker__note_exec(c->t, NO_SUCH_PID + i, now);
	assert_int_equal(library_tracker__ms_until_due(c->t, now), LOOK_DELAY_MS);
	assert_int_equal(library_tracker__run_due(c->t, now + LOOK_DELAY_MS * MS), 0);
	assert_int_equal(library_tracker__ms_until_due(c->t, now), -1);
	/* room again afterwards */
	library_tracker__note_exec(c->t, NO_SUCH_PID, now + 100 * MS);
	assert_int_equal(library_tracker__ms_until_due(c->t, now + 100 * MS), LOOK_DELAY_MS);
}

/* A process that loads a TLS library after the scan is found by its exec note. */
static void test_exec_finds_new_library(void **state)
{
	struct ctx *c = *state;
	uint64_t now;

	assert_int_equal(library_tracker__scan(c->t, NULL, 0), 0);
	assert_int_equal(label_index(c->t, c->dir), -1);
	assert_int_equal(copy_file(SYS_LIBSSL, c->copy), 0);
	c->child = spawn_loader(c->copy);
	now = now_ns();
	library_tracker__note_exec(c->t, c->child, now);
	/* not due: the child is not looked at yet */
	assert_int_equal(library_tracker__run_due(c->t, now), 0);
	assert_int_equal(label_index(c->t, c->dir), -1);
	assert_int_equal(library_tracker__ms_until_due(c->t, now), LOOK_DELAY_MS);
	assert_int_equal(library_tracker__run_due(c->t, now + LOOK_DELAY_MS * MS), 0);
	assert_int_equal(library_tracker__ms_until_due(c->t, now), -1);
	assert_label(c->t, c->copy);
	assert_true(library_tracker__processes(c->t) >= 1);
	assert_int_equal(library_tracker__attached(c->t), 0);
	/* looked at again (it maps more): no second label */
	library_tracker__note_exec(c->t, c->child, now + 100 * MS);
	assert_int_equal(library_tracker__run_due(c->t, now + 200 * MS), 0);
	{
		long first = label_index(c->t, c->copy), i, n = 0;

		for (i = first; i < LABELS_SEARCHED; i++)
			n += strstr(library_tracker__label(c->t, (uint32_t)i), c->copy) != NULL;
		assert_int_equal(n, 1);
	}
	/* it exits before its look: nothing found, no error */
	kill(c->child, SIGKILL);
	waitpid(c->child, NULL, 0);
	library_tracker__note_exec(c->t, c->child, now + 300 * MS);
	c->child = 0;
	assert_int_equal(library_tracker__run_due(c->t, now + 400 * MS), 0);
	assert_int_equal(library_tracker__ms_until_due(c->t, now + 400 * MS), -1);
}

/*
 * A copy found in a process's maps outside the library directories is
 * forgotten (detached when probed) once no process maps it: after two
 * sweeps, not one; the system's libraries and --lib files stay; its label
 * stays for the connections that used it; mapped again, it is found again.
 */
static void test_sweep_detaches_unmapped_copy(void **state)
{
	struct ctx *c = *state;
	uint64_t now = now_ns();
	long first;

	assert_int_equal(library_tracker__scan(c->t, NULL, 0), 0);
	assert_int_equal(copy_file(SYS_LIBSSL, c->copy), 0);
	assert_int_equal(copy_file(SYS_LIBSSL, c->copy2), 0);
	assert_int_equal(library_tracker__add_path(c->t, c->copy2), 0);
	c->child = spawn_loader(c->copy);
	library_tracker__note_exec(c->t, c->child, now);
	assert_int_equal(library_tracker__run_due(c->t, now + LOOK_DELAY_MS * MS), 0);
	assert_true(listed(c->t, c->copy));
	first = label_index(c->t, c->copy);
	assert_true(first >= 0);

	/* mapped: kept, however often it is swept */
	now = sweep_twice(c->t, now);
	now = sweep_twice(c->t, now);
	assert_true(listed(c->t, c->copy));
	/* nobody sweeps without an exit */
	assert_int_equal(library_tracker__ms_until_due(c->t, now), -1);

	kill_and_wait(c->child);
	c->child = 0;
	library_tracker__note_exit(c->t, now);
	assert_int_equal(library_tracker__run_due(c->t, now + SWEEP_MS * MS), 0);
	/* one sweep is not enough, and a second is due by itself */
	assert_true(listed(c->t, c->copy));
	assert_int_equal(library_tracker__ms_until_due(c->t, now + SWEEP_MS * MS), SWEEP_MS);
	assert_int_equal(library_tracker__run_due(c->t, now + 2 * SWEEP_MS * MS), 0);
	now += 2 * SWEEP_MS * MS;
	assert_false(listed(c->t, c->copy));
	assert_int_equal(library_tracker__ms_until_due(c->t, now), -1);
	assert_true(listed(c->t, SYS_LIBSSL));
	assert_true(listed(c->t, c->copy2));
	assert_int_equal(label_index(c->t, c->copy), first);

	/* mapped again: found again, under a new label */
	c->child = spawn_loader(c->copy);
	library_tracker__note_exec(c->t, c->child, now);
	assert_int_equal(library_tracker__run_due(c->t, now + LOOK_DELAY_MS * MS), 0);
	assert_true(listed(c->t, c->copy));
	{
		long i, n = 0;

		for (i = 0; i < LABELS_SEARCHED; i++)
			n += strstr(library_tracker__label(c->t, (uint32_t)i), c->copy) != NULL;
		assert_int_equal(n, 2);
	}
}

/*
 * A forked child maps its parent's copy without an mmap of its own: the
 * sweep reads the maps, so the copy stays while the child lives. A --lib
 * file that is deleted goes once unmapped.
 */
static void test_sweep_forked_child_and_deleted_file(void **state)
{
	struct ctx *c = *state;
	char pid_file[128];
	uint64_t now = now_ns();

	snprintf(pid_file, sizeof(pid_file), "%s/child.pid", c->dir);
	assert_int_equal(copy_file(SYS_LIBSSL, c->copy), 0);
	assert_int_equal(copy_file(SYS_LIBSSL, c->copy2), 0);
	c->child = spawn_forked_loader(c->copy, pid_file);
	/* found in the child's maps alone: its parent is gone */
	assert_int_equal(library_tracker__scan(c->t, &c->child, 1), 0);
	assert_true(listed(c->t, c->copy));
	assert_int_equal(library_tracker__add_path(c->t, c->copy2), 0);
	now = sweep_twice(c->t, now);
	now = sweep_twice(c->t, now);
	assert_true(listed(c->t, c->copy));
	assert_true(listed(c->t, c->copy2));

	/* deleted, and no process maps it: gone; the child's copy stays */
	assert_int_equal(unlink(c->copy2), 0);
	now = sweep_twice(c->t, now);
	assert_false(listed(c->t, c->copy2));
	assert_true(listed(c->t, c->copy));

	kill_and_wait(c->child);
	c->child = 0;
	unlink(pid_file);
	sweep_twice(c->t, now);
	assert_false(listed(c->t, c->copy));
}

/* Writes @from over @to in place: the same inode, a new mtime. */
/*
 * A library its owner cuts short while a process maps it: the scan skips it
 * (a reason with -v) and goes on; written whole again, it is found.
 */
static void test_truncated_then_rewritten(void **state)
{
	struct ctx *c = *state;
	struct stat st;

	assert_int_equal(copy_file(SYS_LIBSSL, c->copy), 0);
	c->child = spawn_loader(c->copy);
	assert_int_equal(stat(c->copy, &st), 0);
	assert_int_equal(truncate(c->copy, st.st_size / 3), 0);
	assert_int_equal(library_tracker__scan(c->t, &c->child, 1), 0);
	assert_false(listed(c->t, c->copy));
	assert_true(listed(c->t, SYS_LIBSSL));
	/* remembered as malformed until it changes: the same answer, no second read */
	assert_int_equal(library_tracker__scan(c->t, &c->child, 1), 0);
	assert_false(listed(c->t, c->copy));
	/* whole again (a later mtime: 10 ms are plenty for the file system's clock) */
	usleep(10000);
	assert_int_equal(write_file_from(SYS_LIBSSL, c->copy, O_TRUNC), 0);
	assert_int_equal(library_tracker__scan(c->t, &c->child, 1), 0);
	assert_true(listed(c->t, c->copy));
}

static void test_free_null(void **state)
{
	library_tracker__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debounce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_finds_new_library, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_detaches_unmapped_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_forked_child_and_deleted_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncated_then_rewritten, setup, teardown),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
