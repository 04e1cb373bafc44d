// SPDX-License-Identifier: MIT
/*
 * Values inside text: key=value fields (query strings, forms, command lines),
 * JSON members, header values and URLs.  Shared by every text protocol.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact_proto.h"

enum field_state {
	F_KEY,          /* in or between unquoted keys */
	F_QKEY,         /* inside a quoted string that may be a key */
	F_AFTER_QKEY,   /* after it: a ':' makes it a JSON member name */
	F_JSON_VALUE,   /* after "key": of a sensitive member */
	F_VALUE,        /* a sensitive key=value value */
	F_JSON_STRING,  /* a sensitive member's string */
	F_JSON_NUMBER,
	F_JSON_NESTED,  /* a sensitive member's object or array: every scalar */
	F_AFTER_KEY,    /* spaces after a sensitive key in a document */
	F_XML_ATTRS,    /* a sensitive element's attributes, up to '>' */
	F_XML_VALUE,    /* its text, up to '<' */
	F_XML_MARKUP,   /* after a '<' in it: a tag ends the value, "<!" is CDATA */
	F_XML_CDATA,    /* <![CDATA[...]]>: all of it, to "]]>" */
	F_LINE_VALUE,   /* a "key: value" line's value, up to the line's end */
	F_YAML_HEAD,    /* "key: |" or "key: >": the rest of that line */
	F_YAML_BLOCK,   /* the block scalar: the lines deeper than the key's */
};

static bool is_key_char(uint8_t c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.' || c == '[' || c == ']' || c == '%';
}

/* Where a key=value value ends. */
static bool ends_value(uint8_t c)
{
	return c == '&' || c == ';' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '#' ||
	       c == ',' || isspace(c);
}

void redact_fields__reset(struct redact_fields *f, bool document)
{
	memset(f, 0, sizeof(*f));
	f->document = document;
}

static void key_add(struct redact_fields *f, uint8_t c)
{
	if (f->key_len < sizeof(f->key))
		f->key[f->key_len++] = (char)c;
	else
		f->key_long = true;
}

static void key_clear(struct redact_fields *f)
{
	f->key_len = 0;
	f->key_long = false;
	f->tag = false;
}

/* Back to looking for a key, the last one forgotten. */
static void to_key(struct redact_fields *f)
{
	key_clear(f);
	f->state = F_KEY;
}

static bool key_sensitive(struct redact_fields *f, struct redact_ctx *ctx)
{
	return f->key_len && !f->key_long && redact_policy__is_field(ctx->policy, f->key, f->key_len);
}

/* The value of a syntax the scanner does not parse: counted when it has a byte. */
static void start_unsure(struct redact_fields *f, enum field_state state, const char *syntax)
{
	f->state = state;
	f->unsure = syntax;
	f->run = 0;
	f->escaped = false;
}

static void mark(struct redact_fields *f, struct redact_ctx *ctx, uint8_t *buf, size_t i, uint8_t *mask)
{
	char label[REDACT_KEY_MAX + 16];

	if (f->unsure) {
		snprintf(label, sizeof(label), "%.*s in %s", f->key_len, f->key, f->unsure);
		redact_ctx__count(ctx, label, strlen(label));
		f->unsure = NULL;
	}
	buf[i] = redact_marker(f->run++);
	if (mask)
		mask[i] = 1;
}

/* JSON numbers stay numbers: every digit becomes 9. */
static void mark_digit(uint8_t *buf, size_t i, uint8_t *mask)
{
	buf[i] = '9';
	if (mask)
		mask[i] = 1;
}

static void start_value(struct redact_fields *f, struct redact_ctx *ctx, enum field_state state)
{
	redact_ctx__count(ctx, f->key, f->key_len);
	f->state = state;
	f->run = 0;
	f->escaped = false;
	f->in_string = false;
	f->depth = 0;
}

void redact_fields__scan(struct redact_fields *f, struct redact_ctx *ctx, uint8_t *buf, size_t len,
			 uint8_t *mask)
{
	size_t i, tracked = 0;

	for (i = 0; i < len; i++) {
		uint8_t c = buf[i];

		if (i >= tracked) {
			/* where lines start and how deep (YAML), once a byte however often it is handed on */
			tracked = i + 1;
			f->lead = f->line_start;
			if (c == '\n') {
				f->line_start = true;
				f->indent = 0;
			} else if (f->line_start && c == ' ') {
				f->indent++;
			} else if (c != '\r') {
				f->line_start = false;
			}
		}
		switch (f->state) {
		case F_KEY:
			if (is_key_char(c)) {
				key_add(f, c);
			} else if (c == '=' && key_sensitive(f, ctx)) {
				start_value(f, ctx, F_VALUE);
			} else if (c == '"') {
				key_clear(f);
				f->state = F_QKEY;
			} else if (f->document && c == '<') {
				key_clear(f);
				f->tag = true;
			} else if (f->document && c == ':' && f->tag && !key_sensitive(f, ctx)) {
				f->key_len = 0; /* <ns:name>: the name after the prefix */
			} else if (f->document && (c == ':' || c == '>' || c == ' ' || c == '\t') &&
				   key_sensitive(f, ctx)) {
				f->state = F_AFTER_KEY;
				i--;
			} else {
				key_clear(f);
			}
			break;
		case F_AFTER_KEY:
			if (f->tag) {
				f->prev = 0;
				f->state = F_XML_ATTRS;
				i--;
			} else if (c == ':' || c == '=') {
				start_unsure(f, F_LINE_VALUE, "text");
			} else if (c != ' ' && c != '\t') {
				to_key(f);
				i--;
			}
			break;
		case F_XML_ATTRS:
			if (c == '>' && f->prev != '/') {
				start_unsure(f, F_XML_VALUE, "xml");
			} else if (c == '>' || c == '<') {
				to_key(f); /* <password/>: no value */
				i -= c == '<';
			}
			f->prev = c;
			break;
		case F_XML_VALUE:
			if (c == '<')
				f->state = F_XML_MARKUP;
			else
				mark(f, ctx, buf, i, mask);
			break;
		case F_XML_MARKUP:
			if (c == '!') {
				f->state = F_XML_CDATA;
				f->markup = 0;
				f->depth = 0;
				break;
			}
			to_key(f);
			f->tag = true; /* the '<' opened the next tag */
			i--;
			break;
		case F_XML_CDATA:
			if (f->markup < 7 && c == "[CDATA["[f->markup]) {
				f->markup++;
				break;
			}
			f->markup = 7;
			if (c == '>' && f->depth >= 2) {
				/* its "]]" went with the rest: a password may hold them */
				to_key(f);
				break;
			}
			f->depth = c == ']' ? f->depth + 1 : 0;
			mark(f, ctx, buf, i, mask);
			break;
		case F_LINE_VALUE:
			if (c == '\r' || c == '\n') {
				to_key(f);
			} else if (!f->run && (c == ' ' || c == '\t')) {
				break;
			} else if (!f->run && (c == '"' || c == '\'')) {
				f->quote = c; /* key: "quoted": the string only */
				f->state = F_JSON_STRING;
			} else if (!f->run && (c == '|' || c == '>')) {
				f->key_indent = f->indent; /* a block scalar (a PEM key...) follows */
				f->state = F_YAML_HEAD;
			} else {
				mark(f, ctx, buf, i, mask);
			}
			break;
		case F_YAML_HEAD:
			if (c == '\n')
				f->state = F_YAML_BLOCK;
			else if (!strchr("-+0123456789 \t\r", c))
				mark(f, ctx, buf, i, mask); /* no block indicator: fail closed */
			break;
		case F_YAML_BLOCK:
			if (c == '\n' || c == '\r' || (f->lead && c == ' '))
				break;
			if (f->lead && f->indent <= f->key_indent) {
				to_key(f); /* a line no deeper than the key's: the block ended */
				i--;
				break;
			}
			mark(f, ctx, buf, i, mask);
			break;
		case F_QKEY:
			if (f->escaped)
				f->escaped = false;
			else if (c == '\\')
				f->escaped = true;
			else if (c == '"')
				f->state = F_AFTER_QKEY;
			else
				key_add(f, c);
			break;
		case F_AFTER_QKEY:
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
				break;
			if ((c == ':' || c == '=') && key_sensitive(f, ctx)) {
				start_value(f, ctx, F_JSON_VALUE);
				break;
			}
			to_key(f);
			i--; /* this byte may start the next key */
			break;
		case F_JSON_VALUE:
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
				break;
			if (c == '"') {
				f->quote = c;
				f->state = F_JSON_STRING;
			} else if (c == '-' || isdigit(c)) {
				f->state = F_JSON_NUMBER;
				i--;
			} else if (c == '{' || c == '[') {
				f->state = F_JSON_NESTED;
				f->depth = 1;
			} else {
				/* true, false, null, or an unquoted value (key="..." forms) */
				f->state = c == 't' || c == 'f' || c == 'n' ? F_KEY : F_VALUE;
				key_clear(f);
				i--;
			}
			break;
		case F_VALUE:
			if (!f->run && (c == '"' || c == '\'')) {
				f->quote = c; /* key="quoted value", conninfo's key='value' */
				f->state = F_JSON_STRING;
			} else if (ends_value(c)) {
				to_key(f);
				i--;
			} else {
				mark(f, ctx, buf, i, mask);
			}
			break;
		case F_JSON_STRING:
			if (!f->escaped && c == f->quote) {
				to_key(f);
				break;
			}
			f->escaped = !f->escaped && c == '\\';
			mark(f, ctx, buf, i, mask);
			break;
		case F_JSON_NUMBER:
			if (isdigit(c)) {
				mark_digit(buf, i, mask);
			} else if (!(c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) {
				to_key(f);
				i--;
			}
			break;
		case F_JSON_NESTED:
			if (f->in_string) {
				if (!f->escaped && c == '"') {
					f->in_string = false;
					break;
				}
				f->escaped = !f->escaped && c == '\\';
				mark(f, ctx, buf, i, mask);
			} else if (c == '"') {
				f->in_string = true;
				f->run = 0;
			} else if (c == '{' || c == '[') {
				f->depth++;
			} else if (c == '}' || c == ']') {
				if (--f->depth == 0) {
					to_key(f);
				}
			} else if (isdigit(c)) {
				mark_digit(buf, i, mask);
			}
			break;
		}
	}
}

static size_t skip_spaces(const uint8_t *v, size_t i, size_t len)
{
	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	return i;
}

/* "a=1; b=2": every value (@all) or the first one only (Set-Cookie: then attributes). */
static unsigned int redact_cookies(struct redact_ctx *ctx, uint8_t *v, size_t len, uint8_t *mask,
				   bool all)
{
	unsigned int n = 0;
	size_t i = 0, name, eq, end;

	while (i < len) {
		i = skip_spaces(v, i, len);
		name = i;
		while (i < len && v[i] != '=' && v[i] != ';')
			i++;
		eq = i;
		while (i < len && v[i] != ';')
			i++;
		end = i;
		if (eq < end && eq + 1 < end) {
			redact_ctx__count(ctx, "cookie", 6);
			redact_span(v, eq + 1, end, mask);
			n++;
		} else if (eq == end && end > name) {
			/* a bare value without a name: all of it */
			redact_ctx__count(ctx, "cookie", 6);
			redact_span(v, name, end, mask);
			n++;
		}
		if (!all)
			break;
		i++;
	}
	return n;
}

unsigned int redact_url_credentials(struct redact_ctx *ctx, uint8_t *v, size_t len, uint8_t *mask)
{
	const uint8_t *scheme = len > 3 ? memmem(v, len, "://", 3) : NULL;
	size_t i, start, end;

	if (scheme) {
		start = (size_t)(scheme - v) + 3;
		for (end = start; end < len && v[end] != '/' && v[end] != '?' && v[end] != '#' &&
				  v[end] != ' '; end++)
			;
		for (i = end; i > start && v[i - 1] != '@'; i--)
			;
		if (i > start) {
			/* user:password@ (password only), or a token as the user@ */
			const uint8_t *colon = memchr(v + start, ':', i - 1 - start);
			size_t from = colon ? (size_t)(colon - v) + 1 : start;

			if (from < i - 1) {
				redact_ctx__count(ctx, "url credentials", 15);
				redact_span(v, from, i - 1, mask);
				return 1;
			}
		}
	}
	return 0;
}

unsigned int redact_url(struct redact_ctx *ctx, uint8_t *v, size_t len, uint8_t *mask)
{
	unsigned int before = ctx->tally->values;
	struct redact_fields f;
	const uint8_t *q;

	redact_url_credentials(ctx, v, len, mask);
	q = memchr(v, '?', len);
	if (q) {
		redact_fields__reset(&f, false);
		redact_fields__scan(&f, ctx, (uint8_t *)q + 1, len - (size_t)(q - v) - 1,
				    mask ? mask + (q - v) + 1 : NULL);
	}
	return ctx->tally->values - before;
}

unsigned int redact_header_value(struct redact_ctx *ctx, const char *name, size_t name_len,
				 uint8_t *v, size_t len, uint8_t *mask)
{
	size_t start;

	switch (redact_policy__header_kind(ctx->policy, name, name_len)) {
	case REDACT_HEADER_NONE:
		return 0;
	case REDACT_HEADER_AUTH:
		/* keep the scheme (Basic, Bearer, ...): a single token is all secret */
		start = skip_spaces(v, 0, len);
		while (start < len && v[start] != ' ')
			start++;
		start = start < len ? skip_spaces(v, start, len) : skip_spaces(v, 0, len);
		if (start >= len)
			return 0;
		redact_ctx__count(ctx, name, name_len);
		redact_span(v, start, len, mask);
		return 1;
	case REDACT_HEADER_COOKIE:
		return redact_cookies(ctx, v, len, mask, true);
	case REDACT_HEADER_SET_COOKIE:
		return redact_cookies(ctx, v, len, mask, false);
	case REDACT_HEADER_URL:
		return redact_url(ctx, v, len, mask);
	case REDACT_HEADER_WHOLE:
		break;
	}
	start = skip_spaces(v, 0, len);
	if (start >= len)
		return 0;
	redact_ctx__count(ctx, name, name_len);
	redact_span(v, start, len, mask);
	return 1;
}

/* Text of no protocol we know: its key=value and JSON fields, both ways. */
static int text_detect(enum tcp_stream_dir dir, const uint8_t *buf, size_t len)
{
	return 1;
}

static void *text_new(void)
{
	struct redact_fields *f = calloc(2, sizeof(struct redact_fields));

	if (f) {
		redact_fields__reset(&f[0], true);
		redact_fields__reset(&f[1], true);
	}
	return f;
}

static size_t text_process(void *state, struct redact_ctx *ctx, enum tcp_stream_dir dir,
			   uint8_t *buf, size_t len, bool final)
{
	struct redact_fields *f = state;

	redact_fields__scan(&f[dir], ctx, buf, len, NULL);
	return len;
}

const struct redact_proto redact_text = {
	.detect = text_detect,
	.new = text_new,
	.free = free,
	.process = text_process,
};
