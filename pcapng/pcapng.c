// SPDX-License-Identifier: MIT
/*
 * pcapng block writer.  Every block is sized first, then built in the
 * writer's reusable buffer and handed to fwrite() in one call.  Fields are
 * in host byte order: the SHB byte-order magic tells readers which one.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pcapng.h"

#define PAD4(n) (((size_t)(n) + 3) & ~(size_t)3)

#define DEFAULT_SNAPLEN 262144
#define TSRESOL_NS      9

enum {
	BLOCK_IDB = 0x00000001,
	BLOCK_NRB = 0x00000004,
	BLOCK_ISB = 0x00000005,
	BLOCK_EPB = 0x00000006,
	BLOCK_DSB = 0x0000000A,
	BLOCK_SHB = 0x0A0D0D0A,
};

enum {
	OPT_ENDOFOPT = 0,
	OPT_COMMENT = 1,
	SHB_HARDWARE = 2,
	SHB_OS = 3,
	SHB_USERAPPL = 4,
	IF_NAME = 2,
	IF_DESCRIPTION = 3,
	IF_TSRESOL = 9,
	EPB_FLAGS = 2,
	ISB_STARTTIME = 2,
	ISB_ENDTIME = 3,
	ISB_IFRECV = 4,
	ISB_IFDROP = 5,
	NRB_RECORD_END = 0,
	NRB_RECORD_IPV4 = 1,
	NRB_RECORD_IPV6 = 2,
};

struct pcapng_block_header {
	uint32_t type;
	uint32_t total_length;
} __attribute__((packed));

/* Options and name resolution records share this type-length header. */
struct pcapng_option_header {
	uint16_t code;
	uint16_t length;
} __attribute__((packed));

struct pcapng_timestamp {
	uint32_t high;
	uint32_t low;
} __attribute__((packed));

struct pcapng_shb_body {
	uint32_t byte_order_magic;
	uint16_t major_version;
	uint16_t minor_version;
	int64_t section_length;
} __attribute__((packed));

struct pcapng_idb_body {
	uint16_t linktype;
	uint16_t reserved;
	uint32_t snaplen;
} __attribute__((packed));

struct pcapng_epb_body {
	uint32_t interface_id;
	struct pcapng_timestamp timestamp;
	uint32_t caplen;
	uint32_t len;
} __attribute__((packed));

struct pcapng_isb_body {
	uint32_t interface_id;
	struct pcapng_timestamp timestamp;
} __attribute__((packed));

struct pcapng_dsb_body {
	uint32_t secrets_type;
	uint32_t secrets_length;
} __attribute__((packed));

_Static_assert(sizeof(struct pcapng_block_header) == 8, "block header size");
_Static_assert(offsetof(struct pcapng_block_header, type) == 0, "block type offset");
_Static_assert(offsetof(struct pcapng_block_header, total_length) == 4, "block length offset");
_Static_assert(sizeof(struct pcapng_option_header) == 4, "option header size");
_Static_assert(offsetof(struct pcapng_option_header, code) == 0, "option code offset");
_Static_assert(offsetof(struct pcapng_option_header, length) == 2, "option length offset");
_Static_assert(sizeof(struct pcapng_timestamp) == 8, "timestamp size");
_Static_assert(offsetof(struct pcapng_timestamp, high) == 0, "timestamp high offset");
_Static_assert(offsetof(struct pcapng_timestamp, low) == 4, "timestamp low offset");
_Static_assert(sizeof(struct pcapng_shb_body) == 16, "SHB body size");
_Static_assert(offsetof(struct pcapng_shb_body, byte_order_magic) == 0, "SHB magic offset");
_Static_assert(offsetof(struct pcapng_shb_body, major_version) == 4, "SHB major offset");
_Static_assert(offsetof(struct pcapng_shb_body, minor_version) == 6, "SHB minor offset");
_Static_assert(offsetof(struct pcapng_shb_body, section_length) == 8, "SHB section length offset");
_Static_assert(sizeof(struct pcapng_idb_body) == 8, "IDB body size");
_Static_assert(offsetof(struct pcapng_idb_body, linktype) == 0, "IDB linktype offset");
_Static_assert(offsetof(struct pcapng_idb_body, reserved) == 2, "IDB reserved offset");
_Static_assert(offsetof(struct pcapng_idb_body, snaplen) == 4, "IDB snaplen offset");
_Static_assert(sizeof(struct pcapng_epb_body) == 20, "EPB body size");
_Static_assert(offsetof(struct pcapng_epb_body, interface_id) == 0, "EPB interface offset");
_Static_assert(offsetof(struct pcapng_epb_body, timestamp) == 4, "EPB timestamp offset");
_Static_assert(offsetof(struct pcapng_epb_body, caplen) == 12, "EPB caplen offset");
_Static_assert(offsetof(struct pcapng_epb_body, len) == 16, "EPB len offset");
_Static_assert(sizeof(struct pcapng_isb_body) == 12, "ISB body size");
_Static_assert(offsetof(struct pcapng_isb_body, interface_id) == 0, "ISB interface offset");
_Static_assert(offsetof(struct pcapng_isb_body, timestamp) == 4, "ISB timestamp offset");
_Static_assert(sizeof(struct pcapng_dsb_body) == 8, "DSB body size");
_Static_assert(offsetof(struct pcapng_dsb_body, secrets_type) == 0, "DSB type offset");
_Static_assert(offsetof(struct pcapng_dsb_body, secrets_length) == 4, "DSB length offset");

#define BLOCK_OVERHEAD (sizeof(struct pcapng_block_header) + sizeof(uint32_t))
#define OPT_SIZE(len)  (sizeof(struct pcapng_option_header) + PAD4(len))
#define OPT_END_SIZE   sizeof(struct pcapng_option_header)

struct pcapng_writer {
	FILE *out;
	/* Blocks not yet written: the SHB waits here for the first IDB. */
	uint8_t *buf;
	size_t len;
	size_t cap;
	/* The SHB and every IDB, written again at the start of each new file. */
	uint8_t *header;
	size_t header_len;
	uint32_t snaplen;
	uint32_t interface_count;
	/* First stream error; after it the file is in an unknown state. */
	int err;
	uint64_t bytes_written;
	uint64_t last_timestamp;   /* the latest packet timestamp written */
	uint64_t section_start;    /* no packet of this section is older */
};

static struct pcapng_timestamp timestamp_split(uint64_t ns)
{
	return (struct pcapng_timestamp){ .high = ns >> 32, .low = (uint32_t)ns };
}

static uint8_t *put(uint8_t *p, const void *data, size_t len)
{
	memcpy(p, data, len);
	return p + len;
}

static uint8_t *put_pad(uint8_t *p, size_t len)
{
	size_t pad = PAD4(len) - len;

	memset(p, 0, pad);
	return p + pad;
}

static uint8_t *put_tl(uint8_t *p, uint16_t code, size_t len)
{
	struct pcapng_option_header h = { .code = code, .length = len };

	return put(p, &h, sizeof(h));
}

static uint8_t *put_opt(uint8_t *p, uint16_t code, const void *val, size_t len)
{
	p = put_tl(p, code, len);
	p = put(p, val, len);
	return put_pad(p, len);
}

static uint8_t *put_str_opt(uint8_t *p, uint16_t code, const char *s)
{
	return s ? put_opt(p, code, s, strlen(s)) : p;
}

/* Adds the on-disk size of string option @s (none when NULL) to @size. */
static int str_opt_size(size_t *size, const char *s)
{
	size_t len;

	if (!s)
		return 0;
	len = strlen(s);
	if (len > UINT16_MAX)
		return -EINVAL;
	*size += OPT_SIZE(len);
	return 0;
}

/* Appends a block header to the buffer; the body goes at *@p. */
static int writer__block_begin(struct pcapng_writer *w, uint32_t type, size_t body_size,
			       uint8_t **p)
{
	size_t total = BLOCK_OVERHEAD + body_size;
	struct pcapng_block_header h = { .type = type };

	if (total > UINT32_MAX)
		return -E2BIG;
	h.total_length = total;
	if (w->len + total > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		uint8_t *buf;

		while (cap < w->len + total)
			cap *= 2;
		buf = realloc(w->buf, cap);
		if (!buf)
			return -ENOMEM;
		w->buf = buf;
		w->cap = cap;
	}
	*p = put(w->buf + w->len, &h, sizeof(h));
	return 0;
}

/* Keeps a copy of the block just ended (SHB, IDB) for pcapng_writer__new_section(). */
static int writer__keep_header(struct pcapng_writer *w, size_t start)
{
	uint8_t *header = realloc(w->header, w->header_len + w->len - start);

	if (!header)
		return -ENOMEM;
	memcpy(header + w->header_len, w->buf + start, w->len - start);
	w->header = header;
	w->header_len += w->len - start;
	return 0;
}

/* Closes the block begun at w->len with its trailing length at @p. */
static void writer__block_end(struct pcapng_writer *w, uint8_t *p)
{
	struct pcapng_block_header h;

	memcpy(&h, w->buf + w->len, sizeof(h));
	p = put(p, &h.total_length, sizeof(h.total_length));
	/* The count and the build must agree or the file is corrupt. */
	assert(p == w->buf + w->len + h.total_length);
	w->len += h.total_length;
}

static int stream_error(void)
{
	return errno ? -errno : -EIO;
}

static int writer__fflush(struct pcapng_writer *w)
{
	errno = 0;
	if (fflush(w->out) || ferror(w->out))
		w->err = stream_error();
	return w->err;
}

/* Hands every buffered block to the stream in one fwrite(). */
static int writer__emit(struct pcapng_writer *w)
{
	size_t len = w->len;
	size_t n;

	w->len = 0;
	errno = 0;
	n = fwrite(w->buf, 1, len, w->out);
	w->bytes_written += n;
	if (n != len || ferror(w->out)) {
		w->err = stream_error();
		return w->err;
	}
	return 0;
}

struct pcapng_writer *pcapng_writer__new(FILE *out, const struct pcapng_section_info *section,
					 const struct pcapng_writer_opts *opts)
{
	static const struct pcapng_section_info no_section;
	struct pcapng_shb_body shb = {
		.byte_order_magic = 0x1A2B3C4D,
		.major_version = 1,
		.minor_version = 0,
		.section_length = -1, /* unknown: we stream */
	};
	struct pcapng_writer *w;
	size_t opts_size = 0;
	uint8_t *p;
	int err;

	if (!out) {
		errno = EINVAL;
		return NULL;
	}
	if (!section)
		section = &no_section;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->out = out;
	w->snaplen = opts && opts->snaplen ? opts->snaplen : DEFAULT_SNAPLEN;

	err = str_opt_size(&opts_size, section->comment);
	err = err ?: str_opt_size(&opts_size, section->hardware);
	err = err ?: str_opt_size(&opts_size, section->os);
	err = err ?: str_opt_size(&opts_size, section->application);
	if (err)
		goto cleanup;
	if (opts_size)
		opts_size += OPT_END_SIZE;

	/* Built now so @section need not outlive this call; written with the first IDB. */
	err = writer__block_begin(w, BLOCK_SHB, sizeof(shb) + opts_size, &p);
	if (err)
		goto cleanup;
	p = put(p, &shb, sizeof(shb));
	p = put_str_opt(p, OPT_COMMENT, section->comment);
	p = put_str_opt(p, SHB_HARDWARE, section->hardware);
	p = put_str_opt(p, SHB_OS, section->os);
	p = put_str_opt(p, SHB_USERAPPL, section->application);
	if (opts_size)
		p = put_tl(p, OPT_ENDOFOPT, 0);
	writer__block_end(w, p);
	err = writer__keep_header(w, 0);
	if (err)
		goto cleanup;
	return w;

cleanup:
	pcapng_writer__free(w);
	errno = -err;
	return NULL;
}

void pcapng_writer__free(struct pcapng_writer *w)
{
	if (!w)
		return;
	/* Errors are reported by pcapng_writer__flush(), which callers use before this. */
	fflush(w->out);
	free(w->buf);
	free(w->header);
	free(w);
}

int pcapng_writer__add_interface(struct pcapng_writer *w, const char *name, const char *description)
{
	struct pcapng_idb_body idb = {
		.linktype = PCAPNG_LINKTYPE_RAW,
		.snaplen = w->snaplen,
	};
	uint8_t tsresol = TSRESOL_NS;
	size_t opts_size = OPT_SIZE(sizeof(tsresol)) + OPT_END_SIZE;
	size_t start = w->len;
	uint8_t *p;
	int err;

	if (w->err)
		return w->err;
	if (w->interface_count == INT_MAX)
		return -ERANGE;
	err = str_opt_size(&opts_size, name);
	err = err ?: str_opt_size(&opts_size, description);
	err = err ?: writer__block_begin(w, BLOCK_IDB, sizeof(idb) + opts_size, &p);
	if (err)
		return err;
	p = put(p, &idb, sizeof(idb));
	p = put_str_opt(p, IF_NAME, name);
	p = put_str_opt(p, IF_DESCRIPTION, description);
	p = put_opt(p, IF_TSRESOL, &tsresol, sizeof(tsresol));
	p = put_tl(p, OPT_ENDOFOPT, 0);
	writer__block_end(w, p);
	err = writer__keep_header(w, start);
	if (err) {
		w->len = start;
		return err;
	}

	err = writer__emit(w);
	if (err)
		return err;
	return w->interface_count++;
}

int pcapng_writer__write_packet(struct pcapng_writer *w, const struct pcapng_packet *pkt)
{
	struct pcapng_epb_body epb;
	uint64_t ts;
	size_t opts_size = 0;
	uint8_t *p;
	int i, err;

	if (w->err)
		return w->err;
	if (!pkt || pkt->interface_id >= w->interface_count || pkt->caplen > pkt->len ||
	    pkt->caplen > w->snaplen || pkt->tail_len > pkt->caplen ||
	    (!pkt->data && pkt->caplen > pkt->tail_len) || (!pkt->tail && pkt->tail_len))
		return -EINVAL;
	for (i = 0; i < PCAPNG_MAX_COMMENTS && pkt->comments[i]; i++) {
		err = str_opt_size(&opts_size, pkt->comments[i]);
		if (err)
			return err;
	}
	if (pkt->direction)
		opts_size += OPT_SIZE(sizeof(pkt->direction));
	if (opts_size)
		opts_size += OPT_END_SIZE;

	err = writer__block_begin(w, BLOCK_EPB, sizeof(epb) + PAD4(pkt->caplen) + opts_size, &p);
	if (err)
		return err;
	ts = pkt->timestamp_ns > w->section_start ? pkt->timestamp_ns : w->section_start;
	if (ts > w->last_timestamp)
		w->last_timestamp = ts;
	epb = (struct pcapng_epb_body){
		.interface_id = pkt->interface_id,
		.timestamp = timestamp_split(ts),
		.caplen = pkt->caplen,
		.len = pkt->len,
	};
	p = put(p, &epb, sizeof(epb));
	if (pkt->caplen > pkt->tail_len)
		p = put(p, pkt->data, pkt->caplen - pkt->tail_len);
	if (pkt->tail_len)
		p = put(p, pkt->tail, pkt->tail_len);
	p = put_pad(p, pkt->caplen);
	for (i = 0; i < PCAPNG_MAX_COMMENTS && pkt->comments[i]; i++)
		p = put_str_opt(p, OPT_COMMENT, pkt->comments[i]);
	if (pkt->direction)
		p = put_opt(p, EPB_FLAGS, &pkt->direction, sizeof(pkt->direction));
	if (opts_size)
		p = put_tl(p, OPT_ENDOFOPT, 0);
	writer__block_end(w, p);
	return writer__emit(w);
}

int pcapng_writer__write_interface_stats(struct pcapng_writer *w, uint32_t interface_id,
					 const struct pcapng_interface_stats *stats)
{
	struct pcapng_isb_body isb;
	struct pcapng_timestamp start, end;
	/* isb_ifrecv and isb_ifdrop are always present. */
	size_t opts_size = 2 * OPT_SIZE(sizeof(uint64_t)) + OPT_END_SIZE;
	uint8_t *p;
	int err;

	if (w->err)
		return w->err;
	if (!stats || interface_id >= w->interface_count)
		return -EINVAL;
	if (stats->start_ns)
		opts_size += OPT_SIZE(sizeof(start));
	if (stats->end_ns)
		opts_size += OPT_SIZE(sizeof(end));
	err = str_opt_size(&opts_size, stats->comment);
	err = err ?: writer__block_begin(w, BLOCK_ISB, sizeof(isb) + opts_size, &p);
	if (err)
		return err;
	isb = (struct pcapng_isb_body){
		.interface_id = interface_id,
		.timestamp = timestamp_split(stats->timestamp_ns),
	};
	start = timestamp_split(stats->start_ns);
	end = timestamp_split(stats->end_ns);
	p = put(p, &isb, sizeof(isb));
	p = put_str_opt(p, OPT_COMMENT, stats->comment);
	if (stats->start_ns)
		p = put_opt(p, ISB_STARTTIME, &start, sizeof(start));
	if (stats->end_ns)
		p = put_opt(p, ISB_ENDTIME, &end, sizeof(end));
	p = put_opt(p, ISB_IFRECV, &stats->received, sizeof(stats->received));
	p = put_opt(p, ISB_IFDROP, &stats->dropped, sizeof(stats->dropped));
	p = put_tl(p, OPT_ENDOFOPT, 0);
	writer__block_end(w, p);
	return writer__emit(w);
}

static size_t name_record_addr_len(const struct pcapng_name_record *r)
{
	switch (r->family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

int pcapng_writer__write_name_resolution(struct pcapng_writer *w,
					 const struct pcapng_name_record *records, size_t count)
{
	size_t records_size = OPT_END_SIZE; /* nrb_record_end */
	uint8_t *p;
	size_t i;
	int err;

	if (w->err)
		return w->err;
	if (!records || !count || !w->interface_count)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		size_t addr_len = name_record_addr_len(&records[i]);
		/* Unlike options, record names are NUL-terminated on disk. */
		size_t len;

		if (!addr_len || !records[i].name)
			return -EINVAL;
		len = addr_len + strlen(records[i].name) + 1;
		if (len > UINT16_MAX)
			return -EINVAL;
		records_size += OPT_SIZE(len);
	}

	err = writer__block_begin(w, BLOCK_NRB, records_size, &p);
	if (err)
		return err;
	for (i = 0; i < count; i++) {
		const struct pcapng_name_record *r = &records[i];
		size_t addr_len = name_record_addr_len(r);
		size_t name_len = strlen(r->name) + 1;

		p = put_tl(p, r->family == AF_INET ? NRB_RECORD_IPV4 : NRB_RECORD_IPV6,
			   addr_len + name_len);
		p = put(p, r->addr, addr_len);
		p = put(p, r->name, name_len);
		p = put_pad(p, addr_len + name_len);
	}
	p = put_tl(p, NRB_RECORD_END, 0);
	writer__block_end(w, p);
	return writer__emit(w);
}

int pcapng_writer__write_decryption_secrets(struct pcapng_writer *w, uint32_t secrets_type,
					    const void *data, uint32_t len)
{
	struct pcapng_dsb_body dsb = { .secrets_type = secrets_type, .secrets_length = len };
	uint8_t *p;
	int err;

	if (w->err)
		return w->err;
	if (!data || !len || !w->interface_count)
		return -EINVAL;
	err = writer__block_begin(w, BLOCK_DSB, sizeof(dsb) + PAD4(len), &p);
	if (err)
		return err;
	p = put(p, &dsb, sizeof(dsb));
	p = put(p, data, len);
	p = put_pad(p, len);
	writer__block_end(w, p);
	return writer__emit(w);
}

int pcapng_writer__new_section(struct pcapng_writer *w)
{
	if (w->err)
		return w->err;
	if (!w->interface_count)
		return -EINVAL;
	if (w->cap < w->header_len) {
		uint8_t *buf = realloc(w->buf, w->header_len);

		if (!buf)
			return -ENOMEM;
		w->buf = buf;
		w->cap = w->header_len;
	}
	memcpy(w->buf, w->header, w->header_len);
	w->len = w->header_len;
	w->section_start = w->last_timestamp + 1;
	return writer__emit(w);
}

int pcapng_writer__flush(struct pcapng_writer *w)
{
	return w->err ?: writer__fflush(w);
}

uint64_t pcapng_writer__bytes_written(const struct pcapng_writer *w)
{
	return w->bytes_written;
}
