// SPDX-License-Identifier: MIT
/*
 * The connection stage fed with hand-made probe records (no BPF): socket,
 * data, close and exit records go through connection_table__handle_record
 * into a real pcapng file, judged by tshark and libpcap.  The process cache
 * reads the real /proc (this test's own pid), netinfo reads the real
 * /proc/net (a listening socket of this test decides the server role).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "connections.h"
#include "filter.h"
#include "netinfo.h"
#include "pcapng.h"
#include "process.h"
#include "tcp_stream.h"
#include "tlspcap.h"
#include "tshark_helpers.h"
#include "test_helpers.h"

#define PEER_WAIT_NS (50ull * 1000000)
#define PENDING_LIMIT (4u << 20)
#define MS (1000000ull)
#define LIBRARY_LABEL "TestSSL 9.9 (/test/libtestssl.so.9)"

/* The first SYN of each stream (the SYN-ACK also has the syn flag). */
#define SYN_FILTER "tcp.flags.syn==1 && tcp.flags.ack==0"

struct ctx {
	char dir[64];
	char path[96];
	FILE *f;
	struct pcapng_writer *w;
	struct tcp_stream_table *streams;
	struct process_cache *processes;
	struct netinfo *netinfo;
	struct clock_offset clock;
	struct connection_table *ct;
	struct connection_table_config cfg;
	struct capture_filter *filter;
	struct connection_stats stats;       /* copied at finish */
	struct tcp_stream_counters counters; /* copied at finish */
	uint64_t t0;                         /* monotonic base of the record timestamps */
	int listen_fd;
	uint16_t listen_port;                /* LISTENs on 127.0.0.1 */
	int idle_fd;
	uint16_t idle_port;                  /* bound, never listening: a client's port */
	char self_comm[17];
};

static const char *library_label(void *ctx, uint32_t cookie)
{
	return LIBRARY_LABEL;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		return 0;
	return ntohs(sin.sin_port);
}

/* A TCP socket on @addr:0, listening or not; returns the fd, *port set. */
static int tcp_socket(const char *addr, int listening, uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, addr, &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || (listening && listen(fd, 4))) {
		close(fd);
		return -1;
	}
	*port = bound_port(fd);
	return fd;
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct connection_table_config cfg = {
		.library_label = library_label,
		.peer_wait_ns = PEER_WAIT_NS,
		.pending_limit = PENDING_LIMIT,
	};
	FILE *comm;
	int id;

	if (!c)
		return -1;
	c->listen_fd = c->idle_fd = -1;
	strcpy(c->dir, "/tmp/test_connections.XXXXXX");
	id = test_capture_open(c->dir, c->path, sizeof(c->path), &c->f, &c->w);
	if (id < 0)
		return -1;
	c->streams = tcp_stream_table__new(c->w, id);
	c->processes = process_cache__new();
	/* The sockets exist before netinfo first reads /proc/net. */
	c->listen_fd = tcp_socket("127.0.0.1", 1, &c->listen_port);
	c->idle_fd = tcp_socket("0.0.0.0", 0, &c->idle_port);
	c->netinfo = netinfo__new();
	if (!c->streams || !c->processes || !c->netinfo || c->listen_fd < 0 || c->idle_fd < 0)
		return -1;
	clock_offset__calibrate(&c->clock);
	c->t0 = clock__monotonic_ns();
	cfg.streams = c->streams;
	cfg.processes = c->processes;
	cfg.netinfo = c->netinfo;
	cfg.clock = &c->clock;
	c->cfg = cfg;
	c->ct = connection_table__new(&cfg);
	if (!c->ct)
		return -1;
	comm = fopen("/proc/self/comm", "r");
	if (!comm || !fgets(c->self_comm, sizeof(c->self_comm), comm))
		return -1;
	fclose(comm);
	c->self_comm[strcspn(c->self_comm, "\n")] = '\0';
	*state = c;
	return 0;
}

/* Ends every stream, frees the stage and closes the file, so tshark can read it. */
static void finish_at(struct ctx *c, uint64_t now)
{
	assert_int_equal(connection_table__close_all(c->ct, now), 0);
	c->stats = *connection_table__stats(c->ct);
	connection_table__free(c->ct);
	c->ct = NULL;
	c->counters = *tcp_stream_table__counters(c->streams);
	tcp_stream_table__free(c->streams);
	c->streams = NULL;
	assert_int_equal(pcapng_writer__flush(c->w), 0);
	pcapng_writer__free(c->w);
	c->w = NULL;
	assert_int_equal(fclose(c->f), 0);
	c->f = NULL;
}

static void finish(struct ctx *c)
{
	finish_at(c, c->t0 + 10000 * MS);
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	connection_table__free(c->ct);
	tcp_stream_table__free(c->streams);
	pcapng_writer__free(c->w);
	if (c->f)
		fclose(c->f);
	process_cache__free(c->processes);
	netinfo__free(c->netinfo);
	capture_filter__free(c->filter);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->idle_fd >= 0)
		close(c->idle_fd);
	test_capture_remove(c->dir, c->path);
	free(c);
	return 0;
}

/* ---- records ---------------------------------------------------------- */

static void feed(struct ctx *c, const void *rec, size_t size)
{
	assert_int_equal(connection_table__handle_record(c->ct, rec, size), 0);
}

struct sock_desc {
	uint64_t conn_id;
	pid_t tgid;
	int fd;
	const char *comm;
	int family;
	const char *laddr;
	uint16_t lport;
	const char *raddr;
	uint16_t rport;
	bool passive;       /* accepted: the kernel socket has its listener's backlog */
};

static void put_addr(int family, const char *text, uint8_t *out)
{
	assert_int_equal(inet_pton(family, text, out), 1);
}

static void socket_rec(struct ctx *c, const struct sock_desc *d, uint64_t ts)
{
	struct tlspcap_socket_record r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = TLSPCAP_RECORD_SOCKET;
	r.hdr.tgid = d->tgid;
	r.hdr.tid = d->tgid;
	r.hdr.fd = d->fd;
	r.hdr.conn_id = d->conn_id;
	r.hdr.timestamp_ns = ts;
	r.ssl_ctx = 0x5500000000ull + d->conn_id;
	r.socket_inode = 0; /* never "established before the capture" */
	r.library = 1;
	r.family = d->family;
	r.protocol = IPPROTO_TCP;
	r.local_port = d->lport;
	r.remote_port = d->rport;
	r.attribution = TLSPCAP_ATTR_SYSCALL;
	r.passive = d->passive;
	snprintf(r.comm, sizeof(r.comm), "%s", d->comm ? d->comm : "testproc");
	put_addr(d->family, d->laddr, r.local_addr);
	put_addr(d->family, d->raddr, r.remote_addr);
	feed(c, &r, sizeof(r));
}

/* A data record carrying @data_len bytes of @len at @offset. */
static void data_rec_cut(struct ctx *c, uint64_t conn_id, pid_t tgid, int fd, int direction,
			 uint64_t offset, const void *data, uint32_t data_len, uint64_t len,
			 uint64_t ts)
{
	size_t size = TLSPCAP_DATA_RECORD_HEADER_SIZE + data_len;
	struct tlspcap_data_record *r = calloc(1, sizeof(*r)); /* whole struct: no -Warray-bounds */

	assert_non_null(r);
	r->hdr.type = TLSPCAP_RECORD_DATA;
	r->hdr.tgid = tgid;
	r->hdr.tid = tgid;
	r->hdr.fd = fd;
	r->hdr.conn_id = conn_id;
	r->hdr.timestamp_ns = ts;
	r->ssl_ctx = 0x5500000000ull + conn_id;
	r->offset = offset;
	r->len = len;
	r->data_len = data_len;
	r->library = 1;
	r->direction = direction;
	r->attribution = fd < 0 ? TLSPCAP_ATTR_NONE : TLSPCAP_ATTR_SYSCALL;
	memcpy(r->data, data, data_len);
	feed(c, r, size);
	free(r);
}

static void data_rec(struct ctx *c, uint64_t conn_id, pid_t tgid, int fd, int direction,
		     uint64_t offset, const void *data, uint32_t len, uint64_t ts)
{
	data_rec_cut(c, conn_id, tgid, fd, direction, offset, data, len, len, ts);
}

/* Feeds @len bytes of @data from @from in chunks of @chunk (the last may be shorter). */
static void data_chunks(struct ctx *c, uint64_t conn_id, pid_t tgid, int fd, int direction,
			const uint8_t *data, size_t from, size_t len, size_t chunk, uint64_t ts)
{
	size_t off, n;

	for (off = from; off < from + len; off += n) {
		n = from + len - off < chunk ? from + len - off : chunk;
		data_rec(c, conn_id, tgid, fd, direction, off, data + off, n, ts++);
	}
}

static void close_rec(struct ctx *c, uint64_t conn_id, pid_t tgid, int fd, uint64_t end_send,
		      uint64_t end_recv, uint64_t ts)
{
	struct tlspcap_close_record r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = TLSPCAP_RECORD_CLOSE;
	r.hdr.tgid = tgid;
	r.hdr.tid = tgid;
	r.hdr.fd = fd;
	r.hdr.conn_id = conn_id;
	r.hdr.timestamp_ns = ts;
	r.end_offset[TLSPCAP_DIR_SEND] = end_send;
	r.end_offset[TLSPCAP_DIR_RECV] = end_recv;
	feed(c, &r, sizeof(r));
}

static void exit_rec(struct ctx *c, pid_t tgid, uint64_t ts)
{
	struct tlspcap_record r = {
		.type = TLSPCAP_RECORD_EXIT,
		.tgid = tgid,
		.tid = tgid,
		.fd = -1,
		.timestamp_ns = ts,
	};

	feed(c, &r, sizeof(r));
}

/* ---- judging the file ------------------------------------------------- */

/* `-T fields` output of @fields for frames matching @filter. */
static char *fields(const struct ctx *c, const char *filter, const char *fieldargs)
{
	char *out = tshark_run(NULL, "tshark -r '%s' -Y '%s' -T fields %s 2>/dev/null", c->path,
			       filter, fieldargs);

	assert_non_null(out);
	return out;
}

/* The comments of the frames matching @filter as JSON text (newlines escaped). */
static char *comments_json(const struct ctx *c, const char *filter)
{
	char *out = tshark_run(NULL, "tshark -r '%s' -Y '%s' -T json -e frame.comment 2>/dev/null",
			       c->path, filter);

	assert_non_null(out);
	return out;
}

static size_t count_substr(const char *hay, const char *needle)
{
	size_t n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in:\n%s", needle, hay ? hay : "(null)");
}

static long stream_count(const struct ctx *c)
{
	char *out = tshark_run(NULL, "tshark -r '%s' -T fields -e tcp.stream 2>/dev/null | sort -nu | wc -l",
			       c->path);
	long n;

	assert_non_null(out);
	n = strtol(out, NULL, 10);
	free(out);
	return n;
}

static const char http_request[] =
	"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: test\r\n"
	"Accept: */*\r\n\r\n";
static const char http_response[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n\r\n"
	"abcdefghijklmnopqrstuvwxyz";
#define REQ_LEN (sizeof(http_request) - 1)
#define RESP_LEN (sizeof(http_response) - 1)

/* ---- tests ------------------------------------------------------------ */

static void test_client_remote(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	struct sock_desc d = {
		.conn_id = 1001, .tgid = pid, .fd = 7, .comm = "recordcomm", .family = AF_INET,
		.laddr = "198.51.100.7", .lport = c->idle_port, .raddr = "192.0.2.10", .rport = 443,
	};
	uint64_t t = c->t0;
	char want[256], *out;

	socket_rec(c, &d, t);
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	/* The client's first bytes: the stream opens at once (remote is not on this host). */
	data_rec(c, d.conn_id, pid, 7, TLSPCAP_DIR_SEND, 0, http_request, 20, t + 1 * MS);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 1);
	data_rec(c, d.conn_id, pid, 7, TLSPCAP_DIR_SEND, 20, http_request + 20, REQ_LEN - 20, t + 2 * MS);
	data_chunks(c, d.conn_id, pid, 7, TLSPCAP_DIR_RECV, (const uint8_t *)http_response, 0,
		    RESP_LEN, 30, t + 3 * MS);
	close_rec(c, d.conn_id, pid, 7, REQ_LEN, RESP_LEN, t + 10 * MS);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 0);
	finish(c);

	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(c->stats.merged, 0);
	assert_int_equal(c->stats.unattributed, 0);
	assert_int_equal(c->stats.data_records, 2 + (RESP_LEN + 29) / 30);
	assert_int_equal(c->stats.captured_bytes, REQ_LEN + RESP_LEN);
	assert_int_equal(c->stats.bad_records, 0);
	assert_int_equal(c->counters.lost_bytes, 0);

	/* The SYN: real client address, server port 443 remapped to 80, one comment. */
	out = fields(c, SYN_FILTER, "-e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport");
	snprintf(want, sizeof(want), "198.51.100.7\t192.0.2.10\t%u\t80\n", c->idle_port);
	assert_string_equal(out, want);
	free(out);
	out = comments_json(c, SYN_FILTER);
	assert_int_equal(count_substr(out, "PID: "), 1);
	snprintf(want, sizeof(want), "\"PID: %d\\nCmd: %s\\nArgs: ", pid, c->self_comm);
	assert_contains(out, want);
	snprintf(want, sizeof(want), "\\nFD: 7\\nLibrary: %s\\nRole: client\\nLocal: 198.51.100.7:%u\\n"
		 "Remote: 192.0.2.10:443\\nSocket: found from a socket syscall", LIBRARY_LABEL, c->idle_port);
	assert_contains(out, want);
	snprintf(want, sizeof(want), "\\nThreadId: %d\\nUserId: %u\\n", pid, getuid());
	assert_contains(out, want);
	free(out);

	assert_int_equal(tshark_count(c->path, "http.request.method == \"GET\" && http.host == \"www.example.com\""), 1);
	assert_int_equal(tshark_count(c->path, "http.response.code == 200"), 1);
	assert_int_equal(tshark_count(c->path, "tcp.port == 443"), 0);
	/* Data leaving the traced client is outbound, the reply inbound. */
	assert_int_equal(tshark_count(c->path, "tcp.len>0 && tcp.dstport==80 && frame.packet_flags_direction==0x2"), 2);
	assert_int_equal(tshark_count(c->path, "tcp.len>0 && tcp.srcport==80 && frame.packet_flags_direction==0x1"),
			 (RESP_LEN + 29) / 30);
	/* FIN from both sides, then the last ACK. */
	assert_int_equal(tshark_count(c->path, "tcp.flags.fin==1"), 2);
	assert_int_equal(stream_count(c), 1);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, http_request, REQ_LEN, http_response, RESP_LEN);
}

struct pending_socket {
	struct ctx *c;
	const struct sock_desc *d;
	int calls;
};

/* The SOCKET record waiting elsewhere (the control ring), handed over when asked. */
static int hand_over_socket(void *arg)
{
	struct pending_socket *p = arg;

	if (p->calls++ == 0)
		socket_rec(p->c, p->d, p->c->t0);
	return 0;
}

/* A connection's first data before its SOCKET record: the table asks for it at once. */
static void test_socket_pending(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	struct sock_desc d = {
		.conn_id = 1002, .tgid = pid, .fd = 8, .family = AF_INET,
		.laddr = "198.51.100.8", .lport = c->idle_port, .raddr = "192.0.2.11", .rport = 443,
	};
	struct pending_socket p = { c, &d, 0 };
	char want[128], *out;

	connection_table__free(c->ct);
	c->cfg.socket_pending = hand_over_socket;
	c->cfg.socket_pending_ctx = &p;
	c->ct = connection_table__new(&c->cfg);
	assert_non_null(c->ct);
	data_rec(c, d.conn_id, pid, 8, TLSPCAP_DIR_SEND, 0, http_request, REQ_LEN, c->t0 + 1 * MS);
	/* asked once, and the stream opened with the record's addresses */
	assert_int_equal(p.calls, 1);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 1);
	data_rec(c, d.conn_id, pid, 8, TLSPCAP_DIR_RECV, 0, http_response, RESP_LEN, c->t0 + 2 * MS);
	assert_int_equal(p.calls, 1); /* an open stream needs no SOCKET record */
	close_rec(c, d.conn_id, pid, 8, REQ_LEN, RESP_LEN, c->t0 + 3 * MS);
	finish(c);

	assert_int_equal(c->stats.unattributed, 0);
	out = fields(c, SYN_FILTER, "-e ip.src -e ip.dst");
	snprintf(want, sizeof(want), "198.51.100.8\t192.0.2.11\n");
	assert_string_equal(out, want);
	free(out);
	tshark_assert_follow(c->path, 0, http_request, REQ_LEN, http_response, RESP_LEN);
}

/*
 * The end that accepted is the server, whatever the listening ports say:
 * its port is listened on no more (a server that closed its listener), and
 * a client may hold a port a listener had before.
 */
static void test_role_from_accept(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	struct sock_desc d = {
		.conn_id = 1301, .tgid = pid, .fd = 9, .family = AF_INET, .laddr = "198.51.100.7",
		.lport = c->idle_port, .raddr = "192.0.2.10", .rport = 40000, .passive = true,
	};
	uint64_t t = c->t0;
	char want[128], *out;

	socket_rec(c, &d, t);
	data_rec(c, d.conn_id, pid, 9, TLSPCAP_DIR_RECV, 0, http_request, REQ_LEN, t + 1 * MS);
	data_rec(c, d.conn_id, pid, 9, TLSPCAP_DIR_SEND, 0, http_response, RESP_LEN, t + 2 * MS);
	close_rec(c, d.conn_id, pid, 9, RESP_LEN, REQ_LEN, t + 3 * MS);
	finish(c);

	/* The SYN goes from the remote client to the accepting side's port. */
	out = fields(c, SYN_FILTER, "-e ip.src -e tcp.srcport -e tcp.dstport");
	snprintf(want, sizeof(want), "192.0.2.10\t40000\t%u\n", c->idle_port);
	assert_string_equal(out, want);
	free(out);
	out = comments_json(c, SYN_FILTER);
	assert_contains(out, "Role: server");
	free(out);
	tshark_assert_follow(c->path, 0, http_request, REQ_LEN, http_response, RESP_LEN);
}

/* A process gone before /proc is read: the comment names the comm of the socket record. */
static void test_process_gone(void **state)
{
	struct ctx *c = *state;
	pid_t ghost = absent_pid();
	struct sock_desc d = {
		.conn_id = 1002, .tgid = ghost, .fd = 9, .comm = "ghostproc", .family = AF_INET,
		.laddr = "198.51.100.8", .lport = c->idle_port, .raddr = "192.0.2.11", .rport = 8443,
	};
	char want[128], *out;

	socket_rec(c, &d, c->t0);
	data_rec(c, d.conn_id, ghost, 9, TLSPCAP_DIR_SEND, 0, "hello", 5, c->t0 + 1);
	close_rec(c, d.conn_id, ghost, 9, 5, 0, c->t0 + 2);
	finish(c);

	out = comments_json(c, SYN_FILTER);
	snprintf(want, sizeof(want), "\"PID: %d\\nCmd: ghostproc\\nArgs: ?\\n", ghost);
	assert_contains(out, want);
	assert_contains(out, "Role: client");
	assert_contains(out, "Remote: 192.0.2.11:8443");
	free(out);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, "hello", 5, "", 0);
}

/* Both ends of one local connection traced: one stream, two comments, bytes once. */
static void both_views(struct ctx *c, int server_first)
{
	pid_t a = getpid(), b = getppid();
	struct sock_desc cli = {
		.conn_id = 2001, .tgid = a, .fd = 5, .comm = "client", .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->idle_port, .raddr = "127.0.0.1", .rport = c->listen_port,
	};
	struct sock_desc srv = {
		.conn_id = 2002, .tgid = b, .fd = 11, .comm = "server", .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->listen_port, .raddr = "127.0.0.1", .rport = c->idle_port,
	};
	size_t up_len = 3000, down_len = 70000;
	uint8_t *up = test_pattern(up_len, 11), *down = test_pattern(down_len, 12);
	uint64_t t = c->t0;
	char want[128], *out, *p;

	if (server_first)
		socket_rec(c, &srv, t);
	socket_rec(c, &cli, t + 1);
	/* The remote is local: the client view waits for its peer even with bytes seen. */
	data_chunks(c, cli.conn_id, a, 5, TLSPCAP_DIR_SEND, up, 0, 1000, 400, t + 2);
	if (!server_first) {
		assert_int_equal(connection_table__stats(c->ct)->connections, 0);
		socket_rec(c, &srv, t + 10);
	}
	/* Both views and the client's first bytes known: the stream is open. */
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__stats(c->ct)->merged, 1);
	/* The server reports the same bytes, chunked differently, and more. */
	data_chunks(c, srv.conn_id, b, 11, TLSPCAP_DIR_RECV, up, 0, up_len, 1500, t + 20);
	data_chunks(c, cli.conn_id, a, 5, TLSPCAP_DIR_SEND, up, 1000, up_len - 1000, 700, t + 30);
	data_chunks(c, srv.conn_id, b, 11, TLSPCAP_DIR_SEND, down, 0, down_len, 16384, t + 40);
	data_chunks(c, cli.conn_id, a, 5, TLSPCAP_DIR_RECV, down, 0, down_len, 5000, t + 60);
	close_rec(c, srv.conn_id, b, 11, down_len, up_len, t + 100);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 1); /* the client view remains */
	close_rec(c, cli.conn_id, a, 5, up_len, down_len, t + 101);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 0);
	finish(c);

	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(c->stats.merged, 1);
	assert_int_equal(c->counters.streams, 1);
	assert_int_equal(c->counters.payload_bytes, up_len + down_len);
	assert_int_equal(c->counters.duplicate_bytes, up_len + down_len);
	assert_int_equal(c->counters.lost_bytes, 0);
	assert_int_equal(stream_count(c), 1);

	/* The SYN goes from the client's real address to the listening port. */
	out = fields(c, SYN_FILTER, "-e ip.src -e tcp.srcport -e tcp.dstport");
	snprintf(want, sizeof(want), "127.0.0.1\t%u\t%u\n", c->idle_port, c->listen_port);
	assert_string_equal(out, want);
	free(out);
	/* Two comments, each starting "PID: ": the client's first, then the server's. */
	out = comments_json(c, SYN_FILTER);
	p = strstr(out, "\"frame.comment\": [");
	assert_non_null(p);
	p += strlen("\"frame.comment\": [");
	while (*p == ' ' || *p == '\n')
		p++;
	snprintf(want, sizeof(want), "\"PID: %d\\nCmd: ", a);
	assert_memory_equal(p, want, strlen(want));
	p = strstr(p + 1, "\",");
	assert_non_null(p);
	p += 2;
	while (*p == ' ' || *p == '\n')
		p++;
	snprintf(want, sizeof(want), "\"PID: %d\\nCmd: ", b);
	assert_memory_equal(p, want, strlen(want));
	assert_int_equal(count_substr(out, "\"PID: "), 2);
	assert_int_equal(count_substr(out, "Role: client"), 1);
	assert_int_equal(count_substr(out, "Role: server"), 1);
	snprintf(want, sizeof(want), "Local: 127.0.0.1:%u\\nRemote: 127.0.0.1:%u", c->idle_port, c->listen_port);
	assert_contains(out, want);
	snprintf(want, sizeof(want), "Local: 127.0.0.1:%u\\nRemote: 127.0.0.1:%u", c->listen_port, c->idle_port);
	assert_contains(out, want);
	free(out);
	assert_int_equal(tshark_count(c->path, "tcp.analysis.retransmission || tcp.analysis.out_of_order || "
					       "tcp.analysis.duplicate_ack || tcp.analysis.spurious_retransmission"), 0);
	assert_int_equal(tshark_count(c->path, "tcp.flags.fin==1"), 2);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, up, up_len, down, down_len);
	free(up);
	free(down);
}

static void test_both_views_client_first(void **state)
{
	both_views(*state, 0);
}

static void test_both_views_server_first(void **state)
{
	both_views(*state, 1);
}

/* Bytes the probes never delivered: a gap in the middle, a loss at the end. */
static void test_gap_and_trailing_loss(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	struct sock_desc d = {
		.conn_id = 3001, .tgid = pid, .fd = 8, .family = AF_INET,
		.laddr = "198.51.100.9", .lport = c->idle_port, .raddr = "192.0.2.12", .rport = 7000,
	};
	uint8_t *up = test_pattern(300, 21), *down = test_pattern(120, 22);
	uint64_t t = c->t0;
	char *rows, *out;

	socket_rec(c, &d, t);
	data_rec(c, d.conn_id, pid, 8, TLSPCAP_DIR_SEND, 0, up, 100, t + 1);
	data_rec(c, d.conn_id, pid, 8, TLSPCAP_DIR_RECV, 0, down, 80, t + 2);
	/* 50 bytes never seen */
	data_rec(c, d.conn_id, pid, 8, TLSPCAP_DIR_SEND, 150, up + 150, 50, t + 3);
	/* The process sent 100 and received 40 more bytes than the records carry. */
	close_rec(c, d.conn_id, pid, 8, 300, 120, t + 4);
	finish(c);
	free(up);
	free(down);

	assert_int_equal(c->counters.lost_bytes, 50 + 100 + 40);
	assert_int_equal(c->counters.payload_bytes, 100 + 80 + 50);
	rows = tshark_expert(c->path, "warn");
	assert_non_null(rows);
	assert_contains(rows, "Previous segment(s) not captured");
	free(rows);
	out = fields(c, "tcp.analysis.lost_segment", "-e tcp.srcport -e tcp.len -e frame.comment");
	assert_contains(out, "\t50\ttlspcap: 50 bytes not captured before this segment\n");
	free(out);
	out = fields(c, "tcp.flags.fin==1", "-e tcp.dstport -e frame.comment");
	assert_contains(out, "7000\ttlspcap: 100 bytes not captured before this FIN\n");
	assert_contains(out, "tlspcap: 40 bytes not captured before this FIN\n");
	free(out);
}

/* A snap length cut the record: the frame is truncated, the stream goes on. */
static void test_snaplen_cut(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	struct sock_desc d = {
		.conn_id = 4001, .tgid = pid, .fd = 8, .family = AF_INET,
		.laddr = "198.51.100.10", .lport = c->idle_port, .raddr = "192.0.2.13", .rport = 7001,
	};
	uint8_t *up = test_pattern(5100, 31);
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *bytes;
	pcap_t *p;
	int truncated = 0, full_data = 0, frames = 0;

	socket_rec(c, &d, c->t0);
	/* 5000 bytes sent, only 1000 recorded */
	data_rec_cut(c, d.conn_id, pid, 8, TLSPCAP_DIR_SEND, 0, up, 1000, 5000, c->t0 + 1);
	data_rec(c, d.conn_id, pid, 8, TLSPCAP_DIR_SEND, 5000, up + 5000, 100, c->t0 + 2);
	data_rec(c, d.conn_id, pid, 8, TLSPCAP_DIR_RECV, 0, "ok", 2, c->t0 + 3);
	close_rec(c, d.conn_id, pid, 8, 5100, 2, c->t0 + 4);
	finish(c);

	assert_int_equal(c->stats.captured_bytes, 1102);
	assert_int_equal(c->counters.truncated_bytes, 4000);
	assert_int_equal(c->counters.lost_bytes, 0);
	p = pcap_open_offline(c->path, errbuf);
	assert_non_null(p);
	while (pcap_next_ex(p, &h, &bytes) == 1) {
		frames++;
		if (h->caplen < h->len) {
			truncated++;
			assert_int_equal(h->len - h->caplen, 4000);
			/* IPv4 + TCP headers (20 + 20 + options) and the 1000 bytes kept */
			assert_true(h->caplen >= 1040 && h->caplen <= 1080);
			assert_memory_equal(bytes + h->caplen - 1000, up, 1000);
		} else if (h->len > 100 && h->len < 200) {
			full_data++;
			assert_memory_equal(bytes + h->caplen - 100, up + 5000, 100);
		}
	}
	pcap_close(p);
	assert_int_equal(truncated, 1);
	assert_int_equal(full_data, 1);
	assert_int_equal(frames, 3 + 3 + 3);
	/* The bytes after the cut follow on without a gap. */
	assert_int_equal(tshark_count(c->path, "tcp.analysis.lost_segment"), 0);
	assert_int_equal(tshark_count(c->path, "tcp.len==5000 && frame.cap_len < frame.len"), 1);
	free(up);
}

/* Records without any socket: placeholder addresses once the wait is over. */
static void test_unattributed(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	uint64_t first = c->t0 + 5 * MS;
	char *out;

	data_rec(c, 777, pid, -1, TLSPCAP_DIR_SEND, 0, http_request, REQ_LEN, first);
	data_rec(c, 777, pid, -1, TLSPCAP_DIR_RECV, 0, http_response, RESP_LEN, first + 1 * MS);
	assert_int_equal(connection_table__tick(c->ct, first + PEER_WAIT_NS - 1), 0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	assert_int_equal(connection_table__tick(c->ct, first + PEER_WAIT_NS + 1), 0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__stats(c->ct)->unattributed, 1);
	/* More bytes after the stream opened go straight in. */
	data_rec(c, 777, pid, -1, TLSPCAP_DIR_SEND, REQ_LEN, "x", 1, first + 60 * MS);
	finish(c);

	assert_int_equal(c->stats.unattributed, 1);
	assert_int_equal(c->stats.connections, 1);
	out = fields(c, SYN_FILTER, "-e ip.src -e ip.dst -e tcp.dstport");
	assert_string_equal(out, "192.0.2.1\t192.0.2.2\t9\n");
	free(out);
	out = comments_json(c, SYN_FILTER);
	assert_contains(out, "Socket: unknown");
	assert_contains(out, "Role: unknown\\nLocal: unknown\\nRemote: unknown");
	assert_contains(out, "FD: -1");
	free(out);
	assert_int_equal(stream_count(c), 1);
	tshark_assert_clean(c->path);
	{
		char both[REQ_LEN + 1];

		memcpy(both, http_request, REQ_LEN);
		both[REQ_LEN] = 'x';
		tshark_assert_follow(c->path, 0, both, REQ_LEN + 1, http_response, RESP_LEN);
	}
}

/* A client that starts with the HTTP/2 preface on a random port: put on port 80. */
static void test_http2_port(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	struct sock_desc d = {
		.conn_id = 5001, .tgid = pid, .fd = 8, .family = AF_INET,
		.laddr = "198.51.100.11", .lport = c->idle_port, .raddr = "192.0.2.14", .rport = 40123,
	};
	/* preface + empty SETTINGS */
	static const uint8_t client[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
					"\x00\x00\x00\x04\x00\x00\x00\x00\x00";
	/* empty SETTINGS + SETTINGS ACK */
	static const uint8_t server[] = "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
					"\x00\x00\x00\x04\x01\x00\x00\x00\x00";
	char *out;

	socket_rec(c, &d, c->t0);
	data_rec(c, d.conn_id, pid, 8, TLSPCAP_DIR_SEND, 0, client, sizeof(client) - 1, c->t0 + 1);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	data_rec(c, d.conn_id, pid, 8, TLSPCAP_DIR_RECV, 0, server, sizeof(server) - 1, c->t0 + 2);
	close_rec(c, d.conn_id, pid, 8, sizeof(client) - 1, sizeof(server) - 1, c->t0 + 3);
	finish(c);

	out = fields(c, SYN_FILTER, "-e tcp.dstport");
	assert_string_equal(out, "80\n");
	free(out);
	out = comments_json(c, SYN_FILTER);
	assert_contains(out, "Remote: 192.0.2.14:40123");
	free(out);
	assert_int_equal(tshark_count(c->path, "http2.magic"), 1);
	assert_true(tshark_count(c->path, "http2.type == 4") >= 2);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, client, sizeof(client) - 1, server, sizeof(server) - 1);
}

/* A fresh (empty) table that writes only the connections @expression accepts. */
static void use_filter(struct ctx *c, const char *expression)
{
	char msg[256];

	c->filter = capture_filter__new(expression, msg, sizeof(msg));
	if (!c->filter)
		fail_msg("filter '%s': %s", expression, msg);
	connection_table__free(c->ct);
	c->cfg.filter = c->filter;
	c->ct = connection_table__new(&c->cfg);
	assert_non_null(c->ct);
}

/* One whole HTTP exchange from a client of this process to @raddr:@rport. */
static void client_exchange(struct ctx *c, uint64_t conn_id, int fd, const char *raddr,
			    uint16_t rport, uint64_t ts)
{
	pid_t pid = getpid();
	struct sock_desc d = {
		.conn_id = conn_id, .tgid = pid, .fd = fd, .family = AF_INET,
		.laddr = "198.51.100.7", .lport = c->idle_port, .raddr = raddr, .rport = rport,
	};

	socket_rec(c, &d, ts);
	data_rec(c, conn_id, pid, fd, TLSPCAP_DIR_SEND, 0, http_request, REQ_LEN, ts + 1);
	data_rec(c, conn_id, pid, fd, TLSPCAP_DIR_RECV, 0, http_response, RESP_LEN, ts + 2);
	close_rec(c, conn_id, pid, fd, REQ_LEN, RESP_LEN, ts + 3);
}

/*
 * The filter judges real ports: "port 443" keeps the stream to 443 (written on
 * port 80) and rejects the one to 8443 and the one whose socket is unknown;
 * the rejected bytes are counted, not written.
 */
static void test_filter_real_ports(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	uint64_t t = c->t0;
	char *out;

	use_filter(c, "port 443");
	client_exchange(c, 9001, 7, "192.0.2.10", 443, t);
	client_exchange(c, 9002, 8, "192.0.2.10", 8443, t + 10);
	data_rec(c, 9003, pid, -1, TLSPCAP_DIR_SEND, 0, http_request, REQ_LEN, t + 20);
	assert_int_equal(connection_table__tick(c->ct, t + 20 + PEER_WAIT_NS + 1), 0);
	finish(c);

	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(c->stats.filtered, 2);
	assert_int_equal(c->stats.filtered_bytes, REQ_LEN + RESP_LEN + REQ_LEN);
	assert_int_equal(c->stats.captured_bytes, 3 * REQ_LEN + 2 * RESP_LEN);
	assert_int_equal(c->stats.open_now, 0);
	assert_int_equal(c->counters.payload_bytes, REQ_LEN + RESP_LEN);
	assert_int_equal(stream_count(c), 1);
	out = fields(c, SYN_FILTER, "-e tcp.dstport");
	assert_string_equal(out, "80\n");
	free(out);
	out = comments_json(c, SYN_FILTER);
	assert_contains(out, "Remote: 192.0.2.10:443\\n");
	free(out);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, http_request, REQ_LEN, http_response, RESP_LEN);
}

/* The synthetic port is not what the filter sees: "port 80" matches neither stream. */
static void test_filter_not_synthetic_port(void **state)
{
	struct ctx *c = *state;

	use_filter(c, "tcp port 80 or host 192.0.2.99");
	client_exchange(c, 9101, 7, "192.0.2.10", 443, c->t0);
	finish(c);
	assert_int_equal(c->stats.connections, 0);
	assert_int_equal(c->stats.filtered, 1);
	assert_int_equal(c->counters.packets, 0);
}

/* The client (fd 7, @conn_id) and server (fd 9, @conn_id + 1) views of one loopback connection. */
static void local_views(const struct ctx *c, uint64_t conn_id, struct sock_desc *client,
			struct sock_desc *server)
{
	*client = (struct sock_desc){
		.conn_id = conn_id, .tgid = getpid(), .fd = 7, .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->idle_port, .raddr = "127.0.0.1", .rport = c->listen_port,
	};
	*server = *client;
	server->conn_id = conn_id + 1;
	server->fd = 9;
	server->lport = c->listen_port;
	server->rport = c->idle_port;
}

/* Both views of a local connection: one verdict for the shared stream, the late view too. */
static void test_filter_both_views(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	struct sock_desc client, server;
	char expr[64];

	local_views(c, 9201, &client, &server);
	snprintf(expr, sizeof(expr), "not dst port %u", c->idle_port);
	use_filter(c, expr); /* the SYN goes to the listener: it passes */
	socket_rec(c, &client, c->t0);
	data_rec(c, client.conn_id, pid, 7, TLSPCAP_DIR_SEND, 0, http_request, REQ_LEN, c->t0 + 1);
	socket_rec(c, &server, c->t0 + 2);
	data_rec(c, server.conn_id, pid, 9, TLSPCAP_DIR_RECV, 0, http_request, REQ_LEN, c->t0 + 3);
	close_rec(c, client.conn_id, pid, 7, REQ_LEN, 0, c->t0 + 4);
	close_rec(c, server.conn_id, pid, 9, 0, REQ_LEN, c->t0 + 5);
	finish(c);
	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(c->stats.merged, 1);
	assert_int_equal(c->stats.filtered, 0);
	assert_int_equal(c->counters.payload_bytes, REQ_LEN);
}

/* Rejected at the deadline, then the other view comes: it joins the rejected stream. */
static void test_filter_rejects_late_view(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	struct sock_desc client, server;

	local_views(c, 9301, &client, &server);
	use_filter(c, "ip6");
	socket_rec(c, &client, c->t0);
	data_rec(c, client.conn_id, pid, 7, TLSPCAP_DIR_SEND, 0, http_request, REQ_LEN, c->t0 + 1);
	assert_int_equal(connection_table__tick(c->ct, c->t0 + PEER_WAIT_NS + 1), 0);
	assert_int_equal(connection_table__stats(c->ct)->filtered, 1);
	socket_rec(c, &server, c->t0 + PEER_WAIT_NS + 2);
	data_rec(c, server.conn_id, pid, 9, TLSPCAP_DIR_RECV, 0, http_request, REQ_LEN,
		 c->t0 + PEER_WAIT_NS + 3);
	finish(c);
	assert_int_equal(c->stats.connections, 0);
	assert_int_equal(c->stats.merged, 0);
	assert_int_equal(c->stats.filtered, 1);
	assert_int_equal(c->stats.filtered_bytes, 2 * REQ_LEN);
	assert_int_equal(c->counters.packets, 0);
}

/* An exit record ends every stream of that process; a close of an unknown id is ignored. */
static void test_exit_and_unknown_close(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid(), other = getppid();
	struct sock_desc d[3] = {
		{ .conn_id = 6001, .tgid = pid, .fd = 5, .family = AF_INET, .laddr = "198.51.100.12",
		  .lport = c->idle_port, .raddr = "192.0.2.15", .rport = 443 },
		{ .conn_id = 6002, .tgid = pid, .fd = 6, .family = AF_INET, .laddr = "198.51.100.12",
		  .lport = c->idle_port, .raddr = "192.0.2.16", .rport = 443 },
		{ .conn_id = 6003, .tgid = other, .fd = 5, .family = AF_INET, .laddr = "198.51.100.13",
		  .lport = c->idle_port, .raddr = "192.0.2.17", .rport = 443 },
	};
	char want[96], *out;
	int i;

	for (i = 0; i < 3; i++) {
		socket_rec(c, &d[i], c->t0 + i);
		data_rec(c, d[i].conn_id, d[i].tgid, d[i].fd, TLSPCAP_DIR_SEND, 0, http_request,
			 REQ_LEN, c->t0 + 10 + i);
	}
	assert_int_equal(connection_table__stats(c->ct)->open_now, 3);
	close_rec(c, 999999, pid, 5, 10, 10, c->t0 + 20);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 3);
	assert_int_equal(connection_table__stats(c->ct)->bad_records, 0);
	exit_rec(c, pid, c->t0 + 30);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 1);
	/* Records after the exit of the other conn_ids still work. */
	data_rec(c, 6003, other, 5, TLSPCAP_DIR_RECV, 0, http_response, RESP_LEN, c->t0 + 40);
	finish(c);

	assert_int_equal(c->stats.connections, 3);
	assert_int_equal(stream_count(c), 3);
	assert_int_equal(tshark_count(c->path, "tcp.flags.fin==1"), 6);
	snprintf(want, sizeof(want), "tlspcap: process %d exited", pid);
	out = fields(c, "tcp.flags.fin==1 && frame.comment", "-e ip.dst -e frame.comment");
	assert_int_equal(count_substr(out, want), 2);
	assert_contains(out, "tlspcap: capture ended");
	free(out);
	out = fields(c, "tcp.flags.fin==1 && frame.comment contains \"exited\"", "-e ip.src -e ip.dst");
	assert_contains(out, "198.51.100.12\t192.0.2.15\n");
	assert_contains(out, "198.51.100.12\t192.0.2.16\n");
	free(out);
	tshark_assert_clean(c->path);
	for (i = 0; i < 3; i++) {
		long stream = i;
		struct follow_result r = {};

		assert_int_equal(tshark_follow(c->path, &stream, 1, &r), 0);
		assert_int_equal(r.len[0], REQ_LEN);
		follow_result__free(&r);
	}
}

/* The same fd number reused for another connection: another conn_id, another stream. */
static void test_fd_reuse(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	struct sock_desc d1 = {
		.conn_id = 7001, .tgid = pid, .fd = 4, .family = AF_INET, .laddr = "198.51.100.14",
		.lport = c->idle_port, .raddr = "192.0.2.18", .rport = 443,
	};
	struct sock_desc d2 = {
		.conn_id = 7002, .tgid = pid, .fd = 4, .family = AF_INET, .laddr = "198.51.100.14",
		.lport = (uint16_t)(c->idle_port + 1), .raddr = "192.0.2.19", .rport = 443,
	};
	uint8_t *a = test_pattern(500, 41), *b = test_pattern(600, 42);
	char *out, want[128];
	struct follow_result r[2] = {};
	long streams[2] = { 0, 1 };

	socket_rec(c, &d1, c->t0);
	data_rec(c, d1.conn_id, pid, 4, TLSPCAP_DIR_SEND, 0, a, 500, c->t0 + 1);
	/* d2 starts before d1's close record is read (fd closed, reused at once) */
	socket_rec(c, &d2, c->t0 + 2);
	data_rec(c, d2.conn_id, pid, 4, TLSPCAP_DIR_SEND, 0, b, 600, c->t0 + 3);
	close_rec(c, d1.conn_id, pid, 4, 500, 0, c->t0 + 4);
	data_rec(c, d2.conn_id, pid, 4, TLSPCAP_DIR_RECV, 0, a, 100, c->t0 + 5);
	close_rec(c, d2.conn_id, pid, 4, 600, 100, c->t0 + 6);
	finish(c);

	assert_int_equal(c->stats.connections, 2);
	assert_int_equal(stream_count(c), 2);
	out = fields(c, SYN_FILTER, "-e tcp.stream -e ip.dst -e tcp.srcport");
	snprintf(want, sizeof(want), "0\t192.0.2.18\t%u\n1\t192.0.2.19\t%u\n", c->idle_port,
		 (uint16_t)(c->idle_port + 1));
	assert_string_equal(out, want);
	free(out);
	assert_int_equal(tshark_follow(c->path, streams, 2, r), 0);
	assert_int_equal(r[0].len[0], 500);
	assert_memory_equal(r[0].data[0], a, 500);
	assert_int_equal(r[0].len[1], 0);
	assert_int_equal(r[1].len[0], 600);
	assert_memory_equal(r[1].data[0], b, 600);
	assert_int_equal(r[1].len[1], 100);
	assert_memory_equal(r[1].data[1], a, 100);
	follow_result__free(&r[0]);
	follow_result__free(&r[1]);
	tshark_assert_clean(c->path);
	free(a);
	free(b);
}

static void test_malformed(void **state)
{
	struct ctx *c = *state;
	size_t data_size = TLSPCAP_DATA_RECORD_HEADER_SIZE + 100;
	struct tlspcap_data_record *d = calloc(1, sizeof(*d));
	struct tlspcap_socket_record s;
	struct tlspcap_close_record cl;
	struct tlspcap_record h;
	uint64_t bad = 0;

	assert_non_null(d);
	/* NULL and too short for a header */
	feed(c, NULL, 0);
	bad++;
	feed(c, "\x01\x00\x00\x00", 4);
	bad++;
	/* unknown types */
	memset(&h, 0, sizeof(h));
	h.type = 0;
	feed(c, &h, sizeof(h));
	bad++;
	h.type = 99;
	feed(c, &h, sizeof(h));
	bad++;
	/* data: a header cut short */
	d->hdr.type = TLSPCAP_RECORD_DATA;
	d->hdr.conn_id = 8001;
	d->hdr.tgid = getpid();
	d->hdr.fd = -1;
	d->len = 100;
	d->data_len = 100;
	feed(c, d, TLSPCAP_DATA_RECORD_HEADER_SIZE - 1);
	bad++;
	/* data_len beyond the sample */
	feed(c, d, data_size - 1);
	bad++;
	d->data_len = 0xffffffffu;
	d->len = 0xffffffffu;
	feed(c, d, data_size);
	bad++;
	/* data_len > len */
	d->data_len = 100;
	d->len = 99;
	feed(c, d, data_size);
	bad++;
	/* a bad direction */
	d->len = 100;
	d->direction = 2;
	feed(c, d, data_size);
	bad++;
	/* longer than any call (fuzz_records: truncated frames for ever), past 2^64 */
	d->direction = TLSPCAP_DIR_SEND;
	d->len = 1ull << 40;
	feed(c, d, data_size);
	bad++;
	d->len = 100;
	d->offset = UINT64_MAX - 50;
	feed(c, d, data_size);
	bad++;
	d->offset = 0;
	/* socket and close records cut short */
	memset(&s, 0, sizeof(s));
	s.hdr.type = TLSPCAP_RECORD_SOCKET;
	s.hdr.conn_id = 8002;
	s.family = AF_INET;
	feed(c, &s, sizeof(s) - 1);
	bad++;
	memset(&cl, 0, sizeof(cl));
	cl.hdr.type = TLSPCAP_RECORD_CLOSE;
	cl.hdr.conn_id = 8001;
	feed(c, &cl, sizeof(cl) - 1);
	bad++;
	assert_int_equal(connection_table__stats(c->ct)->bad_records, bad);
	assert_int_equal(connection_table__stats(c->ct)->data_records, 0);
	/* After all that a good record still works. */
	d->direction = TLSPCAP_DIR_SEND;
	memset(d->data, 'z', 100);
	feed(c, d, data_size);
	assert_int_equal(connection_table__tick(c->ct, PEER_WAIT_NS + 1), 0);
	finish(c);
	free(d);

	assert_int_equal(c->stats.bad_records, bad);
	assert_int_equal(c->stats.data_records, 1);
	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(stream_count(c), 1);
	assert_int_equal(tshark_count(c->path, "tcp.len==100"), 1);
	tshark_assert_clean(c->path);
}

/* A dual-stack socket's IPv4-mapped addresses become an IPv4 stream; real IPv6 stays. */
static void test_v4_mapped(void **state)
{
	struct ctx *c = *state;
	pid_t pid = getpid();
	struct sock_desc mapped_local = {
		.conn_id = 9001, .tgid = pid, .fd = 5, .family = AF_INET6,
		.laddr = "::ffff:127.0.0.1", .lport = c->idle_port,
		.raddr = "::ffff:127.0.0.1", .rport = c->listen_port,
	};
	struct sock_desc mapped_remote = {
		.conn_id = 9002, .tgid = pid, .fd = 6, .family = AF_INET6,
		.laddr = "::ffff:198.51.100.20", .lport = c->idle_port,
		.raddr = "::ffff:192.0.2.40", .rport = 443,
	};
	struct sock_desc v6 = {
		.conn_id = 9003, .tgid = pid, .fd = 7, .family = AF_INET6,
		.laddr = "2001:db8::7", .lport = c->idle_port, .raddr = "2001:db8::8", .rport = 443,
	};
	char want[160], *out;

	socket_rec(c, &mapped_local, c->t0);
	data_rec(c, 9001, pid, 5, TLSPCAP_DIR_SEND, 0, "mapped-local", 12, c->t0 + 1);
	/* 127.0.0.1 is this host: waits for a peer view that never comes */
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	socket_rec(c, &mapped_remote, c->t0 + 2);
	data_rec(c, 9002, pid, 6, TLSPCAP_DIR_SEND, 0, "mapped-remote", 13, c->t0 + 3);
	/* 192.0.2.40 is not: opens at once */
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	socket_rec(c, &v6, c->t0 + 4);
	data_rec(c, 9003, pid, 7, TLSPCAP_DIR_SEND, 0, "v6", 2, c->t0 + 5);
	assert_int_equal(connection_table__stats(c->ct)->connections, 2);
	assert_int_equal(connection_table__tick(c->ct, c->t0 + 1 + PEER_WAIT_NS + 1), 0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 3);
	finish(c);

	out = fields(c, SYN_FILTER, "-e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e tcp.dstport");
	snprintf(want, sizeof(want), "198.51.100.20\t192.0.2.40\t\t\t80\n"
				     "\t\t2001:db8::7\t2001:db8::8\t80\n"
				     "127.0.0.1\t127.0.0.1\t\t\t%u\n", c->listen_port);
	assert_string_equal(out, want);
	free(out);
	out = comments_json(c, SYN_FILTER);
	snprintf(want, sizeof(want), "Local: 127.0.0.1:%u\\nRemote: 127.0.0.1:%u\\n", c->idle_port,
		 c->listen_port);
	assert_contains(out, want);
	snprintf(want, sizeof(want), "Local: 198.51.100.20:%u\\nRemote: 192.0.2.40:443\\n", c->idle_port);
	assert_contains(out, want);
	snprintf(want, sizeof(want), "Local: [2001:db8::7]:%u\\nRemote: [2001:db8::8]:443\\n", c->idle_port);
	assert_contains(out, want);
	assert_int_equal(count_substr(out, "::ffff"), 0);
	free(out);
	/* handshake 3 + data 1 + close 3 per stream */
	assert_int_equal(tshark_count(c->path, "ipv6 && tcp"), 7);
	assert_int_equal(tshark_count(c->path, "ip && tcp"), 14);
	tshark_assert_clean(c->path);
}

/*
 * Only one end mapped (fuzz_records found it): the stream keeps IPv6 for
 * both, instead of mixing families and failing to open at every close.
 */
static void test_half_mapped(void **state)
{
	struct ctx *c = *state;
	struct sock_desc d = {
		.conn_id = 9101, .tgid = getpid(), .fd = 5, .family = AF_INET6,
		.laddr = "::ffff:198.51.100.20", .lport = c->idle_port,
		.raddr = "2001:db8::8", .rport = 443,
	};
	char *out;

	socket_rec(c, &d, c->t0);
	data_rec(c, 9101, d.tgid, 5, TLSPCAP_DIR_SEND, 0, "half", 4, c->t0 + 1);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	finish(c);
	assert_int_equal(c->stats.open_now, 0);
	assert_int_equal(tshark_count(c->path, "ipv6 && tcp"), 7);
	out = fields(c, SYN_FILTER, "-e ipv6.src -e ipv6.dst");
	assert_string_equal(out, "::ffff:198.51.100.20\t2001:db8::8\n");
	free(out);
}

/*
 * A view whose process exits while it waits for its peer keeps the reason
 * for its FIN; closing the capture before its deadline writes it (the reason
 * was read after the view was freed: fuzz_records under ASan).
 */
static void test_ended_view_reason_at_close_all(void **state)
{
	struct ctx *c = *state;
	struct sock_desc d = {
		.conn_id = 9201, .tgid = getpid(), .fd = 5, .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->idle_port, .raddr = "127.0.0.1", .rport = c->listen_port,
	};
	char want[64], *out;

	socket_rec(c, &d, c->t0);
	data_rec(c, 9201, d.tgid, 5, TLSPCAP_DIR_SEND, 0, "bye", 3, c->t0 + 1);
	exit_rec(c, d.tgid, c->t0 + 2);
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	finish_at(c, c->t0 + 3);
	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(c->stats.open_now, 0);
	out = comments_json(c, "tcp.flags.fin==1");
	snprintf(want, sizeof(want), "tlspcap: process %d exited", d.tgid);
	assert_contains(out, want);
	free(out);
}

/* The client view waits, opens alone at its deadline; the server view joins that stream late. */
static void test_late_peer_joins(void **state)
{
	struct ctx *c = *state;
	pid_t a = getpid(), b = getppid();
	struct sock_desc cli = {
		.conn_id = 2101, .tgid = a, .fd = 5, .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->idle_port, .raddr = "127.0.0.1", .rport = c->listen_port,
	};
	struct sock_desc srv = {
		.conn_id = 2102, .tgid = b, .fd = 6, .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->listen_port, .raddr = "127.0.0.1", .rport = c->idle_port,
	};
	uint8_t *up = test_pattern(2000, 51), *down = test_pattern(3000, 52);
	uint64_t t = c->t0;
	char *out;

	socket_rec(c, &cli, t);
	data_rec(c, cli.conn_id, a, 5, TLSPCAP_DIR_SEND, 0, up, 1000, t + 1);
	assert_int_equal(connection_table__tick(c->ct, t + PEER_WAIT_NS + 1), 0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__stats(c->ct)->merged, 0);
	socket_rec(c, &srv, t + PEER_WAIT_NS + 2);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__stats(c->ct)->merged, 1);
	data_chunks(c, srv.conn_id, b, 6, TLSPCAP_DIR_RECV, up, 0, 2000, 800, t + PEER_WAIT_NS + 3);
	data_chunks(c, cli.conn_id, a, 5, TLSPCAP_DIR_SEND, up, 1000, 1000, 1000, t + PEER_WAIT_NS + 10);
	data_chunks(c, srv.conn_id, b, 6, TLSPCAP_DIR_SEND, down, 0, 3000, 3000, t + PEER_WAIT_NS + 20);
	data_chunks(c, cli.conn_id, a, 5, TLSPCAP_DIR_RECV, down, 0, 3000, 1024, t + PEER_WAIT_NS + 30);
	close_rec(c, cli.conn_id, a, 5, 2000, 3000, t + PEER_WAIT_NS + 40);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 1);
	close_rec(c, srv.conn_id, b, 6, 3000, 2000, t + PEER_WAIT_NS + 41);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 0);
	finish(c);

	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(c->stats.merged, 1);
	assert_int_equal(c->counters.duplicate_bytes, 5000);
	assert_int_equal(stream_count(c), 1);
	/* Only the view known at the SYN is described there. */
	out = comments_json(c, SYN_FILTER);
	assert_int_equal(count_substr(out, "\"PID: "), 1);
	assert_contains(out, "Role: client");
	free(out);
	assert_int_equal(tshark_count(c->path, "tcp.flags.fin==1"), 2);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, up, 2000, down, 3000);
	free(up);
	free(down);
}

/* A waiting connection opens before its deadline once it holds more than pending_limit. */
static void test_pending_limit(void **state)
{
	struct ctx *c = *state;
	pid_t a = getpid();
	struct sock_desc cli = {
		.conn_id = 2201, .tgid = a, .fd = 5, .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->idle_port, .raddr = "127.0.0.1", .rport = c->listen_port,
	};
	size_t chunk = TLSPCAP_CHUNK_MAX, n = PENDING_LIMIT / chunk, i;
	uint8_t *data = test_pattern(chunk, 61);

	socket_rec(c, &cli, c->t0);
	/* exactly the limit in plaintext (plus record headers): over it */
	for (i = 0; i < n; i++)
		data_rec(c, cli.conn_id, a, 5, TLSPCAP_DIR_SEND, i * chunk, data, chunk, c->t0 + 1 + i);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	data_rec(c, cli.conn_id, a, 5, TLSPCAP_DIR_SEND, n * chunk, data, 10, c->t0 + 1 + n);
	finish(c);
	free(data);

	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(c->counters.payload_bytes, n * chunk + 10);
	assert_int_equal(c->counters.lost_bytes, 0);
	assert_int_equal(stream_count(c), 1);
}

struct rotation_hook {
	struct ctx *c;
	int calls;
	int rotate_at;
};

/* What capture/main.c does when -C says the next file begins. */
static int rotate_in_hook(void *ctx)
{
	struct rotation_hook *h = ctx;
	int err;

	if (++h->calls != h->rotate_at)
		return 0;
	err = pcapng_writer__new_section(h->c->w);
	return err ?: connection_table__continue_all(h->c->ct);
}

/*
 * A waiting connection's queue is written record by record with the hook in
 * between: a rotation there lands mid-queue, the stream goes on in the new
 * section with its comment and no second SYN, the whole is one clean stream.
 */
static void test_rotation_between_queued_records(void **state)
{
	struct ctx *c = *state;
	pid_t a = getpid();
	struct sock_desc cli = {
		.conn_id = 2251, .tgid = a, .fd = 5, .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->idle_port, .raddr = "127.0.0.1", .rport = c->listen_port,
	};
	struct rotation_hook hook = { .c = c, .rotate_at = 100 };
	struct connection_table_config cfg = {
		.streams = c->streams,
		.processes = c->processes,
		.netinfo = c->netinfo,
		.clock = &c->clock,
		.library_label = library_label,
		.between_records = rotate_in_hook,
		.between_ctx = &hook,
		.peer_wait_ns = PEER_WAIT_NS,
		.pending_limit = PENDING_LIMIT,
	};
	size_t chunk = TLSPCAP_CHUNK_MAX, n = PENDING_LIMIT / chunk, i;
	uint8_t *data = test_pattern(chunk, 62);
	char *out;

	connection_table__free(c->ct);
	c->ct = connection_table__new(&cfg);
	assert_non_null(c->ct);
	socket_rec(c, &cli, c->t0);
	for (i = 0; i <= n; i++)
		data_rec(c, cli.conn_id, a, 5, TLSPCAP_DIR_SEND, i * chunk, data, chunk, c->t0 + 1 + i);
	assert_true(hook.calls >= hook.rotate_at); /* one per record out of the queue */
	finish(c);
	free(data);

	assert_int_equal(c->counters.payload_bytes, (n + 1) * chunk);
	assert_int_equal(stream_count(c), 1);
	assert_int_equal(tshark_count(c->path, "tcp.flags.syn==1"), 2);
	out = fields(c, "frame.comment contains \"continues from the previous file\"",
		     "-e tcp.flags.syn -e tcp.len");
	assert_string_equal(out, "0\t16384\n");
	free(out);
	out = comments_json(c, "frame.comment contains \"continues from the previous file\"");
	assert_int_equal(count_substr(out, "\"PID: "), 1); /* the view's comment, as on the SYN */
	free(out);
	tshark_assert_clean(c->path);
}

/*
 * Both views of a local connection still waiting when the capture ends (the
 * server spoke first, the client never did): still ONE stream with both
 * comments, not two copies of the connection.
 */
static void both_views_waiting_end(struct ctx *c, int by_exit)
{
	pid_t a = getpid(), b = getppid();
	struct sock_desc cli = {
		.conn_id = 2301, .tgid = a, .fd = 5, .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->idle_port, .raddr = "127.0.0.1", .rport = c->listen_port,
	};
	struct sock_desc srv = {
		.conn_id = 2302, .tgid = b, .fd = 6, .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->listen_port, .raddr = "127.0.0.1", .rport = c->idle_port,
	};
	static const char banner[] = "220 smtp.example.com ESMTP ready\r\n";
	size_t len = sizeof(banner) - 1;
	char *out;

	socket_rec(c, &cli, c->t0);
	socket_rec(c, &srv, c->t0 + 1);
	data_rec(c, srv.conn_id, b, 6, TLSPCAP_DIR_SEND, 0, banner, len, c->t0 + 2);
	data_rec(c, cli.conn_id, a, 5, TLSPCAP_DIR_RECV, 0, banner, len, c->t0 + 3);
	/* no client bytes yet: nothing can open before the deadline */
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	if (by_exit) {
		/* the server process exits within the wait */
		exit_rec(c, b, c->t0 + 4);
		assert_int_equal(connection_table__stats(c->ct)->open_now, 1);
		data_rec(c, cli.conn_id, a, 5, TLSPCAP_DIR_SEND, 0, "QUIT\r\n", 6, c->t0 + 5);
		close_rec(c, cli.conn_id, a, 5, 6, len, c->t0 + 6);
	}
	finish_at(c, c->t0 + 10 * MS);

	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(c->stats.merged, 1);
	assert_int_equal(stream_count(c), 1);
	out = comments_json(c, SYN_FILTER);
	assert_int_equal(count_substr(out, "\"PID: "), 2);
	free(out);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, "QUIT\r\n", by_exit ? 6 : 0, banner, len);
}

static void test_both_views_waiting_at_close_all(void **state)
{
	both_views_waiting_end(*state, 0);
}

static void test_both_views_waiting_at_exit(void **state)
{
	both_views_waiting_end(*state, 1);
}

/* A tick whose clock reading is older than a record has not waited at all. */
static void test_tick_before_first_record(void **state)
{
	struct ctx *c = *state;
	pid_t a = getpid();
	struct sock_desc cli = {
		.conn_id = 2401, .tgid = a, .fd = 5, .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->idle_port, .raddr = "127.0.0.1", .rport = c->listen_port,
	};

	socket_rec(c, &cli, c->t0 + 100);
	data_rec(c, cli.conn_id, a, 5, TLSPCAP_DIR_SEND, 0, "x", 1, c->t0 + 101);
	assert_int_equal(connection_table__tick(c->ct, c->t0 + 50), 0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	assert_int_equal(connection_table__tick(c->ct, c->t0 + 100 + PEER_WAIT_NS), 0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	finish(c);
	assert_int_equal(stream_count(c), 1);
}

/*
 * A TLS session over a socket that is not TCP/IP (AF_UNIX, or a family the
 * probe failed to read: 0) must not be an error: the stage's errors stop
 * the whole capture.  Its bytes still end up in a stream.
 */
static void test_non_ip_socket(void **state)
{
	struct ctx *c = *state;
	pid_t a = getpid();
	static const uint16_t families[] = { AF_UNIX, 0 };
	struct tlspcap_socket_record r;
	size_t i;

	for (i = 0; i < 2; i++) {
		memset(&r, 0, sizeof(r));
		r.hdr.type = TLSPCAP_RECORD_SOCKET;
		r.hdr.tgid = a;
		r.hdr.tid = a;
		r.hdr.fd = 3 + i;
		r.hdr.conn_id = 2501 + i;
		r.hdr.timestamp_ns = c->t0 + i;
		r.family = families[i];
		snprintf(r.comm, sizeof(r.comm), "unixclient");
		feed(c, &r, sizeof(r));
		data_rec(c, r.hdr.conn_id, a, r.hdr.fd, TLSPCAP_DIR_SEND, 0, "hello", 5, c->t0 + 10 + i);
	}
	assert_int_equal(connection_table__tick(c->ct, c->t0 + 11 + PEER_WAIT_NS), 0);
	close_rec(c, 2501, a, 3, 5, 0, c->t0 + 12 + PEER_WAIT_NS);
	finish(c);

	assert_int_equal(c->stats.connections, 2);
	assert_int_equal(stream_count(c), 2);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, "hello", 5, "", 0);
	tshark_assert_follow(c->path, 1, "hello", 5, "", 0);
}

/* ---- one tshark pass, judged in C -------------------------------------- */

/*
 * Every frame's stream, flags, ports, relative seq, payload, highest expert
 * severity and comment from ONE tshark run (checksums verified): the
 * checks below cost one tshark start per test.
 */
struct frame_row {
	long stream;
	int syn, ack, fin;
	unsigned int sport, dport;
	uint64_t seq;
	size_t len;
	long severity;        /* highest expert severity of the frame, 0 if none */
	const char *payload;  /* hex */
	const char *comment;  /* comments joined by ",", newlines as "\n" */
};

struct judged {
	char *out;
	struct frame_row *rows;
	size_t nr;
};

#define EXPERT_WARN 0x00600000L

static void judge(const struct ctx *c, struct judged *j)
{
	char *line, *save = NULL;

	memset(j, 0, sizeof(*j));
	j->out = tshark_run(NULL, "tshark -r '%s' " TSHARK_CHECK_CSUM " -T fields -e tcp.stream "
			    "-e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin -e tcp.srcport "
			    "-e tcp.dstport -e tcp.seq -e tcp.len -e _ws.expert.severity "
			    "-e tcp.payload -e frame.comment 2>/dev/null", c->path);
	assert_non_null(j->out);
	for (line = strtok_r(j->out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct frame_row *r;
		char *f[11], *p = line, *sev;
		size_t i;

		for (i = 0; i < 11; i++) {
			f[i] = strsep(&p, "\t");
			if (!f[i])
				fail_msg("short tshark row: %s", line);
		}
		j->rows = realloc(j->rows, (j->nr + 1) * sizeof(*j->rows));
		assert_non_null(j->rows);
		r = &j->rows[j->nr++];
		r->stream = strtol(f[0], NULL, 10);
		r->syn = atoi(f[1]);
		r->ack = atoi(f[2]);
		r->fin = atoi(f[3]);
		r->sport = strtoul(f[4], NULL, 10);
		r->dport = strtoul(f[5], NULL, 10);
		r->seq = strtoull(f[6], NULL, 10);
		r->len = strtoul(f[7], NULL, 10);
		r->severity = 0;
		for (sev = strtok(f[8], ","); sev; sev = strtok(NULL, ","))
			if (strtol(sev, NULL, 10) > r->severity)
				r->severity = strtol(sev, NULL, 10);
		r->payload = f[9];
		r->comment = f[10];
	}
	assert_true(j->nr > 0);
}

static void judged_free(struct judged *j)
{
	free(j->rows);
	free(j->out);
}

static long judged_streams(const struct judged *j)
{
	long max = -1;
	size_t i;

	for (i = 0; i < j->nr; i++)
		if (j->rows[i].stream > max)
			max = j->rows[i].stream;
	/* tshark numbers streams 0, 1, ... in order of appearance */
	return max + 1;
}

static const struct frame_row no_row = { .stream = -1, .payload = "", .comment = "" };

/* The SYN (not the SYN-ACK) of @stream; fails unless there is exactly one. */
static const struct frame_row *judged_syn(const struct judged *j, long stream)
{
	const struct frame_row *syn = NULL;
	size_t i;

	for (i = 0; i < j->nr; i++) {
		const struct frame_row *r = &j->rows[i];

		if (r->stream == stream && r->syn && !r->ack) {
			if (syn)
				fail_msg("stream %ld has two SYNs", stream);
			syn = r;
		}
	}
	if (!syn)
		fail_msg("stream %ld has no SYN", stream);
	return syn ? syn : &no_row; /* not reached: fail_msg does not return */
}

/* FIN frames of @stream sent by the SYN's sender (@from_client) or the other end. */
static int judged_fins(const struct judged *j, long stream, int from_client)
{
	unsigned int client_port = judged_syn(j, stream)->sport;
	int n = 0;
	size_t i;

	for (i = 0; i < j->nr; i++) {
		const struct frame_row *r = &j->rows[i];

		n += r->stream == stream && r->fin && (r->sport == client_port) == !!from_client;
	}
	return n;
}

static void judged_assert_no_warnings(const struct judged *j)
{
	size_t i;

	for (i = 0; i < j->nr; i++)
		if (j->rows[i].severity >= EXPERT_WARN)
			fail_msg("frame %zu (stream %ld, seq %" PRIu64 ", len %zu) has expert severity 0x%lx",
				 i + 1, j->rows[i].stream, j->rows[i].seq, j->rows[i].len,
				 (unsigned long)j->rows[i].severity);
}

/*
 * The payload of @stream from the client (@from_client) or the server is
 * exactly @data: every byte in exactly one frame, at its sequence number.
 */
static void judged_assert_bytes(const struct judged *j, long stream, int from_client,
				const void *data, size_t len)
{
	unsigned int client_port = judged_syn(j, stream)->sport;
	uint8_t *seen = calloc(1, len + 1);
	size_t i, k, total = 0;

	assert_non_null(seen);
	for (i = 0; i < j->nr; i++) {
		const struct frame_row *r = &j->rows[i];

		if (r->stream != stream || !r->len || (r->sport == client_port) != !!from_client)
			continue;
		assert_int_equal(strlen(r->payload), 2 * r->len);
		if (r->seq < 1 || r->seq - 1 + r->len > len)
			fail_msg("stream %ld: %zu bytes at seq %" PRIu64 " outside 1..%zu", stream,
				 r->len, r->seq, len);
		for (k = 0; k < r->len; k++) {
			size_t at = r->seq - 1 + k;
			int byte = hexval(r->payload[2 * k]) << 4 | hexval(r->payload[2 * k + 1]);

			if (seen[at]++)
				fail_msg("stream %ld: byte %zu sent twice", stream, at);
			if (byte != ((const uint8_t *)data)[at])
				fail_msg("stream %ld: byte %zu is 0x%02x, not 0x%02x", stream, at, byte,
					 ((const uint8_t *)data)[at]);
		}
		total += r->len;
	}
	free(seen);
	assert_int_equal(total, len);
}

/* The HTTP request and response once each, and one FIN from each side. */
static void judged_assert_exchange(const struct judged *j, long stream)
{
	judged_assert_bytes(j, stream, 1, http_request, REQ_LEN);
	judged_assert_bytes(j, stream, 0, http_response, RESP_LEN);
	assert_int_equal(judged_fins(j, stream, 1), 1);
	assert_int_equal(judged_fins(j, stream, 0), 1);
}

/* The SYN's comments: @n of them, each beginning "PID: ", the first of @first_pid. */
static void judged_assert_syn_comments(const struct judged *j, long stream, size_t n,
				       pid_t first_pid, pid_t second_pid)
{
	const char *comment = judged_syn(j, stream)->comment;
	char want[64];

	snprintf(want, sizeof(want), "PID: %d\\nCmd: ", first_pid);
	if (strncmp(comment, want, strlen(want)))
		fail_msg("stream %ld: SYN comment does not begin '%s': %s", stream, want, comment);
	assert_int_equal(count_substr(comment, "PID: "), n);
	assert_int_equal(count_substr(comment, ",PID: "), n - 1);
	if (n > 1) {
		snprintf(want, sizeof(want), ",PID: %d\\nCmd: ", second_pid);
		assert_contains(comment, want);
	}
}

/* ---- a view that ends while it waits for its peer ---------------------- */

struct local_pair {
	pid_t a, b;                 /* a: the client's process, b: the server's */
	struct sock_desc cli, srv;
};

static void local_pair(struct ctx *c, struct local_pair *p, uint64_t base_id)
{
	p->a = getpid();
	p->b = getppid();
	p->cli = (struct sock_desc){
		.conn_id = base_id, .tgid = p->a, .fd = 5, .comm = "client", .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->idle_port, .raddr = "127.0.0.1", .rport = c->listen_port,
	};
	p->srv = (struct sock_desc){
		.conn_id = base_id + 1, .tgid = p->b, .fd = 11, .comm = "server", .family = AF_INET,
		.laddr = "127.0.0.1", .lport = c->listen_port, .raddr = "127.0.0.1", .rport = c->idle_port,
	};
}

/* The server view's whole life: request in, response out, close. */
static void server_view_whole(struct ctx *c, const struct local_pair *p, uint64_t t)
{
	socket_rec(c, &p->srv, t);
	data_rec(c, p->srv.conn_id, p->b, 11, TLSPCAP_DIR_RECV, 0, http_request, REQ_LEN, t + 1 * MS);
	data_chunks(c, p->srv.conn_id, p->b, 11, TLSPCAP_DIR_SEND, (const uint8_t *)http_response, 0,
		    RESP_LEN, 40, t + 2 * MS);
	close_rec(c, p->srv.conn_id, p->b, 11, RESP_LEN, REQ_LEN, t + 3 * MS);
}

/* The client view's whole life: request out, response in, close. */
static void client_view_whole(struct ctx *c, const struct local_pair *p, uint64_t t)
{
	socket_rec(c, &p->cli, t);
	data_chunks(c, p->cli.conn_id, p->a, 5, TLSPCAP_DIR_SEND, (const uint8_t *)http_request, 0,
		    REQ_LEN, 50, t + 1 * MS);
	data_rec(c, p->cli.conn_id, p->a, 5, TLSPCAP_DIR_RECV, 0, http_response, RESP_LEN, t + 2 * MS);
	close_rec(c, p->cli.conn_id, p->a, 5, REQ_LEN, RESP_LEN, t + 3 * MS);
}

/*
 * The server view is read whole, close included, before the client view's
 * first record (its thread was preempted); the client view still comes
 * within the wait: one stream, both comments, every byte once.
 */
static void test_late_peer_after_close(void **state)
{
	struct ctx *c = *state;
	struct local_pair p;
	struct judged j;

	local_pair(c, &p, 2601);
	server_view_whole(c, &p, c->t0);
	/* closed, but still waiting for its peer: nothing written yet */
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 0);
	assert_int_equal(connection_table__tick(c->ct, c->t0 + PEER_WAIT_NS - 1), 0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	/* The client view's socket: the peer is known, the request is seen: open. */
	socket_rec(c, &p.cli, c->t0 + 10 * MS);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__stats(c->ct)->merged, 1);
	/* the ended server view left the stream; the client view holds it open */
	assert_int_equal(connection_table__stats(c->ct)->open_now, 1);
	data_chunks(c, p.cli.conn_id, p.a, 5, TLSPCAP_DIR_SEND, (const uint8_t *)http_request, 0,
		    REQ_LEN, 50, c->t0 + 11 * MS);
	data_rec(c, p.cli.conn_id, p.a, 5, TLSPCAP_DIR_RECV, 0, http_response, RESP_LEN, c->t0 + 12 * MS);
	close_rec(c, p.cli.conn_id, p.a, 5, REQ_LEN, RESP_LEN, c->t0 + 13 * MS);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 0);
	/* the deadline passing later changes nothing */
	assert_int_equal(connection_table__tick(c->ct, c->t0 + 2 * PEER_WAIT_NS), 0);
	finish(c);

	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(c->stats.merged, 1);
	assert_int_equal(c->counters.streams, 1);
	assert_int_equal(c->counters.payload_bytes, REQ_LEN + RESP_LEN);
	assert_int_equal(c->counters.duplicate_bytes, REQ_LEN + RESP_LEN);
	assert_int_equal(c->counters.lost_bytes, 0);

	judge(c, &j);
	assert_int_equal(judged_streams(&j), 1);
	judged_assert_syn_comments(&j, 0, 2, p.a, p.b);
	assert_int_equal(judged_syn(&j, 0)->sport, c->idle_port);
	assert_int_equal(judged_syn(&j, 0)->dport, c->listen_port);
	judged_assert_exchange(&j, 0);
	judged_assert_no_warnings(&j);
	judged_free(&j);
}

/*
 * As above, but the client view comes after the server view's deadline: the
 * server view's stream was written and closed alone, so the client view
 * cannot join it.  It becomes a second stream of its own (one comment, the
 * real addresses in it, a bumped synthetic client port so the 4-tuple is
 * unique in the file) holding every byte it saw: nothing is lost, the
 * connection is shown twice.
 */
static void test_late_peer_after_deadline(void **state)
{
	struct ctx *c = *state;
	uint64_t late = c->t0 + PEER_WAIT_NS + 1;
	struct local_pair p;
	struct judged j;
	char want[96];

	local_pair(c, &p, 2701);
	server_view_whole(c, &p, c->t0);
	assert_int_equal(connection_table__tick(c->ct, c->t0 + PEER_WAIT_NS), 0);
	/* the server view opened alone and, having closed, ended at once */
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__stats(c->ct)->merged, 0);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 0);
	client_view_whole(c, &p, late);
	/* a view of a local connection without its peer waits again */
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__tick(c->ct, late + PEER_WAIT_NS - 1), 0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__tick(c->ct, late + PEER_WAIT_NS), 0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 2);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 0);
	finish(c);

	assert_int_equal(c->stats.connections, 2);
	assert_int_equal(c->stats.merged, 0);
	assert_int_equal(c->counters.streams, 2);
	assert_int_equal(c->counters.payload_bytes, 2 * (REQ_LEN + RESP_LEN));
	assert_int_equal(c->counters.duplicate_bytes, 0);
	assert_int_equal(c->counters.lost_bytes, 0);

	judge(c, &j);
	assert_int_equal(judged_streams(&j), 2);
	/* stream 0: the server view, on the real 4-tuple */
	judged_assert_syn_comments(&j, 0, 1, p.b, 0);
	assert_contains(judged_syn(&j, 0)->comment, "Role: server");
	assert_int_equal(judged_syn(&j, 0)->sport, c->idle_port);
	assert_int_equal(judged_syn(&j, 0)->dport, c->listen_port);
	/* stream 1: the client view, on the same 4-tuple, which the closed server view gave
	 * back: a SYN with an ISN of its own makes it a stream of its own, without a warning */
	judged_assert_syn_comments(&j, 1, 1, p.a, 0);
	assert_contains(judged_syn(&j, 1)->comment, "Role: client");
	snprintf(want, sizeof(want), "Local: 127.0.0.1:%u\\nRemote: 127.0.0.1:%u", c->idle_port,
		 c->listen_port);
	assert_contains(judged_syn(&j, 1)->comment, want);
	assert_int_equal(judged_syn(&j, 1)->dport, c->listen_port);
	assert_int_equal(judged_syn(&j, 1)->sport, c->idle_port);
	for (long s = 0; s < 2; s++) {
		judged_assert_bytes(&j, s, 1, http_request, REQ_LEN);
		judged_assert_bytes(&j, s, 0, http_response, RESP_LEN);
		assert_int_equal(judged_fins(&j, s, 1), 1);
		assert_int_equal(judged_fins(&j, s, 0), 1);
	}
	judged_assert_no_warnings(&j);
	judged_free(&j);
}

/*
 * A view closes while it waits for its peer, then its process exits (exit
 * record) before the deadline: the exit must neither end it a second time
 * nor lose it.  The stream is written once, at the deadline, with its FINs.
 */
static void test_ended_view_then_exit(void **state)
{
	struct ctx *c = *state;
	struct local_pair p;
	struct judged j;

	local_pair(c, &p, 2801);
	client_view_whole(c, &p, c->t0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	exit_rec(c, p.a, c->t0 + 4 * MS);
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 0);
	/* a close record repeated after the exit is ignored too */
	close_rec(c, p.cli.conn_id, p.a, 5, REQ_LEN, RESP_LEN, c->t0 + 5 * MS);
	exit_rec(c, p.a, c->t0 + 6 * MS);
	assert_int_equal(connection_table__tick(c->ct, c->t0 + PEER_WAIT_NS - 1), 0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	assert_int_equal(connection_table__tick(c->ct, c->t0 + PEER_WAIT_NS), 0);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 0);
	assert_int_equal(connection_table__tick(c->ct, c->t0 + 3 * PEER_WAIT_NS), 0);
	exit_rec(c, p.a, c->t0 + 3 * PEER_WAIT_NS);
	finish(c);

	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(c->stats.merged, 0);
	assert_int_equal(c->stats.open_now, 0);
	assert_int_equal(c->counters.streams, 1);
	assert_int_equal(c->counters.payload_bytes, REQ_LEN + RESP_LEN);
	assert_int_equal(c->counters.lost_bytes, 0);

	judge(c, &j);
	assert_int_equal(judged_streams(&j), 1);
	judged_assert_syn_comments(&j, 0, 1, p.a, 0);
	judged_assert_exchange(&j, 0);
	judged_assert_no_warnings(&j);
	judged_free(&j);
}

/*
 * The same with the peer: the server view closes and its process exits
 * within the wait, then the client view comes: they still merge.
 * (Judged by the counters only: one more tshark run is not worth it here.)
 */
static void test_ended_view_exit_then_peer(void **state)
{
	struct ctx *c = *state;
	struct local_pair p;

	local_pair(c, &p, 2901);
	server_view_whole(c, &p, c->t0);
	exit_rec(c, p.b, c->t0 + 4 * MS);
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	client_view_whole(c, &p, c->t0 + 10 * MS);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__stats(c->ct)->merged, 1);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 0);
	assert_int_equal(connection_table__tick(c->ct, c->t0 + 3 * PEER_WAIT_NS), 0);
	finish(c);

	assert_int_equal(c->stats.connections, 1);
	assert_int_equal(c->stats.merged, 1);
	assert_int_equal(c->counters.streams, 1);
	/* handshake 3 + close 3 + the server's 40-byte response chunks; the client's are duplicates */
	assert_int_equal(c->counters.packets, 6 + 1 + (RESP_LEN + 39) / 40);
	assert_int_equal(c->counters.payload_bytes, REQ_LEN + RESP_LEN);
	assert_int_equal(c->counters.duplicate_bytes, REQ_LEN + RESP_LEN);
	assert_int_equal(c->counters.lost_bytes, 0);
}

/*
 * The server speaks first (a banner) and its view closes while it waits;
 * the client view joins, reads the banner and closes without sending a
 * byte (or its process exits), within the wait.  Both views have ended:
 * the stream must be closed then, not left open until the capture ends
 * (and then closed with the server view's older end time).
 */
static void peer_ends_after_ended_view(struct ctx *c, int by_exit)
{
	static const char banner[] = "220 smtp.example.com ESMTP ready\r\n";
	size_t len = sizeof(banner) - 1;
	struct local_pair p;

	local_pair(c, &p, 3101);
	socket_rec(c, &p.srv, c->t0);
	data_rec(c, p.srv.conn_id, p.b, 11, TLSPCAP_DIR_SEND, 0, banner, len, c->t0 + 1);
	close_rec(c, p.srv.conn_id, p.b, 11, len, 0, c->t0 + 2);
	socket_rec(c, &p.cli, c->t0 + 3);
	data_rec(c, p.cli.conn_id, p.a, 5, TLSPCAP_DIR_RECV, 0, banner, len, c->t0 + 4);
	assert_int_equal(connection_table__stats(c->ct)->connections, 0);
	if (by_exit)
		exit_rec(c, p.a, c->t0 + 5);
	else
		close_rec(c, p.cli.conn_id, p.a, 5, 0, len, c->t0 + 5);
	assert_int_equal(connection_table__stats(c->ct)->connections, 1);
	assert_int_equal(connection_table__stats(c->ct)->merged, 1);
	assert_int_equal(connection_table__stats(c->ct)->open_now, 0);
	finish(c);
	assert_int_equal(c->counters.streams, 1);
}

static void test_peer_closes_after_ended_view(void **state)
{
	peer_ends_after_ended_view(*state, 0);
}

static void test_peer_exits_after_ended_view(void **state)
{
	peer_ends_after_ended_view(*state, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client_remote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_from_accept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_views_client_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_views_server_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_and_trailing_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snaplen_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unattributed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http2_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_and_unknown_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v4_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ended_view_reason_at_close_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_peer_joins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_between_queued_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_views_waiting_at_close_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_views_waiting_at_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tick_before_first_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_ip_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_peer_after_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_peer_after_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ended_view_then_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ended_view_exit_then_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_closes_after_ended_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_exits_after_ended_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_real_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_not_synthetic_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_both_views, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_rejects_late_view, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
