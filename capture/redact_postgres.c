// SPDX-License-Identifier: MIT
/*
 * PostgreSQL: the client's password messages ('p'): a cleartext or MD5
 * password, a SASL (SCRAM) response or a GSSAPI token, as the server's last
 * authentication request says it is; and the SQL of simple queries ('Q')
 * and Parse messages ('P'), for ALTER USER ... PASSWORD '...' (redact_sql).
 * A query too long to take whole is masked whole: fail closed.  Everything
 * else passes.
 */
#include <stdlib.h>
#include <string.h>

#include "redact_proto.h"

#define PROTOCOL_3 196608u
#define MESSAGE_LIMIT (1u << 20)
#define QUERY_LIMIT (256u << 10) /* held whole below the stage's limit */

enum {
	AUTH_CLEARTEXT = 3,
	AUTH_MD5 = 5,
	AUTH_SASL = 10,
	AUTH_SASL_CONTINUE = 11,
};

struct pg_half {
	bool started;        /* past the startup message (client) */
	uint64_t skip;       /* bytes of a message that passes */
	struct redact_opaque opaque; /* those bytes are masked (a query too long) */
};

struct pg {
	struct pg_half half[2];
	uint32_t auth;       /* the server's last authentication request */
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int pg_detect(enum tcp_stream_dir dir, const uint8_t *buf, size_t len)
{
	if (dir == TCP_STREAM_SERVER_TO_CLIENT) {
		/* an authentication request: 'R', length, code 0..12 */
		if (len && buf[0] != 'R')
			return 0;
		if (len < 9)
			return -1;
		return be32(buf + 1) >= 8 && be32(buf + 1) < 4096 && be32(buf + 5) <= 12;
	}
	/* the startup message: length, protocol 3.0 */
	if (len && buf[0])
		return 0;
	if (len < 8)
		return -1;
	return be32(buf) >= 8 && be32(buf) < 10000 && be32(buf + 4) == PROTOCOL_3;
}

static void *pg_new(void)
{
	return calloc(1, sizeof(struct pg));
}

/* A whole password message: what the server asked for decides its shape. */
static void pg_password(struct pg *pg, struct redact_ctx *ctx, uint8_t *body, size_t len)
{
	const uint8_t *nul;
	size_t from = 0, to = len;

	if (!len)
		return;
	if (pg->auth == AUTH_SASL) {
		/* SASLInitialResponse: mechanism name, int32 length, data */
		nul = memchr(body, '\0', len);
		if (nul && (size_t)(nul - body) + 5 <= len)
			from = (size_t)(nul - body) + 5;
	} else if (pg->auth != AUTH_SASL_CONTINUE && body[len - 1] == '\0') {
		to = len - 1; /* a password string keeps its terminator */
	}
	if (from < to) {
		redact_ctx__count(ctx, "postgresql password", 19);
		redact_span(body, from, to, NULL);
	}
}

/* A simple query's SQL, or a Parse message's: after the statement name. */
static void pg_query(struct redact_ctx *ctx, uint8_t type, uint8_t *body, size_t len)
{
	uint8_t *sql = body, *end;

	if (type == 'P') {
		end = memchr(body, '\0', len);
		if (!end)
			return;
		sql = end + 1;
	}
	end = memchr(sql, '\0', len - (size_t)(sql - body));
	redact_sql(ctx, sql, end ? (size_t)(end - sql) : len - (size_t)(sql - body),
		   REDACT_SQL_POSTGRES);
}

static size_t pg_process(void *state, struct redact_ctx *ctx, enum tcp_stream_dir dir, uint8_t *buf,
			 size_t len, bool final)
{
	struct pg *pg = state;
	struct pg_half *h = &pg->half[dir];
	bool client = dir == TCP_STREAM_CLIENT_TO_SERVER;
	size_t pos = 0;

	while (pos < len) {
		uint32_t mlen;
		uint8_t type;

		if (h->skip) {
			size_t n = len - pos < h->skip ? len - pos : (size_t)h->skip;

			if (h->opaque.why)
				redact_opaque__mask(&h->opaque, ctx, buf + pos, n);
			pos += n;
			h->skip -= n;
			if (!h->skip)
				memset(&h->opaque, 0, sizeof(h->opaque));
			continue;
		}
		if (client && !h->started) {
			/* startup, SSL or cancel request: length first, no type byte */
			if (len - pos < 4)
				break;
			h->started = true;
			h->skip = be32(buf + pos);
			continue;
		}
		if (len - pos < 5)
			break;
		type = buf[pos];
		mlen = be32(buf + pos + 1);
		if (mlen < 4) {
			redact_ctx__lose(ctx, "PostgreSQL message length not valid");
			return pos;
		}
		if ((client && type == 'p') || (!client && type == 'R')) {
			/* taken whole: small, and its shape decides what goes */
			if (mlen > MESSAGE_LIMIT) {
				redact_ctx__lose(ctx, "PostgreSQL password message too long");
				return pos;
			}
			if (len - pos < 1 + (size_t)mlen)
				break;
			if (client)
				pg_password(pg, ctx, buf + pos + 5, mlen - 4);
			else if (mlen >= 8)
				pg->auth = be32(buf + pos + 5);
			pos += 1 + (size_t)mlen;
			continue;
		}
		if (client && (type == 'Q' || type == 'P') && mlen <= QUERY_LIMIT) {
			if (len - pos < 1 + (size_t)mlen)
				break;
			pg_query(ctx, type, buf + pos + 5, mlen - 4);
			pos += 1 + (size_t)mlen;
			continue;
		}
		if (client && (type == 'Q' || type == 'P')) {
			h->opaque.why = "postgresql query too long";
			pos += 5;
			h->skip = mlen - 4;
			continue;
		}
		h->skip = 1 + (uint64_t)mlen;
	}
	return pos;
}

const struct redact_proto redact_postgres = {
	.detect = pg_detect,
	.new = pg_new,
	.free = free,
	.process = pg_process,
};
