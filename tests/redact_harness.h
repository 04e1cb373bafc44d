/* SPDX-License-Identifier: MIT */
/*
 * Test-only harness for the redaction stage: a real redact_stream in front
 * of a real tcp_stream writing pcapng into a temporary file, read back with
 * libpcap, so a test sees exactly the payload bytes the file holds.
 * Header-only; include it after <cmocka.h>.
 */
#ifndef TLSPCAP_REDACT_HARNESS_H
#define TLSPCAP_REDACT_HARNESS_H

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcapng.h"
#include "redact.h"
#include "tcp_stream.h"

struct harness {
	char path[64];     /* the pcapng file, for tshark; removed by harness_free */
	FILE *file;
	struct pcapng_writer *writer;
	struct tcp_stream_table *table;
	struct tcp_stream *tcp;
	struct redactor *redactor;
	struct redact_stream *rs;
	uint64_t offset[2];
	char *out[2];      /* payload bytes per direction, after harness_close */
	size_t out_len[2];
	char summary[1024];
};

/* Fails the test, showing @hay, when @needle is not in it / is in it. */
static inline void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not in:\n%s", needle, hay);
}

static inline void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("'%s' still in:\n%s", needle, hay);
}

static inline void harness_open_policy(struct harness *h, struct redact_policy *policy, bool joined)
{
	struct pcapng_section_info section = { .application = "test" };
	struct pcapng_writer_opts wopts = { 0 };
	struct tcp_stream_info info = { .fixed_isn = 1, .client_isn = 1000, .server_isn = 5000 };

	int fd;

	memset(h, 0, sizeof(*h));
	snprintf(h->path, sizeof(h->path), "/tmp/test_redact.XXXXXX");
	fd = mkstemp(h->path);
	assert_true(fd >= 0);
	h->file = fdopen(fd, "w+");
	assert_non_null(h->file);
	h->writer = pcapng_writer__new(h->file, &section, &wopts);
	assert_non_null(h->writer);
	assert_int_equal(pcapng_writer__add_interface(h->writer, "tls", "test"), 0);
	h->table = tcp_stream_table__new(h->writer, 0);
	assert_non_null(h->table);
	info.client.family = info.server.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", info.client.addr);
	inet_pton(AF_INET, "10.0.0.2", info.server.addr);
	info.client.port = 40000;
	info.server.port = 80; /* tshark takes the HTTP/2 preface there */
	h->tcp = tcp_stream__open(h->table, &info, 1000);
	assert_non_null(h->tcp);
	assert_non_null(policy);
	h->redactor = redactor__new(policy);
	assert_non_null(h->redactor);
	h->rs = redact_stream__new(h->redactor, joined);
	assert_non_null(h->rs);
}

static inline void harness_open(struct harness *h)
{
	harness_open_policy(h, redact_policy__new(), false);
}

/* Bytes of @dir at an explicit offset (gaps, duplicates). */
static inline void harness_write_at(struct harness *h, enum tcp_stream_dir dir, uint64_t offset,
				    const void *data, size_t caplen, size_t len)
{
	assert_int_equal(redact_stream__write(h->rs, h->tcp, dir, offset, data, (uint32_t)caplen, len,
					      2000),
			 0);
	if (offset + len > h->offset[dir])
		h->offset[dir] = offset + len;
}

/* @len bytes of @dir, next in the stream, in calls of @piece bytes (0: one call). */
static inline void harness_feed(struct harness *h, enum tcp_stream_dir dir, const void *data,
				size_t len, size_t piece)
{
	const uint8_t *p = data;
	size_t done = 0, n;

	if (!piece)
		piece = len ? len : 1;
	while (done < len) {
		n = len - done < piece ? len - done : piece;
		harness_write_at(h, dir, h->offset[dir], p + done, n, n);
		done += n;
	}
}

static inline void harness_feed_str(struct harness *h, enum tcp_stream_dir dir, const char *s,
				    size_t piece)
{
	harness_feed(h, dir, s, strlen(s), piece);
}

/* Ends the stream and reads every TCP payload back, by direction. */
static inline void harness_close(struct harness *h)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *pkt;
	const char *summary;
	pcap_t *pcap;
	int dir;

	assert_int_equal(redact_stream__flush(h->rs, h->tcp), 0);
	summary = redact_stream__summary(h->rs);
	snprintf(h->summary, sizeof(h->summary), "%s", summary ? summary : "");
	assert_int_equal(tcp_stream__close(h->tcp, 3000, NULL), 0);
	redact_stream__free(h->rs);
	tcp_stream_table__free(h->table);
	assert_int_equal(pcapng_writer__flush(h->writer), 0);
	pcapng_writer__free(h->writer);
	rewind(h->file);
	pcap = pcap_fopen_offline(h->file, errbuf);
	assert_non_null(pcap);
	for (dir = 0; dir < 2; dir++) {
		h->out[dir] = calloc(1, 1);
		h->out_len[dir] = 0;
	}
	while (pcap_next_ex(pcap, &ph, &pkt) == 1) {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4, thl, n;
		uint16_t sport;

		if (ph->caplen < ihl + 20)
			continue;
		thl = (size_t)(pkt[ihl + 12] >> 4) * 4;
		sport = (uint16_t)(pkt[ihl] << 8 | pkt[ihl + 1]);
		dir = sport == 40000 ? 0 : 1;
		n = ph->caplen - ihl - thl;
		if (!n)
			continue;
		h->out[dir] = realloc(h->out[dir], h->out_len[dir] + n + 1);
		memcpy(h->out[dir] + h->out_len[dir], pkt + ihl + thl, n);
		h->out_len[dir] += n;
		h->out[dir][h->out_len[dir]] = '\0';
	}
	pcap_close(pcap); /* closes h->file */
	h->rs = NULL;
}

static inline void harness_free(struct harness *h)
{
	unlink(h->path);
	redactor__free(h->redactor);
	free(h->out[0]);
	free(h->out[1]);
}

/* Feeds @in whole and in every piece size from 1 to @max_piece: the output must not depend on it. */
static inline char *redact_in_pieces(const char *in, enum tcp_stream_dir dir, size_t max_piece,
				     char *summary, size_t summary_size)
{
	struct harness h;
	char *first = NULL;
	size_t piece;

	for (piece = 0; piece <= max_piece; piece++) {
		harness_open(&h);
		harness_feed_str(&h, dir, in, piece);
		harness_close(&h);
		assert_int_equal(h.out_len[dir], strlen(in));
		if (!first) {
			first = strdup(h.out[dir]);
			if (summary)
				snprintf(summary, summary_size, "%s", h.summary);
		} else if (strcmp(first, h.out[dir])) {
			fail_msg("pieces of %zu bytes give\n%s\ninstead of\n%s", piece, h.out[dir], first);
		}
		harness_free(&h);
	}
	return first;
}

/* One message of a conversation, in the order the two ends send them. */
struct turn {
	enum tcp_stream_dir dir;
	const void *data;
	size_t len;
};

/*
 * Feeds @turns whole, then in every piece size up to @max_piece; the file
 * must hold the same bytes each time.  Leaves the whole-piece run in @h
 * (closed; harness_free it).
 */
static inline void redact_conversation(struct harness *h, const struct turn *turns, size_t n,
				       size_t max_piece)
{
	struct harness other;
	size_t piece, i;
	int dir;

	for (piece = 0; piece <= max_piece; piece++) {
		struct harness *cur = piece ? &other : h;

		harness_open(cur);
		for (i = 0; i < n; i++)
			harness_feed(cur, turns[i].dir, turns[i].data, turns[i].len, piece);
		harness_close(cur);
		if (!piece)
			continue;
		for (dir = 0; dir < 2; dir++) {
			assert_int_equal(other.out_len[dir], h->out_len[dir]);
			if (memcmp(other.out[dir], h->out[dir], h->out_len[dir]))
				fail_msg("pieces of %zu bytes give other bytes (direction %d)", piece, dir);
		}
		assert_string_equal(other.summary, h->summary);
		harness_free(&other);
	}
}

#define TURN(d, s) { (d), (s), sizeof(s) - 1 }

#endif /* TLSPCAP_REDACT_HARNESS_H */
