// SPDX-License-Identifier: MIT
/*
 * Synthetic TCP streams (see tcp_stream.h for the contract).
 *
 * Sequence numbers: byte @off of a direction has seq = isn + 1 + off (mod
 * 2^32); "next" counts bytes written *and* bytes skipped as lost, so a gap
 * is a jump in seq that Wireshark reports as "previous segment not
 * captured".  Acks only cover what a reader has seen a frame for (the end of
 * the last frame sent the other way), so a trailing gap is never acked
 * before the segment after it appears ("ACKed unseen segment" otherwise).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "tcp_stream.h"

#define IPPROTO_TCP_NUM 6
#define IP_TTL_DEFAULT 64
#define IPV4_DF 0x4000
#define TCP_WINDOW 65535
#define TCP_WSCALE 14
/* MTU of the loopback device minus the IP and TCP headers. */
#define TCP_MSS_V4 65495
#define TCP_MSS_V6 65475

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

struct ipv4_hdr {
	uint8_t ver_ihl;
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off;
	uint8_t ttl;
	uint8_t protocol;
	uint16_t check;
	uint8_t saddr[4];
	uint8_t daddr[4];
} __attribute__((packed));
_Static_assert(sizeof(struct ipv4_hdr) == 20, "IPv4 header is 20 bytes");

struct ipv6_hdr {
	uint32_t ver_tc_flow;
	uint16_t payload_len;
	uint8_t nexthdr;
	uint8_t hop_limit;
	uint8_t saddr[16];
	uint8_t daddr[16];
} __attribute__((packed));
_Static_assert(sizeof(struct ipv6_hdr) == 40, "IPv6 header is 40 bytes");

struct tcp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t doff;   /* data offset in 32-bit words, high nibble */
	uint8_t flags;
	uint16_t window;
	uint16_t check;
	uint16_t urg_ptr;
} __attribute__((packed));
_Static_assert(sizeof(struct tcp_hdr) == 20, "TCP header is 20 bytes");

/* SYN options: MSS, NOP, window scale.  Without wscale a burst filling
 * 65535 bytes since the last ack is flagged "window full". */
struct tcp_syn_opts {
	uint8_t mss_kind;
	uint8_t mss_len;
	uint16_t mss;
	uint8_t nop;
	uint8_t ws_kind;
	uint8_t ws_len;
	uint8_t ws_shift;
} __attribute__((packed));
_Static_assert(sizeof(struct tcp_syn_opts) == 8, "SYN options are 8 bytes");

/* A frame's headers; its payload goes to the writer from where it is. */
#define FRAME_HEADERS_MAX (sizeof(struct ipv6_hdr) + sizeof(struct tcp_hdr) + sizeof(struct tcp_syn_opts))
_Static_assert(sizeof(struct ipv4_hdr) + sizeof(struct tcp_hdr) + TCP_STREAM_IPV4_MAX_PAYLOAD <= 65535,
	       "IPv4 total length fits 16 bits");
_Static_assert(sizeof(struct tcp_hdr) + TCP_STREAM_IPV6_MAX_PAYLOAD <= 65535,
	       "IPv6 payload length fits 16 bits");

/* A synthetic 4-tuple; no padding, so it can be hashed and compared raw. */
struct stream_tuple {
	uint8_t client_addr[16];
	uint8_t server_addr[16];
	uint16_t client_port;
	uint16_t server_port;
	uint32_t family;
};
_Static_assert(sizeof(struct stream_tuple) == 40, "tuple has no padding");

struct tuple_slot {
	uint64_t hash;  /* 0 = empty slot */
	struct stream_tuple key;
	uint16_t bump;  /* next client port to try when @key is wanted again */
};

struct tcp_stream_table {
	struct pcapng_writer *w;
	uint32_t interface_id;
	uint16_t ip_id;
	uint64_t opened; /* streams ever opened: varies the ISNs */
	struct tcp_stream_counters counters;
	/* The tuple of every open stream, and the bump cursors of real tuples
	 * (open addressing, linear probing).  A closed stream's tuple is free
	 * again: a later SYN with a new ISN on it is a new tcp.stream for tshark,
	 * and the set stays as big as the streams open at once, not as all of a
	 * long run's (nor does a busy pair run out of its 65535 client ports). */
	struct tuple_slot *slots;
	size_t cap, used;
	/* One frame at a time is built here: no allocation per packet. */
	uint8_t frame[FRAME_HEADERS_MAX];
};

/* Per direction, indexed by the sender (TCP_STREAM_CLIENT_TO_SERVER = client). */
struct stream_half {
	uint32_t isn;
	uint64_t next;     /* next offset: written + skipped bytes */
	uint64_t seen;     /* end of the last frame a reader saw */
	uint64_t pending;  /* skipped bytes not yet reported in a comment */
	bool fin;          /* FIN sent: consumes one sequence number */
};

struct tcp_stream {
	struct tcp_stream_table *t;
	struct stream_tuple tuple;
	enum tcp_stream_side local_side;
	struct stream_half half[2];
	/* Latest frame time: the two views' records of a connection reach us
	 * out of time order by microseconds, and a stream must not go back. */
	uint64_t last_ns;
	/* Comments for the first frame in a new file (tcp_stream__continue), owned. */
	char *intro[TCP_STREAM_MAX_COMMENTS + 1];
};

static const char continue_comment[] =
	"tlspcap: this connection continues from the previous file, which holds its "
	"handshake and earlier bytes";

/*
 * TLS ports of tshark 4.0's default table (`tshark -G decodes`, tcp.port ->
 * tls) plus 8443, mapped to the port where tshark dissects the same
 * protocol in clear (its tls.port table names the inner protocol).  Sorted
 * by TLS port for bsearch.
 */
static const struct port_twin {
	uint16_t tls;
	uint16_t plain;
} port_twins[] = {
	{ 324, 323 },     /* RPKI-Router over TLS -> rpki-rtr */
	{ 443, 80 },      /* HTTPS -> HTTP */
	{ 465, 25 },      /* SMTPS -> SMTP */
	{ 636, 389 },     /* LDAPS -> LDAP */
	{ 802, 502 },     /* Modbus/TCP Security -> Modbus/TCP */
	{ 853, 53 },      /* DNS over TLS -> DNS */
	{ 993, 143 },     /* IMAPS -> IMAP */
	{ 995, 110 },     /* POP3S -> POP */
	{ 1300, 1720 },   /* H.323 secure call signalling -> H.225/Q.931 (TPKT heuristic) */
	{ 2221, 44818 },  /* EtherNet/IP over TLS -> EtherNet/IP */
	{ 2443, 2000 },   /* secure SCCP (Skinny) -> Skinny */
	{ 3249, 3245 },   /* OPA FE over TLS (3249-3252) -> OPA FE (3245-3248) */
	{ 3250, 3246 },
	{ 3251, 3247 },
	{ 3252, 3248 },
	{ 3496, 13400 },  /* DoIP over TLS -> DoIP */
	{ 5061, 5060 },   /* SIP over TLS -> SIP */
	{ 5671, 5672 },   /* AMQPS -> AMQP */
	{ 5684, 5683 },   /* CoAP over TLS -> CoAP */
	{ 5868, 3868 },   /* Diameter over TLS -> Diameter */
	{ 8443, 8080 },   /* not a tshark TLS port, but 8080 also finds an HTTP/2 preface */
	{ 8883, 1883 },   /* MQTT over TLS -> MQTT */
	{ 11207, 11210 }, /* Couchbase over TLS -> Couchbase */
	{ 19999, 20000 }, /* DNP3 over TLS -> DNP3 */
	/* MongoDB: tshark has no clear-text Mongo port (27017 means TLS);
	 * 27018 (mongod --shardsvr) is not decoded, so the bytes show as data. */
	{ 27017, 27018 },
};

static int port_twin__cmp(const void *a, const void *b)
{
	const struct port_twin *x = a, *y = b;

	return (int)x->tls - (int)y->tls;
}

uint16_t tcp_stream__plaintext_port(uint16_t port)
{
	struct port_twin key = { .tls = port };
	const struct port_twin *twin;

	twin = bsearch(&key, port_twins, sizeof(port_twins) / sizeof(port_twins[0]),
		       sizeof(port_twins[0]), port_twin__cmp);
	return twin ? twin->plain : port;
}

/* splitmix64 finaliser: spreads FNV's weak low bits over the table index. */
static uint64_t hash_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t tuple_hash(const struct stream_tuple *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return hash_mix(h) | 1; /* never 0: 0 marks an empty slot */
}

static struct tuple_slot *table__find_slot(struct tuple_slot *slots, size_t cap, uint64_t hash,
					   const struct stream_tuple *k)
{
	size_t i = hash & (cap - 1);

	while (slots[i].hash && (slots[i].hash != hash || memcmp(&slots[i].key, k, sizeof(*k))))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* Doubles the set; load stays at most 1/2 so probes stay short. */
static int table__grow(struct tcp_stream_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024, i;
	struct tuple_slot *slots;

	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		if (t->slots[i].hash)
			*table__find_slot(slots, cap, t->slots[i].hash, &t->slots[i].key) = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

static struct tuple_slot *table__find(const struct tcp_stream_table *t, const struct stream_tuple *k)
{
	return table__find_slot(t->slots, t->cap, tuple_hash(k), k);
}

static bool table__has(const struct tcp_stream_table *t, const struct stream_tuple *k)
{
	return table__find(t, k)->hash != 0;
}

/* Deletion without tombstones (Knuth 6.4, algorithm R): the rest of the probe run moves up. */
static void table__remove(struct tcp_stream_table *t, const struct stream_tuple *k)
{
	struct tuple_slot *slot = table__find(t, k);
	size_t mask = t->cap - 1, hole, j, home;

	if (!slot->hash)
		return;
	hole = j = (size_t)(slot - t->slots);
	for (;;) {
		j = (j + 1) & mask;
		if (!t->slots[j].hash)
			break;
		home = t->slots[j].hash & mask;
		/* an entry whose home lies cyclically in (hole, j] is still reachable */
		if (hole <= j ? hole < home && home <= j : hole < home || home <= j)
			continue;
		t->slots[hole] = t->slots[j];
		hole = j;
	}
	t->slots[hole].hash = 0;
	t->used--;
}

static int table__add(struct tcp_stream_table *t, const struct stream_tuple *k)
{
	struct tuple_slot *slot;
	uint64_t hash = tuple_hash(k);
	int err;

	if ((t->used + 1) * 2 > t->cap) {
		err = table__grow(t);
		if (err)
			return err;
	}
	slot = table__find_slot(t->slots, t->cap, hash, k);
	slot->hash = hash;
	slot->key = *k;
	t->used++;
	return 0;
}

struct tcp_stream_table *tcp_stream_table__new(struct pcapng_writer *w, uint32_t interface_id)
{
	struct tcp_stream_table *t;
	int err;

	if (!w) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	t->w = w;
	t->interface_id = interface_id;
	err = table__grow(t);
	if (err) {
		free(t);
		errno = -err;
		return NULL;
	}
	return t;
}

void tcp_stream_table__free(struct tcp_stream_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

const struct tcp_stream_counters *tcp_stream_table__counters(const struct tcp_stream_table *t)
{
	return &t->counters;
}

/*
 * Ones' complement sum (RFC 1071) of 16-bit words, added in the host's byte
 * order: the sum does not depend on it (RFC 1071, 2.B), so 32-bit loads
 * add two words at once, and the folded sum is stored as it is.  Every
 * piece but the last has an even length; an odd tail is zero-padded.  A
 * 64-bit sum of 32-bit words cannot overflow for any frame length.
 */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint32_t word;
	uint16_t half;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&word, p, 4);
		sum += word;
	}
	if (len >= 2) {
		memcpy(&half, p, 2);
		sum += half;
		p += 2;
		len -= 2;
	}
	if (len) {
		half = 0;
		memcpy(&half, p, 1);
		sum += half;
	}
	return sum;
}

/* The checksum field's value, in network byte order like the summed words. */
static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t stream__seq(const struct tcp_stream *s, int side, uint64_t off)
{
	return s->half[side].isn + 1 + (uint32_t)off;
}

/* What @side acknowledges: everything the other side sent that a reader saw. */
static uint32_t stream__ack(const struct tcp_stream *s, int side)
{
	const struct stream_half *o = &s->half[!side];

	return stream__seq(s, !side, o->seen) + (o->fin ? 1 : 0);
}

struct segment {
	int side;             /* sender: 0 client, 1 server */
	uint8_t flags;
	uint32_t seq, ack;
	const uint8_t *data;
	uint32_t caplen, len; /* payload bytes present / on the wire */
	uint64_t timestamp_ns;
	const char *const *comments; /* NULL-terminated or ncomments long */
	size_t ncomments;
};

static void stream__drop_intro(struct tcp_stream *s)
{
	size_t i;

	for (i = 0; s->intro[i]; i++) {
		free(s->intro[i]);
		s->intro[i] = NULL;
	}
}

/* Builds one IP/TCP frame in the table's buffer and hands it to the writer. */
static int stream__emit(struct tcp_stream *s, const struct segment *seg)
{
	struct tcp_stream_table *t = s->t;
	const struct stream_tuple *k = &s->tuple;
	const uint8_t *src = seg->side ? k->server_addr : k->client_addr;
	const uint8_t *dst = seg->side ? k->client_addr : k->server_addr;
	size_t ip_len = k->family == AF_INET ? sizeof(struct ipv4_hdr) : sizeof(struct ipv6_hdr);
	size_t tcp_hlen = sizeof(struct tcp_hdr) + (seg->flags & TCP_SYN ? sizeof(struct tcp_syn_opts) : 0);
	uint32_t tcp_len = tcp_hlen + seg->len;
	struct pcapng_packet pkt = {};
	struct tcp_hdr *tcp;
	uint8_t pseudo[40];
	uint64_t sum;
	size_t i, n;
	int err;

	if (k->family == AF_INET) {
		struct ipv4_hdr *ip = (struct ipv4_hdr *)t->frame;

		*ip = (struct ipv4_hdr){
			.ver_ihl = 0x45,
			.tot_len = htons(ip_len + tcp_len),
			.id = htons(t->ip_id++),
			.frag_off = htons(IPV4_DF),
			.ttl = IP_TTL_DEFAULT,
			.protocol = IPPROTO_TCP_NUM,
		};
		memcpy(ip->saddr, src, 4);
		memcpy(ip->daddr, dst, 4);
		ip->check = csum_fold(csum_add(0, t->frame, sizeof(*ip)));
		/* pseudo-header: src, dst, zero, protocol, TCP length */
		memcpy(pseudo, src, 4);
		memcpy(pseudo + 4, dst, 4);
		pseudo[8] = 0;
		pseudo[9] = IPPROTO_TCP_NUM;
		pseudo[10] = tcp_len >> 8;
		pseudo[11] = tcp_len & 0xff;
	} else {
		struct ipv6_hdr *ip = (struct ipv6_hdr *)t->frame;

		*ip = (struct ipv6_hdr){
			.ver_tc_flow = htonl(6u << 28),
			.payload_len = htons(tcp_len),
			.nexthdr = IPPROTO_TCP_NUM,
			.hop_limit = IP_TTL_DEFAULT,
		};
		memcpy(ip->saddr, src, 16);
		memcpy(ip->daddr, dst, 16);
		/* pseudo-header: src, dst, 32-bit length, 3 zero bytes, next header */
		memcpy(pseudo, src, 16);
		memcpy(pseudo + 16, dst, 16);
		memset(pseudo + 32, 0, 8);
		pseudo[34] = tcp_len >> 8;
		pseudo[35] = tcp_len & 0xff;
		pseudo[39] = IPPROTO_TCP_NUM;
	}

	tcp = (struct tcp_hdr *)(t->frame + ip_len);
	*tcp = (struct tcp_hdr){
		.sport = htons(seg->side ? k->server_port : k->client_port),
		.dport = htons(seg->side ? k->client_port : k->server_port),
		.seq = htonl(seg->seq),
		.ack = htonl(seg->ack),
		.doff = (tcp_hlen / 4) << 4,
		.flags = seg->flags,
		.window = htons(TCP_WINDOW),
	};
	if (seg->flags & TCP_SYN) {
		struct tcp_syn_opts *o = (struct tcp_syn_opts *)(tcp + 1);

		*o = (struct tcp_syn_opts){
			.mss_kind = 2, .mss_len = 4,
			.mss = htons(k->family == AF_INET ? TCP_MSS_V4 : TCP_MSS_V6),
			.nop = 1,
			.ws_kind = 3, .ws_len = 3, .ws_shift = TCP_WSCALE,
		};
	}
	/* Bytes cut by the snap length count as zeros: the best we can do. The
	 * payload is summed and written where it is (the header length is even). */
	sum = csum_add(0, pseudo, k->family == AF_INET ? 12 : 40);
	sum = csum_add(sum, (uint8_t *)tcp, tcp_hlen);
	tcp->check = csum_fold(csum_add(sum, seg->data, seg->caplen));

	pkt.interface_id = t->interface_id;
	if (seg->timestamp_ns > s->last_ns)
		s->last_ns = seg->timestamp_ns;
	pkt.timestamp_ns = s->last_ns;
	pkt.data = t->frame;
	pkt.tail = seg->data;
	pkt.tail_len = seg->caplen;
	pkt.caplen = ip_len + tcp_hlen + seg->caplen;
	pkt.len = ip_len + tcp_len;
	pkt.direction = (enum tcp_stream_side)seg->side == s->local_side ? PCAPNG_DIRECTION_OUTBOUND
									   : PCAPNG_DIRECTION_INBOUND;
	for (n = 0; n < PCAPNG_MAX_COMMENTS && s->intro[n]; n++)
		pkt.comments[n] = s->intro[n];
	for (i = 0; i < seg->ncomments && n < PCAPNG_MAX_COMMENTS && seg->comments[i]; i++)
		pkt.comments[n++] = seg->comments[i];

	err = pcapng_writer__write_packet(t->w, &pkt);
	if (err)
		return err;
	stream__drop_intro(s);
	t->counters.packets++;
	t->counters.payload_bytes += seg->caplen;
	t->counters.truncated_bytes += seg->len - seg->caplen;
	return 0;
}

static bool port_usable_for_client(uint16_t port)
{
	return port && tcp_stream__plaintext_port(port) == port;
}

/*
 * Fills s->tuple: remapped ports, and a client port bumped past every tuple
 * an open stream holds, so no two streams merge into one tcp.stream.
 * The entry of the original tuple remembers where the last bump ended, so
 * many streams with one real tuple (both ends traced, unknown tuples as
 * 0.0.0.0:0) cost O(1) each instead of rescanning the taken ports.
 */
static int stream__pick_tuple(struct tcp_stream *s, const struct tcp_stream_info *info)
{
	struct tcp_stream_table *t = s->t;
	struct stream_tuple *k = &s->tuple;
	size_t addr_len = info->client.family == AF_INET ? 4 : 16;
	uint16_t start, port;
	uint32_t tries;
	int err;

	memset(k, 0, sizeof(*k));
	k->family = info->client.family;
	memcpy(k->client_addr, info->client.addr, addr_len);
	memcpy(k->server_addr, info->server.addr, addr_len);
	k->client_port = tcp_stream__plaintext_port(info->client.port);
	k->server_port = info->server_port_override ?: tcp_stream__plaintext_port(info->server.port);

	start = k->client_port;
	if (!table__has(t, k)) {
		/* A client port of 0 is entered too, only to hold the cursor. */
		err = table__add(t, k);
		if (err || port_usable_for_client(start))
			return err;
	}
	port = table__find(t, k)->bump ?: (uint16_t)(start + 1);
	for (tries = 0; tries <= UINT16_MAX; tries++, port++) {
		k->client_port = port;
		if (port_usable_for_client(port) && !table__has(t, k))
			break;
	}
	if (tries > UINT16_MAX)
		return -EADDRNOTAVAIL; /* every client port of this pair is taken */
	err = table__add(t, k);
	if (err)
		return err;
	k->client_port = start;
	table__find(t, k)->bump = port + 1;
	k->client_port = port;
	return 0;
}

static void stream__pick_isns(struct tcp_stream *s, const struct tcp_stream_info *info)
{
	uint64_t h;

	if (info->fixed_isn) {
		s->half[0].isn = info->client_isn;
		s->half[1].isn = info->server_isn;
		return;
	}
	h = hash_mix(tuple_hash(&s->tuple) + s->t->opened * 0x9e3779b97f4a7c15ULL);
	s->half[0].isn = (uint32_t)h ?: 1;
	s->half[1].isn = (uint32_t)(h >> 32) ?: 1;
}

static bool endpoint_valid(const struct tcp_endpoint *e)
{
	return e->family == AF_INET || e->family == AF_INET6;
}

struct tcp_stream *tcp_stream__open(struct tcp_stream_table *t, const struct tcp_stream_info *info,
				    uint64_t timestamp_ns)
{
	struct tcp_stream *s = NULL;
	struct segment seg = { .timestamp_ns = timestamp_ns };
	bool picked = false;
	int err;

	if (!t || !info || !endpoint_valid(&info->client) ||
	    info->client.family != info->server.family ||
	    (info->local_side != TCP_STREAM_SIDE_CLIENT && info->local_side != TCP_STREAM_SIDE_SERVER)) {
		err = -EINVAL;
		goto cleanup;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		err = -ENOMEM;
		goto cleanup;
	}
	s->t = t;
	s->local_side = info->local_side;
	err = stream__pick_tuple(s, info);
	if (err)
		goto cleanup;
	picked = true;
	stream__pick_isns(s, info);
	t->opened++;

	seg.side = 0;
	seg.flags = TCP_SYN;
	seg.seq = s->half[0].isn;
	seg.comments = info->comments;
	seg.ncomments = TCP_STREAM_MAX_COMMENTS;
	err = stream__emit(s, &seg);
	if (err)
		goto cleanup;

	seg.side = 1;
	seg.flags = TCP_SYN | TCP_ACK;
	seg.seq = s->half[1].isn;
	seg.ack = stream__ack(s, 1);
	seg.comments = NULL;
	seg.ncomments = 0;
	err = stream__emit(s, &seg);
	if (err)
		goto cleanup;

	seg.side = 0;
	seg.flags = TCP_ACK;
	seg.seq = stream__seq(s, 0, 0);
	seg.ack = stream__ack(s, 0);
	err = stream__emit(s, &seg);
	if (err)
		goto cleanup;

	t->counters.streams++;
	return s;

cleanup:
	if (picked)
		table__remove(t, &s->tuple);
	free(s);
	errno = -err;
	return NULL;
}

static bool dir_valid(enum tcp_stream_dir dir)
{
	return dir == TCP_STREAM_CLIENT_TO_SERVER || dir == TCP_STREAM_SERVER_TO_CLIENT;
}

/* Skips [next, end) as lost: seq jumps, a comment on the next frame says how much. */
static void stream__skip(struct tcp_stream *s, struct stream_half *h, uint64_t end)
{
	s->t->counters.lost_bytes += end - h->next;
	h->pending += end - h->next;
	h->next = end;
}

/* Comment for the first frame after a gap; empty when there is none. */
static const char *gap_comment(char *buf, size_t size, const struct stream_half *h, const char *what)
{
	if (!h->pending)
		return NULL;
	snprintf(buf, size, "tlspcap: %" PRIu64 " bytes not captured before this %s", h->pending, what);
	return buf;
}

int tcp_stream__write(struct tcp_stream *s, enum tcp_stream_dir dir, uint64_t offset,
		      const void *data, uint32_t caplen, uint64_t len, uint64_t timestamp_ns,
		      const char *comment)
{
	const uint8_t *p = data;
	struct stream_half *h;
	uint32_t max_payload;
	char gap_buf[96];
	const char *comments[2];
	size_t ncomments;
	uint64_t skip;
	int err;

	if (!s || !dir_valid(dir) || caplen > len || (caplen && !data) || offset > UINT64_MAX - len)
		return -EINVAL;
	h = &s->half[dir];
	if (offset + len <= h->next) {
		s->t->counters.duplicate_bytes += len;
		return 0;
	}
	if (offset < h->next) {
		skip = h->next - offset;
		s->t->counters.duplicate_bytes += skip;
		if (caplen) /* @data may be NULL */
			p += skip < caplen ? skip : caplen;
		caplen = skip < caplen ? caplen - skip : 0;
		len -= skip;
		offset = h->next;
	} else if (offset > h->next) {
		stream__skip(s, h, offset);
	}

	max_payload = s->tuple.family == AF_INET ? TCP_STREAM_IPV4_MAX_PAYLOAD
						 : TCP_STREAM_IPV6_MAX_PAYLOAD;
	while (len) {
		struct segment seg = {
			.side = dir,
			.flags = TCP_PSH | TCP_ACK,
			.seq = stream__seq(s, dir, h->next),
			.ack = stream__ack(s, dir),
			.data = p,
			.len = len < max_payload ? len : max_payload,
			.timestamp_ns = timestamp_ns,
			.comments = comments,
		};

		seg.caplen = caplen < seg.len ? caplen : seg.len;
		ncomments = 0;
		comments[ncomments] = gap_comment(gap_buf, sizeof(gap_buf), h, "segment");
		if (comments[ncomments])
			ncomments++;
		if (comment)
			comments[ncomments++] = comment;
		seg.ncomments = ncomments;
		err = stream__emit(s, &seg);
		if (err)
			return err;
		h->next += seg.len;
		h->seen = h->next;
		h->pending = 0;
		comment = NULL;
		if (seg.caplen)
			p += seg.caplen;
		caplen -= seg.caplen;
		len -= seg.len;
	}
	return 0;
}

int tcp_stream__mark_lost(struct tcp_stream *s, enum tcp_stream_dir dir, uint64_t offset,
			  uint64_t len)
{
	struct stream_half *h;

	if (!s || !dir_valid(dir) || offset > UINT64_MAX - len)
		return -EINVAL;
	h = &s->half[dir];
	/* Bytes between next and @offset cannot arrive any more either. */
	if (offset + len > h->next)
		stream__skip(s, h, offset + len);
	return 0;
}

uint64_t tcp_stream__next_offset(const struct tcp_stream *s, enum tcp_stream_dir dir)
{
	return s->half[dir].next;
}

/* FIN|ACK from @side; its seq includes skipped bytes, so a trailing gap shows. */
static int stream__fin(struct tcp_stream *s, int side, uint64_t timestamp_ns, const char *comment)
{
	struct stream_half *h = &s->half[side];
	char gap_buf[96];
	const char *comments[2];
	struct segment seg = {
		.side = side,
		.flags = TCP_FIN | TCP_ACK,
		.seq = stream__seq(s, side, h->next),
		.ack = stream__ack(s, side),
		.timestamp_ns = timestamp_ns,
		.comments = comments,
	};
	int err;

	comments[seg.ncomments] = gap_comment(gap_buf, sizeof(gap_buf), h, "FIN");
	if (comments[seg.ncomments])
		seg.ncomments++;
	if (comment)
		comments[seg.ncomments++] = comment;
	err = stream__emit(s, &seg);
	if (err)
		return err;
	h->pending = 0;
	h->seen = h->next;
	h->fin = true;
	return 0;
}

int tcp_stream__close(struct tcp_stream *s, uint64_t timestamp_ns, const char *comment)
{
	struct segment ack = { .flags = TCP_ACK, .timestamp_ns = timestamp_ns };
	int err;

	if (!s)
		return -EINVAL;
	err = stream__fin(s, 0, timestamp_ns, comment);
	if (err)
		goto cleanup;
	err = stream__fin(s, 1, timestamp_ns, NULL);
	if (err)
		goto cleanup;
	ack.seq = stream__seq(s, 0, s->half[0].next) + 1;
	ack.ack = stream__ack(s, 0);
	err = stream__emit(s, &ack);
cleanup:
	stream__drop_intro(s);
	table__remove(s->t, &s->tuple);
	free(s);
	return err;
}

int tcp_stream__continue(struct tcp_stream *s, const char *const *comments)
{
	size_t i, n = 0;

	if (!s)
		return -EINVAL;
	stream__drop_intro(s); /* not sent yet: the stream had no frame in the last file */
	s->intro[n] = strdup(continue_comment);
	if (!s->intro[n++])
		return -ENOMEM;
	for (i = 0; comments && i < TCP_STREAM_MAX_COMMENTS && comments[i]; i++) {
		s->intro[n] = strdup(comments[i]);
		if (!s->intro[n++]) {
			stream__drop_intro(s);
			return -ENOMEM;
		}
	}
	return 0;
}
