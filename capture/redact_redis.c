// SPDX-License-Identifier: MIT
/*
 * Redis (RESP and inline commands), client to server: the passwords of
 * AUTH, HELLO ... AUTH, MIGRATE ... AUTH/AUTH2, CONFIG SET requirepass /
 * masterauth, and ACL SETUSER >password / #hash rules.  Replies pass.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact_proto.h"

#define WORD_MAX 24

enum redis_state {
	R_COMMAND,      /* an array header or an inline command line */
	R_BULK_HEADER,  /* "$len" of the next argument */
	R_BULK,         /* the argument's bytes */
	R_BULK_END,     /* its CRLF */
};

struct redis {
	enum redis_state state;
	long args, arg;         /* arguments of the command, the current one */
	uint64_t left;          /* bytes of the current bulk */
	char cmd[WORD_MAX], sub[WORD_MAX], cur[WORD_MAX];
	size_t cur_len;
	long secret_at;         /* the index of an argument that is a password, or -1 */
	bool secret;            /* the current argument is one */
	bool acl_rule;          /* ACL SETUSER: rules > and # after their first byte */
	size_t run;
};

static int redis_detect(enum tcp_stream_dir dir, const uint8_t *buf, size_t len)
{
	static const char *const inline_cmds[] = { "AUTH ", "HELLO", "PING", "auth ", "hello", "ping" };
	size_t i;

	if (dir == TCP_STREAM_SERVER_TO_CLIENT)
		return 0; /* the client speaks first */
	if (len && buf[0] == '*')
		return len < 2 ? -1 : isdigit(buf[1]) != 0;
	for (i = 0; i < sizeof(inline_cmds) / sizeof(inline_cmds[0]); i++) {
		size_t n = strlen(inline_cmds[i]);

		if (!memcmp(buf, inline_cmds[i], len < n ? len : n))
			return len < n ? -1 : 1;
	}
	return 0;
}

static void *redis_new(void)
{
	return calloc(1, sizeof(struct redis));
}

static bool word_is(const char *w, const char *s)
{
	return !strcasecmp(w, s);
}

/* Which argument after @arg (just read, its first bytes in cur) is a password. */
static void redis_after_arg(struct redis *r)
{
	long i = r->arg;

	if (i == 0)
		snprintf(r->cmd, sizeof(r->cmd), "%s", r->cur);
	if (i == 1)
		snprintf(r->sub, sizeof(r->sub), "%s", r->cur);
	if (i == 0 && word_is(r->cmd, "AUTH"))
		r->secret_at = r->args == 3 ? 2 : 1;
	if (word_is(r->cmd, "HELLO") && word_is(r->cur, "AUTH"))
		r->secret_at = i + 2;
	if (word_is(r->cmd, "MIGRATE") && word_is(r->cur, "AUTH"))
		r->secret_at = i + 1;
	if (word_is(r->cmd, "MIGRATE") && word_is(r->cur, "AUTH2"))
		r->secret_at = i + 2;
	if (word_is(r->cmd, "CONFIG") && word_is(r->sub, "SET") && i >= 2 && i % 2 == 0 &&
	    (word_is(r->cur, "requirepass") || word_is(r->cur, "masterauth") ||
	     strstr(r->cur, "pass")))
		r->secret_at = i + 1;
	r->acl_rule = word_is(r->cmd, "ACL") && word_is(r->sub, "SETUSER") && i + 1 >= 3;
}

static void redis_count(struct redis *r, struct redact_ctx *ctx)
{
	char label[48];

	snprintf(label, sizeof(label), "redis %s", r->cmd);
	redact_ctx__count(ctx, label, strlen(label));
}

/* An inline command: words split by spaces, the same rules. */
static void redis_inline(struct redis *r, struct redact_ctx *ctx, uint8_t *line, size_t len)
{
	size_t i = 0, words = 0, start[64], end[64], w;

	while (i < len && words < 64) {
		while (i < len && (line[i] == ' ' || line[i] == '\r' || line[i] == '\n'))
			i++;
		if (i == len)
			break;
		start[words] = i;
		while (i < len && line[i] != ' ' && line[i] != '\r' && line[i] != '\n')
			i++;
		end[words++] = i;
	}
	memset(r, 0, sizeof(*r));
	r->args = (long)words;
	r->secret_at = -1;
	for (w = 0; w < words; w++) {
		size_t n = end[w] - start[w];

		r->arg = (long)w;
		if ((long)w == r->secret_at || (r->acl_rule && (line[start[w]] == '>' || line[start[w]] == '#'))) {
			size_t from = start[w] + ((long)w == r->secret_at ? 0 : 1);

			if (from < end[w]) {
				redis_count(r, ctx);
				redact_span(line, from, end[w], NULL);
			}
		}
		snprintf(r->cur, sizeof(r->cur), "%.*s", (int)(n < WORD_MAX - 1 ? n : WORD_MAX - 1),
			 (const char *)line + start[w]);
		redis_after_arg(r);
	}
	memset(r, 0, sizeof(*r));
}

void redact_redis_command(struct redact_ctx *ctx, uint8_t *line, size_t len)
{
	struct redis r;

	redis_inline(&r, ctx, line, len);
}

static size_t redis_process(void *state, struct redact_ctx *ctx, enum tcp_stream_dir dir,
			    uint8_t *buf, size_t len, bool final)
{
	struct redis *r = state;
	size_t pos = 0, n;

	if (dir == TCP_STREAM_SERVER_TO_CLIENT)
		return len;
	while (pos < len) {
		if (r->state == R_BULK) {
			n = len - pos < r->left ? len - pos : (size_t)r->left;
			for (size_t i = 0; i < n; i++) {
				uint8_t c = buf[pos + i];

				if (r->cur_len < WORD_MAX - 1)
					r->cur[r->cur_len++] = (char)c;
				if (r->secret || (r->acl_rule && r->run && (r->cur[0] == '>' || r->cur[0] == '#')))
					buf[pos + i] = redact_marker(r->run);
				r->run++;
			}
			pos += n;
			r->left -= n;
			if (!r->left) {
				r->cur[r->cur_len] = '\0';
				if (r->acl_rule && r->cur_len > 1 && (r->cur[0] == '>' || r->cur[0] == '#'))
					redis_count(r, ctx);
				redis_after_arg(r);
				r->state = R_BULK_END;
			}
			continue;
		}
		n = redact_next_line(ctx, buf + pos, len - pos, final, "Redis line too long or cut short");
		if (!n)
			return pos;
		switch (r->state) {
		case R_COMMAND:
			if (buf[pos] == '*') {
				memset(r, 0, sizeof(*r));
				r->args = (long)redact_number(buf + pos + 1, n - 1, 10, NULL);
				r->secret_at = -1;
				r->arg = -1;
				r->state = r->args > 0 ? R_BULK_HEADER : R_COMMAND;
			} else {
				redis_inline(r, ctx, buf + pos, n);
			}
			break;
		case R_BULK_HEADER:
			if (buf[pos] != '$') {
				redact_ctx__lose(ctx, "Redis array without its bulk string");
				return pos;
			}
			r->arg++;
			r->left = redact_number(buf + pos + 1, n - 1, 10, NULL);
			r->cur_len = 0;
			r->run = 0;
			r->secret = r->arg == r->secret_at;
			if (r->secret && r->left)
				redis_count(r, ctx);
			r->state = R_BULK;
			if (!r->left) {
				r->cur[0] = '\0';
				redis_after_arg(r);
				r->state = R_BULK_END;
			}
			break;
		case R_BULK_END:
			r->state = r->arg + 1 < r->args ? R_BULK_HEADER : R_COMMAND;
			break;
		case R_BULK:
			break;
		}
		pos += n;
	}
	return pos;
}

const struct redact_proto redact_redis = {
	.detect = redis_detect,
	.new = redis_new,
	.free = free,
	.process = redis_process,
};
