// SPDX-License-Identifier: MIT
/*
 * HTTP/2: frames are followed, each header block (HEADERS or PUSH_PROMISE and
 * its CONTINUATIONs, taken whole) is decoded with HPACK, keeping the dynamic
 * table of each direction, and every sensitive literal is rewritten with the
 * same encoded length and the same decoded length: frame lengths, the
 * receiver's dynamic table (entry sizes, so evictions) and every later
 * indexed reference stay consistent.  A Huffman-coded value is re-encoded:
 * the redacted run of symbols becomes as many symbols of the same total bit
 * length.  DATA payloads go through the field scanner, per stream; a gRPC
 * stream's (content-type application/grpc) message by message, a message
 * whose compressed flag is set being masked whole (fail closed), its 5-byte
 * prefix kept so the framing still reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "redact_proto.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN 24
#define FRAME_HEADER 9
#define BLOCK_LIMIT (1u << 20)   /* a header block longer than this is not followed */
#define BODY_SLOTS 16
#define STATIC_ENTRIES 61
#define EOS 256
#define MAX_BITS 30
#define GRPC_PREFIX 5            /* compressed flag, 32-bit big-endian length */

enum {
	FRAME_DATA = 0x0,
	FRAME_HEADERS = 0x1,
	FRAME_PUSH_PROMISE = 0x5,
	FRAME_CONTINUATION = 0x9,
	FLAG_END_STREAM = 0x1,
	FLAG_END_HEADERS = 0x4,
	FLAG_PADDED = 0x8,
	FLAG_PRIORITY = 0x20,
};

/* RFC 7541 Appendix B: the code length of each symbol (EOS: 30); the codes are canonical. */
static const uint8_t huffman_bits[256] = {
	13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
	28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
	6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
	5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
	13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
	15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
	6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
	20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
	24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
	22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
	21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
	26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
	19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
	20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
	26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
};

/* Names of the static table (RFC 7541 Appendix A); the values are never secrets. */
static const char *const static_names[STATIC_ENTRIES] = {
	":authority", ":method", ":method", ":path", ":path", ":scheme", ":scheme", ":status",
	":status", ":status", ":status", ":status", ":status", ":status", "accept-charset",
	"accept-encoding", "accept-language", "accept-ranges", "accept",
	"access-control-allow-origin", "age", "allow", "authorization", "cache-control",
	"content-disposition", "content-encoding", "content-language", "content-length",
	"content-location", "content-range", "content-type", "cookie", "date", "etag", "expect",
	"expires", "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range",
	"if-unmodified-since", "last-modified", "link", "location", "max-forwards",
	"proxy-authenticate", "proxy-authorization", "range", "referer", "refresh", "retry-after",
	"server", "set-cookie", "strict-transport-security", "transfer-encoding", "user-agent",
	"vary", "via", "www-authenticate",
};

/* Canonical Huffman code: derived once from the lengths. */
static struct {
	bool ready;
	uint32_t code[257];
	uint8_t bits[257];
	uint16_t sorted[257];          /* symbols by (length, symbol) */
	uint32_t first_code[MAX_BITS + 1];
	uint16_t first_index[MAX_BITS + 1];
	uint16_t count[MAX_BITS + 1];
	int16_t fill[MAX_BITS + 1];    /* a symbol of each length used for redaction, or -1 */
} huff;

static void huffman_init(void)
{
	static const char preferred[] = "x-0X*_.";
	unsigned int s, i, len, n = 0;
	uint32_t code = 0;

	if (huff.ready)
		return;
	for (s = 0; s < 256; s++)
		huff.bits[s] = huffman_bits[s];
	huff.bits[EOS] = MAX_BITS;
	for (len = 1; len <= MAX_BITS; len++) {
		huff.first_index[len] = (uint16_t)n;
		for (s = 0; s <= EOS; s++)
			if (huff.bits[s] == len)
				huff.sorted[n++] = (uint16_t)s;
		huff.count[len] = (uint16_t)(n - huff.first_index[len]);
	}
	for (len = 1; len <= MAX_BITS; len++) {
		huff.first_code[len] = code;
		for (i = 0; i < huff.count[len]; i++)
			huff.code[huff.sorted[huff.first_index[len] + i]] = code + i;
		code = (code + huff.count[len]) << 1;
	}
	for (len = 0; len <= MAX_BITS; len++) {
		huff.fill[len] = -1;
		for (i = 0; preferred[i] && huff.fill[len] < 0; i++)
			if (huff.bits[(uint8_t)preferred[i]] == len)
				huff.fill[len] = (uint8_t)preferred[i];
		for (s = '!'; s < 0x7f && huff.fill[len] < 0; s++)
			if (huff.bits[s] == len)
				huff.fill[len] = (int16_t)s;
		for (s = 0; s < 256 && huff.fill[len] < 0; s++)
			if (huff.bits[s] == len)
				huff.fill[len] = (int16_t)s;
	}
	huff.ready = true;
}

/*
 * Decodes @n bytes; @out gets the symbols and @bits their code lengths (each
 * room for 8n/5 symbols).  Returns the symbol count, or -1 for a string that
 * is not valid (EOS inside, padding longer than 7 bits or not all ones).
 */
static long huffman_decode(const uint8_t *in, size_t n, uint8_t *out, uint8_t *bits)
{
	uint32_t code = 0;
	unsigned int len = 0;
	size_t i, count = 0;
	int b;

	for (i = 0; i < n; i++) {
		for (b = 7; b >= 0; b--) {
			code = code << 1 | ((in[i] >> b) & 1);
			len++;
			if (code - huff.first_code[len] < huff.count[len]) {
				unsigned int s = huff.sorted[huff.first_index[len] + code - huff.first_code[len]];

				if (s == EOS)
					return -1;
				out[count] = (uint8_t)s;
				bits[count++] = (uint8_t)len;
				code = 0;
				len = 0;
			} else if (len >= MAX_BITS) {
				return -1;
			}
		}
	}
	if (len > 7 || code != (1u << len) - 1)
		return -1;
	return (long)count;
}

struct bit_writer {
	uint8_t *out;
	size_t pos;      /* bits written */
};

static void bits_put(struct bit_writer *w, uint32_t code, unsigned int len)
{
	while (len--) {
		size_t byte = w->pos / 8;
		unsigned int bit = 7 - (unsigned int)(w->pos % 8);

		if (code >> len & 1)
			w->out[byte] |= (uint8_t)(1u << bit);
		else
			w->out[byte] &= (uint8_t)~(1u << bit);
		w->pos++;
	}
}

/* Can @m symbols have @total bits? (Every length 5..30 but 9, 16-18 and 29 exists.) */
static bool lengths_possible(size_t m, size_t total)
{
	if (m == 0)
		return total == 0;
	if (m == 1)
		return total <= MAX_BITS && huff.fill[total] >= 0;
	return total >= 5 * m && (total == 30 * m || total + 2 <= 30 * m);
}

/*
 * Lengths for @m fill symbols of @total bits, as even as they can be: what the
 * run shows is how many symbols and bits it had, not each symbol's length.
 * false when this simple choice finds none (the caller keeps each length).
 */
static bool spread_lengths(size_t m, size_t total, uint8_t *lengths)
{
	size_t i;

	for (i = 0; i < m; i++) {
		size_t left = m - i, want = (total + left / 2) / left, d;
		bool found = false;

		for (d = 0; d <= MAX_BITS && !found; d++) {
			size_t tries[2] = { want + d, want >= d ? want - d : 0 }, t;

			for (t = 0; t < 2 && !found; t++) {
				size_t len = tries[t];

				if (len >= 5 && len <= MAX_BITS && len <= total && huff.fill[len] >= 0 &&
				    lengths_possible(left - 1, total - len)) {
					lengths[i] = (uint8_t)len;
					total -= len;
					found = true;
				}
			}
		}
		if (!found)
			return false;
	}
	return total == 0;
}

/* A run of @m symbols, @total bits: "redacted" first when the rest still fits. */
static void refill_run(struct bit_writer *w, size_t m, size_t total, const uint8_t *bits,
		       uint8_t *lengths)
{
	static const char marker[] = "redacted";
	size_t marker_bits = 0, k, shown = 0;

	for (k = 0; k < sizeof(marker) - 1; k++)
		marker_bits += huff.bits[(uint8_t)marker[k]];
	if (m >= sizeof(marker) - 1 && total >= marker_bits &&
	    spread_lengths(m - k, total - marker_bits, lengths)) {
		for (k = 0; k < sizeof(marker) - 1; k++)
			bits_put(w, huff.code[(uint8_t)marker[k]], huff.bits[(uint8_t)marker[k]]);
		shown = k;
	} else if (!spread_lengths(m, total, lengths)) {
		memcpy(lengths, bits, m);
	}
	for (k = 0; k < m - shown; k++)
		bits_put(w, huff.code[huff.fill[lengths[k]]], lengths[k]);
}

/*
 * Rewrites the Huffman string @in (@n bytes) whose decoded form is @sym
 * (@count symbols, code lengths @bits) so that the symbols flagged in @mask
 * become fill symbols: same number of symbols, same number of bits.
 */
static void huffman_refill(uint8_t *in, const uint8_t *sym, const uint8_t *bits, const uint8_t *mask,
			   size_t count, uint8_t *lengths)
{
	struct bit_writer w = { .out = in };
	size_t i = 0, j, total;

	while (i < count) {
		if (!mask[i]) {
			bits_put(&w, huff.code[sym[i]], bits[i]);
			i++;
			continue;
		}
		for (j = i, total = 0; j < count && mask[j]; j++)
			total += bits[j];
		refill_run(&w, j - i, total, bits + i, lengths);
		i = j;
	}
	/* the padding (a prefix of EOS, all ones) is where it was */
}

struct table_entry {
	char *name;
	size_t size;     /* name + value + 32, RFC 7541 4.1 */
	bool grpc;       /* a gRPC content-type: the one value an indexed use needs */
};

/* One direction's dynamic table: the newest entry is index 62. */
struct hpack_table {
	struct table_entry *e;   /* ring */
	size_t cap, head, count; /* e[head] is the newest */
	size_t size, max;
};

static void table_evict(struct hpack_table *t, size_t room)
{
	while (t->count && t->size + room > t->max) {
		struct table_entry *old = &t->e[(t->head + t->count - 1) % t->cap];

		t->size -= old->size;
		free(old->name);
		old->name = NULL;
		t->count--;
	}
}

static int table_add(struct hpack_table *t, const char *name, size_t name_len, size_t value_len,
		     bool grpc)
{
	size_t size = name_len + value_len + 32, i;
	struct table_entry *grown;

	table_evict(t, size);
	if (size > t->max)
		return 0; /* larger than the table: it empties it, nothing is added */
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;

		grown = calloc(cap, sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		for (i = 0; i < t->count; i++)
			grown[i] = t->e[(t->head + i) % t->cap];
		free(t->e);
		t->e = grown;
		t->cap = cap;
		t->head = 0;
	}
	t->head = (t->head + t->cap - 1) % t->cap;
	t->e[t->head].name = strndup(name, name_len);
	if (!t->e[t->head].name)
		return -ENOMEM;
	t->e[t->head].size = size;
	t->e[t->head].grpc = grpc;
	t->size += size;
	t->count++;
	return 0;
}

static void table_free(struct hpack_table *t)
{
	size_t i;

	for (i = 0; i < t->count; i++)
		free(t->e[(t->head + i) % t->cap].name);
	free(t->e);
}

/* The dynamic table's entry at HPACK index @index, or NULL (static or beyond the table). */
static const struct table_entry *table_entry(const struct hpack_table *t, uint64_t index)
{
	if (index > STATIC_ENTRIES && index - STATIC_ENTRIES - 1 < t->count)
		return &t->e[(t->head + index - STATIC_ENTRIES - 1) % t->cap];
	return NULL;
}

/* The name at HPACK index @index, or NULL for an index no table has. */
static const char *table_name(const struct hpack_table *t, uint64_t index)
{
	const struct table_entry *e = table_entry(t, index);

	if (index >= 1 && index <= STATIC_ENTRIES)
		return static_names[index - 1];
	return e ? e->name : NULL;
}

/* A gRPC body: length-prefixed messages, each scanned or masked on its own. */
struct grpc_body {
	bool on;
	uint8_t prefix_seen;         /* bytes of the current message's prefix passed */
	bool compressed;
	uint32_t left;               /* bytes of the current message still to come */
	struct redact_opaque message; /* the current message, when compressed */
};

struct h2_body {
	uint32_t stream_id;
	uint64_t used;
	struct redact_fields fields;
	struct redact_opaque opaque; /* compressed or multipart: masked whole */
	struct grpc_body grpc;
};

struct h2_half {
	bool preface_done;
	struct hpack_table table;
	uint32_t data_left, pad_left, skip_left;
	struct h2_body *body;       /* of the DATA frame being read */
	bool end_stream;
	struct h2_body bodies[BODY_SLOTS];
	uint64_t uses;
	uint8_t *scratch;           /* decoding room, grown as needed */
	size_t scratch_cap;
};

struct h2 {
	struct h2_half half[2];
};

/* A block-decoding session: the block, where we are, what went wrong. */
struct hpack_block {
	struct h2_half *h;
	struct redact_ctx *ctx;
	uint8_t *p;
	size_t len, pos;
	const char *error;
	struct h2_body *body;       /* of the stream the headers are for */
};

static bool block_int(struct hpack_block *b, unsigned int prefix, uint64_t *value)
{
	uint64_t max = (1u << prefix) - 1, v;
	unsigned int shift = 0;

	if (b->pos >= b->len)
		goto bad;
	v = b->p[b->pos++] & max;
	if (v < max) {
		*value = v;
		return true;
	}
	do {
		if (b->pos >= b->len || shift > 56)
			goto bad;
		v += (uint64_t)(b->p[b->pos] & 0x7f) << shift;
		shift += 7;
	} while (b->p[b->pos++] & 0x80);
	*value = v;
	return true;
bad:
	b->error = "HPACK integer cut short";
	return false;
}

static int scratch_room(struct h2_half *h, size_t need)
{
	uint8_t *grown;

	if (need <= h->scratch_cap)
		return 0;
	grown = realloc(h->scratch, need);
	if (!grown)
		return -ENOMEM;
	h->scratch = grown;
	h->scratch_cap = need;
	return 0;
}

/*
 * The string at the current position: *@text (in scratch, or in the block for
 * a raw string) and its decoded length.  The symbols' code lengths follow the
 * text in scratch for a Huffman string.  Leaves the position after it.
 */
static bool block_string(struct hpack_block *b, size_t *start, size_t *n, bool *huffman,
			 uint8_t **text, size_t *text_len)
{
	uint64_t len;
	long count;

	if (b->pos >= b->len) {
		b->error = "HPACK string cut short";
		return false;
	}
	*huffman = b->p[b->pos] & 0x80;
	if (!block_int(b, 7, &len))
		return false;
	if (len > b->len - b->pos) {
		b->error = "HPACK string longer than its block";
		return false;
	}
	*start = b->pos;
	*n = (size_t)len;
	b->pos += (size_t)len;
	if (!*huffman) {
		*text = b->p + *start;
		*text_len = *n;
		return true;
	}
	/* symbols, their lengths, a mask and fill lengths: 4 arrays of at most 8n/5 */
	if (scratch_room(b->h, 4 * (*n * 8 / 5 + 1))) {
		b->error = "out of memory";
		return false;
	}
	count = huffman_decode(b->p + *start, *n, b->h->scratch, b->h->scratch + (*n * 8 / 5 + 1));
	if (count < 0) {
		b->error = "HPACK Huffman string not valid";
		return false;
	}
	*text = b->h->scratch;
	*text_len = (size_t)count;
	return true;
}

/* application/grpc, alone or with a suffix (+proto, +json) or parameters; not grpc-web. */
static bool grpc_type(const char *name, const uint8_t *value, size_t len)
{
	static const char type[] = "application/grpc";
	size_t n = sizeof(type) - 1;

	return !strcmp(name, "content-type") && value && len >= n && !memcmp(value, type, n) &&
	       (len == n || value[n] == '+' || value[n] == ';');
}

/*
 * Headers that make the stream's body unreadable to the field scanner: a
 * content coding (any but identity; unknown when @value is NULL) or a
 * multipart type.  Fail closed: that body is masked whole.  A gRPC type: the
 * body is read message by message.
 */
static void note_body_header(struct hpack_block *b, const char *name, const uint8_t *value,
			     size_t len)
{
	if (!b->body)
		return;
	if (!strcmp(name, "content-encoding") && (!value || !redact_value_is(value, len, "identity")))
		b->body->opaque.why = "compressed body";
	else if (!strcmp(name, "content-type") && value && memmem(value, len, "multipart/", 10))
		b->body->opaque.why = "multipart body";
	else if (grpc_type(name, value, len))
		b->body->grpc.on = true;
}

/*
 * An indexed field: the dynamic table keeps no values, so an indexed coding is
 * unknown (fail closed); a gRPC content-type is known by its entry.
 */
static void note_indexed_header(struct hpack_block *b, uint64_t index)
{
	const struct table_entry *e = table_entry(&b->h->table, index);

	if (e && e->grpc && b->body)
		b->body->grpc.on = true;
	else
		note_body_header(b, table_name(&b->h->table, index), NULL, 0);
}

/* A literal field: redacts its value when its name is sensitive, indexes it if asked. */
static bool block_literal(struct hpack_block *b, unsigned int prefix, bool indexed)
{
	size_t name_start, name_n, value_start, value_n, name_len, value_len;
	uint8_t *name_text, *value_text;
	char name[256];
	const char *known;
	uint64_t index;
	bool huffman;

	if (!block_int(b, prefix, &index))
		return false;
	if (index) {
		known = table_name(&b->h->table, index);
		if (!known) {
			b->error = "HPACK index beyond the table";
			return false;
		}
		snprintf(name, sizeof(name), "%s", known);
	} else {
		if (!block_string(b, &name_start, &name_n, &huffman, &name_text, &name_len))
			return false;
		/* a name longer than any we know cannot be one we look for */
		snprintf(name, sizeof(name), "%.*s", (int)(name_len < 255 ? name_len : 255), name_text);
		if (name_len > 255)
			name[0] = '\0';
	}
	name_len = strlen(name);
	if (!block_string(b, &value_start, &value_n, &huffman, &value_text, &value_len))
		return false;
	if (redact_policy__header_kind(b->ctx->policy, name, name_len) != REDACT_HEADER_NONE) {
		size_t room = value_n * 8 / 5 + 1;
		uint8_t *mask = huffman ? b->h->scratch + 2 * room : NULL;

		if (mask)
			memset(mask, 0, value_len);
		if (redact_header_value(b->ctx, name, name_len, value_text, value_len, mask) && huffman)
			huffman_refill(b->p + value_start, value_text, b->h->scratch + room, mask,
				       value_len, b->h->scratch + 3 * room);
	}
	note_body_header(b, name, value_text, value_len);
	if (indexed && table_add(&b->h->table, name, name_len, value_len,
				 grpc_type(name, value_text, value_len))) {
		b->error = "out of memory";
		return false;
	}
	return true;
}

/* Decodes a whole header block, rewriting it in place; false if it does not decode. */
static bool hpack_block(struct hpack_block *b)
{
	uint64_t value;

	while (b->pos < b->len) {
		uint8_t first = b->p[b->pos];
		bool ok;

		if (first & 0x80) {
			ok = block_int(b, 7, &value);
			if (ok && !table_name(&b->h->table, value)) {
				b->error = "HPACK index beyond the table";
				ok = false;
			}
			if (ok)
				note_indexed_header(b, value);
		} else if ((first & 0xc0) == 0x40) {
			ok = block_literal(b, 6, true);
		} else if ((first & 0xe0) == 0x20) {
			ok = block_int(b, 5, &value);
			if (ok) {
				b->h->table.max = (size_t)value;
				table_evict(&b->h->table, 0);
			}
		} else {
			ok = block_literal(b, 4, false); /* without indexing, or never indexed */
		}
		if (!ok)
			return false;
	}
	return true;
}

static void *h2_new(void)
{
	struct h2 *h = calloc(1, sizeof(*h));

	huffman_init();
	if (h)
		h->half[0].table.max = h->half[1].table.max = 4096;
	return h;
}

static void h2_free(void *state)
{
	struct h2 *h = state;
	int d;

	if (!h)
		return;
	for (d = 0; d < 2; d++) {
		table_free(&h->half[d].table);
		free(h->half[d].scratch);
	}
	free(h);
}

static int h2_detect(enum tcp_stream_dir dir, const uint8_t *buf, size_t len)
{
	size_t n = len < PREFACE_LEN ? len : PREFACE_LEN;

	if (dir == TCP_STREAM_SERVER_TO_CLIENT) {
		/* the server's preface: a SETTINGS frame on stream 0 */
		if (len < FRAME_HEADER)
			return -1;
		return buf[3] == 0x4 && !(buf[5] | buf[6] | buf[7] | buf[8]) && (buf[4] & ~1u) == 0;
	}
	if (memcmp(buf, PREFACE, n))
		return 0;
	return len < PREFACE_LEN ? -1 : 1;
}

static uint32_t frame_length(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t frame_stream(const uint8_t *p)
{
	return ((uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 8 | p[8]) & 0x7fffffff;
}

/* The field scanner of a stream's body; the least recently used slot is taken over. */
static struct h2_body *body_of(struct h2_half *h, uint32_t stream_id)
{
	struct h2_body *slot = &h->bodies[0];
	size_t i;

	for (i = 0; i < BODY_SLOTS; i++) {
		if (h->bodies[i].used && h->bodies[i].stream_id == stream_id) {
			slot = &h->bodies[i];
			goto found;
		}
		if (h->bodies[i].used < slot->used)
			slot = &h->bodies[i];
	}
	slot->stream_id = stream_id;
	redact_fields__reset(&slot->fields, true);
	memset(&slot->opaque, 0, sizeof(slot->opaque));
	memset(&slot->grpc, 0, sizeof(slot->grpc));
found:
	slot->used = ++h->uses;
	return slot;
}

/*
 * A header block that starts at @buf: its frames, if all are here.  Returns
 * the bytes they take, 0 while some are missing, -1 if it is not followable.
 */
static long header_block(struct h2_half *h, struct redact_ctx *ctx, uint8_t *buf, size_t len)
{
	size_t pos = 0, total = 0, flen, start, end, i, nseg = 0, cap;
	struct { size_t start, end; } *seg = NULL;
	struct hpack_block b = { .h = h, .ctx = ctx };
	uint8_t *block = NULL;
	bool last = false;
	long ret = -1;

	for (;;) {
		if (len - pos < FRAME_HEADER)
			return len > BLOCK_LIMIT ? -1 : 0;
		flen = frame_length(buf + pos);
		if (len - pos - FRAME_HEADER < flen)
			return len > BLOCK_LIMIT ? -1 : 0;
		if (pos && buf[pos + 3] != FRAME_CONTINUATION)
			return -1;
		last = buf[pos + 4] & FLAG_END_HEADERS;
		pos += FRAME_HEADER + flen;
		nseg++;
		if (last)
			break;
	}
	seg = calloc(nseg, sizeof(*seg));
	block = malloc(pos);
	if (!seg || !block)
		goto out;
	for (pos = 0, i = 0; i < nseg; i++) {
		uint8_t type = buf[pos + 3], flags = buf[pos + 4];
		size_t pad = 0;

		flen = frame_length(buf + pos);
		start = pos + FRAME_HEADER;
		end = start + flen;
		if (type != FRAME_CONTINUATION) {
			if (flags & FLAG_PADDED) {
				if (start >= end)
					goto out;
				pad = buf[start++];
			}
			if (type == FRAME_HEADERS && (flags & FLAG_PRIORITY))
				start += 5;
			if (type == FRAME_PUSH_PROMISE)
				start += 4;
			if (start > end || end - start < pad)
				goto out;
			end -= pad;
		}
		seg[i].start = start;
		seg[i].end = end;
		memcpy(block + total, buf + start, end - start);
		total += end - start;
		pos += FRAME_HEADER + flen;
	}
	b.p = block;
	b.len = total;
	b.body = body_of(h, frame_stream(buf));
	if (!hpack_block(&b)) {
		redact_ctx__lose(ctx, b.error);
		goto out;
	}
	for (cap = 0, i = 0; i < nseg; i++) {
		memcpy(buf + seg[i].start, block + cap, seg[i].end - seg[i].start);
		cap += seg[i].end - seg[i].start;
	}
	ret = (long)pos;
out:
	free(seg);
	free(block);
	return ret;
}

/*
 * A piece of a gRPC body: each message's prefix is kept; a compressed message
 * (any flag bit set: fail closed) is masked whole, counted once, an
 * uncompressed one is a document of its own for the field scanner.
 */
static void grpc_scan(struct h2_body *body, struct redact_ctx *ctx, uint8_t *buf, size_t len)
{
	struct grpc_body *g = &body->grpc;
	size_t n;

	while (len) {
		if (g->prefix_seen < GRPC_PREFIX) {
			if (!g->prefix_seen) {
				g->compressed = *buf != 0;
				g->left = 0;
			} else {
				g->left = g->left << 8 | *buf;
			}
			buf++;
			len--;
			if (++g->prefix_seen < GRPC_PREFIX)
				continue;
			if (g->compressed) {
				memset(&g->message, 0, sizeof(g->message));
				g->message.why = "compressed grpc message";
			} else {
				redact_fields__reset(&body->fields, true);
			}
			if (!g->left)
				g->prefix_seen = 0;
			continue;
		}
		n = len < g->left ? len : g->left;
		if (g->compressed)
			redact_opaque__mask(&g->message, ctx, buf, n);
		else
			redact_fields__scan(&body->fields, ctx, buf, n, NULL);
		buf += n;
		len -= n;
		g->left -= (uint32_t)n;
		if (!g->left)
			g->prefix_seen = 0;
	}
}

static size_t h2_process(void *state, struct redact_ctx *ctx, enum tcp_stream_dir dir, uint8_t *buf,
			 size_t len, bool final)
{
	struct h2_half *h = &((struct h2 *)state)->half[dir];
	size_t pos = 0, n;

	if (dir == TCP_STREAM_CLIENT_TO_SERVER && !h->preface_done) {
		if (len < PREFACE_LEN)
			return 0;
		if (memcmp(buf, PREFACE, PREFACE_LEN)) {
			redact_ctx__lose(ctx, "no HTTP/2 preface");
			return 0;
		}
		h->preface_done = true;
		pos = PREFACE_LEN;
	}
	while (pos < len) {
		uint32_t flen;
		uint8_t type, flags;

		if (h->data_left) {
			n = len - pos < h->data_left ? len - pos : h->data_left;
			if (h->body->opaque.why)
				redact_opaque__mask(&h->body->opaque, ctx, buf + pos, n);
			else if (h->body->grpc.on)
				grpc_scan(h->body, ctx, buf + pos, n);
			else
				redact_fields__scan(&h->body->fields, ctx, buf + pos, n, NULL);
			pos += n;
			h->data_left -= (uint32_t)n;
			if (!h->data_left && h->end_stream)
				h->body->used = 0; /* the body is over: its slot is free */
			continue;
		}
		if (h->pad_left || h->skip_left) {
			uint32_t *left = h->pad_left ? &h->pad_left : &h->skip_left;

			n = len - pos < *left ? len - pos : *left;
			pos += n;
			*left -= (uint32_t)n;
			continue;
		}
		if (len - pos < FRAME_HEADER)
			break;
		flen = frame_length(buf + pos);
		type = buf[pos + 3];
		flags = buf[pos + 4];
		if (type == FRAME_HEADERS || type == FRAME_PUSH_PROMISE) {
			long taken = header_block(h, ctx, buf + pos, len - pos);

			if (taken < 0) {
				if (!ctx->lost)
					redact_ctx__lose(ctx, "HTTP/2 header block not followable");
				return pos;
			}
			if (!taken)
				break;
			pos += (size_t)taken;
		} else if (type == FRAME_DATA) {
			uint32_t pad = 0;

			if ((flags & FLAG_PADDED) && len - pos < FRAME_HEADER + 1)
				break;
			if (flags & FLAG_PADDED) {
				pad = buf[pos + FRAME_HEADER];
				if (!flen || pad > flen - 1) {
					redact_ctx__lose(ctx, "HTTP/2 DATA padding longer than the frame");
					return pos;
				}
			}
			h->body = body_of(h, frame_stream(buf + pos));
			h->end_stream = flags & FLAG_END_STREAM;
			h->pad_left = pad;
			h->data_left = flen - pad - ((flags & FLAG_PADDED) ? 1 : 0);
			pos += FRAME_HEADER + ((flags & FLAG_PADDED) ? 1 : 0);
			if (!h->data_left && h->end_stream)
				h->body->used = 0;
		} else {
			h->skip_left = flen;
			pos += FRAME_HEADER;
		}
	}
	return pos;
}

const struct redact_proto redact_http2 = {
	.detect = h2_detect,
	.new = h2_new,
	.free = h2_free,
	.process = h2_process,
};
