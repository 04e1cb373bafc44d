// SPDX-License-Identifier: MIT
/*
 * IMAP and SMTP, client lines: the password of IMAP LOGIN (an atom, a quoted
 * string or a literal on the next line), the initial response of IMAP
 * AUTHENTICATE and SMTP AUTH, and every SASL line the client sends while the
 * server keeps asking ("+ ..." in IMAP, "334 ..." in SMTP).  Server lines
 * pass; they only say when the exchange is over.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact_proto.h"


struct mail {
	bool sasl;            /* client lines are SASL data */
	bool plain;           /* the next SASL data is a PLAIN response */
	bool literal_secret;  /* the next client line starts with a LOGIN literal */
	char server_line[8];  /* first bytes of the server's current line */
	size_t server_len;
	bool server_mid;      /* inside a server line */
};

static bool starts(const uint8_t *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	return len >= n && !strncasecmp((const char *)buf, s, n);
}

/* A byte of an IMAP tag: an ASTRING-CHAR but '+' (RFC 9051). */
static bool is_tag_char(uint8_t c)
{
	return c > ' ' && c < 0x7f && !strchr("(){%*\"\\]+", c);
}

/*
 * A client's first line "TAG COMMAND ...": after STARTTLS the IMAP client
 * speaks first, so there is no greeting to know the protocol by.
 */
static int imap_client_detect(const uint8_t *buf, size_t len)
{
	static const char *const commands[] = { "CAPABILITY", "LOGIN",  "AUTHENTICATE", "STARTTLS",
						"ID",         "NOOP",   "ENABLE",       "LOGOUT",
						"SELECT",     "EXAMINE", "LIST",        "NAMESPACE",
						"STATUS",     "COMPRESS" };
	size_t tag = 0, cmd, rest, k, i;
	bool maybe = false;

	while (tag < len && tag < 64 && is_tag_char(buf[tag]))
		tag++;
	if (tag == len)
		return tag < 64 ? -1 : 0;
	if (!tag || buf[tag] != ' ')
		return 0;
	cmd = tag + 1;
	rest = len - cmd;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		k = strlen(commands[i]);
		if (rest > k && !strncasecmp((const char *)buf + cmd, commands[i], k) &&
		    (buf[cmd + k] == ' ' || buf[cmd + k] == '\r' || buf[cmd + k] == '\n'))
			return 1;
		maybe |= rest <= k && !strncasecmp((const char *)buf + cmd, commands[i], rest);
	}
	return maybe ? -1 : 0;
}

static int mail_detect(enum tcp_stream_dir dir, const uint8_t *buf, size_t len)
{
	static const char *const greetings[] = { "* OK", "* PREAUTH", "220 ", "220-" };
	static const char *const commands[] = { "EHLO ", "HELO " };
	const char *const *list = dir == TCP_STREAM_SERVER_TO_CLIENT ? greetings : commands;
	size_t i, n = dir == TCP_STREAM_SERVER_TO_CLIENT ? 4 : 2;
	bool maybe = false;

	for (i = 0; i < n; i++) {
		size_t k = strlen(list[i]);

		if (starts(buf, len, list[i]))
			return 1;
		maybe |= len < k && !strncasecmp((const char *)buf, list[i], len);
	}
	if (dir == TCP_STREAM_CLIENT_TO_SERVER) {
		int imap = imap_client_detect(buf, len);

		if (imap > 0)
			return 1;
		maybe |= imap < 0;
	}
	return maybe ? -1 : 0;
}

static void *mail_new(void)
{
	return calloc(1, sizeof(struct mail));
}

/* The word @n (0-based) of @line: its start, or @len when there is none. */
static size_t word_start(const uint8_t *line, size_t len, unsigned int n)
{
	size_t i = 0;

	for (;;) {
		while (i < len && line[i] == ' ')
			i++;
		if (!n-- || i >= len)
			return i;
		if (line[i] == '"') {
			for (i++; i < len && line[i] != '"'; i++)
				if (line[i] == '\\')
					i++;
			i++;
		} else {
			while (i < len && line[i] != ' ')
				i++;
		}
	}
}

/* Byte @k of "\0REDACTED...\0REDACTED..." (empty authzid, user, password), @n bytes long. */
static uint8_t plain_byte(size_t k, size_t n)
{
	size_t user = (n - 2) / 2;

	if (k == 0 || k == user + 1)
		return 0;
	return redact_marker(k <= user ? k - 1 : k - user - 2);
}

/*
 * A SASL PLAIN response overwritten with the base64 of a PLAIN response of
 * markers, the same length: a dissector that decodes it (Wireshark's SMTP)
 * finds a user and a password, not a decoding error.  Any other length is
 * no base64 of ours: the marker.
 */
static void plain_fill(uint8_t *v, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = len / 4 * 3, i;

	if (len % 4 || len < 4) {
		redact_span(v, 0, len, NULL);
		return;
	}
	for (i = 0; i < n; i += 3) {
		uint32_t b = (uint32_t)plain_byte(i, n) << 16 | (uint32_t)plain_byte(i + 1, n) << 8 |
			     plain_byte(i + 2, n);

		v[i / 3 * 4] = (uint8_t)b64[b >> 18];
		v[i / 3 * 4 + 1] = (uint8_t)b64[(b >> 12) & 63];
		v[i / 3 * 4 + 2] = (uint8_t)b64[(b >> 6) & 63];
		v[i / 3 * 4 + 3] = (uint8_t)b64[b & 63];
	}
}

/* A secret from @from: a PLAIN response keeps its shape, anything else is the marker. */
static void mask_sasl(struct mail *m, struct redact_ctx *ctx, const char *label, uint8_t *line,
		      size_t from, size_t end)
{
	if (from >= end)
		return;
	redact_ctx__count(ctx, label, strlen(label));
	if (m->plain)
		plain_fill(line + from, end - from);
	else
		redact_span(line, from, end, NULL);
	m->plain = false;
}

static void mail_client_line(struct mail *m, struct redact_ctx *ctx, uint8_t *line, size_t len)
{
	size_t end = len, cmd, w;

	while (end && (line[end - 1] == '\n' || line[end - 1] == '\r'))
		end--;
	if (m->literal_secret || (m->sasl && !(end == 1 && line[0] == '*'))) {
		/* a literal's bytes, or a SASL response ("*" cancels) */
		/* a user name literal's line ends in the password's "{n}" or "{n+}" */
		m->literal_secret = m->literal_secret && end && line[end - 1] == '}';
		mask_sasl(m, ctx, "mail auth", line, 0, end);
		return;
	}
	/* SMTP: AUTH MECH [initial]; IMAP: TAG AUTHENTICATE MECH [initial], TAG LOGIN USER PASS */
	if (starts(line, end, "AUTH ")) {
		m->sasl = true;
		w = word_start(line, end, 1);
		m->plain = starts(line + w, end - w, "PLAIN");
		mask_sasl(m, ctx, "smtp auth", line, word_start(line, end, 2), end);
		return;
	}
	cmd = word_start(line, end, 1);
	if (starts(line + cmd, end - cmd, "AUTHENTICATE ")) {
		m->sasl = true;
		w = word_start(line, end, 2);
		m->plain = starts(line + w, end - w, "PLAIN");
		mask_sasl(m, ctx, "imap authenticate", line, word_start(line, end, 3), end);
	} else if (starts(line + cmd, end - cmd, "LOGIN ")) {
		w = word_start(line, end, 3);
		if (line[word_start(line, end, 2)] == '{') {
			/* the user name is a literal: what follows is not sure */
			m->literal_secret = true;
			w = word_start(line, end, 2);
		}
		if (end && line[end - 1] == '}')
			m->literal_secret = true; /* the password is on the next line */
		mask_sasl(m, ctx, "imap login", line, w, end);
	}
}

/* Server lines: a continuation keeps the SASL exchange open, anything else ends it. */
static void mail_server(struct mail *m, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (!m->server_mid) {
			m->server_mid = true;
			m->server_len = 0;
		}
		if (m->server_len < sizeof(m->server_line))
			m->server_line[m->server_len++] = (char)buf[i];
		if (buf[i] == '\n') {
			m->server_mid = false;
			if (m->sasl && !(starts((uint8_t *)m->server_line, m->server_len, "+") ||
					 starts((uint8_t *)m->server_line, m->server_len, "334") ||
					 starts((uint8_t *)m->server_line, m->server_len, "* ")))
				m->sasl = m->plain = false;
		}
	}
}

static size_t mail_process(void *state, struct redact_ctx *ctx, enum tcp_stream_dir dir,
			   uint8_t *buf, size_t len, bool final)
{
	struct mail *m = state;
	size_t pos = 0, n;

	if (dir == TCP_STREAM_SERVER_TO_CLIENT) {
		mail_server(m, buf, len);
		return len;
	}
	while (pos < len) {
		n = redact_next_line(ctx, buf + pos, len - pos, final, "mail line too long or cut short");
		if (!n)
			return pos;
		mail_client_line(m, ctx, buf + pos, n);
		pos += n;
	}
	return pos;
}

const struct redact_proto redact_mail = {
	.detect = mail_detect,
	.new = mail_new,
	.free = free,
	.process = mail_process,
};
