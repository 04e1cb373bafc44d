// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the redaction stage and its protocol parsers, through a real
 * TCP stream and pcapng writer (into /dev/null).
 * Input: byte 0 (bit 0: the stream joined mid-connection), then chunks, each
 * a header byte (bit 7: server to client, bits 0-5: length 1..64, bit 6:
 * with an odd length a gap as long as the chunk before it, with an even one
 * the chunk cut by a snap length to its first half) and that many bytes;
 * the whole input is also redacted as the Args: line of a packet comment.
 * Oracle: redaction never changes a length, so each direction ends where
 * its input did and the frames hold exactly the bytes captured and cut.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_helpers.h"
#include "pcapng.h"
#include "redact.h"
#include "tcp_stream.h"

static void fuzz_comment(struct redactor *r, const uint8_t *data, size_t size)
{
	char *text = malloc(size + 7);

	if (!text)
		abort();
	memcpy(text, "Args: ", 6);
	memcpy(text + 6, data, size);
	text[size + 6] = '\0';
	redactor__comment(r, text);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcapng_section_info section = { .application = "fuzz" };
	struct tcp_stream_info info = { .fixed_isn = 1 };
	struct pcapng_writer *w;
	struct tcp_stream_table *table;
	struct tcp_stream *tcp;
	struct redactor *r;
	struct redact_stream *rs;
	const struct tcp_stream_counters *counters;
	uint64_t offset[2] = { 0, 0 }, captured = 0, cut = 0;
	size_t pos = 1;
	int dir;

	if (!size)
		return 0;
	r = redactor__new(redact_policy__new());
	w = pcapng_writer__new(fuzz_devnull(), &section, NULL);
	if (!r || !w || pcapng_writer__add_interface(w, "tls", "fuzz") < 0)
		abort();
	table = tcp_stream_table__new(w, 0);
	info.client.family = info.server.family = AF_INET;
	info.client.port = 40000;
	info.server.port = 443;
	tcp = table ? tcp_stream__open(table, &info, 1) : NULL;
	rs = redact_stream__new(r, data[0] & 1);
	if (!tcp || !rs)
		abort();
	while (pos < size) {
		uint8_t h = data[pos++];
		dir = h & 0x80 ? TCP_STREAM_SERVER_TO_CLIENT : TCP_STREAM_CLIENT_TO_SERVER;
		size_t len = (size_t)(h & 0x3f) + 1, caplen;

		if (len > size - pos)
			len = size - pos;
		caplen = len;
		if (h & 0x40 && len % 2)
			offset[dir] += len; /* a gap */
		else if (h & 0x40)
			caplen = len / 2; /* cut by -s */
		if (redact_stream__write(rs, tcp, (enum tcp_stream_dir)dir, offset[dir], data + pos,
					 (uint32_t)caplen, len, 2))
			abort();
		offset[dir] += len;
		captured += caplen;
		cut += len - caplen;
		pos += len;
	}
	if (redact_stream__flush(rs, tcp))
		abort();
	counters = tcp_stream_table__counters(table);
	for (dir = 0; dir < 2; dir++)
		if (tcp_stream__next_offset(tcp, (enum tcp_stream_dir)dir) != offset[dir])
			abort(); /* bytes held back, or made up */
	if (counters->payload_bytes != captured || counters->truncated_bytes != cut ||
	    counters->duplicate_bytes)
		abort();
	redact_stream__summary(rs);
	tcp_stream__close(tcp, 3, NULL);
	redact_stream__free(rs);
	tcp_stream_table__free(table);
	pcapng_writer__free(w);
	fuzz_comment(r, data, size);
	redactor__free(r);
	return 0;
}
