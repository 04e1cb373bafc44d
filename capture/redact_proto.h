/* SPDX-License-Identifier: MIT */
/*
 * Inside the redaction stage: what the protocol modules share.  Every
 * module overwrites bytes in place and never changes a length.
 *
 *   redact.c          the stage: policy, streams, held bytes, gaps, counts
 *   redact_fields.c   key=value / JSON fields, header values, URLs (shared)
 *   redact_http1.c    HTTP/1.x messages       redact_hpack.c  HTTP/2 frames, HPACK
 *   redact_postgres.c PostgreSQL passwords    redact_redis.c  Redis AUTH and the like
 *   redact_mail.c     IMAP LOGIN/AUTHENTICATE, SMTP AUTH
 *   redact_mysql.c    MySQL/MariaDB auth data and queries
 *   redact_sql.c      SQL text: PASSWORD '...', IDENTIFIED BY '...' (queries, psql -c, mysql -e)
 *   redact_comment.c  packet comments (Args:)
 */
#ifndef TLSPCAP_REDACT_PROTO_H
#define TLSPCAP_REDACT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redact.h"

#define REDACT_TALLY_LABELS 12
#define REDACT_LABEL_MAX 32
#define REDACT_KEY_MAX 64         /* a field name longer than this is matched by nothing */

/* What was redacted in one stream, by label (header or field name). */
struct redact_tally {
	struct {
		char label[REDACT_LABEL_MAX];
		unsigned int count;
	} e[REDACT_TALLY_LABELS];
	unsigned int nr;
	unsigned int values;
	unsigned int other;       /* counted under labels that did not fit */
};

struct redact_ctx {
	const struct redact_policy *policy;
	struct redact_tally *tally;
	bool lost;                /* out: the parser lost track of this direction */
	const char *lost_why;     /* out: why, for the comment */
};

/* Counts one redacted value under @label. */
void redact_ctx__count(struct redact_ctx *ctx, const char *label, size_t len);
/* The parser cannot follow this direction any more: the stage masks the rest. */
void redact_ctx__lose(struct redact_ctx *ctx, const char *why);

/* The fill of a redacted run: "REDACTED" then 'x'. */
static inline uint8_t redact_marker(size_t k)
{
	return k < 8 ? (uint8_t)"REDACTED"[k] : 'x';
}

/* Overwrites @v[@from, @to) with the marker; flags those bytes in @mask (may be NULL). */
void redact_span(uint8_t *v, size_t from, size_t to, uint8_t *mask);

enum redact_header_kind {
	REDACT_HEADER_NONE,
	REDACT_HEADER_WHOLE,      /* the whole value */
	REDACT_HEADER_AUTH,       /* all but the scheme: "Bearer REDACTEDxxx" */
	REDACT_HEADER_COOKIE,     /* each cookie's value, names kept */
	REDACT_HEADER_SET_COOKIE, /* the cookie's value, attributes kept */
	REDACT_HEADER_URL,        /* URL credentials and sensitive query fields */
};

enum redact_header_kind redact_policy__header_kind(const struct redact_policy *p, const char *name,
						   size_t len);
bool redact_policy__is_field(const struct redact_policy *p, const char *key, size_t len);

/* A whole header value, by its name's kind; returns the values redacted. */
unsigned int redact_header_value(struct redact_ctx *ctx, const char *name, size_t name_len,
				 uint8_t *v, size_t len, uint8_t *mask);
/* The password (or token) in the userinfo of an absolute URL. */
unsigned int redact_url_credentials(struct redact_ctx *ctx, uint8_t *v, size_t len, uint8_t *mask);
/* That, and the sensitive fields of the URL's query. */
unsigned int redact_url(struct redact_ctx *ctx, uint8_t *v, size_t len, uint8_t *mask);

/*
 * Streaming scanner of key=value (query, form, command line) and JSON
 * ("key": value) fields: a value whose key the policy names is overwritten
 * as it passes, whatever the pieces it arrives in.  In a document (a body,
 * a text stream: any type, as nothing says which) also XML elements
 * (<key>value<) and "key: value" / "key = value" lines (YAML, INI), whose
 * values are counted as "KEY in xml" / "KEY in text": fail closed, the
 * scanner does not parse those.
 */
struct redact_fields {
	char key[REDACT_KEY_MAX];
	uint8_t key_len;
	bool key_long;            /* longer than the buffer: no field name we know */
	bool document;
	bool tag;                 /* the key is an XML element's name */
	bool escaped;
	bool in_string;
	uint8_t quote;            /* that closes the current string */
	uint8_t prev;             /* the byte before, inside an XML tag */
	uint8_t markup;           /* bytes of a CDATA section's "[CDATA[" passed */
	bool line_start, lead;    /* only spaces since the line began (before this byte) */
	uint32_t indent;          /* the spaces that begin the current line */
	uint32_t key_indent;      /* those of a YAML block scalar's key */
	uint8_t state;
	const char *unsure;       /* "xml", "text": count the value as found, when it starts */
	uint32_t depth;
	size_t run;               /* position in the current redacted run */
};

/* @document: a body or a text stream, not a query or a command line. */
void redact_fields__reset(struct redact_fields *f, bool document);
void redact_fields__scan(struct redact_fields *f, struct redact_ctx *ctx, uint8_t *buf, size_t len,
			 uint8_t *mask);

/*
 * A protocol: detect() says whether one direction's first bytes are this
 * protocol (1), are not (0), or are too few to tell (-1).  process() redacts
 * @buf in place and returns how many bytes at its front are final; the rest
 * are offered again with more (with @final, all must be taken).  resync()
 * (optional) says whether a record that starts with @buf starts a message,
 * so a direction masked after a gap can be followed again from there.
 */
struct redact_proto {
	int (*detect)(enum tcp_stream_dir dir, const uint8_t *buf, size_t len);
	void *(*new)(void);
	void (*free)(void *state);
	size_t (*process)(void *state, struct redact_ctx *ctx, enum tcp_stream_dir dir, uint8_t *buf,
			  size_t len, bool final);
	bool (*resync)(void *state, enum tcp_stream_dir dir, const uint8_t *buf, size_t len);
};

extern const struct redact_proto redact_http1;
extern const struct redact_proto redact_http2;
extern const struct redact_proto redact_postgres;
extern const struct redact_proto redact_redis;
extern const struct redact_proto redact_mail;
extern const struct redact_proto redact_mysql;
extern const struct redact_proto redact_text;

/* The secrets of a packet comment's "Args:" line, overwritten in place; returns how many. */
unsigned int redact_comment(const struct redact_policy *policy, struct redact_tally *tally, char *text);

enum redact_sql_dialect {
	REDACT_SQL_POSTGRES,      /* '...' without escapes, E'...', $$...$$, "identifier" */
	REDACT_SQL_MYSQL,         /* '...' and "..." with backslash escapes, `identifier`, # comments */
};

/* SQL text: the literals that hold passwords (redact_sql.c), overwritten in place. */
void redact_sql(struct redact_ctx *ctx, uint8_t *sql, size_t len, enum redact_sql_dialect dialect);

/* A Redis command given as words (an inline command, redis-cli's arguments). */
void redact_redis_command(struct redact_ctx *ctx, uint8_t *line, size_t len);

#define REDACT_LINE_MAX (64u << 10)

/*
 * The number (base 10 or 16) at @p after spaces and tabs, within @len bytes
 * (the buffers held are not NUL-terminated); @digits (may be NULL) gets how
 * many digits it had.  Saturates instead of overflowing.
 */
uint64_t redact_number(const uint8_t *p, size_t len, unsigned int base, size_t *digits);

/* A header value equal to @want, ignoring case and surrounding white space. */
bool redact_value_is(const uint8_t *v, size_t len, const char *want);

/*
 * A body whose fields the scanner cannot read (compressed, multipart with
 * headers of its own): fail closed, all of it is masked, counted once under
 * @why, with one marker run whatever pieces it comes in.
 */
struct redact_opaque {
	const char *why;          /* NULL: the body is scanned */
	bool counted;
	size_t run;
};

void redact_opaque__mask(struct redact_opaque *o, struct redact_ctx *ctx, uint8_t *buf, size_t len);

/* Shared by the line protocols: the length of the line at @buf with its LF, 0 if none yet. */
size_t redact_line_length(const uint8_t *buf, size_t len);
/*
 * The next whole line, as redact_line_length; 0 while it is not all here, or
 * (ctx->lost, @why) when it cannot be: longer than REDACT_LINE_MAX, or @final.
 */
size_t redact_next_line(struct redact_ctx *ctx, const uint8_t *buf, size_t len, bool final,
			const char *why);

#endif /* TLSPCAP_REDACT_PROTO_H */
