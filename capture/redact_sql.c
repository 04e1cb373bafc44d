// SPDX-License-Identifier: MIT
/*
 * SQL text (a PostgreSQL query, psql -c on a command line): the string
 * literal right after a PASSWORD keyword, as in ALTER|CREATE USER|ROLE ...
 * PASSWORD '...' or a user mapping's OPTIONS (password '...'), in each of
 * its forms ('...', E'...', $$...$$, $tag$...$tag$).  Other literals,
 * quoted identifiers and comments are skipped, so a "password" inside them
 * is no keyword.  A literal left open runs to the end: fail closed.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "redact_proto.h"

/* Where the literal opened by @quote at @i ends (at its closing quote, or @len). */
static size_t quoted_end(const uint8_t *sql, size_t i, size_t len, uint8_t quote, bool backslashes)
{
	for (i++; i < len; i++) {
		if (backslashes && sql[i] == '\\')
			i++;
		else if (sql[i] == quote && i + 1 < len && sql[i + 1] == quote)
			i++; /* a doubled quote is one quote character */
		else if (sql[i] == quote)
			return i;
	}
	return len;
}

/* The length of the "$tag$" that opens a dollar-quoted literal at @i, or 0 ($1 is a parameter). */
static size_t dollar_tag(const uint8_t *sql, size_t i, size_t len)
{
	size_t j = i + 1;

	if (j < len && isdigit(sql[j]))
		return 0;
	while (j < len && (isalnum(sql[j]) || sql[j] == '_'))
		j++;
	return j < len && sql[j] == '$' ? j - i + 1 : 0;
}

static void literal(struct redact_ctx *ctx, uint8_t *sql, size_t from, size_t to, bool secret)
{
	if (secret && from < to) {
		redact_ctx__count(ctx, "sql password", 12);
		redact_span(sql, from, to, NULL);
	}
}

void redact_sql(struct redact_ctx *ctx, uint8_t *sql, size_t len)
{
	bool after_password = false, secret;
	const uint8_t *close;
	size_t i = 0, start, end, tag;

	while (i < len) {
		uint8_t c = sql[i];

		secret = after_password;
		if (!isspace(c))
			after_password = false;
		if (isalpha(c) || c == '_') {
			for (start = i; i < len && (isalnum(sql[i]) || sql[i] == '_' || sql[i] == '$'); i++)
				;
			if (i - start == 1 && (c | 0x20) == 'e' && i < len && sql[i] == '\'') {
				/* E'...': an escape string, backslashes escape */
				end = quoted_end(sql, i, len, '\'', true);
				literal(ctx, sql, i + 1, end, secret);
				i = end + 1;
				continue;
			}
			after_password = i - start == 8 && !strncasecmp((const char *)sql + start, "password", 8);
		} else if (c == '\'' || c == '"') {
			end = quoted_end(sql, i, len, c, false);
			literal(ctx, sql, i + 1, end, secret && c == '\'');
			i = end + 1;
		} else if (c == '$' && (tag = dollar_tag(sql, i, len))) {
			close = i + 2 * tag <= len ? memmem(sql + i + tag, len - i - tag, sql + i, tag) : NULL;
			end = close ? (size_t)(close - sql) : len;
			literal(ctx, sql, i + tag, end, secret);
			i = end + tag;
		} else if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
			close = memchr(sql + i, '\n', len - i);
			i = close ? (size_t)(close - sql) : len;
		} else if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
			close = i + 4 <= len ? memmem(sql + i + 2, len - i - 2, "*/", 2) : NULL;
			i = close ? (size_t)(close - sql) + 2 : len;
		} else {
			i++;
		}
	}
}
