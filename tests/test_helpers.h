/* SPDX-License-Identifier: MIT */
/*
 * Test-only helpers shared by the cmocka tests: child processes, scratch directories.
 * Header-only; include it after <cmocka.h>.
 */
#ifndef TLSPCAP_TEST_HELPERS_H
#define TLSPCAP_TEST_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* A pid no process has now. */
static inline pid_t absent_pid(void)
{
	pid_t pid;

	for (pid = 4194000; pid > 1000; pid--)
		if (kill(pid, 0) && errno == ESRCH)
			return pid;
	fail_msg("no free pid found");
	return -1;
}

/*
 * Starts @argv (execv of @path, then execvp of argv[0] when that fails) with
 * its stdout on a pipe, after running @setup(@arg) in the child when @setup is
 * given; the child never outlives the test run.  The child must print "ready"
 * once set up.  The first line it prints (up to 15 bytes) is left in @line
 * (16 bytes, or NULL).  Returns the pid once the child is ready; otherwise the
 * child is killed and reaped and the result is 0, or -1 when @setup failed.
 */
static inline pid_t spawn_until_ready(const char *path, char *const argv[],
				      int (*setup)(const void *), const void *arg, char *line)
{
	char buf[16] = "";
	int fds[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (!line)
		line = buf;
	memset(line, 0, sizeof(buf));
	if (pipe2(fds, O_CLOEXEC))
		return 0;
	pid = fork();
	if (pid < 0)
		return 0;
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setup && setup(arg))
			_exit(77);
		dup2(fds[1], STDOUT_FILENO);
		execv(path, argv);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	/* the whole line: closing early would hand the child an EPIPE */
	while (len < sizeof(buf) - 1 && !memchr(line, '\n', len) &&
	       (n = read(fds[0], line + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fds[0]);
	if (!strcmp(line, "ready\n"))
		return pid;
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 77)
		return -1;
	return 0;
}

/*
 * A scratch directory for a test group: test_tmpdir_make() fills @dir, a
 * mkdtemp() template, in place; test_tmpdir_remove() deletes it and all in it.
 */
static inline int test_tmpdir_make(char *dir)
{
	return mkdtemp(dir) ? 0 : -1;
}

static inline int test_tmpdir_remove_entry(const char *path, const struct stat *st, int flag,
					   struct FTW *ftw)
{
	return remove(path);
}

static inline int test_tmpdir_remove(const char *dir)
{
	return nftw(dir, test_tmpdir_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

#endif /* TLSPCAP_TEST_HELPERS_H */
