/* SPDX-License-Identifier: MIT */
/*
 * Synthetic TCP streams: turn "this connection sent these bytes at this
 * offset" into TCP/IP frames that Wireshark reassembles cleanly.
 *
 * A stream is a SYN / SYN-ACK / ACK handshake (MSS + NOP + window scale 14),
 * PSH|ACK data segments with exact per-direction sequence and ack numbers,
 * and FIN-ACK / FIN-ACK / ACK at close.  IPv4 and IPv6 headers and TCP
 * checksums are computed.  Payload is split at 65495 (IPv4) / 65515 (IPv6)
 * bytes so the IP length fields never overflow.
 *
 * Loss is never papered over: bytes that were not captured advance the
 * sequence number (Wireshark then says "previous segment not captured") and
 * the next frame carries a comment with the count; bytes cut by a snap
 * length become frames with caplen < len.
 *
 * The table owns the per-file rules: TLS ports are remapped to their
 * plaintext twins (443 -> 80, ...) so tshark dissects the plaintext, and
 * every synthetic 4-tuple is unique within the file.
 */
#ifndef TLSPCAP_TCP_STREAM_H
#define TLSPCAP_TCP_STREAM_H

#include <stdint.h>

#include "pcapng.h"

#define TCP_STREAM_MAX_COMMENTS 4

#define TCP_STREAM_IPV4_MAX_PAYLOAD 65495u
#define TCP_STREAM_IPV6_MAX_PAYLOAD 65515u

struct tcp_endpoint {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];    /* IPv4 in the first 4 bytes, network order */
	uint16_t port;       /* host order */
};

enum tcp_stream_dir {
	TCP_STREAM_CLIENT_TO_SERVER = 0,
	TCP_STREAM_SERVER_TO_CLIENT = 1,
};

enum tcp_stream_side {
	TCP_STREAM_SIDE_CLIENT = 0,
	TCP_STREAM_SIDE_SERVER = 1,
};

struct tcp_stream_info {
	struct tcp_endpoint client;  /* real endpoints; client = connect side */
	struct tcp_endpoint server;
	enum tcp_stream_side local_side; /* whose view: its sends are "outbound" */
	/* Use this server port instead of the remapped real one (0 = none),
	 * e.g. 80 for a stream that starts with the HTTP/2 client preface. */
	uint16_t server_port_override;
	int fixed_isn;               /* tests: use the ISNs below */
	uint32_t client_isn, server_isn;
	const char *comments[TCP_STREAM_MAX_COMMENTS]; /* on the SYN; NULL-terminated */
};

/* Per-table totals, for the capture summary and the interface statistics. */
struct tcp_stream_counters {
	uint64_t streams;
	uint64_t packets;
	uint64_t payload_bytes;    /* bytes written into frames */
	uint64_t lost_bytes;       /* gaps: sequence advanced, no frame */
	uint64_t truncated_bytes;  /* len - caplen of truncated frames */
	uint64_t duplicate_bytes;  /* offered again at an offset already written */
};

struct tcp_stream_table;
struct tcp_stream;

struct tcp_stream_table *tcp_stream_table__new(struct pcapng_writer *w, uint32_t interface_id);
/* Does not close open streams (call tcp_stream__close first); accepts NULL. */
void tcp_stream_table__free(struct tcp_stream_table *t);
const struct tcp_stream_counters *tcp_stream_table__counters(const struct tcp_stream_table *t);

/* Plaintext twin of a TLS port (443 -> 80 ...), or @port unchanged. */
uint16_t tcp_stream__plaintext_port(uint16_t port);

/* Writes the handshake; the SYN carries info->comments.  NULL + errno on failure. */
struct tcp_stream *tcp_stream__open(struct tcp_stream_table *t, const struct tcp_stream_info *info,
				    uint64_t timestamp_ns);
/*
 * Writes @len bytes that start at byte @offset of direction @dir (offsets
 * count from 0 at the first byte of that direction the stream carries).
 * Only @caplen bytes of @data are present; the rest were cut by a snap
 * length.  A part already written is skipped (counted as duplicate), a
 * jump forward is a gap.  @comment (may be NULL) goes on the first frame.
 */
int tcp_stream__write(struct tcp_stream *s, enum tcp_stream_dir dir, uint64_t offset,
		      const void *data, uint32_t caplen, uint64_t len, uint64_t timestamp_ns,
		      const char *comment);
/* Declares @len bytes at @offset lost (e.g. dropped events): a gap with a comment. */
int tcp_stream__mark_lost(struct tcp_stream *s, enum tcp_stream_dir dir, uint64_t offset,
			  uint64_t len);
/* Next offset expected in @dir. */
uint64_t tcp_stream__next_offset(const struct tcp_stream *s, enum tcp_stream_dir dir);
/*
 * The capture goes on in a new file (rotation): the next frame of @s there
 * carries a comment saying it continues from the previous file, then
 * @comments (copied; NULL-terminated, at most TCP_STREAM_MAX_COMMENTS), as a
 * SYN would.  Sequence numbers go on where they stopped and no second
 * handshake is written, so the merged files hold one stream (tshark takes a
 * new SYN for a new stream); tshark flags nothing in a stream whose first
 * frames are mid-way.
 */
int tcp_stream__continue(struct tcp_stream *s, const char *const *comments);
/* FIN-ACK both ways and the last ACK (@comment may be NULL), then frees @s. */
int tcp_stream__close(struct tcp_stream *s, uint64_t timestamp_ns, const char *comment);

#endif /* TLSPCAP_TCP_STREAM_H */
