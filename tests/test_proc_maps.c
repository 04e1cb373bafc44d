// SPDX-License-Identifier: MIT
/*
 * /proc/PID/maps reading: lines as the kernel writes them (and as a process
 * can make their paths), read in chunks smaller than a line, and this
 * process's own maps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc_maps.h"

static void test_parse_line(void **state)
{
	struct proc_maps_entry e;
	char line[] = "7f3a1c25e000-7f3a1c2b8000 r-xp 0005e000 08:01 1316220"
		      "                    /usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)";

	assert_int_equal(proc_maps__parse_line(line, &e), 0);
	assert_int_equal(e.start, 0x7f3a1c25e000ul);
	assert_int_equal(e.end, 0x7f3a1c2b8000ul);
	assert_string_equal(e.perms, "r-xp");
	assert_int_equal(e.inode, 1316220);
	assert_string_equal(e.path, "/usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)");
	/* spaces in a path are the path's */
	assert_int_equal(proc_maps__parse_line("1000-2000 r-xp 0 08:01 9 /tmp/a b/libssl.so.3", &e), 0);
	assert_string_equal(e.path, "/tmp/a b/libssl.so.3");
	/* anonymous: no path */
	assert_int_equal(proc_maps__parse_line("1000-2000 rw-p 00000000 00:00 0 ", &e), 0);
	assert_string_equal(e.path, "");
	assert_int_equal(e.inode, 0);
}

static void test_parse_bad_lines(void **state)
{
	static const char *const bad[] = {
		"", "garbage", "1000-2000", "1000-2000 r-xp 0 08:01", "1000-2000 r-xp 0 08:01 x /a",
		"zz-2000 r-xp 0 08:01 9 /a",
	};
	struct proc_maps_entry e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proc_maps__parse_line(bad[i], &e), -EINVAL);
	/* short permissions still end in NUL: perms[2] is never stale */
	assert_int_equal(proc_maps__parse_line("1000-2000 r 0 08:01 9 /a", &e), 0);
	assert_int_equal(e.perms[2], '\0');
}

struct lines {
	char text[512];
	size_t used;
	int stop_at;  /* line number whose callback returns 7, 0 = none */
	int count;
};

static int collect(char *line, void *ctx)
{
	struct lines *l = ctx;

	l->used += snprintf(l->text + l->used, sizeof(l->text) - l->used, "[%s]", line);
	return ++l->count == l->stop_at ? 7 : 0;
}

static int memfd_with(const char *text)
{
	int fd = memfd_create("maps", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Every buffer size from the smallest that holds the longest line (the unterminated
 * tail, which is not handed over): the same lines. */
static void test_chunks(void **state)
{
	const char *text = "a-b r 0 0 1 /x\nccc\n\ndddd\ntail without newline";
	char buf[64];
	size_t sz;

	for (sz = 22; sz <= sizeof(buf); sz++) {
		struct lines l = { .used = 0 };
		int fd = memfd_with(text);

		assert_int_equal(proc_maps__for_each_fd(fd, buf, sz, collect, &l), 0);
		assert_string_equal(l.text, "[a-b r 0 0 1 /x][ccc][][dddd]");
		close(fd);
	}
}

static void test_line_too_long_and_stop(void **state)
{
	struct lines l = { .used = 0 };
	char buf[8];
	int fd = memfd_with("1234567890\n");

	assert_int_equal(proc_maps__for_each_fd(fd, buf, sizeof(buf), collect, &l), -E2BIG);
	close(fd);
	assert_int_equal(proc_maps__for_each_fd(fd, buf, 1, collect, &l), -EINVAL);
	fd = memfd_with("a\nb\nc\n");
	l = (struct lines){ .stop_at = 2 };
	assert_int_equal(proc_maps__for_each_fd(fd, buf, sizeof(buf), collect, &l), 7);
	assert_string_equal(l.text, "[a][b]");
	close(fd);
}

/* The executable mapping of this test's own code, named by its path. */
static int find_code(char *line, void *ctx)
{
	struct proc_maps_entry e;
	unsigned long addr = (unsigned long)ctx;

	return !proc_maps__parse_line(line, &e) && addr >= e.start && addr < e.end &&
	       e.perms[2] == 'x' && e.inode && strstr(e.path, "/test_proc_maps");
}

static void test_own_maps(void **state)
{
	char buf[4096];

	assert_int_equal(proc_maps__for_each(getpid(), buf, sizeof(buf), find_code, (void *)find_code), 1);
	assert_int_equal(proc_maps__for_each(-1, buf, sizeof(buf), find_code, (void *)find_code), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_parse_bad_lines),
		cmocka_unit_test(test_chunks),
		cmocka_unit_test(test_line_too_long_and_stop),
		cmocka_unit_test(test_own_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
