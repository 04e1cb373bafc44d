// SPDX-License-Identifier: MIT
/*
 * MySQL and MariaDB, as seen inside TLS: the client's first packet is its
 * HandshakeResponse41 (sequence 2, after the SSLRequest sent in clear).
 * Masked: the auth response in it and in COM_CHANGE_USER (a scramble is
 * credential material too), and every other packet the client sends inside
 * an exchange (sequence id > 0: an AuthSwitchResponse, caching_sha2's
 * password, ed25519's signature), unless the server asked for a LOCAL
 * INFILE's file once authenticated.  The SQL of COM_QUERY and
 * COM_STMT_PREPARE goes through redact_sql (IDENTIFIED BY '...', SET
 * PASSWORD = ...).  Packets are 3 bytes of length, one of sequence id, the
 * payload; one of 16 MiB - 1 goes on in the next.  Whatever does not parse,
 * and a compressed protocol, lose the direction: fail closed.
 */
#include <stdlib.h>
#include <string.h>

#include "redact_proto.h"

#define HEADER 4
#define CONTINUED 0xffffffu       /* a payload this long goes on in the next packet */
#define AUTH_LIMIT (64u << 10)    /* a handshake response or COM_CHANGE_USER, attributes and all */
#define QUERY_LIMIT (256u << 10)  /* held whole below the stage's limit */

enum {
	CLIENT_COMPRESS = 1u << 5,
	CLIENT_PROTOCOL_41 = 1u << 9,
	CLIENT_SSL = 1u << 11,
	CLIENT_SECURE_CONNECTION = 1u << 15,
	CLIENT_PLUGIN_AUTH_LENENC = 1u << 21,
	CLIENT_ZSTD_COMPRESSION = 1u << 26,
	CLIENT_QUERY_ATTRIBUTES = 1u << 27,
};

enum {
	COM_QUERY = 0x03,
	COM_CHANGE_USER = 0x11,
	COM_STMT_PREPARE = 0x16,
};

enum {
	REPLY_OK = 0x00,
	REPLY_LOCAL_INFILE = 0xfb,
	REPLY_ERR = 0xff,
};

struct my_half {
	bool started;        /* past the handshake response (client) */
	bool continued;      /* the packet before was CONTINUED long: this one goes on with it */
	uint64_t skip;       /* payload bytes of a packet that passes */
	struct redact_opaque opaque; /* those bytes, and those of its continuations, are masked */
};

struct my {
	struct my_half half[2];
	uint32_t caps;       /* the client's capabilities */
	bool auth;           /* authenticating (until the server's OK or ERR) */
	bool infile;         /* the server asked for a file: the client's packets are its content */
};

static uint32_t le24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static uint32_t le32(const uint8_t *p)
{
	return le24(p) | (uint32_t)p[3] << 24;
}

static int my_detect(enum tcp_stream_dir dir, const uint8_t *buf, size_t len)
{
	bool client = dir == TCP_STREAM_CLIENT_TO_SERVER;
	uint32_t plen, want = CLIENT_PROTOCOL_41 | CLIENT_SSL;
	size_t i;

	/* under 64 KiB; the sequence id after the SSLRequest (1): 2, the server's answer 3 */
	if ((len > 2 && buf[2]) || (len > 3 && buf[3] != (client ? 2 : 3)))
		return 0;
	if (len < (client ? HEADER + 32 : HEADER + 1))
		return -1;
	plen = le24(buf);
	if (!client)
		return (buf[4] == REPLY_OK && plen >= 7) || (buf[4] == REPLY_ERR && plen >= 9) ||
		       buf[4] == 0xfe || buf[4] == 0x01; /* AuthSwitchRequest, AuthMoreData */
	/* capabilities, max packet size, character set, 23 bytes of filler (MariaDB's last 4 its own) */
	if (plen < 34 || (le32(buf + HEADER) & want) != want)
		return 0;
	for (i = HEADER + 9; i < HEADER + 28; i++)
		if (buf[i])
			return 0;
	return 1;
}

/* Compressed packets carry other packets inside: this module reads none of them. */
static bool my_compressed(const struct my *my)
{
	return my->caps & (CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION);
}

static void *my_new(void)
{
	struct my *my = calloc(1, sizeof(struct my));

	if (my)
		my->auth = true;
	return my;
}

/* A length-encoded integer at *@i of @p[@n]; false when it does not fit or is none. */
static bool lenenc(const uint8_t *p, size_t n, size_t *i, uint64_t *v)
{
	size_t bytes, k;

	if (*i >= n)
		return false;
	if (p[*i] < 0xfb) {
		*v = p[(*i)++];
		return true;
	}
	bytes = p[*i] == 0xfc ? 2 : p[*i] == 0xfd ? 3 : p[*i] == 0xfe ? 8 : 0;
	if (!bytes || n - *i < 1 + bytes)
		return false;
	for (*v = 0, k = bytes; k; k--)
		*v = *v << 8 | p[*i + k];
	*i += 1 + bytes;
	return true;
}

/*
 * The auth response at *@i of a payload, in the form @caps give it
 * (length-encoded, one byte of length, or NUL-terminated): masked.  False
 * when it does not fit in the payload.
 */
static bool auth_response(struct redact_ctx *ctx, uint32_t caps, uint8_t *p, size_t n, size_t i)
{
	const uint8_t *nul;
	uint64_t alen;

	if (caps & CLIENT_PLUGIN_AUTH_LENENC) {
		if (!lenenc(p, n, &i, &alen))
			return false;
	} else if (caps & CLIENT_SECURE_CONNECTION) {
		if (i >= n)
			return false;
		alen = p[i++];
	} else {
		nul = memchr(p + i, '\0', n - i);
		if (!nul)
			return false;
		alen = (size_t)(nul - p) - i;
	}
	if (alen > n - i)
		return false;
	if (alen) {
		redact_ctx__count(ctx, "mysql auth data", 15);
		redact_span(p, i, i + alen, NULL);
	}
	return true;
}

/* HandshakeResponse41: capabilities, max size, charset, filler, user, auth response. */
static bool my_handshake(struct my *my, struct redact_ctx *ctx, uint8_t *p, size_t n)
{
	const uint8_t *nul = n > 32 ? memchr(p + 32, '\0', n - 32) : NULL;

	if (!nul)
		return false;
	my->caps = le32(p);
	return auth_response(ctx, my->caps, p, n, (size_t)(nul - p) + 1);
}

/* COM_CHANGE_USER: command, user, auth response (never length-encoded). */
static bool my_change_user(struct my *my, struct redact_ctx *ctx, uint8_t *p, size_t n)
{
	const uint8_t *nul = memchr(p + 1, '\0', n - 1);

	return nul && auth_response(ctx, my->caps & ~CLIENT_PLUGIN_AUTH_LENENC, p, n,
				    (size_t)(nul - p) + 1);
}

/* COM_QUERY (after its query attributes, when the client sends them), COM_STMT_PREPARE. */
static void my_query(struct my *my, struct redact_ctx *ctx, uint8_t *p, size_t n)
{
	uint64_t params = 0, sets;
	size_t i = 1;

	if (p[0] == COM_QUERY && (my->caps & CLIENT_QUERY_ATTRIBUTES) &&
	    (!lenenc(p, n, &i, &params) || !lenenc(p, n, &i, &sets) || params)) {
		/* attribute values before the SQL: not read, so all of it goes */
		redact_ctx__count(ctx, "mysql query attributes", 22);
		redact_span(p, 1, n, NULL);
		return;
	}
	redact_sql(ctx, p + i, n - i, REDACT_SQL_MYSQL);
}

/* The payload of the packet whose header was just taken passes (masked, with an opaque set). */
static void my_pass(struct my_half *h, uint32_t plen)
{
	h->skip = plen;
	h->continued = plen == CONTINUED;
	if (!plen && !h->continued)
		memset(&h->opaque, 0, sizeof(h->opaque));
}

/* The client's packet at @p, whole (@n bytes with its header): false when it does not parse. */
static bool my_client_packet(struct my *my, struct redact_ctx *ctx, uint8_t *p, size_t n)
{
	struct my_half *h = &my->half[TCP_STREAM_CLIENT_TO_SERVER];

	if (!h->started) {
		h->started = true;
		return my_handshake(my, ctx, p + HEADER, n - HEADER);
	}
	if (p[HEADER] == COM_CHANGE_USER) {
		my->auth = true;
		return my_change_user(my, ctx, p + HEADER, n - HEADER);
	}
	my_query(my, ctx, p + HEADER, n - HEADER);
	return true;
}

/* How much of the client's packet must be here before it is taken: all of it, or its header. */
static size_t my_client_need(struct my *my, uint8_t seq, uint8_t type, uint32_t plen)
{
	struct my_half *h = &my->half[TCP_STREAM_CLIENT_TO_SERVER];

	if (!h->started || (seq == 0 && type == COM_CHANGE_USER))
		return HEADER + (size_t)plen;
	if (seq == 0 && (type == COM_QUERY || type == COM_STMT_PREPARE) && plen <= QUERY_LIMIT)
		return HEADER + (size_t)plen;
	return HEADER;
}

static size_t my_process(void *state, struct redact_ctx *ctx, enum tcp_stream_dir dir, uint8_t *buf,
			 size_t len, bool final)
{
	struct my *my = state;
	struct my_half *h = &my->half[dir];
	bool client = dir == TCP_STREAM_CLIENT_TO_SERVER;
	size_t pos = 0, need;

	while (pos < len) {
		uint8_t *p = buf + pos, seq, type;
		uint32_t plen;

		if (h->skip) {
			size_t n = len - pos < h->skip ? len - pos : (size_t)h->skip;

			if (h->opaque.why)
				redact_opaque__mask(&h->opaque, ctx, p, n);
			pos += n;
			h->skip -= n;
			if (!h->skip && !h->continued)
				memset(&h->opaque, 0, sizeof(h->opaque));
			continue;
		}
		if (len - pos < HEADER)
			break;
		plen = le24(p);
		seq = p[3];
		if (h->continued) {
			/* the rest of a long packet: treated as its start was */
			pos += HEADER;
			my_pass(h, plen);
			continue;
		}
		if (plen && len - pos < HEADER + 1)
			break;
		type = plen ? p[HEADER] : 0;
		if (!client) {
			if (my_compressed(my)) {
				redact_ctx__lose(ctx, "MySQL compressed protocol");
				return pos;
			}
			h->started = true;
			if (my->auth && (type == REPLY_OK || type == REPLY_ERR))
				my->auth = false;
			else if (!my->auth && seq == 1 && type == REPLY_LOCAL_INFILE)
				my->infile = true;
			pos += HEADER;
			my_pass(h, plen);
			continue;
		}
		if (seq == 0)
			my->infile = false; /* a command */
		if (seq && h->started && (my->auth || !my->infile)) {
			/* inside an exchange, not a file: credential material */
			h->opaque.why = "mysql auth data";
			pos += HEADER;
			my_pass(h, plen);
			continue;
		}
		need = my_client_need(my, seq, type, plen);
		if (need > HEADER && (plen == CONTINUED || plen > AUTH_LIMIT) &&
		    (!h->started || type == COM_CHANGE_USER)) {
			redact_ctx__lose(ctx, "MySQL authentication packet too long");
			return pos;
		}
		if (need == HEADER && seq == 0 && (type == COM_QUERY || type == COM_STMT_PREPARE)) {
			h->opaque.why = "mysql query too long";
			pos += HEADER + 1;
			h->skip = plen - 1;
			h->continued = plen == CONTINUED;
			continue;
		}
		if (need == HEADER) {
			pos += HEADER;
			my_pass(h, plen);
			continue;
		}
		if (len - pos < need)
			break;
		if (!my_client_packet(my, ctx, p, need)) {
			redact_ctx__lose(ctx, "MySQL authentication packet not valid");
			return pos;
		}
		pos += need;
		if (my_compressed(my)) {
			redact_ctx__lose(ctx, "MySQL compressed protocol");
			return pos;
		}
	}
	return pos;
}

/*
 * After a gap: a record of whole packets, their sequence ids in a row; the
 * client's a command (sequence 0).  Never in a compressed connection, nor
 * before the handshake response, which is parsed only where seen.
 */
static bool my_resync(void *state, enum tcp_stream_dir dir, const uint8_t *buf, size_t len)
{
	struct my *my = state;
	size_t pos = 0;
	uint32_t plen;
	int prev = -1;

	if (!my || !my->half[dir].started || len < HEADER + 1 || my_compressed(my))
		return false;
	if (dir == TCP_STREAM_CLIENT_TO_SERVER && (buf[3] || (buf[HEADER] >= 0x20 && buf[HEADER] != 0xfa)))
		return false;
	while (pos < len) {
		if (len - pos < HEADER || (prev >= 0 && buf[pos + 3] != (uint8_t)(prev + 1)))
			return false;
		plen = le24(buf + pos);
		if (plen == CONTINUED || len - pos - HEADER < plen)
			return false;
		prev = buf[pos + 3];
		pos += HEADER + plen;
	}
	memset(&my->half[dir], 0, sizeof(my->half[dir]));
	my->half[dir].started = true;
	my->infile = false;
	return true;
}

const struct redact_proto redact_mysql = {
	.detect = my_detect,
	.new = my_new,
	.free = free,
	.process = my_process,
	.resync = my_resync,
};
