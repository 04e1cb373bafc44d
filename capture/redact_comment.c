// SPDX-License-Identifier: MIT
/*
 * Packet comments: the command line on the "Args:" line.  The arguments are
 * joined by spaces, so an option's value is the next word (or the words up
 * to the next option, for a header value such as "Bearer TOKEN").
 */
#include <string.h>
#include <strings.h>

#include "redact_proto.h"

enum pending {
	P_NONE,
	P_HEADER,     /* -H, --header, --proxy-header */
	P_USER,       /* -u, --user, -U, --proxy-user: user:password */
	P_COOKIE,     /* -b, --cookie */
	P_SECRET,     /* --password and the like, redis-cli -a */
};

struct word {
	char *p;
	size_t len;
};

static bool word_is(const struct word *w, const char *s)
{
	return strlen(s) == w->len && !memcmp(w->p, s, w->len);
}

static bool is_option(const struct word *w)
{
	return w->len > 1 && w->p[0] == '-';
}

static enum pending option_kind(const struct redact_policy *p, const struct word *w, bool redis_cli)
{
	if (word_is(w, "-H") || word_is(w, "--header") || word_is(w, "--proxy-header"))
		return P_HEADER;
	if (word_is(w, "-u") || word_is(w, "--user") || word_is(w, "-U") || word_is(w, "--proxy-user"))
		return P_USER;
	if (word_is(w, "-b") || word_is(w, "--cookie"))
		return P_COOKIE;
	if (redis_cli && word_is(w, "-a"))
		return P_SECRET;
	if (w->len > 2 && w->p[0] == '-' && w->p[1] == '-' && !memchr(w->p, '=', w->len) &&
	    redact_policy__is_field(p, w->p + 2, w->len - 2))
		return P_SECRET;
	return P_NONE;
}

/* A header given on the command line: "Name: value words..." up to the next option. */
static size_t header_words(struct redact_ctx *ctx, struct word *w, size_t i, size_t n)
{
	char *colon = memchr(w[i].p, ':', w[i].len);
	size_t last = i, first_value = i;
	char *start, *end;

	if (!colon)
		return i;
	while (last + 1 < n && !is_option(&w[last + 1]))
		last++;
	start = colon + 1;
	if (start == w[i].p + w[i].len) {
		if (last == i)
			return i;
		first_value = i + 1;
		start = w[first_value].p;
	}
	end = w[last].p + w[last].len;
	redact_header_value(ctx, w[i].p, (size_t)(colon - w[i].p), (uint8_t *)start,
			    (size_t)(end - start), NULL);
	return last;
}

static void user_word(struct redact_ctx *ctx, struct word *w, size_t from)
{
	char *colon = memchr(w->p + from, ':', w->len - from);
	size_t start = colon ? (size_t)(colon - w->p) + 1 : from;

	if (start < w->len) {
		redact_ctx__count(ctx, "user password", 13);
		redact_span((uint8_t *)w->p, start, w->len, NULL);
	}
}

static void args_line(struct redact_ctx *ctx, char *args, size_t len)
{
	struct word words[512];
	struct redact_fields f;
	enum pending pending = P_NONE;
	size_t n = 0, i = 0, j;
	bool redis_cli;

	while (i < len && n < sizeof(words) / sizeof(words[0])) {
		while (i < len && args[i] == ' ')
			i++;
		if (i == len)
			break;
		words[n].p = args + i;
		while (i < len && args[i] != ' ')
			i++;
		words[n].len = (size_t)(words[n].p - args);
		words[n].len = i - words[n].len;
		n++;
	}
	redis_cli = n && memmem(words[0].p, words[0].len, "redis-cli", 9);
	for (j = 1; redis_cli && j < n; j++) {
		static const char *const commands[] = { "auth", "config", "hello", "migrate", "acl" };
		size_t k;

		for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
			if (words[j].len == strlen(commands[k]) &&
			    !strncasecmp(words[j].p, commands[k], words[j].len)) {
				/* the command redis-cli sends: the rules of the protocol */
				redact_redis_command(ctx, (uint8_t *)words[j].p,
						     len - (size_t)(words[j].p - args));
				j = n;
				break;
			}
		}
	}
	for (j = 0; j < n; j++) {
		struct word *w = &words[j];

		switch (pending) {
		case P_HEADER:
			j = header_words(ctx, words, j, n);
			pending = P_NONE;
			continue;
		case P_USER:
			user_word(ctx, w, 0);
			pending = P_NONE;
			continue;
		case P_COOKIE:
			if (memchr(w->p, '=', w->len))
				redact_header_value(ctx, "cookie", 6, (uint8_t *)w->p, w->len, NULL);
			pending = P_NONE;
			continue;
		case P_SECRET:
			redact_ctx__count(ctx, "argument", 8);
			redact_span((uint8_t *)w->p, 0, w->len, NULL);
			pending = P_NONE;
			continue;
		case P_NONE:
			break;
		}
		pending = option_kind(ctx->policy, w, redis_cli);
		if (pending != P_NONE)
			continue;
		if (w->len > 2 && !memcmp(w->p, "-H", 2)) {
			struct word inline_header = { w->p + 2, w->len - 2 };

			words[j] = inline_header;
			j = header_words(ctx, words, j, n);
		} else if (w->len > 2 && !memcmp(w->p, "-u", 2)) {
			user_word(ctx, w, 2);
		} else if (w->len > 7 && !memcmp(w->p, "--user=", 7)) {
			user_word(ctx, w, 7);
		} else {
			redact_url_credentials(ctx, (uint8_t *)w->p, w->len, NULL);
		}
	}
	/* key=value and JSON fields anywhere (queries, -d 'password=...', conninfo strings) */
	redact_fields__reset(&f);
	redact_fields__scan(&f, ctx, (uint8_t *)args, len, NULL);
}

unsigned int redact_comment(const struct redact_policy *policy, struct redact_tally *tally, char *text)
{
	struct redact_ctx ctx = { .policy = policy, .tally = tally };
	unsigned int before = tally->values;
	char *line = text;

	while (line && *line) {
		char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > 6 && !memcmp(line, "Args: ", 6))
			args_line(&ctx, line + 6, len - 6);
		line = end ? end + 1 : NULL;
	}
	return tally->values - before;
}
