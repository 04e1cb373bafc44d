// SPDX-License-Identifier: MIT
/*
 * Fuzz target: arbitrary ring-buffer samples into connection_table__handle_record,
 * through the real stream and pcapng stages (into /dev/null).
 *
 * Input: a sequence of chunks, each a little-endian u16 size and that many
 * bytes, handed over as one sample in a buffer of exactly that size (ASan sees
 * any read past it).  The size 0xffff is no sample but a clock tick: the next
 * 8 bytes are the monotonic time passed to connection_table__tick.  At the end
 * every stream is closed, as when a capture stops.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "connections.h"
#include "fuzz_helpers.h"
#include "netinfo.h"
#include "pcapng.h"
#include "process.h"
#include "tcp_stream.h"

#define TICK 0xffff

static const char *library_label(void *ctx, uint32_t cookie)
{
	return "FuzzSSL 1.0 (/fuzz/libssl.so)";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clock_offset clock = { 0 };
	struct connection_table_config cfg = {
		.clock = &clock,
		.library_label = library_label,
		.peer_wait_ns = 50000000,
		.pending_limit = 1 << 20,
	};
	struct pcapng_writer *w = pcapng_writer__new(fuzz_devnull(), NULL, NULL);
	struct connection_table *t = NULL;
	uint64_t last = 0;
	int id;

	cfg.processes = process_cache__new();
	cfg.netinfo = netinfo__new();
	id = w ? pcapng_writer__add_interface(w, "tlspcap", "fuzz") : -1;
	cfg.streams = id >= 0 ? tcp_stream_table__new(w, id) : NULL;
	if (cfg.processes && cfg.netinfo && cfg.streams)
		t = connection_table__new(&cfg);
	if (!t)
		abort();
	while (size >= 2) {
		size_t n = data[0] | data[1] << 8;
		void *sample;

		data += 2;
		size -= 2;
		if (n == TICK) {
			if (size < sizeof(last))
				break;
			memcpy(&last, data, sizeof(last));
			data += sizeof(last);
			size -= sizeof(last);
			if (connection_table__tick(t, last))
				break;
			continue;
		}
		if (n > size)
			n = size;
		/* a sample of exactly n bytes, 8-aligned as in the ring buffer */
		sample = malloc(n ? n : 1);
		if (!sample)
			abort();
		memcpy(sample, data, n);
		data += n;
		size -= n;
		if (connection_table__handle_record(t, sample, n)) {
			free(sample);
			break;
		}
		free(sample);
	}
	connection_table__close_all(t, last);
	connection_table__free(t);
	tcp_stream_table__free(cfg.streams);
	pcapng_writer__free(w);
	netinfo__free(cfg.netinfo);
	process_cache__free(cfg.processes);
	return 0;
}
