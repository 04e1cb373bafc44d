// SPDX-License-Identifier: MIT
/*
 * HTTP/1.x: the request target (URL credentials, query fields), the values
 * of sensitive headers (and trailers), and the fields of bodies, de-chunked,
 * whatever their content type says (a body is scanned as form and as JSON).
 * A body the scanner cannot read (compressed, or multipart with its own
 * headers) is masked whole: fail closed.  Lines are taken whole; bodies
 * stream through.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact_proto.h"

#define METHODS_QUEUED 64

enum h1_state {
	H1_START,       /* request or status line */
	H1_HEADERS,
	H1_BODY,        /* Content-Length bytes */
	H1_CHUNK_SIZE,
	H1_CHUNK_DATA,
	H1_CHUNK_END,   /* the CRLF after a chunk */
	H1_TRAILERS,
	H1_TO_CLOSE,    /* a response body that ends with the connection */
};

struct h1_half {
	enum h1_state state;
	uint64_t remaining;
	bool chunked, has_length;
	bool previous_sensitive; /* obsolete line folding continues the value */
	bool head;               /* response to HEAD: no body */
	struct redact_opaque opaque; /* a body masked whole */
	int status;
	struct redact_fields body;
};

struct h1 {
	struct h1_half half[2];
	/* requests waiting for their response: was each a HEAD? */
	bool head[METHODS_QUEUED];
	unsigned int head_in, head_out;
};

static const char *const methods[] = { "GET",   "POST",    "PUT",     "DELETE", "HEAD",
				       "PATCH", "OPTIONS", "CONNECT", "TRACE",  "PROPFIND" };

/* Length of the method at @buf followed by a space, or 0. */
static size_t method_length(const uint8_t *buf, size_t len)
{
	size_t i, n;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		n = strlen(methods[i]);
		if (len > n && !memcmp(buf, methods[i], n) && buf[n] == ' ')
			return n;
	}
	return 0;
}

static int h1_detect(enum tcp_stream_dir dir, const uint8_t *buf, size_t len)
{
	static const char status[] = "HTTP/1.";
	size_t n = len < 9 ? len : 9, i;

	if (dir == TCP_STREAM_SERVER_TO_CLIENT)
		return len < sizeof(status) - 1 ? (memcmp(buf, status, len) ? 0 : -1)
						: !memcmp(buf, status, sizeof(status) - 1);
	if (method_length(buf, len))
		return 1;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (n <= strlen(methods[i]) && !memcmp(buf, methods[i], n))
			return -1;
	return 0;
}

/* "METHOD target HTTP/1.x" or "HTTP/1.x NNN": a whole first line of a message. */
static bool starts_message(enum tcp_stream_dir dir, const uint8_t *buf, size_t len)
{
	size_t line = redact_line_length(buf, len), m;

	if (!line)
		return false;
	if (dir == TCP_STREAM_SERVER_TO_CLIENT)
		return line >= 12 && !memcmp(buf, "HTTP/1.", 7) && buf[8] == ' ' && isdigit(buf[9]);
	m = method_length(buf, line);
	return m && line > 10 && memmem(buf + m, line - m, " HTTP/1.", 8);
}

static void *h1_new(void)
{
	return calloc(1, sizeof(struct h1));
}

static bool h1_resync(void *state, enum tcp_stream_dir dir, const uint8_t *buf, size_t len)
{
	struct h1 *h = state;

	if (!starts_message(dir, buf, len))
		return false;
	if (h) {
		memset(&h->half[dir], 0, sizeof(h->half[dir]));
		h->head_in = h->head_out = 0; /* which response answers which request is lost */
	}
	return true;
}

static bool header_is(const uint8_t *line, size_t name_len, const char *name)
{
	return strlen(name) == name_len && !strncasecmp((const char *)line, name, name_len);
}

static void request_line(struct h1 *h, struct redact_ctx *ctx, uint8_t *line, size_t len)
{
	uint8_t *target = memchr(line, ' ', len), *end;

	h->head[h->head_in % METHODS_QUEUED] = len > 5 && !memcmp(line, "HEAD ", 5);
	if (h->head_in - h->head_out < METHODS_QUEUED)
		h->head_in++;
	if (!target)
		return;
	target++;
	end = memchr(target, ' ', len - (size_t)(target - line));
	redact_url(ctx, target, end ? (size_t)(end - target) : len - (size_t)(target - line), NULL);
}

static void status_line(struct h1 *h, struct h1_half *hh, const uint8_t *line, size_t len)
{
	hh->status = len >= 12 ? (int)redact_number(line + 9, 3, 10, NULL) : 0;
	hh->head = false;
	if (hh->status >= 200 && h->head_out != h->head_in)
		hh->head = h->head[h->head_out++ % METHODS_QUEUED];
}

static void header_line(struct h1_half *hh, struct redact_ctx *ctx, uint8_t *line, size_t len)
{
	uint8_t *colon;
	size_t name_len, start, end = len;

	while (end && (line[end - 1] == '\n' || line[end - 1] == '\r'))
		end--;
	if (line[0] == ' ' || line[0] == '\t') {
		if (hh->previous_sensitive && end)
			redact_span(line, 0, end, NULL);
		return;
	}
	colon = memchr(line, ':', end);
	if (!colon) {
		/* not a header: it may still be a secret */
		if (end) {
			redact_ctx__count(ctx, "malformed header", 16);
			redact_span(line, 0, end, NULL);
		}
		return;
	}
	name_len = (size_t)(colon - line);
	start = name_len + 1;
	if (header_is(line, name_len, "content-length")) {
		hh->has_length = true;
		hh->remaining = redact_number(line + start, end - start, 10, NULL);
	} else if (header_is(line, name_len, "transfer-encoding")) {
		hh->chunked = memmem(line + start, end - start, "chunked", 7) != NULL;
	} else if (header_is(line, name_len, "content-encoding")) {
		if (!redact_value_is(line + start, end - start, "identity"))
			hh->opaque.why = "compressed body";
	} else if (header_is(line, name_len, "content-type")) {
		if (memmem(line + start, end - start, "multipart/", 10))
			hh->opaque.why = "multipart body";
	}
	hh->previous_sensitive = redact_header_value(ctx, (const char *)line, name_len, line + start,
						     end - start, NULL) > 0 ||
				 redact_policy__header_kind(ctx->policy, (const char *)line, name_len) !=
					 REDACT_HEADER_NONE;
}

static void body_start(struct h1_half *hh, enum tcp_stream_dir dir)
{
	bool response = dir == TCP_STREAM_SERVER_TO_CLIENT;

	redact_fields__reset(&hh->body, true);
	if (response && (hh->status < 200 || hh->status == 204 || hh->status == 304 || hh->head)) {
		/* 101 Switching Protocols: what follows is another protocol */
		hh->state = hh->status == 101 ? H1_TO_CLOSE : H1_START;
	} else if (hh->chunked) {
		hh->state = H1_CHUNK_SIZE;
	} else if (hh->has_length) {
		hh->state = hh->remaining ? H1_BODY : H1_START;
	} else {
		hh->state = response ? H1_TO_CLOSE : H1_START;
	}
}

/* A piece of a body: its fields redacted, or all of it when they cannot be read. */
static void body_piece(struct h1_half *hh, struct redact_ctx *ctx, uint8_t *buf, size_t len)
{
	if (hh->opaque.why)
		redact_opaque__mask(&hh->opaque, ctx, buf, len);
	else
		redact_fields__scan(&hh->body, ctx, buf, len, NULL);
}

/* One whole line in the states that take lines. */
static void h1_line(struct h1 *h, struct h1_half *hh, struct redact_ctx *ctx,
		    enum tcp_stream_dir dir, uint8_t *line, size_t len)
{
	bool empty = len <= 2 && (line[0] == '\n' || (line[0] == '\r' && len == 2));

	switch (hh->state) {
	case H1_START:
		if (empty)
			return; /* CRLF between messages */
		if (!starts_message(dir, line, len)) {
			redact_ctx__lose(ctx, "HTTP/1 message boundary lost");
			return;
		}
		hh->chunked = hh->has_length = hh->previous_sensitive = false;
		memset(&hh->opaque, 0, sizeof(hh->opaque));
		hh->remaining = 0;
		if (dir == TCP_STREAM_CLIENT_TO_SERVER)
			request_line(h, ctx, line, len);
		else
			status_line(h, hh, line, len);
		hh->state = H1_HEADERS;
		return;
	case H1_HEADERS:
		if (empty)
			body_start(hh, dir);
		else
			header_line(hh, ctx, line, len);
		return;
	case H1_CHUNK_SIZE: {
		size_t digits;

		hh->remaining = redact_number(line, len, 16, &digits);
		if (!digits) {
			redact_ctx__lose(ctx, "HTTP/1 chunk size unreadable");
			return;
		}
		hh->state = hh->remaining ? H1_CHUNK_DATA : H1_TRAILERS;
		return;
	}
	case H1_CHUNK_END:
		hh->state = H1_CHUNK_SIZE;
		return;
	case H1_TRAILERS:
		if (empty)
			hh->state = H1_START;
		else
			header_line(hh, ctx, line, len);
		return;
	default:
		return;
	}
}

static size_t h1_process(void *state, struct redact_ctx *ctx, enum tcp_stream_dir dir, uint8_t *buf,
			 size_t len, bool final)
{
	struct h1 *h = state;
	struct h1_half *hh = &h->half[dir];
	size_t pos = 0, n;

	while (pos < len && !ctx->lost) {
		switch (hh->state) {
		case H1_BODY:
		case H1_CHUNK_DATA:
			n = len - pos < hh->remaining ? len - pos : (size_t)hh->remaining;
			body_piece(hh, ctx, buf + pos, n);
			pos += n;
			hh->remaining -= n;
			if (!hh->remaining)
				hh->state = hh->state == H1_BODY ? H1_START : H1_CHUNK_END;
			break;
		case H1_TO_CLOSE:
			body_piece(hh, ctx, buf + pos, len - pos);
			pos = len;
			break;
		default:
			n = redact_next_line(ctx, buf + pos, len - pos, final, "HTTP/1 line too long or cut short");
			if (!n)
				return pos;
			h1_line(h, hh, ctx, dir, buf + pos, n);
			if (ctx->lost)
				return pos;
			pos += n;
		}
	}
	return pos;
}

const struct redact_proto redact_http1 = {
	.detect = h1_detect,
	.new = h1_new,
	.free = free,
	.process = h1_process,
	.resync = h1_resync,
};
