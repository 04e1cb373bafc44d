/* SPDX-License-Identifier: MIT */
/*
 * The connection stage: records from the probes become synthetic TCP
 * streams.  One stream per connection: when both ends of a local connection
 * are traced, the two views share one stream (byte offsets make the same
 * byte the same, whichever view reports it) and the SYN carries one comment
 * per endpoint.  A connection whose peer might be traced on this host is
 * held back briefly so both comments can go on the SYN.
 */
#ifndef TLSPCAP_CONNECTIONS_H
#define TLSPCAP_CONNECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "tlspcap.h"

struct tcp_stream_table;
struct process_cache;
struct netinfo;
struct clock_offset;
struct redactor;
struct capture_filter;

/* One end of a connection as the probes name it. */
struct connection_end {
	uint32_t tgid;
	uint64_t ssl;              /* the TLS context */
	uint64_t conn_id;
};

struct connection_table_config {
	struct tcp_stream_table *streams;
	struct process_cache *processes;
	struct netinfo *netinfo;
	const struct clock_offset *clock;
	/* "OpenSSL 3.0.19 (/usr/lib/.../libssl.so.3)" for an attach cookie. */
	const char *(*library_label)(void *ctx, uint32_t cookie);
	void *library_ctx;
	/* Called between records written from a queue (may be NULL): a waiting
	 * connection can hold megabytes, and output rotation goes by record. */
	int (*between_records)(void *ctx);
	void *between_ctx;
	/* Both views of a local connection share a stream from its start: the
	 * bytes @receiver reads are in @sender's records (NULL: not told).
	 * Best effort: the probes record both when not told. */
	void (*views_paired)(void *ctx, const struct connection_end *receiver,
			    const struct connection_end *sender);
	void *views_ctx;
	/* A data record came for a connection without its SOCKET record yet (may be
	 * NULL): the record may be read now, from wherever it waits, through
	 * connection_table__handle_record (it is there before the first data). */
	int (*socket_pending)(void *ctx);
	void *socket_pending_ctx;
	uint64_t peer_wait_ns;     /* how long a local connection waits for its peer view */
	size_t pending_limit;      /* bytes held per waiting connection before it opens anyway */
	struct redactor *redactor; /* --redact, or NULL */
	/* Connections it rejects are not written (NULL: all are); one without a
	 * known socket has no real addresses to judge and is rejected too. */
	const struct capture_filter *filter;
};

struct connection_stats {
	uint64_t connections;      /* streams opened */
	uint64_t merged;           /* connections seen from both ends */
	uint64_t unattributed;     /* streams without a known socket */
	uint64_t joined;           /* connections open before the capture began */
	uint64_t data_records;
	uint64_t captured_bytes;   /* plaintext bytes delivered by the probes */
	uint64_t bad_records;      /* malformed records (size or type) */
	uint64_t filtered;         /* connections the filter rejected: not written */
	uint64_t filtered_bytes;   /* plaintext bytes of theirs, captured and not written */
	uint64_t open_now;
};

struct connection_table;

struct connection_table *connection_table__new(const struct connection_table_config *cfg);
/* Does not write anything: call connection_table__close_all first. Accepts NULL. */
void connection_table__free(struct connection_table *t);
/* One ring buffer sample.  Returns 0 or the writer's -errno. */
int connection_table__handle_record(struct connection_table *t, const void *data, size_t size);
/* Opens the waiting connections whose wait is over. */
int connection_table__tick(struct connection_table *t, uint64_t now_monotonic_ns);
/* The output goes on in a new file: every open stream says so on its next packet. */
int connection_table__continue_all(struct connection_table *t);
/* Ends every stream with FIN (capture stops). */
int connection_table__close_all(struct connection_table *t, uint64_t now_monotonic_ns);
const struct connection_stats *connection_table__stats(const struct connection_table *t);

#endif /* TLSPCAP_CONNECTIONS_H */
