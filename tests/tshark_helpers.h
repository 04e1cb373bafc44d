/* SPDX-License-Identifier: MIT */
/*
 * Test-only helpers: write a pcapng file in a temporary directory and judge it
 * with tshark (4.0) through popen.
 * tshark's stderr ("Running as user root ...") is always discarded.
 * Every tshark_* helper that returns a pointer returns malloc'd memory the
 * caller frees, or NULL on failure; the tshark_assert_* helpers fail the
 * current cmocka test instead.
 */
#ifndef TLSPCAP_TSHARK_HELPERS_H
#define TLSPCAP_TSHARK_HELPERS_H

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pcapng.h"

/* Checksums are not verified by default; these make bad ones expert errors. */
#define TSHARK_CHECK_CSUM "-o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE"

/* Runs a shell command and returns its whole stdout, NUL-terminated. */
static inline char *tshark_run(size_t *out_len, const char *fmt, ...)
{
	char *cmd = NULL, *buf = NULL, *nbuf;
	size_t len = 0, cap = 0, n;
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (!cmd)
		return NULL;
	p = popen(cmd, "r");
	free(cmd);
	if (!p)
		return NULL;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				free(buf);
				pclose(p);
				return NULL;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len - 1, p);
		if (!n)
			break;
		len += n;
	}
	buf[len] = '\0';
	if (pclose(p) != 0) {
		free(buf);
		return NULL;
	}
	if (out_len)
		*out_len = len;
	return buf;
}

/*
 * The rows of `-z expert,<level>` (level and above), checksums verified,
 * one summary per line, "" when clean.  A clean file prints nothing at all;
 * otherwise tshark prints a "Warns (N)" heading, a column header line and
 * rows "   <freq>   <group>   <protocol>  <summary>".  @options: more tshark
 * options (tshark_expert_with), e.g. a protocol disabled.
 */
static inline char *tshark_expert_with(const char *path, const char *options, const char *level)
{
	char *out = tshark_run(NULL, "tshark -r '%s' " TSHARK_CHECK_CSUM " %s -q -z expert,%s 2>/dev/null",
			       path, options, level);
	char *rows, *line, *save = NULL, *r;

	if (!out)
		return NULL;
	rows = calloc(1, strlen(out) + 1);
	if (!rows) {
		free(out);
		return NULL;
	}
	r = rows;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *q = line;

		while (*q == ' ')
			q++;
		if (!isdigit((unsigned char)*q))
			continue; /* headings, "=====", column names */
		r += sprintf(r, "%s\n", q);
	}
	free(out);
	return rows;
}

static inline char *tshark_expert(const char *path, const char *level)
{
	return tshark_expert_with(path, "", level);
}

/* Number of lines tshark prints for a display filter (one per frame). */
static inline long tshark_count(const char *path, const char *filter)
{
	char *out = tshark_run(NULL, "tshark -r '%s' " TSHARK_CHECK_CSUM " -Y '%s' -T fields -e frame.number 2>/dev/null",
			       path, filter);
	long n = 0;
	char *c;

	if (!out)
		return -1;
	for (c = out; *c; c++)
		n += *c == '\n';
	free(out);
	return n;
}

struct follow_result {
	long stream;
	uint8_t *data[2]; /* [0] Node 0 (the SYN sender), [1] Node 1 */
	size_t len[2];
};

static inline void follow_result__free(struct follow_result *f)
{
	free(f->data[0]);
	free(f->data[1]);
	f->data[0] = f->data[1] = NULL;
}

static inline int hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/*
 * `-z follow,tcp,raw,N` for @n streams in one tshark pass.  Each block has a
 * "Filter: tcp.stream eq N" line; hex lines of Node 0 start in column 0,
 * those of Node 1 with a TAB.  A gap shows as the text
 * "[N bytes missing in capture file]" (hex-encoded, with a NUL) in the
 * direction that lost it.  Returns 0 or -1.
 */
static inline int tshark_follow(const char *path, const long *streams, size_t n, struct follow_result *res)
{
	char *args, *a, *out, *line, *save = NULL;
	struct follow_result *cur = NULL;
	size_t i;
	int err = -1;

	args = calloc(n, 40);
	if (!args)
		return -1;
	for (a = args, i = 0; i < n; i++) {
		a += sprintf(a, " -z follow,tcp,raw,%ld", streams[i]);
		memset(&res[i], 0, sizeof(res[i]));
		res[i].stream = -1;
	}
	out = tshark_run(NULL, "tshark -r '%s' -q %s 2>/dev/null", path, args);
	free(args);
	if (!out)
		return -1;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long id;
		int node = line[0] == '\t';
		const char *h = line + node;
		size_t hl = strlen(h), k;
		uint8_t *d;

		if (sscanf(line, "Filter: tcp.stream eq %ld", &id) == 1) {
			cur = NULL;
			for (i = 0; i < n; i++)
				if (streams[i] == id && res[i].stream < 0)
					cur = &res[i];
			if (!cur)
				goto out;
			cur->stream = id;
			continue;
		}
		if (!cur || !hl || strspn(h, "0123456789abcdef") != hl)
			continue; /* headings, "Node N: addr:port", separators */
		d = realloc(cur->data[node], cur->len[node] + hl / 2 + 1);
		if (!d)
			goto out;
		cur->data[node] = d;
		for (k = 0; k + 1 < hl; k += 2)
			d[cur->len[node]++] = hexval(h[k]) << 4 | hexval(h[k + 1]);
	}
	err = 0;
	for (i = 0; i < n; i++)
		if (res[i].stream < 0)
			err = -1;
out:
	free(out);
	return err;
}

/*
 * Creates the directory @dir (a mkdtemp template, rewritten in place), opens
 * @dir/out.pcapng (name in @path) as *@f with a pcapng writer *@w and one
 * interface; returns the interface id, or -1 on failure.
 */
static inline int test_capture_open(char *dir, char *path, size_t path_size, FILE **f,
				    struct pcapng_writer **w)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, path_size, "%s/out.pcapng", dir);
	*f = fopen(path, "w");
	if (!*f)
		return -1;
	*w = pcapng_writer__new(*f, NULL, NULL);
	if (!*w)
		return -1;
	return pcapng_writer__add_interface(*w, "tlspcap", "synthetic TCP");
}

/* Removes what test_capture_open() created (the writer and file already closed). */
static inline void test_capture_remove(const char *dir, const char *path)
{
	unlink(path);
	rmdir(dir);
}

/* @len bytes of a deterministic pseudo-random pattern (an LCG seeded with @seed). */
static inline uint8_t *test_pattern(size_t len, uint32_t seed)
{
	uint8_t *p = malloc(len);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = seed >> 16;
	}
	return p;
}

/* No expert warnings or errors, every checksum verified good. */
static inline void tshark_assert_clean(const char *path)
{
	char *rows = tshark_expert(path, "warn");

	assert_non_null(rows);
	if (rows[0])
		fail_msg("expert warnings:\n%s", rows);
	free(rows);
	assert_int_equal(tshark_count(path, "tcp.checksum.status==0 || ip.checksum.status==0"), 0);
}

/* TCP stream @stream carries exactly @c2s from the client and @s2c from the server. */
static inline void tshark_assert_follow(const char *path, long stream, const void *c2s,
					size_t c2s_len, const void *s2c, size_t s2c_len)
{
	struct follow_result r = {};

	assert_int_equal(tshark_follow(path, &stream, 1, &r), 0);
	assert_int_equal(r.len[0], c2s_len);
	assert_int_equal(r.len[1], s2c_len);
	assert_true(c2s_len == 0 || memcmp(r.data[0], c2s, c2s_len) == 0);
	assert_true(s2c_len == 0 || memcmp(r.data[1], s2c, s2c_len) == 0);
	follow_result__free(&r);
}

#endif /* TLSPCAP_TSHARK_HELPERS_H */
