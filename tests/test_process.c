// SPDX-License-Identifier: MIT
/*
 * Tests for capture/process.c against the real /proc: this test's own
 * process, children it starts (python3 with chosen arguments and uid), and
 * pids that cannot exist (above PID_MAX_LIMIT).  Only process.h is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "process.h"

/* PID_MAX_LIMIT on 64-bit is 4194304 (2^22): no process ever has a pid above it. */
#define NO_SUCH_PID 5000000

static char expected_self_args[PROCESS_ARGS_MAX];

static int setup(void **state)
{
	*state = process_cache__new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	process_cache__free(*state);
	return 0;
}

static void own_comm(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/comm", "r");

	assert_non_null(f);
	assert_non_null(fgets(buf, size, f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* ---- children ----------------------------------------------------------- */

#define SLEEPER_CODE "import time; time.sleep(30)"

static bool has_cmdline(pid_t pid)
{
	char path[64], byte;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, &byte, 1);
	close(fd);
	return n == 1;
}

/*
 * Starts python3 -c SLEEPER_CODE @arg as @uid (or unchanged if (uid_t)-1)
 * and waits until the exec is done: /proc/PID/comm says "python3".
 */
static pid_t spawn_sleeper(const char *arg, uid_t uid)
{
	struct timespec pause = { 0, 1000000 };
	char path[64], comm[32];
	pid_t pid = fork();
	int i;

	assert_true(pid >= 0);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (uid != (uid_t)-1 && setresuid(uid, uid, uid))
			_exit(126);
		execl("/usr/bin/python3", "python3", "-c", SLEEPER_CODE, arg, (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	for (i = 0; i < 5000; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, comm, sizeof(comm) - 1);

		if (fd >= 0)
			close(fd);
		if (n > 0) {
			comm[n] = '\0';
			/* the exec is done once /proc/PID/comm no longer names us and the
			 * new stack holds argv: exec renames the task before it sets the
			 * argument area up, and a read in between finds an empty cmdline */
			if (!strcmp(comm, "python3\n") && has_cmdline(pid))
				return pid;
		}
		nanosleep(&pause, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fail_msg("child %d never became python3", pid);
	return -1;
}

static void reap(pid_t pid)
{
	int status;

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
}

/* ---- tests -------------------------------------------------------------- */

static void test_self(void **state)
{
	struct process_cache *cache = *state;
	const struct process_info *p;
	char comm[32];

	own_comm(comm, sizeof(comm));
	/* a hint is for processes already gone: a live one ignores it */
	p = process_cache__get(cache, getpid(), "hintname");
	assert_non_null(p);
	assert_int_equal(p->pid, getpid());
	assert_false(p->gone);
	assert_string_equal(p->comm, comm);
	/* the kernel's comm: the executable's name cut to 15 characters */
	assert_int_equal(strlen(p->comm), strnlen(program_invocation_short_name, 15));
	assert_memory_equal(p->comm, program_invocation_short_name, strlen(p->comm));
	assert_non_null(strstr(p->args, program_invocation_short_name));
	assert_string_equal(p->args, expected_self_args);
	assert_int_equal(p->uid, getuid());
	assert_int_equal(p->ppid, getppid());
	assert_string_equal(p->root, "/");
	/* asked again: the same answer */
	p = process_cache__get(cache, getpid(), NULL);
	assert_non_null(p);
	assert_int_equal(p->pid, getpid());
	assert_string_equal(p->comm, comm);
	assert_string_equal(p->args, expected_self_args);
}

static void test_gone(void **state)
{
	struct process_cache *cache = *state;
	const struct process_info *p;

	p = process_cache__get(cache, NO_SUCH_PID, "ghostcomm");
	assert_non_null(p);
	assert_int_equal(p->pid, NO_SUCH_PID);
	assert_true(p->gone);
	assert_string_equal(p->comm, "ghostcomm");
	assert_string_equal(p->args, "");
	assert_string_equal(p->root, "");
	assert_int_equal(p->ppid, 0);
	assert_int_equal(p->uid, 0);
	/* cached: a second hint does not replace the first answer */
	p = process_cache__get(cache, NO_SUCH_PID, "otherhint");
	assert_string_equal(p->comm, "ghostcomm");
	/* no hint: "?" */
	p = process_cache__get(cache, NO_SUCH_PID + 1, NULL);
	assert_true(p->gone);
	assert_string_equal(p->comm, "?");
	/* a hint longer than a comm is cut to 16 characters, NUL-terminated */
	p = process_cache__get(cache, NO_SUCH_PID + 2, "abcdefghijklmnopqrstuvwxyz");
	assert_true(p->gone);
	assert_string_equal(p->comm, "abcdefghijklmnop");
	/* pids no kernel hands out */
	p = process_cache__get(cache, -1, "neg");
	assert_true(p->gone);
	assert_string_equal(p->comm, "neg");
	p = process_cache__get(cache, 0, "zero");
	assert_true(p->gone);
	assert_string_equal(p->comm, "zero");
}

/* A child with chosen arguments and uid: args joined by spaces, uid and ppid from status. */
static void test_child(void **state)
{
	struct process_cache *cache = *state;
	/* root (as the capture runs) can pick another uid for it */
	uid_t uid = getuid() ? getuid() : 65534;
	const struct process_info *p;
	pid_t pid = spawn_sleeper("two words", uid);

	p = process_cache__get(cache, pid, "hint");
	assert_false(p->gone);
	assert_string_equal(p->comm, "python3");
	assert_string_equal(p->args, "python3 -c " SLEEPER_CODE " two words");
	assert_int_equal(p->uid, uid);
	assert_int_equal(p->ppid, getpid());
	assert_string_equal(p->root, "/");
	reap(pid);
	/* gone now, but cached until forgotten (the exit record does that) */
	p = process_cache__get(cache, pid, "hint");
	assert_false(p->gone);
	assert_string_equal(p->comm, "python3");
	process_cache__forget(cache, pid);
	p = process_cache__get(cache, pid, "hint");
	assert_true(p->gone);
	assert_string_equal(p->comm, "hint");
	assert_string_equal(p->args, "");
}

/* A command line longer than PROCESS_ARGS_MAX is cut, still NUL-terminated. */
static void test_long_args(void **state)
{
	struct process_cache *cache = *state;
	char long_arg[2000];
	const char *prefix = "python3 -c " SLEEPER_CODE " ";
	const struct process_info *p;
	pid_t pid;
	size_t i;

	for (i = 0; i < sizeof(long_arg) - 1; i++)
		long_arg[i] = 'a' + i % 26;
	long_arg[sizeof(long_arg) - 1] = '\0';
	pid = spawn_sleeper(long_arg, (uid_t)-1);
	p = process_cache__get(cache, pid, NULL);
	assert_int_equal(strlen(p->args), PROCESS_ARGS_MAX - 1);
	assert_memory_equal(p->args, prefix, strlen(prefix));
	assert_memory_equal(p->args + strlen(prefix), long_arg, PROCESS_ARGS_MAX - 1 - strlen(prefix));
	reap(pid);
}

/* The comm changes (as at exec): the cache shows it only after refresh. */
static void test_refresh(void **state)
{
	struct process_cache *cache = *state;
	const struct process_info *p;
	char before[32], after[32];

	own_comm(before, sizeof(before));
	p = process_cache__get(cache, getpid(), NULL);
	assert_string_equal(p->comm, before);
	assert_int_equal(prctl(PR_SET_NAME, "tp-renamed", 0, 0, 0), 0);
	own_comm(after, sizeof(after));
	assert_string_equal(after, "tp-renamed");
	p = process_cache__get(cache, getpid(), NULL);
	assert_string_equal(p->comm, before);
	process_cache__refresh(cache, getpid());
	p = process_cache__get(cache, getpid(), NULL);
	assert_string_equal(p->comm, "tp-renamed");
	assert_false(p->gone);
	assert_string_equal(p->args, expected_self_args);
	assert_int_equal(p->ppid, getppid());
	/* forget: the next get reads /proc again */
	assert_int_equal(prctl(PR_SET_NAME, before, 0, 0, 0), 0);
	p = process_cache__get(cache, getpid(), NULL);
	assert_string_equal(p->comm, "tp-renamed");
	process_cache__forget(cache, getpid());
	p = process_cache__get(cache, getpid(), NULL);
	assert_string_equal(p->comm, before);
	/* refresh of a pid never asked for adds it */
	process_cache__refresh(cache, NO_SUCH_PID + 5);
	p = process_cache__get(cache, NO_SUCH_PID + 5, "late");
	assert_true(p->gone);
}

static void test_forget(void **state)
{
	struct process_cache *cache = *state;
	const struct process_info *p;

	/* unknown pids, and twice */
	process_cache__forget(cache, NO_SUCH_PID);
	process_cache__forget(cache, getpid());
	p = process_cache__get(cache, NO_SUCH_PID, "first");
	assert_string_equal(p->comm, "first");
	p = process_cache__get(cache, NO_SUCH_PID + 1024, "neighbour"); /* same bucket, if hashed by pid */
	process_cache__forget(cache, NO_SUCH_PID);
	process_cache__forget(cache, NO_SUCH_PID);
	p = process_cache__get(cache, NO_SUCH_PID, "second");
	assert_string_equal(p->comm, "second");
	/* the neighbour is untouched */
	p = process_cache__get(cache, NO_SUCH_PID + 1024, "other");
	assert_string_equal(p->comm, "neighbour");
}

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

/* Insert PROCESS_CACHE_MAX + 10 processes; then keep going: the heap stays flat. */
static void test_eviction(void **state)
{
	struct process_cache *cache = *state;
	const size_t n = PROCESS_CACHE_MAX + 10;
	const struct process_info *p;
	size_t i, heap_full, heap_after;
	char hint[17];

	for (i = 0; i < n; i++) {
		snprintf(hint, sizeof(hint), "old%zu", i);
		p = process_cache__get(cache, (pid_t)(NO_SUCH_PID + i), hint);
		assert_non_null(p);
		assert_string_equal(p->comm, hint);
	}
	/* the newest PROCESS_CACHE_MAX are cached: the old answer stays */
	for (i = n - 1; i >= 10; i--) {
		snprintf(hint, sizeof(hint), "old%zu", i);
		p = process_cache__get(cache, (pid_t)(NO_SUCH_PID + i), "new");
		assert_string_equal(p->comm, hint);
	}
	/* the first 10 were evicted: read again, the new hint shows */
	for (i = 0; i < 10; i++) {
		p = process_cache__get(cache, (pid_t)(NO_SUCH_PID + i), "new");
		assert_true(p->gone);
		assert_string_equal(p->comm, "new");
	}
	/* ... and evicted the next oldest in turn */
	p = process_cache__get(cache, (pid_t)(NO_SUCH_PID + 10), "newer");
	assert_string_equal(p->comm, "newer");

	/* Ten times as many more: at most a few entries' worth of heap growth. */
	heap_full = heap_in_use();
	for (i = 0; i < 10 * (size_t)PROCESS_CACHE_MAX; i++) {
		p = process_cache__get(cache, (pid_t)(NO_SUCH_PID + 100000 + i), "more");
		assert_non_null(p);
	}
	heap_after = heap_in_use();
	if (heap_after > heap_full + 16 * sizeof(struct process_info))
		fail_msg("heap grew from %zu to %zu bytes over %d evictions", heap_full, heap_after,
			 10 * PROCESS_CACHE_MAX);
	/* the last one is still there, the first of that run is not */
	p = process_cache__get(cache, (pid_t)(NO_SUCH_PID + 100000 + 10 * PROCESS_CACHE_MAX - 1), "x");
	assert_string_equal(p->comm, "more");
	p = process_cache__get(cache, (pid_t)(NO_SUCH_PID + 100000), "x");
	assert_string_equal(p->comm, "x");
}

static void test_free_null(void **state)
{
	struct process_cache *cache = process_cache__new();

	process_cache__free(NULL);
	assert_non_null(cache);
	process_cache__free(cache); /* empty */
	cache = process_cache__new();
	assert_non_null(cache);
	assert_non_null(process_cache__get(cache, getpid(), NULL));
	assert_non_null(process_cache__get(cache, NO_SUCH_PID, "x"));
	process_cache__free(cache); /* with entries */
}

/*
 * An exec record read after its process already exited: refresh caches it
 * as gone with comm "?", and the comm hint of the socket record, given to
 * the next get, is ignored: the stream comment says "Cmd: ?".
 */
static void test_refresh_gone_keeps_hint(void **state)
{
	struct process_cache *cache = *state;
	const struct process_info *p;

	process_cache__refresh(cache, NO_SUCH_PID);
	p = process_cache__get(cache, NO_SUCH_PID, "curl");
	assert_true(p->gone);
	assert_string_equal(p->comm, "curl");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
		cmocka_unit_test(test_free_null),
		cmocka_unit_test_setup_teardown(test_refresh_gone_keeps_hint, setup, teardown),
	};
	size_t len = 0;
	int i;

	/* the command line as /proc shows it: arguments joined by spaces */
	for (i = 0; i < argc && len < sizeof(expected_self_args) - 1; i++)
		len += snprintf(expected_self_args + len, sizeof(expected_self_args) - len, "%s%s",
				i ? " " : "", argv[i]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
