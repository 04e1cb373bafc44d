// SPDX-License-Identifier: MIT
/* Tests for capture/discover.c against the system's real TLS libraries. */
#include <ctype.h>
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
#include "test_helpers.h"

#define SYS_LIBDIR "/usr/lib/x86_64-linux-gnu"
#define SYS_LIBSSL SYS_LIBDIR "/libssl.so.3"
#define SYS_LIBCRYPTO SYS_LIBDIR "/libcrypto.so.3"
#define NSS_LIBSSL SYS_LIBDIR "/libssl3.so"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define OPENSSL_ALL_SITES \
	"SSL_write SSL_read SSL_write_ex SSL_read_ex SSL_set_fd SSL_set_rfd SSL_set_wfd"

static pid_t children[4];
static size_t nr_children;

/*
 * Starts python3 -c @code, which must print "ready" once set up, after running
 * @setup(@arg) in the child. Returns the pid, 0 on failure, -1 if @setup failed.
 */
static pid_t spawn_python_after(const char *code, int (*setup)(const void *), const void *arg)
{
	/* Debian's python3 (system OpenSSL), not some python3 on PATH */
	char *argv[] = { "python3", "-c", (char *)code, NULL };
	pid_t pid = spawn_until_ready("/usr/bin/python3", argv, setup, arg, NULL);

	if (pid > 0)
		children[nr_children++] = pid;
	return pid;
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

/* Whether @lib's row has @symbol as a site and the file defines it */
static bool has_site(const struct tls_library *lib, const char *symbol)
{
	size_t i;

	for (i = 0; i < TLS_LIBRARY_MAX_SITES && lib->type->sites[i].symbol; i++)
		if (!strcmp(lib->type->sites[i].symbol, symbol))
			return lib->sites_found & (1u << i);
	return false;
}

static void assert_data_sites(const struct tls_library *lib)
{
	assert_true(has_site(lib, "SSL_write"));
	assert_true(has_site(lib, "SSL_read"));
	assert_true(has_site(lib, "SSL_write_ex"));
	assert_true(has_site(lib, "SSL_read_ex"));
}

/* Only the library directories: the one pid given is also the skipped one. */
static int scan_dirs_only(struct library_set *set, size_t *added)
{
	pid_t self = getpid();

	return library_set__scan(set, &self, 1, self, added);
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
	assert_int_equal(lib->type->kind, TLS_LIBRARY_OPENSSL);
	assert_string_equal(lib->name, "OpenSSL");
	assert_data_sites(lib);
	assert_true(has_site(lib, "SSL_set_fd"));
	assert_int_equal(lib->nr_processes, 0);
	assert_int_equal(lib->nr_pids_listed, 0);
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
	struct tls_library lib = { .type = tls_library_type__find(TLS_LIBRARY_OPENSSL) };
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
	struct tls_library lib = { .type = tls_library_type__find(TLS_LIBRARY_OPENSSL) };
	char text[256];

	snprintf(lib.path, sizeof(lib.path), "%s", SYS_LIBSSL);
	assert_int_equal(tls_library__read_functions(&lib), 0);
	assert_int_equal(lib.sites_found, 0x7f);
	assert_string_equal(tls_library__functions_text(&lib, text, sizeof(text)),
			    OPENSSL_ALL_SITES);
	/* cut to whole names */
	assert_string_equal(tls_library__functions_text(&lib, text, 20), "SSL_write SSL_read");
	assert_string_equal(tls_library__functions_text(&lib, text, 9), "");

	/* libcrypto imports nothing of these and defines none */
	snprintf(lib.path, sizeof(lib.path), "%s", SYS_LIBCRYPTO);
	assert_int_equal(tls_library__read_functions(&lib), 0);
	assert_int_equal(lib.sites_found, 0);
	assert_string_equal(tls_library__functions_text(&lib, text, sizeof(text)), "");

	snprintf(lib.path, sizeof(lib.path), "%s", "/nonexistent/libssl.so.3");
	assert_int_equal(tls_library__read_functions(&lib), -ENOENT);
	snprintf(lib.path, sizeof(lib.path), "%s", "/etc/hostname");
	assert_int_equal(tls_library__read_functions(&lib), -EINVAL);
	lib.type = NULL;
	assert_int_equal(tls_library__read_functions(&lib), -EINVAL);
}

static void test_nss_libssl3_rejected(void **state)
{
	struct tls_library lib = {};
	struct library_set set = {};
	struct stat st;
	size_t added, i;
	pid_t child;

	if (stat(NSS_LIBSSL, &st))
		skip();
	lib.type = tls_library_type__find(TLS_LIBRARY_OPENSSL);
	snprintf(lib.path, sizeof(lib.path), "%s", NSS_LIBSSL);
	assert_int_equal(tls_library__read_functions(&lib), 0);
	assert_int_equal(lib.sites_found, 0);
	assert_int_equal(library_set__add_path(&set, NSS_LIBSSL), -ENOENT);
	assert_int_equal(set.count, 0);

	/* mapped by a process: not it, but the NSPR it brings, where NSS's data goes */
	child = spawn_python("import ctypes; ctypes.CDLL('" NSS_LIBSSL "'); "
			     "print('ready', flush=True); import time; time.sleep(30)");
	assert_true(child > 0);
	assert_int_equal(library_set__scan(&set, &child, 1, getpid(), &added), 0);
	assert_null(find_ino(&set, st.st_ino, st.st_dev));
	assert_int_equal(set.nr_processes, 1);
	for (i = 0; i < set.count; i++)
		if (set.libs[i].nr_processes)
			assert_int_equal(set.libs[i].type->kind, TLS_LIBRARY_NSPR);
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
	assert_int_equal(lib->nr_pids_listed, 1);
	assert_int_equal(lib->pids[0], child);
	assert_string_equal(lib->path, SYS_LIBSSL);
	assert_string_equal(lib->mapped_path, SYS_LIBSSL);
	for (i = 0; i < set.count; i++)
		if (&set.libs[i] != lib)
			assert_int_equal(set.libs[i].nr_processes, 0);

	/* skip_pid wins over the pid list; counts are per scan */
	assert_int_equal(library_set__scan(&set, &child, 1, child, NULL), 0);
	assert_int_equal(set.nr_processes, 0);
	assert_int_equal(lib->nr_processes, 0);
	assert_int_equal(lib->nr_pids_listed, 0);

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

/* Copies the system libssl and libcrypto into @dir; their names in @ssl and @crypto (PATH_MAX). */
static int copy_system_openssl(const char *dir, char *ssl, char *crypto)
{
	snprintf(ssl, PATH_MAX, "%s/libssl.so.3", dir);
	snprintf(crypto, PATH_MAX, "%s/libcrypto.so.3", dir);
	return copy_file(SYS_LIBSSL, ssl) || copy_file(SYS_LIBCRYPTO, crypto) ? -1 : 0;
}

/*
 * Copies the system OpenSSL into @dir (see copy_system_openssl(); *@ssl_st: the
 * copy of libssl) and starts a python that loads both copies, the copy of
 * libcrypto first, so the copy of libssl binds to it.
 */
static pid_t spawn_python_with_copies(const char *dir, char *ssl, char *crypto,
				      struct stat *ssl_st)
{
	char code[3 * PATH_MAX];

	assert_int_equal(copy_system_openssl(dir, ssl, crypto), 0);
	assert_int_equal(stat(ssl, ssl_st), 0);
	snprintf(code, sizeof(code),
		 "import ctypes, time; ctypes.CDLL('%s'); ctypes.CDLL('%s'); "
		 "print('ready', flush=True); time.sleep(30)", crypto, ssl);
	return spawn_python(code);
}

static void test_deleted_library_via_map_files(void **state)
{
	char dir[] = "/tmp/test_discover.XXXXXX", ssl[PATH_MAX], crypto[PATH_MAX];
	char deleted[PATH_MAX + 16];
	struct library_set set = {};
	const struct tls_library *lib;
	struct stat st, ssl_st;
	pid_t child;

	assert_non_null(mkdtemp(dir));
	child = spawn_python_with_copies(dir, ssl, crypto, &ssl_st);
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
	assert_int_equal(lib->type->kind, TLS_LIBRARY_OPENSSL);
	assert_data_sites(lib);
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

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("none", dir, "tmpfs", 0, NULL))
		return -1;
	return copy_system_openssl(dir, ssl, crypto);
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
	assert_int_equal(lib->type->kind, TLS_LIBRARY_OPENSSL);
	assert_data_sites(lib);
	assert_true(strncmp(lib->version, "3.", 2) == 0);
	assert_int_equal(lib->nr_processes, 1);
	library_set__clear(&set);
	rmdir(dir);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One library file of this machine and what discovery must make of it */
struct library_case {
	const char *path;
	const char *preload;		/* for a process to map it: load this first */
	enum tls_library_kind kind;
	const char *major;		/* the version starts so; "" = the files have none */
	const char *sites[5];		/* some that it must define */
};

static const struct library_case library_cases[] = {
	{ SYS_LIBSSL, NULL, TLS_LIBRARY_OPENSSL, "3.",
	  { "SSL_write", "SSL_read", "SSL_write_ex", "SSL_read_ex", "SSL_set_fd" } },
	/* "BoringSSL" in libcrypto.so.0 names it; no version text anywhere */
	{ SYS_LIBDIR "/android/libssl.so.0", SYS_LIBDIR "/android/libcrypto.so.0",
	  TLS_LIBRARY_BORINGSSL, "", { "SSL_write", "SSL_read", "SSL_set_fd" } },
	{ SYS_LIBDIR "/libgnutls.so.30", NULL, TLS_LIBRARY_GNUTLS, "3.",
	  { "gnutls_record_send", "gnutls_record_recv", "gnutls_transport_set_int2" } },
	/* the version is NSS's, from libnss3.so beside it */
	{ SYS_LIBDIR "/libnspr4.so", NULL, TLS_LIBRARY_NSPR, "3.",
	  { "PR_Write", "PR_Read", "PR_Send", "PR_Recv" } },
	{ SYS_LIBDIR "/libwolfssl.so.35", NULL, TLS_LIBRARY_WOLFSSL, "5.",
	  { "wolfSSL_write", "wolfSSL_read", "wolfSSL_set_fd" } },
	/* the version is in libmbedcrypto */
	{ SYS_LIBDIR "/libmbedtls.so.14", NULL, TLS_LIBRARY_MBEDTLS, "2.",
	  { "mbedtls_ssl_write", "mbedtls_ssl_read", "mbedtls_ssl_set_bio" } },
};

static void assert_library_case(const struct tls_library *lib, const struct library_case *c)
{
	size_t i;

	assert_non_null(lib);
	assert_int_equal(lib->type->kind, c->kind);
	assert_string_equal(lib->name, lib->type->name);
	if (c->major[0]) {
		assert_true(isdigit((unsigned char)lib->version[0]));
		assert_true(strncmp(lib->version, c->major, strlen(c->major)) == 0);
	} else {
		assert_string_equal(lib->version, "");
	}
	for (i = 0; i < 5 && c->sites[i]; i++)
		if (!has_site(lib, c->sites[i]))
			fail_msg("%s: %s not found", c->path, c->sites[i]);
}

static void test_library_recognised(void **state)
{
	const struct library_case *c = *state;
	struct library_set set = {};
	const struct tls_library *lib;
	char real[PATH_MAX], code[3 * PATH_MAX];
	struct stat st;
	pid_t child;

	if (stat(c->path, &st) || !realpath(c->path, real))
		skip();

	/* in its library directory, under its real name */
	assert_int_equal(scan_dirs_only(&set, NULL), 0);
	lib = find_ino(&set, st.st_ino, st.st_dev);
	assert_library_case(lib, c);
	assert_string_equal(lib->path, real);
	print_message("%-40s %s %s\n", real, lib->name, lib->version);
	library_set__clear(&set);

	/* named with --lib, by a symlink if there is one */
	assert_int_equal(library_set__add_path(&set, c->path), 0);
	assert_int_equal(set.count, 1);
	assert_library_case(&set.libs[0], c);
	assert_string_equal(set.libs[0].path, real);
	assert_int_equal(library_set__add_path(&set, real), 0);
	assert_int_equal(set.count, 1);
	library_set__clear(&set);

	/* mapped by a process */
	snprintf(code, sizeof(code),
		 "import ctypes, time; %s%s%sctypes.CDLL('%s'); print('ready', flush=True); "
		 "time.sleep(30)", c->preload ? "ctypes.CDLL('" : "", c->preload ? c->preload : "",
		 c->preload ? "'); " : "", c->path);
	child = spawn_python(code);
	assert_true(child > 0);
	assert_int_equal(library_set__scan(&set, &child, 1, getpid(), NULL), 0);
	lib = find_ino(&set, st.st_ino, st.st_dev);
	assert_library_case(lib, c);
	assert_string_equal(lib->mapped_path, real);
	assert_int_equal(lib->nr_processes, 1);
	assert_int_equal(lib->pids[0], child);
	library_set__clear(&set);
}

static void test_add_path_rejects(void **state)
{
	struct library_set set = {};

	assert_int_equal(library_set__add_path(&set, "/bin/true"), -ENOENT);
	assert_int_equal(library_set__add_path(&set, "/etc/hostname"), -ENOENT);
	assert_int_equal(library_set__add_path(&set, SYS_LIBCRYPTO), -ENOENT);
	assert_int_equal(library_set__add_path(&set, "/nonexistent/libssl.so.3"), -ENOENT);
	assert_int_equal(library_set__add_path(&set, SYS_LIBDIR), -EISDIR);
	assert_int_equal(set.count, 0);
	library_set__clear(&set);
}

static char tmpdir[64];

static int remove_tmpdir(void **state)
{
	char cmd[128];

	kill_children(state);
	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		assert_int_equal(system(cmd), 0);
		tmpdir[0] = '\0';
	}
	return 0;
}

/* Starts @path, which must print "ready" once set up; returns the pid or 0 */
static pid_t spawn_ready(const char *path)
{
	char *argv[] = { (char *)path, NULL };
	pid_t pid = spawn_until_ready(path, argv, NULL, NULL, NULL);

	if (pid <= 0)
		return 0;
	children[nr_children++] = pid;
	return pid;
}

static const char static_client[] =
	"#include <openssl/ssl.h>\n"
	"#include <stdio.h>\n"
	"#include <unistd.h>\n"
	"int main(void)\n"
	"{\n"
	"	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());\n"
	"	SSL *ssl = SSL_new(ctx);\n"
	"	char buf[1];\n"
	"	if (!ssl)\n"
	"		return 1;\n"
	"	if (getppid() == 1) {	/* never: links the functions in */\n"
	"		SSL_write(ssl, \"x\", 1);\n"
	"		SSL_read(ssl, buf, 1);\n"
	"	}\n"
	"	printf(\"ready\\n\");\n"
	"	fflush(stdout);\n"
	"	/* not its version number only, the banner as in node */\n"
	"	fprintf(stderr, \"%s\\n\", OpenSSL_version(OPENSSL_VERSION));\n"
	"	pause();\n"
	"	return 0;\n"
	"}\n";

static void test_static_executable(void **state)
{
	char src[PATH_MAX], exe[PATH_MAX], cmd[4 * PATH_MAX];
	struct library_set set = {};
	const struct tls_library *lib;
	struct stat st;
	size_t added;
	pid_t child;
	FILE *f;

	if (access(SYS_LIBDIR "/libssl.a", R_OK) || access(SYS_LIBDIR "/libcrypto.a", R_OK))
		skip();	/* no libssl-dev */
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_discover_static.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(src, sizeof(src), "%s/static_client.c", tmpdir);
	snprintf(exe, sizeof(exe), "%s/static_client", tmpdir);
	f = fopen(src, "w");
	assert_non_null(f);
	assert_int_equal(fputs(static_client, f) < 0, 0);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "cc -O2 -o '%s' '%s' %s/libssl.a %s/libcrypto.a -lpthread", exe,
		 src, SYS_LIBDIR, SYS_LIBDIR);
	if (system(cmd))
		skip();	/* no compiler */
	assert_int_equal(stat(exe, &st), 0);

	/* --lib: any name, the symbols decide */
	assert_int_equal(library_set__add_path(&set, exe), 0);
	assert_int_equal(set.count, 1);
	lib = &set.libs[0];
	assert_int_equal(lib->type->kind, TLS_LIBRARY_OPENSSL_STATIC);
	assert_string_equal(lib->path, exe);
	assert_true(strncmp(lib->version, "3.", 2) == 0);
	/* in .symtab: a plain link exports nothing */
	assert_data_sites(lib);
	assert_true(has_site(lib, "SSL_set_fd"));
	library_set__clear(&set);

	/* a running instance: through /proc/PID/exe */
	assert_int_equal(scan_dirs_only(&set, NULL), 0);
	child = spawn_ready(exe);
	assert_true(child > 0);
	assert_int_equal(library_set__scan_pid(&set, child, &added), 0);
	assert_int_equal(added, 1);
	lib = find_ino(&set, st.st_ino, st.st_dev);
	assert_non_null(lib);
	assert_int_equal(lib->type->kind, TLS_LIBRARY_OPENSSL_STATIC);
	assert_string_equal(lib->path, exe);
	assert_string_equal(lib->mapped_path, exe);
	assert_int_equal(lib->nr_processes, 1);
	assert_int_equal(lib->pids[0], child);
	assert_int_equal(set.nr_processes, 1);
	/* the same process again is not another one */
	assert_int_equal(library_set__scan_pid(&set, child, &added), 0);
	assert_int_equal(added, 0);
	assert_int_equal(lib->nr_processes, 1);
	assert_int_equal(set.nr_processes, 1);

	/* and in a full scan, replaced on disk: only /proc/PID/exe leads to it */
	library_set__clear(&set);
	assert_int_equal(unlink(exe), 0);
	assert_int_equal(library_set__scan(&set, NULL, 0, getpid(), NULL), 0);
	lib = find_ino(&set, st.st_ino, st.st_dev);
	assert_non_null(lib);
	snprintf(cmd, sizeof(cmd), "/proc/%d/exe", child);
	assert_string_equal(lib->path, cmd);
	snprintf(cmd, sizeof(cmd), "%s (deleted)", exe);
	assert_string_equal(lib->mapped_path, cmd);
	assert_int_equal(lib->nr_processes, 1);
	library_set__clear(&set);
}

static void test_boringssl_by_version_text(void **state)
{
	char ssl[PATH_MAX], crypto[PATH_MAX];
	struct library_set set = {};

	if (access(SYS_LIBDIR "/android/libssl.so.0", R_OK))
		skip();
	/* out of android/, named like OpenSSL: libcrypto's "BoringSSL" tells */
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_discover_boring.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(ssl, sizeof(ssl), "%s/libssl.so.0", tmpdir);
	snprintf(crypto, sizeof(crypto), "%s/libcrypto.so.0", tmpdir);
	assert_int_equal(copy_file(SYS_LIBDIR "/android/libssl.so.0", ssl), 0);
	assert_int_equal(copy_file(SYS_LIBDIR "/android/libcrypto.so.0", crypto), 0);
	assert_int_equal(library_set__add_path(&set, ssl), 0);
	assert_int_equal(set.count, 1);
	assert_int_equal(set.libs[0].type->kind, TLS_LIBRARY_BORINGSSL);
	assert_string_equal(set.libs[0].version, "");
	library_set__clear(&set);
}

static void test_scan_pid_new_process(void **state)
{
	char ssl[PATH_MAX], crypto[PATH_MAX];
	struct library_set set = {};
	const struct tls_library *lib;
	struct stat st, sys_st;
	size_t count, added = 99;
	unsigned int before;
	pid_t child;
	double t0;

	assert_int_equal(stat(SYS_LIBSSL, &sys_st), 0);
	assert_int_equal(library_set__scan(&set, NULL, 0, getpid(), NULL), 0);
	count = set.count;
	lib = find_ino(&set, sys_st.st_ino, sys_st.st_dev);
	assert_non_null(lib);
	before = lib->nr_processes;

	/* a system library: nothing new, one more process */
	child = spawn_python("import ssl, time; print('ready', flush=True); time.sleep(30)");
	assert_true(child > 0);
	t0 = now_ms();
	assert_int_equal(library_set__scan_pid(&set, child, &added), 0);
	print_message("scan_pid: %.3f ms\n", now_ms() - t0);
	assert_int_equal(added, 0);
	assert_int_equal(set.count, count);
	lib = find_ino(&set, sys_st.st_ino, sys_st.st_dev);
	assert_int_equal(lib->nr_processes, before + 1);
	assert_true(lib->nr_processes > TLS_LIBRARY_MAX_PIDS ||
		    lib->pids[lib->nr_pids_listed - 1] == child);

	/* a copy elsewhere: new */
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_discover_pid.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	child = spawn_python_with_copies(tmpdir, ssl, crypto, &st);
	assert_true(child > 0);
	assert_int_equal(library_set__scan_pid(&set, child, &added), 0);
	assert_int_equal(added, 1);
	assert_int_equal(set.count, count + 1);
	lib = find_ino(&set, st.st_ino, st.st_dev);
	assert_non_null(lib);
	assert_int_equal(lib->type->kind, TLS_LIBRARY_OPENSSL);
	assert_string_equal(lib->path, ssl);
	assert_string_equal(lib->mapped_path, ssl);
	/* from the copied libcrypto beside it */
	assert_true(strncmp(lib->version, "3.", 2) == 0);
	assert_data_sites(lib);
	assert_int_equal(lib->nr_processes, 1);
	assert_int_equal(lib->pids[0], child);
	library_set__clear(&set);
}

static void test_print(void **state)
{
	struct library_set set = {};
	char *text = NULL, expect[64];
	size_t len = 0;
	pid_t child;
	FILE *f;

	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(library_set__print(&set, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "No TLS library found"));
	assert_non_null(strstr(text, "--lib"));
	free(text);

	child = spawn_python("import ssl, time; print('ready', flush=True); time.sleep(30)");
	assert_true(child > 0);
	assert_int_equal(library_set__scan(&set, &child, 1, getpid(), NULL), 0);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(library_set__print(&set, f), 0);
	assert_int_equal(fclose(f), 0);
	print_message("%s", text);
	assert_non_null(strstr(text, "\n" SYS_LIBSSL "\n"));
	assert_non_null(strstr(text, "OpenSSL 3."));
	assert_non_null(strstr(text, OPENSSL_ALL_SITES));
	snprintf(expect, sizeof(expect), "processes:  1 python3(%d)\n", child);
	assert_non_null(strstr(text, expect));
	free(text);
	library_set__clear(&set);
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
		cmocka_unit_test(test_add_path_rejects),
		cmocka_unit_test_teardown(test_static_executable, remove_tmpdir),
		cmocka_unit_test_teardown(test_boringssl_by_version_text, remove_tmpdir),
		cmocka_unit_test_teardown(test_scan_pid_new_process, remove_tmpdir),
		cmocka_unit_test_teardown(test_print, kill_children),
	};
	struct CMUnitTest library_tests[ARRAY_SIZE(library_cases)];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(library_cases); i++)
		library_tests[i] = (struct CMUnitTest){
			.name = library_cases[i].path,
			.test_func = test_library_recognised,
			.teardown_func = kill_children,
			.initial_state = (void *)&library_cases[i],
		};
	if (cmocka_run_group_tests_name("library files", library_tests, NULL, NULL))
		return 1;

	return cmocka_run_group_tests_name("discovery", tests, NULL, NULL);
}
