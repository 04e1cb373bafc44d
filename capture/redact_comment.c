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
	P_CERT,       /* -E, --cert: certificate[:password] */
	P_COOKIE,     /* -b, --cookie */
	P_SECRET,     /* --password and the like, --oauth2-bearer, redis-cli -a, mysql -pPW */
};

/* Clients with a short option of their own for a password. */
enum client {
	C_OTHER,
	C_REDIS_CLI, /* -a PASSWORD */
	C_MYSQL,     /* mysql, mariadb, mysqldump...: -pPASSWORD (a bare -p prompts, and the next word is the database) */
};

/* Options (curl's and wget's) whose value is a secret or holds one. */
static const struct {
	const char *name;
	enum pending kind;
} options[] = {
	{ "-H", P_HEADER },        { "--header", P_HEADER }, { "--proxy-header", P_HEADER },
	{ "-u", P_USER },          { "--user", P_USER },     { "-U", P_USER },
	{ "--proxy-user", P_USER }, { "-E", P_CERT },        { "--cert", P_CERT },
	{ "--proxy-cert", P_CERT }, { "-b", P_COOKIE },      { "--cookie", P_COOKIE },
	{ "--oauth2-bearer", P_SECRET },
};

struct word {
	char *p;
	size_t len;
};

static bool is_option(const struct word *w)
{
	return w->len > 1 && w->p[0] == '-';
}

/*
 * What option @w is; its value is the next word, or in @w from *@inline_at
 * ("--user=a:b", "-Ua:b", "--header=Name: v").  An option named like a
 * field (--password, --key-pass) written with '=' is left to the field scanner.
 */
static enum pending option_kind(const struct redact_policy *p, const struct word *w, enum client client,
				size_t *inline_at)
{
	const char *eq = memchr(w->p, '=', w->len);
	size_t name_len = w->len, i;

	*inline_at = 0;
	if (!is_option(w))
		return P_NONE;
	if (w->p[1] == '-' && eq) {
		name_len = (size_t)(eq - w->p);
		*inline_at = name_len + 1;
	} else if (w->p[1] != '-' && w->len > 2) {
		name_len = 2;
		*inline_at = 2;
	}
	/* mysql's -u, -E, -b, -H are no curl options ("--password=PW" is a field) */
	if (client == C_MYSQL)
		return *inline_at == 2 && !memcmp(w->p, "-p", 2) ? P_SECRET : P_NONE;
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strlen(options[i].name) == name_len && !memcmp(w->p, options[i].name, name_len))
			return options[i].kind;
	if (client == C_REDIS_CLI && name_len == 2 && !memcmp(w->p, "-a", 2))
		return P_SECRET;
	if (!*inline_at && w->len > 2 && w->p[1] == '-' && redact_policy__is_field(p, w->p + 2, w->len - 2))
		return P_SECRET;
	return P_NONE;
}

/* A word of its own after a header's value: an option, or the URL (wget takes it last). */
static bool ends_header(const struct word *w)
{
	return is_option(w) || memmem(w->p, w->len, "://", 3);
}

/* A header given on the command line: "Name: value words..." up to the next option or URL. */
static size_t header_words(struct redact_ctx *ctx, struct word *w, size_t i, size_t n)
{
	char *colon = memchr(w[i].p, ':', w[i].len);
	size_t last = i, first_value = i;
	char *start, *end;

	if (!colon)
		return i;
	/* a URL right after "Name:" is the value (Referer) */
	if (colon + 1 == w[i].p + w[i].len && i + 1 < n && !is_option(&w[i + 1]))
		last++;
	while (last + 1 < n && !ends_header(&w[last + 1]))
		last++;
	start = colon + 1;
	if (start == w[i].p + w[i].len) {
		if (last == i)
			return i;
		first_value = i + 1;
		start = w[first_value].p;
	}
	end = w[last].p + w[last].len;
	if (redact_policy__header_kind(ctx->policy, w[i].p, (size_t)(colon - w[i].p)) == REDACT_HEADER_URL)
		/* a URL's query fields are the line's, as those of every URL on it */
		redact_url_credentials(ctx, (uint8_t *)start, (size_t)(end - start), NULL);
	else
		redact_header_value(ctx, w[i].p, (size_t)(colon - w[i].p), (uint8_t *)start,
				    (size_t)(end - start), NULL);
	return last;
}

/* "user:password" from @from: the password, or all of it when there is no ':' (@all). */
static void user_word(struct redact_ctx *ctx, const char *label, struct word *w, size_t from, bool all)
{
	char *colon = memchr(w->p + from, ':', w->len - from);
	size_t start = colon ? (size_t)(colon - w->p) + 1 : from;

	if ((colon || all) && start < w->len) {
		redact_ctx__count(ctx, label, strlen(label));
		redact_span((uint8_t *)w->p, start, w->len, NULL);
	}
}

/* The value of a @kind option, at word @j from byte @from; returns the last word it took. */
static size_t option_value(struct redact_ctx *ctx, enum pending kind, struct word *words, size_t j,
			   size_t n, size_t from)
{
	struct word *w = &words[j];

	switch (kind) {
	case P_HEADER:
		w->p += from;
		w->len -= from;
		return header_words(ctx, words, j, n);
	case P_USER:
		user_word(ctx, "user password", w, from, true);
		break;
	case P_CERT:
		user_word(ctx, "certificate password", w, from, false);
		break;
	case P_COOKIE:
		if (memchr(w->p + from, '=', w->len - from))
			redact_header_value(ctx, "cookie", 6, (uint8_t *)w->p + from, w->len - from, NULL);
		break;
	case P_SECRET:
		if (from < w->len) {
			redact_ctx__count(ctx, "argument", 8);
			redact_span((uint8_t *)w->p, from, w->len, NULL);
		}
		break;
	case P_NONE:
		break;
	}
	return j;
}

static void args_line(struct redact_ctx *ctx, char *args, size_t len)
{
	struct word words[512];
	struct redact_fields f;
	enum pending pending = P_NONE;
	size_t n = 0, i = 0, j;
	enum client client = C_OTHER;

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
	if (n && memmem(words[0].p, words[0].len, "redis-cli", 9))
		client = C_REDIS_CLI;
	else if (n && (memmem(words[0].p, words[0].len, "mysql", 5) ||
		       memmem(words[0].p, words[0].len, "mariadb", 7)))
		client = C_MYSQL;
	for (j = 1; client == C_REDIS_CLI && j < n; j++) {
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
		enum pending kind;
		size_t at;

		if (pending != P_NONE) {
			j = option_value(ctx, pending, words, j, n, 0);
			pending = P_NONE;
			continue;
		}
		kind = option_kind(ctx->policy, &words[j], client, &at);
		if (kind != P_NONE && at)
			j = option_value(ctx, kind, words, j, n, at);
		else if (kind != P_NONE)
			pending = kind;
		else
			redact_url_credentials(ctx, (uint8_t *)words[j].p, words[j].len, NULL);
	}
	/* key=value and JSON fields anywhere (queries, -d 'password=...', conninfo strings) */
	redact_fields__reset(&f, false);
	redact_fields__scan(&f, ctx, (uint8_t *)args, len, NULL);
	/* SQL given to a client (psql -c "alter user ... password '...'", mysql -e "...") */
	redact_sql(ctx, (uint8_t *)args, len, client == C_MYSQL ? REDACT_SQL_MYSQL : REDACT_SQL_POSTGRES);
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
