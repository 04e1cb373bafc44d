// SPDX-License-Identifier: MIT
/* Tests for capture/discover.c against the system's real OpenSSL and NSS. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "discover.h"

#define SYS_LIBDIR "/usr/lib/x86_64-linux-gnu"
#define SYS_LIBSSL SYS_LIBDIR "/libssl.so.3"
#define SYS_LIBCRYPTO SYS_LIBDIR "/libcrypto.so.3"
#define NSS_LIBSSL SYS_LIBDIR "/libssl3.so"

#define DATA_FUNCTIONS \
	(TLS_FN_SSL_WRITE | TLS_FN_SSL_READ | TLS_FN_SSL_WRITE_EX | TLS_FN_SSL_READ_EX)

static pid_t children[4];
static size_t nr_children;

/*
 * Starts python3 -c @code, which must print "ready" once set up, after running
 * @setup(@arg) in the child. Returns the pid, 0 on failure, -1 if @setup failed.
 */
static pid_t spawn_python_after(const char *code, int (*setup)(const void *), const void *arg)
{
	char line[16] = "";
	int fds[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return 0;
	pid = fork();
	if (pid < 0)
		return 0;
	if (!pid) {
		/* never outlive the test run */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setup && setup(arg))
			_exit(77);
		dup2(fds[1], STDOUT_FILENO);
		/* Debian's python3 (system OpenSSL), not some python3 on PATH */
		execl("/usr/bin/python3", "python3", "-c", code, (char *)NULL);
		execlp("python3", "python3", "-c", code, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	/* the whole line: closing early would hand the child an EPIPE */
	while (len < sizeof(line) - 1 && !memchr(line, '\n', len) &&
	       (n = read(fds[0], line + len, sizeof(line) - 1 - len)) > 0)
		len += n;
	close(fds[0]);
	if (!strcmp(line, "ready\n")) {
		children[nr_children++] = pid;
		return pid;
	}
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 77)
		return -1;
	return 0;
}

static pid_t spawn_python(const char *code)
{
	return spawn_python_after(code, NULL, NULL);
}

static int kill_children(void **state)
{
	while (nr_children) {
		pid_t pid = children[--nr_children];

		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return 0;
}

static const struct tls_library *find_ino(const struct library_set *set, ino_t ino, dev_t dev)
{
	size_t i;

	for (i = 0; i < set->count; i++)
		if (set->libs[i].ino == ino && set->libs[i].dev == dev)
			return &set->libs[i];
	return NULL;
}

/* Only the library directories: the one pid given is also the skipped one. */
static int scan_dirs_only(struct library_set *set, size_t *added)
{
	pid_t self = getpid();

	return library_set__scan(set, &self, 1, self, added);
}

static void test_function_names(void **state)
{
	assert_string_equal(tls_function__name(TLS_FN_SSL_WRITE), "SSL_write");
	assert_string_equal(tls_function__name(TLS_FN_SSL_READ), "SSL_read");
	assert_string_equal(tls_function__name(TLS_FN_SSL_WRITE_EX), "SSL_write_ex");
	assert_string_equal(tls_function__name(TLS_FN_SSL_READ_EX), "SSL_read_ex");
	assert_string_equal(tls_function__name(TLS_FN_SSL_SET_FD), "SSL_set_fd");
	assert_string_equal(tls_function__name(TLS_FN_SSL_SET_RFD), "SSL_set_rfd");
	assert_string_equal(tls_function__name(TLS_FN_SSL_SET_WFD), "SSL_set_wfd");
	assert_null(tls_function__name(0));
	assert_null(tls_function__name(TLS_FN_SSL_WRITE | TLS_FN_SSL_READ));
	assert_null(tls_function__name(1 << 7));
}

static void test_clear_accepts_null_and_zeroed(void **state)
{
	struct library_set set = {};

	library_set__clear(NULL);
	library_set__clear(&set);
	library_set__clear(&set);
	assert_null(set.libs);
	assert_int_equal(set.count, 0);
}

static void test_system_libssl_from_dirs(void **state)
{
	struct library_set set = {};
	const struct tls_library *lib;
	struct stat st;
	size_t i, added = 99;

	assert_int_equal(stat(SYS_LIBSSL, &st), 0);
	assert_int_equal(scan_dirs_only(&set, &added), 0);
	assert_int_equal(added, set.count);
	assert_int_equal(set.nr_processes, 0);

	lib = find_ino(&set, st.st_ino, st.st_dev);
	assert_non_null(lib);
	/* libssl.so and /lib/... name the same inode: one entry, real path */
	assert_string_equal(lib->path, SYS_LIBSSL);
	assert_string_equal(lib->mapped_path, "");
	assert_int_equal(lib->kind, TLS_LIBRARY_OPENSSL);
	assert_string_equal(lib->name, "OpenSSL");
	assert_int_equal(lib->functions & (DATA_FUNCTIONS | TLS_FN_SSL_SET_FD),
			 DATA_FUNCTIONS | TLS_FN_SSL_SET_FD);
	assert_int_equal(lib->nr_processes, 0);
	assert_true(strncmp(lib->version, "3.", 2) == 0);
	for (i = 0; i < set.count; i++) {
		const char *base = strrchr(set.libs[i].path, '/') + 1;

		assert_string_not_equal(base, "libssl.so");
		assert_string_not_equal(base, "libssl3.so");
	}
	library_set__clear(&set);
	assert_null(set.libs);
	assert_int_equal(set.count, 0);
}

static void test_version_matches_python(void **state)
{
	struct tls_library lib = { .kind = TLS_LIBRARY_OPENSSL };
	char expect[80] = "", *nl;
	FILE *f;

	f = popen("python3 -c 'import ssl; print(ssl.OPENSSL_VERSION)'", "r");
	assert_non_null(f);
	assert_non_null(fgets(expect, sizeof(expect), f));
	pclose(f);
	nl = strchr(expect, '\n');
	if (nl)
		*nl = '\0';
	assert_true(strncmp(expect, "OpenSSL ", 8) == 0);

	/* libssl itself has no version text: it comes from libcrypto beside it */
	snprintf(lib.path, sizeof(lib.path), "%s", SYS_LIBSSL);
	assert_int_equal(tls_library__read_version(&lib), 0);
	assert_string_equal(lib.version, expect + 8);

	snprintf(lib.path, sizeof(lib.path), "%s", "/etc/hostname");
	assert_int_equal(tls_library__read_version(&lib), -EINVAL);
	assert_string_equal(lib.version, "");
}

static void test_read_functions(void **state)
{
	struct tls_library lib = {};

	snprintf(lib.path, sizeof(lib.path), "%s", SYS_LIBSSL);
	assert_int_equal(tls_library__read_functions(&lib), 0);
	assert_int_equal(lib.functions, DATA_FUNCTIONS | TLS_FN_SSL_SET_FD | TLS_FN_SSL_SET_RFD |
					 TLS_FN_SSL_SET_WFD);

	/* libcrypto imports nothing of these and defines none */
	snprintf(lib.path, sizeof(lib.path), "%s", SYS_LIBCRYPTO);
	assert_int_equal(tls_library__read_functions(&lib), 0);
	assert_int_equal(lib.functions, 0);

	snprintf(lib.path, sizeof(lib.path), "%s", "/nonexistent/libssl.so.3");
	assert_int_equal(tls_library__read_functions(&lib), -ENOENT);
	snprintf(lib.path, sizeof(lib.path), "%s", "/etc/hostname");
	assert_int_equal(tls_library__read_functions(&lib), -EINVAL);
}

static void test_nss_libssl3_rejected(void **state)
{
	struct tls_library lib = {};
	struct library_set set = {};
	struct stat st;
	size_t added;
	pid_t child;

	if (stat(NSS_LIBSSL, &st))
		skip();
	snprintf(lib.path, sizeof(lib.path), "%s", NSS_LIBSSL);
	assert_int_equal(tls_library__read_functions(&lib), 0);
	assert_int_equal(lib.functions & (TLS_FN_SSL_WRITE | TLS_FN_SSL_READ), 0);

	/* mapped by a process, its name matches "libssl": the symbols decide */
	child = spawn_python("import ctypes; ctypes.CDLL('" NSS_LIBSSL "'); "
			     "print('ready', flush=True); import time; time.sleep(30)");
	assert_true(child > 0);
	assert_int_equal(library_set__scan(&set, &child, 1, getpid(), &added), 0);
	assert_null(find_ino(&set, st.st_ino, st.st_dev));
	assert_int_equal(set.nr_processes, 0);
	library_set__clear(&set);
}

static void test_rescan_adds_nothing(void **state)
{
	struct library_set set = {};
	size_t added = 0, count;

	assert_int_equal(library_set__scan(&set, NULL, 0, getpid(), &added), 0);
	assert_true(added >= 1);
	assert_int_equal(added, set.count);
	count = set.count;
	assert_int_equal(library_set__scan(&set, NULL, 0, getpid(), &added), 0);
	assert_int_equal(added, 0);
	assert_int_equal(set.count, count);
	assert_int_equal(library_set__scan(&set, NULL, 0, getpid(), NULL), 0);
	assert_int_equal(set.count, count);
	library_set__clear(&set);
}

static void test_process_counted(void **state)
{
	struct library_set set = {};
	const struct tls_library *lib;
	struct stat st;
	pid_t child;
	size_t i;

	assert_int_equal(stat(SYS_LIBSSL, &st), 0);
	child = spawn_python("import ssl, time; print('ready', flush=True); time.sleep(30)");
	assert_true(child > 0);

	assert_int_equal(library_set__scan(&set, &child, 1, getpid(), NULL), 0);
	assert_int_equal(set.nr_processes, 1);
	lib = find_ino(&set, st.st_ino, st.st_dev);
	assert_non_null(lib);
	assert_int_equal(lib->nr_processes, 1);
	assert_string_equal(lib->path, SYS_LIBSSL);
	assert_string_equal(lib->mapped_path, SYS_LIBSSL);
	for (i = 0; i < set.count; i++)
		if (&set.libs[i] != lib)
			assert_int_equal(set.libs[i].nr_processes, 0);

	/* skip_pid wins over the pid list; counts are per scan */
	assert_int_equal(library_set__scan(&set, &child, 1, child, NULL), 0);
	assert_int_equal(set.nr_processes, 0);
	assert_int_equal(lib->nr_processes, 0);

	/* a vanished process is skipped quietly */
	kill_children(NULL);
	assert_int_equal(library_set__scan(&set, &child, 1, getpid(), NULL), 0);
	assert_int_equal(set.nr_processes, 0);
	library_set__clear(&set);
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in, out, err = -1;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0)
		goto cleanup;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			goto cleanup;
	err = n < 0 ? -1 : 0;

cleanup:
	if (out >= 0)
		close(out);
	close(in);
	return err;
}

static void test_deleted_library_via_map_files(void **state)
{
	char dir[] = "/tmp/test_discover.XXXXXX", ssl[PATH_MAX], crypto[PATH_MAX];
	char code[3 * PATH_MAX], deleted[PATH_MAX + 16];
	struct library_set set = {};
	const struct tls_library *lib;
	struct stat st, ssl_st;
	pid_t child;

	assert_non_null(mkdtemp(dir));
	snprintf(ssl, sizeof(ssl), "%s/libssl.so.3", dir);
	snprintf(crypto, sizeof(crypto), "%s/libcrypto.so.3", dir);
	assert_int_equal(copy_file(SYS_LIBSSL, ssl), 0);
	assert_int_equal(copy_file(SYS_LIBCRYPTO, crypto), 0);
	assert_int_equal(stat(ssl, &ssl_st), 0);
	/* the copy of libcrypto first, so the copy of libssl binds to it */
	snprintf(code, sizeof(code),
		 "import ctypes, time; ctypes.CDLL('%s'); ctypes.CDLL('%s'); "
		 "print('ready', flush=True); time.sleep(30)", crypto, ssl);
	child = spawn_python(code);
	/* an upgrade replacing the files under a running process */
	unlink(ssl);
	unlink(crypto);
	rmdir(dir);
	assert_true(child > 0);

	assert_int_equal(library_set__scan(&set, &child, 1, getpid(), NULL), 0);
	lib = find_ino(&set, ssl_st.st_ino, ssl_st.st_dev);
	assert_non_null(lib);
	assert_non_null(strstr(lib->path, "/map_files/"));
	assert_int_equal(stat(lib->path, &st), 0);
	assert_int_equal(st.st_ino, ssl_st.st_ino);
	snprintf(deleted, sizeof(deleted), "%s (deleted)", ssl);
	assert_string_equal(lib->mapped_path, deleted);
	assert_int_equal(lib->functions & DATA_FUNCTIONS, DATA_FUNCTIONS);
	/* from the deleted libcrypto the process maps, not from the disk */
	assert_true(strncmp(lib->version, "3.", 2) == 0);
	assert_int_equal(lib->nr_processes, 1);
	assert_int_equal(set.nr_processes, 1);
	library_set__clear(&set);
}

/* In the child: a private mount namespace with OpenSSL on a tmpfs at @arg */
static int private_libdir(const void *arg)
{
	const char *dir = arg;
	char ssl[PATH_MAX], crypto[PATH_MAX];

	snprintf(ssl, sizeof(ssl), "%s/libssl.so.3", dir);
	snprintf(crypto, sizeof(crypto), "%s/libcrypto.so.3", dir);
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("none", dir, "tmpfs", 0, NULL))
		return -1;
	return copy_file(SYS_LIBSSL, ssl) || copy_file(SYS_LIBCRYPTO, crypto);
}

static void test_other_mount_namespace_via_proc_root(void **state)
{
	char dir[] = "/tmp/test_discover_ns.XXXXXX", code[3 * PATH_MAX];
	char mapped[PATH_MAX], expect[PATH_MAX + 32];
	struct library_set set = {};
	const struct tls_library *lib = NULL;
	struct stat st;
	pid_t child;
	size_t i;

	assert_non_null(mkdtemp(dir));
	snprintf(mapped, sizeof(mapped), "%s/libssl.so.3", dir);
	snprintf(code, sizeof(code),
		 "import ctypes, time; ctypes.CDLL('%s/libcrypto.so.3'); ctypes.CDLL('%s'); "
		 "print('ready', flush=True); time.sleep(30)", dir, mapped);
	child = spawn_python_after(code, private_libdir, dir);
	if (child < 0) {
		rmdir(dir);
		skip();	/* no CAP_SYS_ADMIN for unshare/mount here */
	}
	assert_true(child > 0);
	/* the host sees an empty directory */
	assert_int_equal(stat(mapped, &st), -1);

	assert_int_equal(library_set__scan(&set, &child, 1, getpid(), NULL), 0);
	for (i = 0; i < set.count; i++)
		if (!strcmp(set.libs[i].mapped_path, mapped))
			lib = &set.libs[i];
	assert_non_null(lib);
	snprintf(expect, sizeof(expect), "/proc/%d/root%s", child, mapped);
	assert_string_equal(lib->path, expect);
	assert_int_equal(stat(lib->path, &st), 0);
	assert_int_equal(st.st_ino, lib->ino);
	assert_int_equal(lib->functions & DATA_FUNCTIONS, DATA_FUNCTIONS);
	assert_true(strncmp(lib->version, "3.", 2) == 0);
	assert_int_equal(lib->nr_processes, 1);
	library_set__clear(&set);
	rmdir(dir);
}

static int count_processes(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] >= '1' && de->d_name[0] <= '9';
	closedir(d);
	return n;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_full_scan_is_fast(void **state)
{
	struct library_set set = {};
	double t0, first, second;
	int nr;

	nr = count_processes();
	t0 = now_ms();
	assert_int_equal(library_set__scan(&set, NULL, 0, getpid(), NULL), 0);
	first = now_ms() - t0;
	t0 = now_ms();
	assert_int_equal(library_set__scan(&set, NULL, 0, getpid(), NULL), 0);
	second = now_ms() - t0;
	print_message("full scan: %d processes, %u with TLS libraries, %zu libraries, "
		      "first %.2f ms, rescan %.2f ms\n",
		      nr, set.nr_processes, set.count, first, second);
	/* the budget is for a host with a few hundred processes */
	if (nr <= 500)
		assert_true(second < 100.0);
	library_set__clear(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_function_names),
		cmocka_unit_test(test_clear_accepts_null_and_zeroed),
		cmocka_unit_test(test_system_libssl_from_dirs),
		cmocka_unit_test(test_version_matches_python),
		cmocka_unit_test(test_read_functions),
		cmocka_unit_test_teardown(test_nss_libssl3_rejected, kill_children),
		cmocka_unit_test(test_rescan_adds_nothing),
		cmocka_unit_test_teardown(test_process_counted, kill_children),
		cmocka_unit_test_teardown(test_deleted_library_via_map_files, kill_children),
		cmocka_unit_test_teardown(test_other_mount_namespace_via_proc_root, kill_children),
		cmocka_unit_test(test_full_scan_is_fast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
