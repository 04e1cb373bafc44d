// SPDX-License-Identifier: MIT
#include "redact.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact_proto.h"

#define POLICY_NAMES_MAX 64
#define HOLD_LIMIT (1u << 20)  /* a unit longer than this is masked, not held */
#define SUMMARY_MAX 512

/* Headers whose values are secrets, and how much of them. */
static const struct {
	const char *name;
	enum redact_header_kind kind;
} default_headers[] = {
	{ "authorization", REDACT_HEADER_AUTH },
	{ "proxy-authorization", REDACT_HEADER_AUTH },
	{ "cookie", REDACT_HEADER_COOKIE },
	{ "set-cookie", REDACT_HEADER_SET_COOKIE },
	{ "x-api-key", REDACT_HEADER_WHOLE },
	{ "x-auth-token", REDACT_HEADER_WHOLE },
	{ "api-key", REDACT_HEADER_WHOLE },
	{ "private-token", REDACT_HEADER_WHOLE },
	{ "referer", REDACT_HEADER_URL },
	{ "location", REDACT_HEADER_URL },
	{ "content-location", REDACT_HEADER_URL },
	{ ":path", REDACT_HEADER_URL },
};

/* Any other header whose name contains one of these is a secret too. */
static const char *const header_words[] = { "token", "secret", "password", "passwd", "api-key",
					    "apikey", "credential", "session" };

/* Fields (query, form, JSON, command line), matched as described in field_matches. */
static const char *const default_fields[] = {
	"password", "passwd", "pwd", "pass", "secret", "token", "access_token", "refresh_token",
	"id_token", "client_secret", "api_key", "apikey", "api-key", "auth_token", "session_token",
	"private_key", "secret_key", "accesstoken", "refreshtoken", "clientsecret", "authtoken",
};

struct redact_policy {
	char *headers[POLICY_NAMES_MAX];
	size_t nr_headers;
	char *fields[POLICY_NAMES_MAX];
	size_t nr_fields;
	char description[1024];
};

struct redact_policy *redact_policy__new(void)
{
	return calloc(1, sizeof(struct redact_policy));
}

void redact_policy__free(struct redact_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nr_headers; i++)
		free(p->headers[i]);
	for (i = 0; i < p->nr_fields; i++)
		free(p->fields[i]);
	free(p);
}

static int policy_add(char **names, size_t *nr, const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len >= REDACT_LABEL_MAX || *nr == POLICY_NAMES_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] <= ' ' || name[i] == ':' || name[i] == '=')
			return -EINVAL;
	names[*nr] = strdup(name);
	if (!names[*nr])
		return -ENOMEM;
	for (i = 0; i < len; i++)
		names[*nr][i] = (char)tolower((unsigned char)names[*nr][i]);
	(*nr)++;
	return 0;
}

int redact_policy__add_header(struct redact_policy *p, const char *name)
{
	return policy_add(p->headers, &p->nr_headers, name);
}

int redact_policy__add_field(struct redact_policy *p, const char *name)
{
	return policy_add(p->fields, &p->nr_fields, name);
}

static void append_list(char *buf, size_t size, const char *const *names, size_t n)
{
	size_t i, used;

	for (i = 0; i < n; i++) {
		used = strlen(buf);
		snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);
	}
}

const char *redact_policy__describe(const struct redact_policy *pc)
{
	struct redact_policy *p = (struct redact_policy *)pc;
	size_t used;

	snprintf(p->description, sizeof(p->description),
		 "tlspcap: this file was redacted (--redact): secrets were overwritten with "
		 "same-length markers (REDACTED..., x) before writing; policy: default");
	if (p->nr_headers) {
		used = strlen(p->description);
		snprintf(p->description + used, sizeof(p->description) - used, "; extra headers: ");
		append_list(p->description, sizeof(p->description), (const char *const *)p->headers,
			    p->nr_headers);
	}
	if (p->nr_fields) {
		used = strlen(p->description);
		snprintf(p->description + used, sizeof(p->description) - used, "; extra fields: ");
		append_list(p->description, sizeof(p->description), (const char *const *)p->fields,
			    p->nr_fields);
	}
	return p->description;
}

static bool name_equal(const char *a, const char *b, size_t len)
{
	return strlen(a) == len && !strncasecmp(a, b, len);
}

static bool contains_word(const char *name, size_t len, const char *word)
{
	size_t wlen = strlen(word), i;

	for (i = 0; i + wlen <= len; i++)
		if (!strncasecmp(name + i, word, wlen))
			return true;
	return false;
}

enum redact_header_kind redact_policy__header_kind(const struct redact_policy *p, const char *name,
						   size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(default_headers) / sizeof(default_headers[0]); i++)
		if (name_equal(default_headers[i].name, name, len))
			return default_headers[i].kind;
	for (i = 0; i < p->nr_headers; i++)
		if (name_equal(p->headers[i], name, len))
			return REDACT_HEADER_WHOLE;
	for (i = 0; i < sizeof(header_words) / sizeof(header_words[0]); i++)
		if (contains_word(name, len, header_words[i]))
			return REDACT_HEADER_WHOLE;
	return REDACT_HEADER_NONE;
}

static int hex_digit(unsigned char c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? (c | 0x20) - 'a' + 10 : -1;
}

/* 0 for a byte that is no letter or digit, else its kind: a word may end where the kind changes. */
static int char_kind(unsigned char c)
{
	return islower(c) ? 1 : isupper(c) ? 2 : isdigit(c) ? 3 : 0;
}

/*
 * @name's words in lower case, each between '_': "newPassword", "new-password"
 * and "user%5Bnew_password%5D" all give "_new_password_".  A word ends at a
 * byte that is no letter or digit, at a camelCase hump, between letters and
 * digits, and before the last capital of a run ("APIKey": api, key).  False
 * when @out is too small.
 */
static bool name_words(const char *name, size_t len, char *out, size_t size)
{
	bool boundary = true;
	size_t i, n = 0;
	int prev = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		int kind, next;

		if (c == '%' && i + 2 < len && hex_digit(name[i + 1]) >= 0 && hex_digit(name[i + 2]) >= 0) {
			/* a percent-encoded form or query key: its bytes, not their escapes */
			c = (unsigned char)(hex_digit(name[i + 1]) << 4 | hex_digit(name[i + 2]));
			i += 2;
		}
		kind = char_kind(c);
		next = i + 1 < len ? char_kind((unsigned char)name[i + 1]) : 0;
		if (!kind) {
			boundary = true;
		} else if ((prev == 1 && kind == 2) || (prev && (prev == 3) != (kind == 3)) ||
			   (prev == 2 && kind == 2 && next == 1)) {
			boundary = true;
		}
		prev = kind;
		if (!kind)
			continue;
		if (n + 3 > size)
			return false;
		if (boundary)
			out[n++] = '_';
		boundary = false;
		out[n++] = (char)tolower(c);
	}
	if (n + 2 > size)
		return false;
	out[n++] = '_';
	out[n] = '\0';
	return true;
}

/* @key_words (from name_words) hold @field's words in a row: "new_password", "newPassword", "password-confirm". */
static bool field_matches(const char *field, const char *key_words)
{
	char field_words[2 * REDACT_LABEL_MAX + 2];

	return name_words(field, strlen(field), field_words, sizeof(field_words)) &&
	       strstr(key_words, field_words);
}

bool redact_policy__is_field(const struct redact_policy *p, const char *key, size_t len)
{
	char key_words[2 * REDACT_KEY_MAX + 2];
	size_t i;

	if (!name_words(key, len, key_words, sizeof(key_words)))
		return false;
	for (i = 0; i < sizeof(default_fields) / sizeof(default_fields[0]); i++)
		if (field_matches(default_fields[i], key_words))
			return true;
	for (i = 0; i < p->nr_fields; i++)
		if (field_matches(p->fields[i], key_words))
			return true;
	return false;
}

void redact_ctx__count(struct redact_ctx *ctx, const char *label, size_t len)
{
	struct redact_tally *t = ctx->tally;
	unsigned int i;

	if (len >= REDACT_LABEL_MAX)
		len = REDACT_LABEL_MAX - 1;
	t->values++;
	for (i = 0; i < t->nr; i++) {
		if (strlen(t->e[i].label) == len && !strncasecmp(t->e[i].label, label, len)) {
			t->e[i].count++;
			return;
		}
	}
	if (t->nr == REDACT_TALLY_LABELS) {
		t->other++;
		return;
	}
	for (i = 0; i < len; i++) /* a label comes from the wire: keep the comment printable */
		t->e[t->nr].label[i] = isprint((unsigned char)label[i]) ? (char)tolower((unsigned char)label[i]) : '?';
	t->e[t->nr].label[len] = '\0';
	t->e[t->nr].count = 1;
	t->nr++;
}

void redact_ctx__lose(struct redact_ctx *ctx, const char *why)
{
	ctx->lost = true;
	ctx->lost_why = why;
}

void redact_span(uint8_t *v, size_t from, size_t to, uint8_t *mask)
{
	size_t i;

	for (i = from; i < to; i++) {
		v[i] = redact_marker(i - from);
		if (mask)
			mask[i] = 1;
	}
}

size_t redact_line_length(const uint8_t *buf, size_t len)
{
	const uint8_t *lf = memchr(buf, '\n', len);

	return lf ? (size_t)(lf - buf) + 1 : 0;
}

bool redact_value_is(const uint8_t *v, size_t len, const char *want)
{
	size_t n = strlen(want);

	while (len && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return len == n && !strncasecmp((const char *)v, want, n);
}

void redact_opaque__mask(struct redact_opaque *o, struct redact_ctx *ctx, uint8_t *buf, size_t len)
{
	size_t i;

	if (!o->counted)
		redact_ctx__count(ctx, o->why, strlen(o->why));
	o->counted = true;
	for (i = 0; i < len; i++)
		buf[i] = redact_marker(o->run++);
}

uint64_t redact_number(const uint8_t *p, size_t len, unsigned int base, size_t *digits)
{
	uint64_t v = 0;
	size_t i = 0, n = 0;

	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	for (; i < len; i++, n++) {
		unsigned int d;

		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (base == 16 && (p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
			d = (p[i] | 0x20) - 'a' + 10;
		else
			break;
		v = v > (UINT64_MAX - d) / base ? UINT64_MAX : v * base + d;
	}
	if (digits)
		*digits = n;
	return v;
}

size_t redact_next_line(struct redact_ctx *ctx, const uint8_t *buf, size_t len, bool final,
			const char *why)
{
	size_t n = redact_line_length(buf, len);

	if (!n && (final || len >= REDACT_LINE_MAX))
		redact_ctx__lose(ctx, why);
	return n;
}

struct redactor {
	struct redact_policy *policy;
	struct redact_stats stats;
	/* hashes of the comments already counted, open addressing (0: free) */
	uint64_t *counted;
	size_t counted_nr, counted_cap;
};

struct redactor *redactor__new(struct redact_policy *policy)
{
	struct redactor *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->policy = policy;
	return r;
}

void redactor__free(struct redactor *r)
{
	if (!r)
		return;
	redact_policy__free(r->policy);
	free(r->counted);
	free(r);
}

const struct redact_stats *redactor__stats(const struct redactor *r)
{
	return &r->stats;
}

const struct redact_policy *redactor__policy(const struct redactor *r)
{
	return r->policy;
}

static uint64_t text_hash(const char *text)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *text; text++)
		h = (h ^ (unsigned char)*text) * 0x100000001b3ull;
	return h ? h : 1;
}

/* Adds @h to the set; false when it was there.  Out of memory: true (count rather than lose). */
static bool counted_add(struct redactor *r, uint64_t h)
{
	size_t i;

	if (2 * (r->counted_nr + 1) > r->counted_cap) {
		size_t cap = r->counted_cap ? 2 * r->counted_cap : 64, j;
		uint64_t *grown = calloc(cap, sizeof(*grown));

		if (!grown)
			return true;
		for (j = 0; j < r->counted_cap; j++) {
			if (!r->counted[j])
				continue;
			for (i = r->counted[j] % cap; grown[i]; i = (i + 1) % cap)
				;
			grown[i] = r->counted[j];
		}
		free(r->counted);
		r->counted = grown;
		r->counted_cap = cap;
	}
	for (i = h % r->counted_cap; r->counted[i]; i = (i + 1) % r->counted_cap)
		if (r->counted[i] == h)
			return false;
	r->counted[i] = h;
	r->counted_nr++;
	return true;
}

unsigned int redactor__comment(struct redactor *r, char *text)
{
	struct redact_tally tally = { 0 };
	unsigned int n;

	if (!r)
		return 0;
	n = redact_comment(r->policy, &tally, text);
	/* a view described again (in each rotated file, a late view on its FIN and
	 * on continuation) writes the same comment: its values count once */
	if (n && counted_add(r, text_hash(text)))
		r->stats.values += n;
	return n;
}

/* One direction of a stream as the stage sees it. */
struct redact_half {
	uint64_t next;          /* offset after the last byte taken in */
	uint8_t *held;          /* bytes of an unfinished unit, at offset next - held_len */
	size_t held_len, held_cap;
	bool masked;            /* lost track: every byte is masked until a resync */
	bool started;
};

struct redact_stream {
	struct redactor *r;
	const struct redact_proto *proto;
	void *state;
	struct redact_half half[2];
	struct redact_tally tally;
	uint64_t masked_bytes;
	const char *masked_why;
	bool counted;
	char summary[SUMMARY_MAX];
};

static const struct redact_proto *const protocols[] = {
	&redact_http2, &redact_http1, &redact_postgres, &redact_redis, &redact_mail, &redact_mysql,
};

struct redact_stream *redact_stream__new(struct redactor *r, bool joined)
{
	struct redact_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->r = r;
	if (joined) {
		s->half[0].masked = s->half[1].masked = true;
		s->masked_why = "joined mid-connection";
	}
	return s;
}

void redact_stream__free(struct redact_stream *s)
{
	if (!s)
		return;
	if (s->proto)
		s->proto->free(s->state);
	free(s->half[0].held);
	free(s->half[1].held);
	free(s);
}

/* The first protocol whose detect() says yes; NULL while one needs more bytes. */
static const struct redact_proto *detect(enum tcp_stream_dir dir, const uint8_t *buf, size_t len,
					 bool final)
{
	bool undecided = false;
	size_t i;

	for (i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		int yes = protocols[i]->detect(dir, buf, len);

		if (yes > 0 && !undecided)
			return protocols[i];
		undecided |= yes < 0;
	}
	return undecided && !final ? NULL : &redact_text;
}

static int stream_start(struct redact_stream *s, enum tcp_stream_dir dir, const uint8_t *buf,
			size_t len, bool final, bool *ready)
{
	*ready = s->proto != NULL;
	if (s->proto)
		return 0;
	s->proto = detect(dir, buf, len, final);
	if (!s->proto)
		return 0;
	s->state = s->proto->new();
	if (!s->state) {
		s->proto = NULL;
		return -ENOMEM;
	}
	*ready = true;
	return 0;
}

static void mask_bytes(struct redact_stream *s, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != '\r' && buf[i] != '\n')
			buf[i] = 'x';
	s->masked_bytes += len;
	s->r->stats.masked_bytes += len;
}

/*
 * Redacts the held bytes of @dir and returns how many at the front are
 * final.  With @final every byte is final (unfinished units are masked).
 */
static int stream_process(struct redact_stream *s, enum tcp_stream_dir dir, bool final,
			  bool record_start, size_t *done)
{
	struct redact_half *h = &s->half[dir];
	struct redact_ctx ctx = { .policy = s->r->policy, .tally = &s->tally };
	bool ready;
	int err;

	*done = 0;
	if (!h->held_len)
		return 0;
	if (h->masked && s->proto && s->proto->resync && record_start &&
	    s->proto->resync(s->state, dir, h->held, h->held_len))
		h->masked = false;
	if (h->masked && !s->proto && record_start) {
		/* joined: follow the stream only if it starts where a message does */
		const struct redact_proto *p = detect(dir, h->held, h->held_len, true);

		if (p->resync && p->resync(NULL, dir, h->held, h->held_len)) {
			err = stream_start(s, dir, h->held, h->held_len, true, &ready);
			if (err)
				return err;
			h->masked = false;
		}
	}
	if (h->masked) {
		mask_bytes(s, h->held, h->held_len);
		*done = h->held_len;
		return 0;
	}
	err = stream_start(s, dir, h->held, h->held_len, final, &ready);
	if (err || !ready)
		return err;
	*done = s->proto->process(s->state, &ctx, dir, h->held, h->held_len, final);
	if (ctx.lost) {
		/* what the parser did not take is masked, and so is the rest */
		mask_bytes(s, h->held + *done, h->held_len - *done);
		*done = h->held_len;
		h->masked = true;
		if (!s->masked_why)
			s->masked_why = ctx.lost_why;
	} else if (final && *done < h->held_len) {
		mask_bytes(s, h->held + *done, h->held_len - *done);
		*done = h->held_len;
	}
	return 0;
}

/* Writes the first @n held bytes, then @lost_tail bytes that were cut by -s. */
static int stream_emit(struct redact_stream *s, struct tcp_stream *tcp, enum tcp_stream_dir dir,
		       size_t n, uint64_t lost_tail, uint64_t ts)
{
	struct redact_half *h = &s->half[dir];
	uint64_t offset = h->next - h->held_len;
	int err = 0;

	if (n || lost_tail)
		err = tcp_stream__write(tcp, dir, offset, h->held, (uint32_t)n, n + lost_tail, ts,
					NULL);
	if (n)
		memmove(h->held, h->held + n, h->held_len - n);
	h->held_len -= n;
	return err;
}

static int half_hold(struct redact_half *h, const uint8_t *data, size_t len)
{
	if (!len)
		return 0;
	if (h->held_len + len > h->held_cap) {
		size_t cap = h->held_cap ? h->held_cap : 4096;
		uint8_t *grown;

		while (cap < h->held_len + len)
			cap *= 2;
		grown = realloc(h->held, cap);
		if (!grown)
			return -ENOMEM;
		h->held = grown;
		h->held_cap = cap;
	}
	memcpy(h->held + h->held_len, data, len);
	h->held_len += len;
	return 0;
}

static int stream_drain(struct redact_stream *s, struct tcp_stream *tcp, enum tcp_stream_dir dir,
			bool final, bool record_start, uint64_t lost_tail, uint64_t ts)
{
	struct redact_half *h = &s->half[dir];
	size_t done;
	int err;

	err = stream_process(s, dir, final || h->held_len > HOLD_LIMIT, record_start, &done);
	if (!err)
		err = stream_emit(s, tcp, dir, done, lost_tail, ts);
	return err;
}

int redact_stream__write(struct redact_stream *s, struct tcp_stream *tcp, enum tcp_stream_dir dir,
			 uint64_t offset, const void *data, uint32_t caplen, uint64_t len,
			 uint64_t timestamp_ns)
{
	const uint8_t *p = data;
	struct redact_half *h;
	bool record_start;
	uint64_t skip;
	int err;

	if (!s)
		return tcp_stream__write(tcp, dir, offset, data, caplen, len, timestamp_ns, NULL);
	if (dir != TCP_STREAM_CLIENT_TO_SERVER && dir != TCP_STREAM_SERVER_TO_CLIENT)
		return -EINVAL;
	h = &s->half[dir];
	if (offset + len <= h->next && h->started)
		return 0; /* the other view's copy of bytes already taken in */
	if (offset < h->next && h->started) {
		skip = h->next - offset;
		p += skip < caplen ? skip : caplen;
		caplen = skip < caplen ? caplen - (uint32_t)skip : 0;
		len -= skip;
		offset = h->next;
	}
	if (h->started && offset > h->next) {
		/* a gap: what it cut short is masked, and so is what follows, until a resync */
		err = stream_drain(s, tcp, dir, true, false, 0, timestamp_ns);
		if (err)
			return err;
		h->masked = true;
		if (!s->masked_why)
			s->masked_why = "bytes not captured";
	}
	if (!h->started || offset > h->next)
		h->next = offset;
	h->started = true;
	record_start = h->held_len == 0;
	err = half_hold(h, p, caplen);
	if (err)
		return err;
	h->next += caplen;
	if (caplen < len) {
		/* the rest of this call was cut by -s: nothing after it can be followed */
		err = stream_drain(s, tcp, dir, true, record_start, len - caplen, timestamp_ns);
		h->next += len - caplen;
		h->masked = true;
		if (!s->masked_why)
			s->masked_why = "bytes cut by -s";
		return err;
	}
	return stream_drain(s, tcp, dir, false, record_start, 0, timestamp_ns);
}

int redact_stream__flush(struct redact_stream *s, struct tcp_stream *tcp)
{
	int dir, err = 0;

	if (!s)
		return 0;
	for (dir = 0; dir < 2 && !err; dir++)
		if (s->half[dir].held_len)
			err = stream_drain(s, tcp, dir, true, false, 0, 0);
	return err;
}

const char *redact_stream__summary(struct redact_stream *s)
{
	size_t used;
	unsigned int i;

	if (!s || (!s->tally.values && !s->masked_bytes))
		return NULL;
	if (!s->counted) {
		s->counted = true;
		s->r->stats.values += s->tally.values;
		s->r->stats.streams += s->tally.values > 0;
		s->r->stats.masked_streams += s->masked_bytes > 0;
	}
	used = (size_t)snprintf(s->summary, sizeof(s->summary), "Redacted: %u value%s", s->tally.values,
				s->tally.values == 1 ? "" : "s");
	for (i = 0; i < s->tally.nr && used < sizeof(s->summary); i++)
		used += (size_t)snprintf(s->summary + used, sizeof(s->summary) - used, "%s%s: %u",
					 i ? ", " : " (", s->tally.e[i].label, s->tally.e[i].count);
	if (s->tally.other && used < sizeof(s->summary))
		used += (size_t)snprintf(s->summary + used, sizeof(s->summary) - used, ", other: %u",
					 s->tally.other);
	if (s->tally.nr && used < sizeof(s->summary))
		used += (size_t)snprintf(s->summary + used, sizeof(s->summary) - used, ")");
	if (s->masked_bytes && used < sizeof(s->summary))
		snprintf(s->summary + used, sizeof(s->summary) - used,
			 "\nRedacted: %llu bytes masked entirely (%s: their meaning was not sure)",
			 (unsigned long long)s->masked_bytes, s->masked_why ? s->masked_why : "unknown");
	return s->summary;
}
