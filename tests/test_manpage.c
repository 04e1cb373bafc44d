// SPDX-License-Identifier: MIT
/*
 * --help and the man page agree: every option of --help's option lines has
 * an entry in capture/tlspcap.8 (a .TP tag: a mention in SYNOPSIS or in
 * running text is not documentation), and every option the man page
 * describes is in --help.  Options added later are held to it by this test.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

/* The man page, from this file's own path (the build runs at the repository root). */
static char *read_man_page(void)
{
	char path[4096], *slash, *text;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s", __FILE__);
	slash = strrchr(path, '/');
	snprintf(slash ? slash + 1 : path, sizeof(path) - (slash ? slash + 1 - path : 0),
		 "../capture/tlspcap.8");
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	text = calloc(1, 1 << 20);
	assert_non_null(text);
	len = fread(text, 1, (1 << 20) - 1, f);
	assert_true(len > 0);
	fclose(f);
	return text;
}

/* roff without fonts and escapes: "\fB\-\-write\fR" -> "--write". */
static void unroff(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'f' && s[2]) {
			s += 2;
			continue;
		}
		if (s[0] == '\\' && s[1] == '-') {
			*w++ = '-';
			s++;
			continue;
		}
		*w++ = *s;
	}
	*w = '\0';
}

static bool option_char(char c)
{
	return isalnum((unsigned char)c) || c == '-';
}

/* Calls @each for every "-x" and "--long-name" token of @text. */
static void for_each_option(const char *text, void (*each)(const char *opt, void *ctx), void *ctx)
{
	const char *p;

	for (p = text; *p; p++) {
		char opt[64];
		size_t n = 0;

		if (*p != '-' || (p > text && option_char(p[-1])))
			continue;
		if (p[1] == '-' ? !isalpha((unsigned char)p[2]) : !isalpha((unsigned char)p[1]))
			continue;
		while (option_char(p[n]) && n < sizeof(opt) - 1) {
			opt[n] = p[n];
			n++;
		}
		opt[n] = '\0';
		/* "-x" is one letter; "-vvw" style bundles are not in either text */
		if (opt[1] != '-' && n != 2)
			continue;
		each(opt, ctx);
		p += n - 1;
	}
}

static bool has_option(const char *text, const char *opt)
{
	size_t n = strlen(opt);
	const char *p;

	for (p = strstr(text, opt); p; p = strstr(p + 1, opt))
		if ((p == text || !option_char(p[-1])) && !option_char(p[n]))
			return true;
	return false;
}

struct check {
	const char *other;
	const char *what;
	unsigned int missing, seen;
};

static void check_in_other(const char *opt, void *ctx)
{
	struct check *c = ctx;

	c->seen++;
	if (!has_option(c->other, opt)) {
		print_error("%s: %s\n", c->what, opt);
		c->missing++;
	}
}

static char *help_text(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	options__usage(f);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* The option lines of --help: those that begin, after the indent, with '-'. */
static char *help_entries(const char *help)
{
	char *lines = calloc(1, strlen(help) + 1), *w = lines;
	const char *p = help;

	assert_non_null(lines);
	for (; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		const char *start = p + strspn(p, " "), *end = strchrnul(p, '\n');

		if (start > p && *start == '-') {
			memcpy(w, start, end - start);
			w += end - start;
			*w++ = '\n';
		}
	}
	return lines;
}

/* The tag lines of the man page: the line after each ".TP". */
static char *man_tags(const char *man)
{
	char *tags = calloc(1, strlen(man) + 1), *w = tags;
	const char *p = man;

	assert_non_null(tags);
	while ((p = strstr(p, "\n.TP\n"))) {
		const char *line = p + 5, *end = strchr(line, '\n');

		if (!end)
			break;
		memcpy(w, line, end - line);
		w += end - line;
		*w++ = '\n';
		p = end;
	}
	return tags;
}

static void test_help_options_in_man_page(void **state)
{
	char *man = read_man_page(), *help = help_text(), *tags, *entries;
	struct check c = { .what = "in --help, no entry in tlspcap.8" };

	unroff(man);
	tags = man_tags(man);
	entries = help_entries(help);
	c.other = tags;
	for_each_option(entries, check_in_other, &c);
	assert_true(c.seen >= 30);
	assert_int_equal(c.missing, 0);
	free(entries);
	free(tags);
	free(man);
	free(help);
}

static void test_man_page_options_in_help(void **state)
{
	char *man = read_man_page(), *help = help_text(), *tags;
	struct check c = { .other = help, .what = "in tlspcap.8, not in --help" };

	unroff(man);
	tags = man_tags(man);
	for_each_option(tags, check_in_other, &c);
	assert_true(c.seen >= 20);
	assert_int_equal(c.missing, 0);
	free(tags);
	free(man);
	free(help);
}

/* The checker itself: a made-up option is caught both ways. */
static void test_checker_catches_strays(void **state)
{
	struct check c = { .other = "use -w FILE or --write FILE; -- COMMAND", .what = "stray" };

	for_each_option("-w --write --bogus -q -- x", check_in_other, &c);
	assert_int_equal(c.seen, 4);
	assert_int_equal(c.missing, 2);
	assert_false(has_option("--writer", "--write"));
	assert_true(has_option("(--write)", "--write"));
}

/* Only entries count: an option in SYNOPSIS or in running text has no entry. */
static void test_entries_only(void **state)
{
	char man[] = ".SH SYNOPSIS\n.B \\-x\n.SH OPTIONS\n.TP\n.BI \\-y \" n\"\nuse \\-z\n";
	char *tags, *entries;
	struct check c = { .what = "no entry" };

	unroff(man);
	tags = man_tags(man);
	c.other = tags;
	for_each_option("-x -y -z", check_in_other, &c);
	assert_int_equal(c.seen, 3);
	assert_int_equal(c.missing, 2);
	entries = help_entries("Usage: tool -a\n  -b, --bee  with -c\n       see -d\nlive: x -e\n");
	assert_string_equal(entries, "-b, --bee  with -c\n");
	free(entries);
	free(tags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_options_in_man_page),
		cmocka_unit_test(test_man_page_options_in_help),
		cmocka_unit_test(test_checker_catches_strays),
		cmocka_unit_test(test_entries_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
