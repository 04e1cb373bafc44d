// SPDX-License-Identifier: MIT
/*
 * SQL text (a PostgreSQL or MySQL query, psql -c or mysql -e on a command
 * line): the string literals that hold a password.
 *   PASSWORD '...'                    ALTER|CREATE USER|ROLE, OPTIONS (password '...')
 *   PASSWORD('...'), = '...'          MySQL's function, SET PASSWORD [FOR u] = ...,
 *                                     MASTER_PASSWORD = '...' (any word ending in _password)
 *   IDENTIFIED [WITH plugin] BY '...' and, in the same statement, AS '...',
 *   IDENTIFIED VIA plugin USING ...   USING PASSWORD('...'), BY PASSWORD '...'
 *   REPLACE '...'                     the current password (SET PASSWORD, ALTER USER)
 * in each literal form of the dialect: PostgreSQL's '...', E'...',
 * $$...$$, $tag$...$tag$; MySQL's '...' and "..." with backslash escapes
 * and then again without them (NO_BACKSLASH_ESCAPES), adjacent literals
 * joined.  Other literals, quoted identifiers and
 * comments are skipped, so a "password" inside them is no keyword; a
 * comment between a keyword and its literal is passed over as a space, and
 * MySQL's executable comments (/ *! ... * /) are read as SQL.  A literal left
 * open runs to the end: fail closed.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "redact_proto.h"

/* What the next literal is, by the tokens before it. */
enum arm {
	ARM_NONE,
	ARM_NEXT,       /* a secret if it comes next (only spaces between) */
	ARM_CALL,       /* a secret after "=", "(" or PASSWORD too */
	ARM_FOR,        /* SET PASSWORD FOR user@host: the user, up to "=" */
};

struct sql_scan {
	struct redact_ctx *ctx;
	uint8_t *sql;
	size_t len;
	bool mysql;
	bool backslashes;         /* MySQL's default; off in sql_mode NO_BACKSLASH_ESCAPES */
	enum arm arm;
	bool identified;          /* IDENTIFIED seen in this statement */
};

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

/* [@from, @to) holds a marker already (password='...' on a command line is a field too). */
static bool redacted(const uint8_t *v, size_t from, size_t to)
{
	size_t k;

	for (k = from; k < to; k++)
		if (v[k] != redact_marker(k - from))
			return false;
	return true;
}

/* A literal's text, [@from, @to): overwritten when the tokens before armed it. */
static void literal(struct sql_scan *s, size_t from, size_t to)
{
	bool secret = s->arm == ARM_NEXT || s->arm == ARM_CALL;

	if (secret && from < to && !redacted(s->sql, from, to)) {
		redact_ctx__count(s->ctx, "sql password", 12);
		redact_span(s->sql, from, to, NULL);
	}
	/* MySQL joins 'a' 'b' into one string: the next one is the same password */
	if (secret)
		s->arm = ARM_NEXT;
	else if (s->arm != ARM_FOR)
		s->arm = ARM_NONE;
}

/* A string literal opened by the quote at @i: returns where the scan goes on. */
static size_t string_literal(struct sql_scan *s, size_t i, bool backslashes)
{
	size_t end = quoted_end(s->sql, i, s->len, s->sql[i], backslashes);

	literal(s, i + 1, end);
	return end + 1;
}

static bool word_is(const uint8_t *w, size_t n, const char *name)
{
	return strlen(name) == n && !strncasecmp((const char *)w, name, n);
}

/* A keyword (or any word) of @n bytes at @w: what it arms. */
static void word(struct sql_scan *s, const uint8_t *w, size_t n)
{
	if (s->arm == ARM_FOR)
		return; /* the user's name */
	if (word_is(w, n, "password") || (n > 9 && !strncasecmp((const char *)w + n - 9, "_password", 9)))
		s->arm = ARM_CALL;
	else if (s->arm == ARM_CALL && word_is(w, n, "for"))
		s->arm = ARM_FOR;
	else if (s->identified && (word_is(w, n, "by") || word_is(w, n, "as") || word_is(w, n, "using")))
		s->arm = ARM_NEXT;
	else if (word_is(w, n, "replace"))
		s->arm = ARM_NEXT;
	else
		s->arm = ARM_NONE;
	if (word_is(w, n, "identified"))
		s->identified = true;
}

/* A comment at @i: its end, or @i when none starts there. */
static size_t comment_end(const struct sql_scan *s, size_t i)
{
	const uint8_t *sql = s->sql, *close;
	size_t len = s->len;

	if (sql[i] == '-' && i + 1 < len && sql[i + 1] == '-' &&
	    (!s->mysql || i + 2 == len || isspace(sql[i + 2]) || iscntrl(sql[i + 2]))) {
		/* MySQL's "--" needs a space after: 1--1 is arithmetic */
		close = memchr(sql + i, '\n', len - i);
		return close ? (size_t)(close - sql) : len;
	}
	if (sql[i] == '#' && s->mysql) {
		close = memchr(sql + i, '\n', len - i);
		return close ? (size_t)(close - sql) : len;
	}
	if (sql[i] == '/' && i + 1 < len && sql[i + 1] == '*') {
		if (s->mysql && i + 2 < len && (sql[i + 2] == '!' || (sql[i + 2] == 'M' && i + 3 < len && sql[i + 3] == '!'))) {
			/* executable: what follows the version is SQL */
			i += sql[i + 2] == '!' ? 3 : 4;
			while (i < len && isdigit(sql[i]))
				i++;
			return i;
		}
		close = i + 4 <= len ? memmem(sql + i + 2, len - i - 2, "*/", 2) : NULL;
		return close ? (size_t)(close - sql) + 2 : len;
	}
	return i;
}

static void sql_scan(struct redact_ctx *ctx, uint8_t *sql, size_t len, bool mysql, bool backslashes)
{
	struct sql_scan s = { .ctx = ctx, .sql = sql, .len = len, .mysql = mysql, .backslashes = backslashes };
	const uint8_t *close;
	size_t i = 0, start, end, tag;

	while (i < len) {
		uint8_t c = sql[i];

		if (isspace(c)) {
			i++;
		} else if ((end = comment_end(&s, i)) != i) {
			i = end; /* as a space: the arm holds */
		} else if (isalpha(c) || c == '_') {
			for (start = i; i < len && (isalnum(sql[i]) || sql[i] == '_' || sql[i] == '$'); i++)
				;
			if (i < len && sql[i] == '\'' && (c == '_' || (i - start == 1 && strchr("eEnNbBxX", c)))) {
				/* a prefix (E'...', N'...', _utf8mb4'...'): the literal keeps the arm */
				i = string_literal(&s, i, s.backslashes || (c | 0x20) == 'e');
				continue;
			}
			word(&s, sql + start, i - start);
		} else if (c == '\'' || (c == '"' && s.mysql)) {
			i = string_literal(&s, i, s.backslashes);
		} else if (c == '"' || (c == '`' && s.mysql)) {
			/* a quoted identifier */
			i = quoted_end(sql, i, len, c, false) + 1;
			if (s.arm != ARM_FOR)
				s.arm = ARM_NONE;
		} else if (c == '$' && !s.mysql && (tag = dollar_tag(sql, i, len))) {
			close = i + 2 * tag <= len ? memmem(sql + i + tag, len - i - tag, sql + i, tag) : NULL;
			end = close ? (size_t)(close - sql) : len;
			literal(&s, i + tag, end);
			i = end + tag;
		} else {
			if (c == ';')
				s.identified = false;
			if (c == '=' && (s.arm == ARM_FOR || s.arm == ARM_CALL))
				s.arm = ARM_CALL;
			else if (!(c == '(' && s.arm == ARM_CALL) && !((c == '@' || c == '.') && s.arm == ARM_FOR))
				s.arm = ARM_NONE;
			i++;
		}
	}
}

void redact_sql(struct redact_ctx *ctx, uint8_t *sql, size_t len, enum redact_sql_dialect dialect)
{
	sql_scan(ctx, sql, len, dialect == REDACT_SQL_MYSQL, dialect == REDACT_SQL_MYSQL);
	/* the server's sql_mode is not known: what is a literal without backslash
	 * escapes too ('a\' ends there); literals masked already are not counted again */
	if (dialect == REDACT_SQL_MYSQL)
		sql_scan(ctx, sql, len, true, false);
}
