// SPDX-License-Identifier: MIT
#include "connections.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "filter.h"
#include "netinfo.h"
#include "process.h"
#include "redact.h"
#include "tcp_stream.h"

#define ID_BUCKETS 65536
#define TUPLE_BUCKETS 65536
#define COMMENT_MAX 2048
#define PLACEHOLDER_SERVER_PORT 9 /* discard: no dissector claims it */
/* The most one TLS call's records can cover (the probes' chunk limit). */
#define RECORD_LEN_MAX ((uint64_t)TLSPCAP_CHUNK_MAX * TLSPCAP_MAX_CHUNKS_PER_CALL)

static const char http2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum connection_state {
	CONNECTION_WAITING,  /* records queued until the peer view or the deadline */
	CONNECTION_OPEN,
};

struct queued_record {
	struct queued_record *next;
	size_t size;
	uint8_t data[];
};

/* One synthetic stream, shared by the views of its connection. */
struct shared_stream {
	struct tcp_stream *tcp;     /* NULL: the filter rejected the connection */
	struct redact_stream *redact; /* NULL without --redact */
	unsigned int views;
	uint64_t end_offset[2]; /* by tcp_stream_dir, as far as any view saw */
	/* Views that joined after the SYN was written: described on the FIN. */
	char *late_comments;
};

/* One view of a connection: a TLS context of one process tied to one socket. */
struct connection {
	uint64_t conn_id;
	uint64_t ssl;
	pid_t tgid;
	pid_t tid;
	int fd;
	uint32_t library;
	uint8_t attribution;
	bool has_socket;
	bool joined;
	enum tcp_stream_side role;
	struct tcp_endpoint local;
	struct tcp_endpoint remote;
	char comm[16];
	enum connection_state state;
	uint64_t first_ns;
	uint64_t end_offset[2];   /* by enum tlspcap_direction, from the close record */
	bool ended;               /* closed while waiting for its peer view */
	uint64_t end_ns;
	char end_why[64];
	struct shared_stream *stream;
	struct connection *peer;
	struct queued_record *queue;
	struct queued_record **queue_tail;
	size_t queued_bytes;
	struct connection *id_next;
	struct connection *tuple_next;
	struct connection *all_prev, *all_next;
};

struct connection_table {
	struct connection_table_config cfg;
	struct connection_stats stats;
	struct connection *by_id[ID_BUCKETS];
	struct connection *by_tuple[TUPLE_BUCKETS];
	struct connection *all;
};

static size_t tuple_hash(const struct tcp_endpoint *local, const struct tcp_endpoint *remote)
{
	const struct tcp_endpoint *ends[2] = { local, remote };
	uint64_t h = 1469598103934665603ull;
	size_t i, j;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < 16; j++)
			h = (h ^ ends[i]->addr[j]) * 1099511628211ull;
		h = (h ^ ends[i]->port) * 1099511628211ull;
		h = (h ^ (unsigned int)ends[i]->family) * 1099511628211ull;
	}
	return h % TUPLE_BUCKETS;
}

static bool endpoint_equal(const struct tcp_endpoint *a, const struct tcp_endpoint *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, 16);
}

static void endpoint_format(const struct tcp_endpoint *e, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	inet_ntop(e->family, e->addr, addr, sizeof(addr));
	if (e->family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", addr, e->port);
	else
		snprintf(buf, size, "%s:%u", addr, e->port);
}

static void endpoint_set(struct tcp_endpoint *e, int family, const uint8_t *addr, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	e->port = port;
	memcpy(e->addr, addr, family == AF_INET ? 4 : 16);
}

/*
 * A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: show them as
 * IPv4, but only when both ends are mapped (a stream has one family).
 */
static void connection__set_endpoints(struct connection *c, const struct tlspcap_socket_record *rec)
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (rec->family == AF_INET6 && !memcmp(rec->local_addr, v4_mapped, sizeof(v4_mapped)) &&
	    !memcmp(rec->remote_addr, v4_mapped, sizeof(v4_mapped))) {
		endpoint_set(&c->local, AF_INET, rec->local_addr + 12, rec->local_port);
		endpoint_set(&c->remote, AF_INET, rec->remote_addr + 12, rec->remote_port);
	} else {
		endpoint_set(&c->local, rec->family, rec->local_addr, rec->local_port);
		endpoint_set(&c->remote, rec->family, rec->remote_addr, rec->remote_port);
	}
}

struct connection_table *connection_table__new(const struct connection_table_config *cfg)
{
	struct connection_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cfg = *cfg;
	return t;
}

static void connection__free_queue(struct connection *c)
{
	struct queued_record *q, *next;

	for (q = c->queue; q; q = next) {
		next = q->next;
		free(q);
	}
	c->queue = NULL;
	c->queue_tail = &c->queue;
	c->queued_bytes = 0;
}

void connection_table__free(struct connection_table *t)
{
	struct connection *c, *next;

	if (!t)
		return;
	for (c = t->all; c; c = next) {
		next = c->all_next;
		connection__free_queue(c);
		if (c->stream && --c->stream->views == 0) {
			redact_stream__free(c->stream->redact);
			free(c->stream->late_comments);
			free(c->stream);
		}
		free(c);
	}
	free(t);
}

const struct connection_stats *connection_table__stats(const struct connection_table *t)
{
	return &t->stats;
}

static struct connection *connection_table__find(struct connection_table *t, uint64_t conn_id)
{
	struct connection *c;

	for (c = t->by_id[conn_id % ID_BUCKETS]; c; c = c->id_next)
		if (c->conn_id == conn_id)
			return c;
	return NULL;
}

static struct connection *connection_table__find_or_add(struct connection_table *t,
							 const struct tlspcap_record *hdr,
							 uint32_t library)
{
	struct connection *c = connection_table__find(t, hdr->conn_id);

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->conn_id = hdr->conn_id;
	c->tgid = hdr->tgid;
	c->tid = hdr->tid;
	c->fd = hdr->fd;
	c->library = library;
	c->role = TCP_STREAM_SIDE_CLIENT;
	c->first_ns = hdr->timestamp_ns;
	c->queue_tail = &c->queue;
	c->id_next = t->by_id[c->conn_id % ID_BUCKETS];
	t->by_id[c->conn_id % ID_BUCKETS] = c;
	c->all_next = t->all;
	if (t->all)
		t->all->all_prev = c;
	t->all = c;
	return c;
}

static void connection_table__unlink(struct connection_table *t, struct connection *c)
{
	struct connection **link;

	for (link = &t->by_id[c->conn_id % ID_BUCKETS]; *link; link = &(*link)->id_next) {
		if (*link == c) {
			*link = c->id_next;
			break;
		}
	}
	if (c->has_socket) {
		for (link = &t->by_tuple[tuple_hash(&c->local, &c->remote)]; *link;
		     link = &(*link)->tuple_next) {
			if (*link == c) {
				*link = c->tuple_next;
				break;
			}
		}
	}
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else
		t->all = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
	if (c->peer)
		c->peer->peer = NULL;
}

static const char *attribution_text(uint8_t attribution)
{
	switch (attribution) {
	case TLSPCAP_ATTR_SYSCALL:
		return "found from a socket syscall inside the TLS call";
	case TLSPCAP_ATTR_CACHED:
		return "found from an earlier TLS call of the same context";
	case TLSPCAP_ATTR_HINT:
		return "named by an API call (SSL_set_fd and the like)";
	case TLSPCAP_ATTR_ORDER:
		return "the socket read before or written after the TLS call on the same thread "
		       "(memory BIO)";
	default:
		return "unknown: addresses and ports of this stream are placeholders";
	}
}

/* The per-view comment: ptcpdump's keys where they exist, then ours. */
static void connection__describe(struct connection_table *t, const struct connection *c,
				 char *buf, size_t size)
{
	const struct process_info *p = process_cache__get(t->cfg.processes, c->tgid, c->comm);
	const char *library = t->cfg.library_label(t->cfg.library_ctx, c->library);
	char local[64] = "unknown", remote[64] = "unknown";
	int n;

	if (c->has_socket) {
		endpoint_format(&c->local, local, sizeof(local));
		endpoint_format(&c->remote, remote, sizeof(remote));
	}
	n = snprintf(buf, size,
		     "PID: %d\nCmd: %s\nArgs: %s\nThreadId: %d\nUserId: %u\nFD: %d\n"
		     "Library: %s\nRole: %s\nLocal: %s\nRemote: %s\nSocket: %s",
		     c->tgid, p ? p->comm : c->comm, p && *p->args ? p->args : "?", c->tid,
		     p ? p->uid : 0, c->fd, library,
		     !c->has_socket ? "unknown" : c->role == TCP_STREAM_SIDE_CLIENT ? "client" : "server",
		     local, remote, attribution_text(c->attribution));
	if (n > 0 && (size_t)n < size && p && *p->root && strcmp(p->root, "/"))
		n += snprintf(buf + n, size - n, "\nRoot: %s", p->root);
	if (n > 0 && (size_t)n < size && c->joined)
		snprintf(buf + n, size - n,
			 "\nCapture: joined mid-connection; earlier bytes are not in this file");
	redactor__comment(t->cfg.redactor, buf);
}

static enum tcp_stream_dir record_dir(const struct connection *c, uint8_t direction)
{
	bool sent_by_client = (direction == TLSPCAP_DIR_SEND) == (c->role == TCP_STREAM_SIDE_CLIENT);

	return sent_by_client ? TCP_STREAM_CLIENT_TO_SERVER : TCP_STREAM_SERVER_TO_CLIENT;
}

static int connection__write_data(struct connection_table *t, struct connection *c,
				  const struct tlspcap_data_record *rec)
{
	uint64_t ts = clock_offset__to_realtime(t->cfg.clock, rec->hdr.timestamp_ns);

	if (!c->stream->tcp) {
		t->stats.filtered_bytes += rec->data_len;
		return 0;
	}
	return redact_stream__write(c->stream->redact, c->stream->tcp, record_dir(c, rec->direction),
				    rec->offset, rec->data, rec->data_len, rec->len, ts);
}

static uint64_t queued_timestamp(const struct queued_record *q)
{
	return ((const struct tlspcap_data_record *)q->data)->hdr.timestamp_ns;
}

/* Writes the queued records of @a and of @b (may be NULL) in time order. */
static int connection__flush_queues(struct connection_table *t, struct connection *a,
				    struct connection *b)
{
	struct queued_record *qa = a->queue, *qb = b ? b->queue : NULL;
	int err = 0;

	while ((qa || qb) && !err) {
		if (qa && (!qb || queued_timestamp(qa) <= queued_timestamp(qb))) {
			err = connection__write_data(t, a, (const struct tlspcap_data_record *)qa->data);
			qa = qa->next;
		} else {
			err = connection__write_data(t, b, (const struct tlspcap_data_record *)qb->data);
			qb = qb->next;
		}
		if (!err && t->cfg.between_records)
			err = t->cfg.between_records(t->cfg.between_ctx);
	}
	connection__free_queue(a);
	if (b)
		connection__free_queue(b);
	return err;
}

/* The queued record holding the client's first byte, or NULL while unseen. */
static const struct tlspcap_data_record *connection__client_start(const struct connection *c)
{
	const struct queued_record *q;

	for (q = c ? c->queue : NULL; q; q = q->next) {
		const struct tlspcap_data_record *rec = (const void *)q->data;

		if (record_dir(c, rec->direction) == TCP_STREAM_CLIENT_TO_SERVER && !rec->offset)
			return rec;
	}
	return NULL;
}

/* A stream whose client speaks HTTP/2 first must sit where tshark tries HTTP. */
static bool starts_http2(const struct tlspcap_data_record *rec)
{
	return rec && rec->data_len >= sizeof(http2_preface) - 1 &&
	       !memcmp(rec->data, http2_preface, sizeof(http2_preface) - 1);
}

static void connection__stream_info(const struct connection *c, struct tcp_stream_info *info)
{
	memset(info, 0, sizeof(*info));
	info->local_side = c->role;
	if (c->has_socket) {
		info->client = c->role == TCP_STREAM_SIDE_CLIENT ? c->local : c->remote;
		info->server = c->role == TCP_STREAM_SIDE_CLIENT ? c->remote : c->local;
	} else {
		/* TEST-NET-1 placeholders: visibly not a real host. */
		info->client.family = AF_INET;
		memcpy(info->client.addr, (uint8_t[]){ 192, 0, 2, 1 }, 4);
		info->client.port = 10000 + c->conn_id % 50000;
		info->server.family = AF_INET;
		memcpy(info->server.addr, (uint8_t[]){ 192, 0, 2, 2 }, 4);
		info->server.port = PLACEHOLDER_SERVER_PORT;
	}
}

/* The comments of a stream's first packet: one per view, the client's first. */
static void connection_table__describe_views(struct connection_table *t, const struct connection *client,
					     const struct connection *server, char first[COMMENT_MAX],
					     char second[COMMENT_MAX], const char **comments)
{
	connection__describe(t, client, first, COMMENT_MAX);
	comments[0] = first;
	if (server) {
		connection__describe(t, server, second, COMMENT_MAX);
		comments[1] = second;
	}
}

/* The filter judges the real endpoints; placeholders are not a connection's real ones. */
static bool connection_table__accepts(const struct connection_table *t, const struct connection *client,
				      const struct tcp_stream_info *info)
{
	if (!t->cfg.filter)
		return true;
	return client->has_socket && capture_filter__match(t->cfg.filter, &info->client, &info->server);
}

static int connection_table__open(struct connection_table *t, struct connection *c)
{
	struct connection *client = c, *server = c->peer;
	char first[COMMENT_MAX], second[COMMENT_MAX];
	struct tcp_stream_info info;
	struct shared_stream *stream;
	uint64_t first_ns = c->first_ns;
	int err;

	if (server && c->role == TCP_STREAM_SIDE_SERVER) {
		client = c->peer;
		server = c;
	}
	if (server && server->first_ns < first_ns)
		first_ns = server->first_ns;
	connection__stream_info(client, &info);
	connection_table__describe_views(t, client, server, first, second, info.comments);
	if (starts_http2(connection__client_start(client)) ||
	    starts_http2(connection__client_start(server)))
		info.server_port_override = 80;

	stream = calloc(1, sizeof(*stream));
	if (!stream)
		return -ENOMEM;
	if (connection_table__accepts(t, client, &info)) {
		if (t->cfg.redactor &&
		    !(stream->redact = redact_stream__new(t->cfg.redactor, client->joined))) {
			free(stream);
			return -ENOMEM;
		}
		stream->tcp = tcp_stream__open(t->cfg.streams, &info,
					       clock_offset__to_realtime(t->cfg.clock, first_ns));
		if (!stream->tcp) {
			err = -errno;
			redact_stream__free(stream->redact);
			free(stream);
			return err;
		}
		t->stats.connections++;
		t->stats.open_now++;
		t->stats.unattributed += !client->has_socket;
		t->stats.joined += client->joined;
		t->stats.merged += server != NULL;
	} else {
		t->stats.filtered++;
	}
	stream->views = server ? 2 : 1;
	client->stream = stream;
	client->state = CONNECTION_OPEN;
	if (server) {
		server->stream = stream;
		server->state = CONNECTION_OPEN;
	}
	/* A rejected stream swallows the queued records (counted as filtered). */
	return connection__flush_queues(t, client, server);
}

/*
 * Ends one view; the stream ends with FIN when its last view ends.  A view
 * still waiting for its peer keeps waiting until its deadline unless @now:
 * the peer's records may be late (its thread preempted inside the TLS call
 * while this side finished the whole exchange).
 */
static int connection_table__end_view(struct connection_table *t, struct connection *c,
				      uint64_t timestamp_ns, const char *why, bool now)
{
	struct connection *peer;
	struct shared_stream *s;
	const char *comment, *redacted;
	char *both = NULL, *with_redacted = NULL;
	int err = 0, ret, dir;

	if (c->state == CONNECTION_WAITING) {
		if (!now && !c->peer && c->has_socket &&
		    netinfo__is_local_address(t->cfg.netinfo, c->remote.family, c->remote.addr)) {
			c->ended = true;
			c->end_ns = timestamp_ns;
			snprintf(c->end_why, sizeof(c->end_why), "%s", why ? why : "");
			return 0;
		}
		peer = c->peer;
		err = connection_table__open(t, c); /* with its peer view, if any */
		if (err && c->state == CONNECTION_WAITING) {
			/* No stream to end: drop the view, or closing would try it for ever. */
			connection_table__unlink(t, c);
			connection__free_queue(c);
			free(c);
		}
		if (err)
			return err;
		/* ...which may have closed while waiting too */
		if (peer && peer->ended &&
		    (err = connection_table__end_view(t, peer, peer->end_ns,
						      *peer->end_why ? peer->end_why : NULL, true)))
			return err;
	}
	s = c->stream;
	for (dir = 0; dir < 2; dir++) {
		enum tcp_stream_dir sdir = record_dir(c, dir);

		if (c->end_offset[dir] > s->end_offset[sdir])
			s->end_offset[sdir] = c->end_offset[dir];
	}
	connection_table__unlink(t, c);
	connection__free_queue(c);
	if (--s->views > 0) {
		free(c);
		return 0;
	}
	if (!s->tcp) { /* rejected by the filter: nothing was written */
		free(s->late_comments);
		free(s);
		free(c);
		return 0;
	}
	err = redact_stream__flush(s->redact, s->tcp);
	/* Bytes the probes counted but no record delivered were lost. */
	for (dir = 0; dir < 2 && !err; dir++) {
		uint64_t next = tcp_stream__next_offset(s->tcp, dir);

		if (s->end_offset[dir] > next)
			err = tcp_stream__mark_lost(s->tcp, dir, next, s->end_offset[dir] - next);
	}
	comment = s->late_comments ? s->late_comments : why;
	if (s->late_comments && why && asprintf(&both, "%s\n\n%s", why, s->late_comments) >= 0)
		comment = both;
	redacted = redact_stream__summary(s->redact);
	if (redacted && !comment)
		comment = redacted;
	else if (redacted && asprintf(&with_redacted, "%s\n\n%s", comment, redacted) >= 0)
		comment = with_redacted;
	ret = tcp_stream__close(s->tcp, clock_offset__to_realtime(t->cfg.clock, timestamp_ns), comment);
	if (!err)
		err = ret;
	t->stats.open_now--;
	free(both);
	free(with_redacted);
	redact_stream__free(s->redact);
	free(s->late_comments);
	free(s);
	free(c); /* only now: @why may be its end_why */
	return err;
}

/* Opens @c (and its peer view), then ends the views that closed while waiting. */
static int connection_table__open_waiting(struct connection_table *t, struct connection *c)
{
	struct connection *peer = c->peer;
	int err = connection_table__open(t, c);

	if (!err && peer && peer->ended)
		err = connection_table__end_view(t, peer, peer->end_ns, *peer->end_why ? peer->end_why : NULL,
						 true);
	if (!err && c->ended)
		err = connection_table__end_view(t, c, c->end_ns, *c->end_why ? c->end_why : NULL, true);
	return err;
}

/*
 * A waiting connection opens as soon as its SYN can be right: its socket is
 * known, its peer view has joined (or cannot be on this host), and the
 * client's first bytes are seen (they choose the port for HTTP/2).  The
 * deadline in connection_table__tick and the queue limit bound the wait.
 */
static int connection_table__maybe_open(struct connection_table *t, struct connection *c)
{
	size_t queued = c->queued_bytes + (c->peer ? c->peer->queued_bytes : 0);

	if (c->state == CONNECTION_OPEN)
		return 0;
	if (queued > t->cfg.pending_limit)
		return connection_table__open_waiting(t, c);
	if (!c->has_socket)
		return 0;
	if (!c->peer && netinfo__is_local_address(t->cfg.netinfo, c->remote.family, c->remote.addr))
		return 0;
	if (!connection__client_start(c) && !connection__client_start(c->peer))
		return 0;
	return connection_table__open_waiting(t, c);
}

static int shared_stream__add_late_view(struct shared_stream *s, struct connection_table *t,
					const struct connection *c)
{
	static const char intro[] = "tlspcap: this endpoint's records came after the SYN was written:\n";
	size_t used = s->late_comments ? strlen(s->late_comments) : 0;
	char description[COMMENT_MAX], *grown;

	connection__describe(t, c, description, sizeof(description));
	grown = realloc(s->late_comments, used + sizeof(intro) + strlen(description) + 2);
	if (!grown)
		return -ENOMEM;
	sprintf(grown + used, "%s%s%s", used ? "\n\n" : "", intro, description);
	s->late_comments = grown;
	return 0;
}

/* The other view of the same TCP connection, traced in this or another process. */
static struct connection *connection_table__find_peer(struct connection_table *t,
						      const struct connection *c)
{
	struct connection *p;

	for (p = t->by_tuple[tuple_hash(&c->remote, &c->local)]; p; p = p->tuple_next)
		if (p != c && !p->peer && endpoint_equal(&p->local, &c->remote) &&
		    endpoint_equal(&p->remote, &c->local))
			return p;
	return NULL;
}

/* Each view's received bytes are the other's sent bytes: one record is enough. */
static void connection_table__tell_paired(struct connection_table *t, const struct connection *a,
					  const struct connection *b)
{
	struct connection_end ea = { a->tgid, a->ssl, a->conn_id };
	struct connection_end eb = { b->tgid, b->ssl, b->conn_id };

	if (!t->cfg.views_paired)
		return;
	t->cfg.views_paired(t->cfg.views_ctx, &ea, &eb);
	t->cfg.views_paired(t->cfg.views_ctx, &eb, &ea);
}

static int connection_table__handle_socket(struct connection_table *t,
					   const struct tlspcap_socket_record *rec)
{
	struct connection *c = connection_table__find_or_add(t, &rec->hdr, rec->library);
	struct connection *peer;
	size_t bucket;
	int err;

	if (!c)
		return -ENOMEM;
	if (c->has_socket || c->state == CONNECTION_OPEN)
		return 0; /* already described; the stream's addresses are fixed */
	c->fd = rec->hdr.fd;
	c->ssl = rec->ssl_ctx;
	memcpy(c->comm, rec->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = '\0';
	/* TLS over a Unix socket has no 5-tuple: a placeholder stream says so. */
	if (rec->family != AF_INET && rec->family != AF_INET6)
		return connection_table__maybe_open(t, c);
	c->has_socket = true;
	c->attribution = rec->attribution;
	connection__set_endpoints(c, rec);
	c->joined = netinfo__was_established(t->cfg.netinfo, rec->socket_inode);
	/* The kernel says which end accepted; the listening ports only serve a
	 * listener made with a backlog of 0. */
	c->role = rec->passive || netinfo__is_listening(t->cfg.netinfo, c->local.port,
							  rec->hdr.timestamp_ns)
			  ? TCP_STREAM_SIDE_SERVER
			  : TCP_STREAM_SIDE_CLIENT;
	bucket = tuple_hash(&c->local, &c->remote);
	c->tuple_next = t->by_tuple[bucket];
	t->by_tuple[bucket] = c;

	peer = connection_table__find_peer(t, c);
	/* Offsets of the two views agree only if both saw the connection from its start. */
	if (peer && !peer->joined && !c->joined) {
		c->peer = peer;
		peer->peer = c;
		c->role = peer->role == TCP_STREAM_SIDE_CLIENT ? TCP_STREAM_SIDE_SERVER
							     : TCP_STREAM_SIDE_CLIENT;
		connection_table__tell_paired(t, c, peer);
		if (peer->state == CONNECTION_OPEN) {
			/* The peer's wait was over: join its stream late. */
			c->stream = peer->stream;
			c->stream->views++;
			c->state = CONNECTION_OPEN;
			if (!c->stream->tcp) /* same tuple, same verdict */
				return connection__flush_queues(t, c, NULL);
			t->stats.merged++;
			err = shared_stream__add_late_view(c->stream, t, c);
			return err ? err : connection__flush_queues(t, c, NULL);
		}
	}
	return connection_table__maybe_open(t, c);
}

static int connection_table__handle_data(struct connection_table *t,
					 const struct tlspcap_data_record *rec, size_t size)
{
	struct connection *c = connection_table__find_or_add(t, &rec->hdr, rec->library);
	struct queued_record *q;

	if (!c)
		return -ENOMEM;
	t->stats.data_records++;
	t->stats.captured_bytes += rec->data_len;
	if (c->state != CONNECTION_OPEN && !c->has_socket && t->cfg.socket_pending) {
		int err = t->cfg.socket_pending(t->cfg.socket_pending_ctx);

		if (err)
			return err;
	}
	if (c->state == CONNECTION_OPEN)
		return connection__write_data(t, c, rec);
	q = malloc(sizeof(*q) + size);
	if (!q)
		return -ENOMEM;
	q->next = NULL;
	q->size = size;
	memcpy(q->data, rec, size);
	*c->queue_tail = q;
	c->queue_tail = &q->next;
	c->queued_bytes += size;
	return connection_table__maybe_open(t, c);
}

static int connection_table__handle_close(struct connection_table *t,
					  const struct tlspcap_close_record *rec)
{
	struct connection *c = connection_table__find(t, rec->hdr.conn_id);

	if (!c || c->ended)
		return 0;
	c->end_offset[0] = rec->end_offset[0];
	c->end_offset[1] = rec->end_offset[1];
	return connection_table__end_view(t, c, rec->hdr.timestamp_ns, NULL, false);
}

static int connection_table__handle_exit(struct connection_table *t, const struct tlspcap_record *rec)
{
	char why[64];
	struct connection *c, *next;
	bool still_waiting = false;
	int err = 0, ret;

	snprintf(why, sizeof(why), "tlspcap: process %u %s", rec->tgid,
		 rec->fd == TLSPCAP_EXIT_EXEC ? "executed another program" : "exited");
	for (c = t->all; c; c = next) {
		next = c->all_next;
		if (c->tgid != (pid_t)rec->tgid || c->ended)
			continue;
		/* ending @c may end (free) its ended peer view: step past it */
		if (next && next == c->peer && next->ended)
			next = next->all_next;
		ret = connection_table__end_view(t, c, rec->timestamp_ns, why, false);
		if (!err)
			err = ret;
	}
	for (c = t->all; c && !still_waiting; c = c->all_next)
		still_waiting = c->tgid == (pid_t)rec->tgid;
	/* Its streams not written yet still need what /proc said while it lived. */
	if (!still_waiting)
		process_cache__forget(t->cfg.processes, rec->tgid);
	return err;
}

int connection_table__handle_record(struct connection_table *t, const void *data, size_t size)
{
	const struct tlspcap_record *hdr = data;

	if (size < sizeof(*hdr))
		goto bad;
	switch (hdr->type) {
	case TLSPCAP_RECORD_DATA: {
		const struct tlspcap_data_record *rec = data;

		/* A length no call can have (the value comes from the traced process's
		 * memory for SSL_*_ex) would make the stream write truncated frames
		 * for ever. */
		if (size < TLSPCAP_DATA_RECORD_HEADER_SIZE ||
		    size < TLSPCAP_DATA_RECORD_HEADER_SIZE + rec->data_len ||
		    rec->data_len > rec->len || rec->direction > TLSPCAP_DIR_RECV ||
		    rec->len > RECORD_LEN_MAX || rec->offset > UINT64_MAX - rec->len)
			goto bad;
		return connection_table__handle_data(t, rec, TLSPCAP_DATA_RECORD_HEADER_SIZE + rec->data_len);
	}
	case TLSPCAP_RECORD_SOCKET:
		if (size < sizeof(struct tlspcap_socket_record))
			goto bad;
		return connection_table__handle_socket(t, data);
	case TLSPCAP_RECORD_CLOSE:
		if (size < sizeof(struct tlspcap_close_record))
			goto bad;
		return connection_table__handle_close(t, data);
	case TLSPCAP_RECORD_EXIT:
		return connection_table__handle_exit(t, hdr);
	}
bad:
	t->stats.bad_records++;
	return 0;
}

int connection_table__tick(struct connection_table *t, uint64_t now_monotonic_ns)
{
	struct connection *c, *next;
	int err;

	for (c = t->all; c; c = next) {
		next = c->all_next;
		if (c->state != CONNECTION_WAITING || now_monotonic_ns < c->first_ns ||
		    now_monotonic_ns - c->first_ns < t->cfg.peer_wait_ns)
			continue;
		/* opening may end (free) @c and its peer view: step past both */
		if (next && next == c->peer)
			next = next->all_next;
		err = connection_table__open_waiting(t, c);
		if (err)
			return err;
	}
	return 0;
}

int connection_table__close_all(struct connection_table *t, uint64_t now_monotonic_ns)
{
	int err = 0, ret;

	while (t->all) {
		struct connection *c = t->all;

		ret = connection_table__end_view(t, c, c->ended ? c->end_ns : now_monotonic_ns,
						 c->ended ? c->end_why : "tlspcap: capture ended", true);
		if (!err)
			err = ret;
	}
	return err;
}

int connection_table__continue_all(struct connection_table *t)
{
	char first[COMMENT_MAX], second[COMMENT_MAX];
	struct connection *c, *client, *server;
	const char *comments[TCP_STREAM_MAX_COMMENTS];
	int err;

	for (c = t->all; c; c = c->all_next) {
		/* a stream shared by two views is announced once, from its client view */
		if (c->state != CONNECTION_OPEN || !c->stream->tcp || /* rejected: not in any file */
		    (c->peer && c->peer->stream == c->stream && c->role != TCP_STREAM_SIDE_CLIENT))
			continue;
		client = c;
		server = c->peer && c->peer->stream == c->stream ? c->peer : NULL;
		memset(comments, 0, sizeof(comments));
		/* a view that joined late is described here like the others */
		connection_table__describe_views(t, client, server, first, second, comments);
		err = tcp_stream__continue(c->stream->tcp, comments);
		if (err)
			return err;
	}
	return 0;
}
