// SPDX-License-Identifier: MIT
/*
 * tls_load: TLS load generator and capture checker for the tlspcap benchmark.
 *
 *   tls_load rr   [-c CONNS] [-d SECONDS | -n ROUNDTRIPS] [-M MANIFEST] [-S SEED]
 *   tls_load bulk [-c CONNS] [-m MB] [-M MANIFEST] [-S SEED]
 *   tls_load hold [-c CONNS] [-t SECONDS] [-M MANIFEST] [-S SEED]
 *   tls_load verify [-l] -M MANIFEST CAPTURE.pcapng
 *
 * rr/bulk/hold fork a server process; the parent is the client.  Both ends
 * are separate processes using OpenSSL (SSL_write/SSL_read) over 127.0.0.1,
 * so a system-wide capture sees each connection from both ends.
 *
 *   rr    each connection (one thread per side) does round trips: a 100-byte
 *         request, a 1000-byte response; prints round trips per second.
 *   bulk  each connection sends MB/CONNS MiB client -> server in 16 KiB
 *         SSL_write calls; the server answers a short ack; prints MB/s.
 *   hold  opens CONNS connections one after the other, one round trip each,
 *         prints "tls_load: hold: N open", holds them SECONDS, closes them
 *         and prints "tls_load: hold: closed".
 *
 * Payloads are deterministic: direction d of connection c is a byte stream
 * whose first 32 bytes are an ASCII header naming (seed, c, d) and whose
 * byte at offset o >= 32 is T[(start(c, d) + o) mod P], T a table of P
 * (prime) bytes from a seeded PRNG.  -M writes a manifest (seed, the
 * server's port, and per connection the bytes per direction and the
 * client's port) that `verify` checks a pcapng against: it reassembles
 * every TCP stream by sequence number, finds its (c, d) by its ports (a
 * direction whose first bytes were lost has no header to name it), and
 * compares every byte.  Streams of other ports are counted as foreign.
 * Each direction must end (last byte or FIN) at the bytes sent; -l allows
 * holes in the sequence numbers (loss a capture declared), without it none.
 *
 * Output lines start with "tls_load:" and are key=value for scripts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pcap/pcap.h>

#define TABLE_P 1048573u /* prime: a chunk put at a wrong offset never matches */
#define HEADER_LEN 32
#define REQ_LEN 100
#define RESP_LEN 1000
#define BULK_CHUNK 16384
#define ACK_LEN 64

enum mode { MODE_RR, MODE_BULK, MODE_HOLD };

static struct config {
	enum mode mode;
	unsigned int conns;
	double seconds;          /* rr: run time; hold: hold time */
	uint64_t round_trips;    /* rr: per connection, 0 = by time */
	uint64_t bulk_bytes;     /* per connection */
	uint32_t seed;
	const char *manifest;
} cfg = { .conns = 2, .seconds = 5, .seed = 1 };

static uint8_t *table; /* 2 * TABLE_P bytes: any window up to P is contiguous */

/* ---------------------------------------------------------------- payload */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void table_init(uint32_t seed)
{
	uint64_t st = seed * 0x100000001b3ull + 7;
	size_t i;

	table = malloc(2 * (size_t)TABLE_P + 8);
	if (!table) {
		perror("malloc");
		exit(1);
	}
	for (i = 0; i < TABLE_P; i += 8) {
		uint64_t v = splitmix64(&st);

		memcpy(table + i, &v, 8);
	}
	memcpy(table + TABLE_P, table, TABLE_P);
}

static uint32_t stream_start(uint32_t seed, uint32_t conn, int dir)
{
	uint64_t st = ((uint64_t)seed << 32) ^ ((uint64_t)conn << 1) ^ (uint64_t)dir;

	return (uint32_t)(splitmix64(&st) % TABLE_P);
}

static void stream_header(uint32_t seed, uint32_t conn, int dir, char out[HEADER_LEN])
{
	char tmp[HEADER_LEN + 1];

	/* "TLSLOAD s=xxxxxxxx c=nnnnnn d=n\n" is exactly 32 bytes */
	snprintf(tmp, sizeof(tmp), "TLSLOAD s=%08x c=%06u d=%1u\n", seed, conn % 1000000u, dir & 1);
	memcpy(out, tmp, HEADER_LEN);
}

/* Bytes [off, off+len) of direction @dir of connection @conn. */
static void stream_fill(uint32_t conn, int dir, uint64_t off, uint8_t *buf, size_t len)
{
	uint32_t start = stream_start(cfg.seed, conn, dir);

	if (off < HEADER_LEN) {
		char hdr[HEADER_LEN];
		size_t n = HEADER_LEN - off < len ? HEADER_LEN - off : len;

		stream_header(cfg.seed, conn, dir, hdr);
		memcpy(buf, hdr + off, n);
		buf += n;
		off += n;
		len -= n;
	}
	while (len) {
		size_t pos = (start + off) % TABLE_P;
		size_t n = len < TABLE_P ? len : TABLE_P;

		memcpy(buf, table + pos, n);
		buf += n;
		off += n;
		len -= n;
	}
}

/* ---------------------------------------------------------------- time, TLS */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die_ssl(const char *what)
{
	fprintf(stderr, "tls_load: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static SSL_CTX *server_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;

	if (!ctx || !key || !x)
		die_ssl("server context");
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"tls_load", -1,
				   -1, 0);
	X509_set_issuer_name(x, name);
	if (!X509_sign(x, key, EVP_sha256()))
		die_ssl("X509_sign");
	if (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1)
		die_ssl("server certificate");
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

static SSL_CTX *client_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		die_ssl("client context");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

static int write_all(SSL *ssl, const uint8_t *buf, size_t len)
{
	while (len) {
		int n = SSL_write(ssl, buf, (int)len);

		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* 1 on success, 0 on clean EOF before the first byte, -1 on error. */
static int read_all(SSL *ssl, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		int n = SSL_read(ssl, buf + got, (int)(len - got));

		if (n <= 0)
			return got || SSL_get_error(ssl, n) != SSL_ERROR_ZERO_RETURN ? -1 : 0;
		got += n;
	}
	return 1;
}

/* Bytes per direction and the client's port per connection, for the manifest. */
static uint64_t (*sent_bytes)[2];
static uint16_t *client_ports;
static struct sockaddr_in server_addr;

static void write_manifest(void)
{
	FILE *f;
	unsigned int i;

	if (!cfg.manifest)
		return;
	f = fopen(cfg.manifest, "w");
	if (!f) {
		perror(cfg.manifest);
		exit(1);
	}
	fprintf(f, "tls_load-manifest 2 seed=%u conns=%u server_port=%u\n", cfg.seed, cfg.conns,
		ntohs(server_addr.sin_port));
	for (i = 0; i < cfg.conns; i++)
		fprintf(f, "%u %" PRIu64 " %" PRIu64 " %u\n", i, sent_bytes[i][0], sent_bytes[i][1],
			client_ports[i]);
	fclose(f);
}

/* ---------------------------------------------------------------- server */

struct server_conn {
	SSL_CTX *ctx;
	int fd;
	pthread_t thread;
};

/* The connection index is in the client's header: the first bytes it sends. */
static int parse_conn(const uint8_t *hdr)
{
	unsigned int seed, conn, dir;

	if (sscanf((const char *)hdr, "TLSLOAD s=%8x c=%6u d=%1u", &seed, &conn, &dir) != 3 ||
	    dir != 0)
		return -1;
	return (int)conn;
}

static SSL *server_accept(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		if (ssl)
			SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/* rr and hold: 100 bytes in, 1000 bytes out, until EOF (rr) or once (hold). */
static int serve_round_trips(SSL *ssl, uint64_t max, int *conn_out)
{
	uint8_t req[REQ_LEN], resp[RESP_LEN];
	uint64_t k;
	int conn = -1, r;

	for (k = 0; !max || k < max; k++) {
		r = read_all(ssl, req, REQ_LEN);
		if (r <= 0)
			return r;
		if (k == 0 && (conn = parse_conn(req)) < 0) {
			fprintf(stderr, "tls_load: server: bad header\n");
			return -1;
		}
		stream_fill(conn, 1, k * RESP_LEN, resp, RESP_LEN);
		if (write_all(ssl, resp, RESP_LEN))
			return -1;
	}
	if (conn_out)
		*conn_out = conn;
	return 1;
}

static void *server_thread(void *arg)
{
	struct server_conn *sc = arg;
	SSL *ssl = server_accept(sc->ctx, sc->fd);
	static __thread uint8_t sink[BULK_CHUNK]; /* per thread: tlspcap reads it at return */
	uint8_t ack[ACK_LEN];
	int conn;

	if (!ssl)
		goto out;
	if (cfg.mode == MODE_RR) {
		if (serve_round_trips(ssl, 0, NULL) < 0)
			fprintf(stderr, "tls_load: server: round trip failed\n");
	} else {
		uint8_t hdr[HEADER_LEN];
		uint64_t got = HEADER_LEN;

		if (read_all(ssl, hdr, HEADER_LEN) != 1 || (conn = parse_conn(hdr)) < 0) {
			fprintf(stderr, "tls_load: server: bad bulk header\n");
			goto out_ssl;
		}
		while (got < cfg.bulk_bytes) {
			size_t want = cfg.bulk_bytes - got < BULK_CHUNK ? cfg.bulk_bytes - got : BULK_CHUNK;
			int n = SSL_read(ssl, sink, (int)want);

			if (n <= 0) {
				fprintf(stderr, "tls_load: server: bulk read failed\n");
				goto out_ssl;
			}
			got += n;
		}
		stream_fill(conn, 1, 0, ack, ACK_LEN);
		write_all(ssl, ack, ACK_LEN);
		/* wait for the client's close */
		SSL_read(ssl, sink, 1);
	}
	SSL_shutdown(ssl);
out_ssl:
	SSL_free(ssl);
out:
	close(sc->fd);
	return NULL;
}

static void run_server(int lfd)
{
	SSL_CTX *ctx = server_ctx();
	struct server_conn *conns = calloc(cfg.conns, sizeof(*conns));
	SSL **held = calloc(cfg.conns, sizeof(*held));
	unsigned int i;

	if (!conns || !held)
		exit(1);
	for (i = 0; i < cfg.conns; i++) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			perror("tls_load: accept");
			exit(1);
		}
		conns[i].ctx = ctx;
		conns[i].fd = fd;
		if (cfg.mode == MODE_HOLD) {
			/* one after the other, in this thread: 10,000 threads are not the point */
			held[i] = server_accept(ctx, fd);
			if (!held[i] || serve_round_trips(held[i], 1, NULL) != 1) {
				fprintf(stderr, "tls_load: server: hold connection %u failed\n", i);
				exit(1);
			}
			continue;
		}
		if (pthread_create(&conns[i].thread, NULL, server_thread, &conns[i])) {
			perror("tls_load: pthread_create");
			exit(1);
		}
	}
	close(lfd);
	if (cfg.mode == MODE_HOLD) {
		uint8_t b;

		/* the client closes in order: wait for each EOF, then close */
		for (i = 0; i < cfg.conns; i++) {
			SSL_read(held[i], &b, 1);
			SSL_shutdown(held[i]);
			SSL_free(held[i]);
			close(conns[i].fd);
		}
	} else {
		for (i = 0; i < cfg.conns; i++)
			pthread_join(conns[i].thread, NULL);
	}
	SSL_CTX_free(ctx);
	exit(0);
}

/* ---------------------------------------------------------------- client */

static SSL_CTX *cctx;
static pthread_barrier_t start_barrier;
static atomic_bool stop_flag;
static uint64_t *round_trips_done;

/* Connection @conn's client end. */
static SSL *client_connect(unsigned int conn)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	int one = 1;
	SSL *ssl;

	if (fd < 0 || connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) ||
	    getsockname(fd, (struct sockaddr *)&local, &len)) {
		perror("tls_load: connect");
		exit(1);
	}
	client_ports[conn] = ntohs(local.sin_port);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ssl = SSL_new(cctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1)
		die_ssl("SSL_connect");
	return ssl;
}

static void client_close(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);

	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
}

/* One round trip of connection @conn, the @k-th; 0 on success. */
static int client_round_trip(SSL *ssl, unsigned int conn, uint64_t k)
{
	uint8_t req[REQ_LEN], resp[RESP_LEN], want[RESP_LEN];

	stream_fill(conn, 0, k * REQ_LEN, req, REQ_LEN);
	if (write_all(ssl, req, REQ_LEN) || read_all(ssl, resp, RESP_LEN) != 1)
		return -1;
	if (k == 0) { /* a cheap end-to-end check of the generator itself */
		stream_fill(conn, 1, 0, want, RESP_LEN);
		if (memcmp(want, resp, RESP_LEN)) {
			fprintf(stderr, "tls_load: client: unexpected response\n");
			return -1;
		}
	}
	return 0;
}

static void *client_thread(void *arg)
{
	unsigned int conn = (unsigned int)(uintptr_t)arg;
	SSL *ssl = client_connect(conn);
	uint64_t k = 0;

	pthread_barrier_wait(&start_barrier);
	if (cfg.mode == MODE_RR) {
		while (!atomic_load_explicit(&stop_flag, memory_order_relaxed) &&
		       (!cfg.round_trips || k < cfg.round_trips)) {
			if (client_round_trip(ssl, conn, k)) {
				fprintf(stderr, "tls_load: client: round trip failed\n");
				exit(1);
			}
			k++;
		}
		round_trips_done[conn] = k;
		sent_bytes[conn][0] = k * REQ_LEN;
		sent_bytes[conn][1] = k * RESP_LEN;
	} else {
		static __thread uint8_t buf[BULK_CHUNK];
		uint8_t ack[ACK_LEN], want[ACK_LEN];
		uint64_t off = 0;

		while (off < cfg.bulk_bytes) {
			size_t n = cfg.bulk_bytes - off < BULK_CHUNK ? cfg.bulk_bytes - off : BULK_CHUNK;

			stream_fill(conn, 0, off, buf, n);
			if (write_all(ssl, buf, n)) {
				fprintf(stderr, "tls_load: client: bulk write failed\n");
				exit(1);
			}
			off += n;
		}
		stream_fill(conn, 1, 0, want, ACK_LEN);
		if (read_all(ssl, ack, ACK_LEN) != 1 || memcmp(ack, want, ACK_LEN)) {
			fprintf(stderr, "tls_load: client: bad ack\n");
			exit(1);
		}
		sent_bytes[conn][0] = off;
		sent_bytes[conn][1] = ACK_LEN;
	}
	client_close(ssl);
	return NULL;
}

static int run_client(void)
{
	pthread_t *threads = calloc(cfg.conns, sizeof(*threads));
	double t0, t1;
	uint64_t total = 0;
	unsigned int i;

	if (!threads)
		return 1;
	cctx = client_ctx();
	if (cfg.mode == MODE_HOLD) {
		SSL **ssl = calloc(cfg.conns, sizeof(*ssl));

		t0 = now_s();
		for (i = 0; i < cfg.conns; i++) {
			ssl[i] = client_connect(i);
			if (client_round_trip(ssl[i], i, 0)) {
				fprintf(stderr, "tls_load: client: hold round trip failed\n");
				return 1;
			}
			sent_bytes[i][0] = REQ_LEN;
			sent_bytes[i][1] = RESP_LEN;
		}
		printf("tls_load: hold: %u open setup_s=%.2f\n", cfg.conns, now_s() - t0);
		fflush(stdout);
		usleep((useconds_t)(cfg.seconds * 1e6));
		for (i = 0; i < cfg.conns; i++)
			client_close(ssl[i]);
		printf("tls_load: hold: closed\n");
		fflush(stdout);
		free(ssl);
		return 0;
	}
	pthread_barrier_init(&start_barrier, NULL, cfg.conns + 1);
	for (i = 0; i < cfg.conns; i++)
		if (pthread_create(&threads[i], NULL, client_thread, (void *)(uintptr_t)i)) {
			perror("tls_load: pthread_create");
			return 1;
		}
	pthread_barrier_wait(&start_barrier); /* every handshake is done */
	t0 = now_s();
	if (cfg.mode == MODE_RR && !cfg.round_trips) {
		usleep((useconds_t)(cfg.seconds * 1e6));
		atomic_store(&stop_flag, true);
	}
	for (i = 0; i < cfg.conns; i++)
		pthread_join(threads[i], NULL);
	t1 = now_s();
	if (cfg.mode == MODE_RR) {
		for (i = 0; i < cfg.conns; i++)
			total += round_trips_done[i];
		printf("tls_load: mode=rr conns=%u round_trips=%" PRIu64 " seconds=%.3f rate=%.1f\n",
		       cfg.conns, total, t1 - t0, total / (t1 - t0));
	} else {
		total = cfg.bulk_bytes * cfg.conns;
		printf("tls_load: mode=bulk conns=%u bytes=%" PRIu64 " seconds=%.3f rate=%.1f\n",
		       cfg.conns, total, t1 - t0, total / (t1 - t0) / 1e6);
	}
	free(threads);
	return 0;
}

static int run_load(void)
{
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t alen = sizeof(server_addr);
	struct rlimit rl;
	int status = 0, rc;
	pid_t server;

	/* client and server are separate processes: each needs CONNS fds and a few */
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < cfg.conns + 64) {
		rl.rlim_cur = cfg.conns + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			fprintf(stderr, "tls_load: %u connections need %u open files: %s\n", cfg.conns,
				cfg.conns + 64, strerror(errno));
			return 1;
		}
	}
	server_addr.sin_family = AF_INET;
	server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&server_addr, sizeof(server_addr)) ||
	    listen(lfd, 4096) || getsockname(lfd, (struct sockaddr *)&server_addr, &alen)) {
		perror("tls_load: listen");
		return 1;
	}
	sent_bytes = calloc(cfg.conns, sizeof(*sent_bytes));
	client_ports = calloc(cfg.conns, sizeof(*client_ports));
	round_trips_done = calloc(cfg.conns, sizeof(*round_trips_done));
	fflush(stdout);
	server = fork();
	if (server < 0)
		return 1;
	if (server == 0)
		run_server(lfd);
	close(lfd);
	rc = run_client();
	if (waitpid(server, &status, 0) != server || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "tls_load: server process failed\n");
		rc = 1;
	}
	if (!rc) {
		struct rusage self, children;

		getrusage(RUSAGE_SELF, &self);
		getrusage(RUSAGE_CHILDREN, &children);
		printf("tls_load: cpu=%.2f\n",
		       self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6 + self.ru_stime.tv_sec +
			       self.ru_stime.tv_usec / 1e6 + children.ru_utime.tv_sec +
			       children.ru_utime.tv_usec / 1e6 + children.ru_stime.tv_sec +
			       children.ru_stime.tv_usec / 1e6);
		write_manifest();
	}
	return rc;
}

/* ---------------------------------------------------------------- verify */

struct half_stream {
	uint8_t key[36];       /* src addr(16) dst addr(16) sport dport */
	uint32_t isn;
	bool has_isn;
	uint64_t next;         /* next offset expected */
	uint64_t last_off;     /* for unwrapping 32-bit sequence numbers */
	int conn, dir;         /* by the ports; -1: foreign */
	uint64_t covered;      /* bytes present and compared */
	uint64_t mismatched;
	uint64_t gaps;         /* bytes skipped over inside the stream, and cut by a snap length */
	struct half_stream *next_hs;
};

#define HS_BUCKETS 65536
static struct half_stream *hs_table[HS_BUCKETS];
/* from the manifest */
static uint16_t verify_server_port;

/* Connection and direction of the half-stream from port @sport to @dport, or -1. */
static int hs_identify(struct half_stream *hs, uint16_t sport, uint16_t dport)
{
	unsigned int c;

	for (c = 0; c < cfg.conns; c++) {
		if (sport == client_ports[c] && dport == verify_server_port)
			hs->dir = 0;
		else if (dport == client_ports[c] && sport == verify_server_port)
			hs->dir = 1;
		else
			continue;
		return hs->conn = (int)c;
	}
	return -1;
}

static struct half_stream *hs_get(const uint8_t key[36])
{
	uint64_t h = 1469598103934665603ull;
	struct half_stream *hs;
	int i;

	for (i = 0; i < 36; i++)
		h = (h ^ key[i]) * 1099511628211ull;
	for (hs = hs_table[h % HS_BUCKETS]; hs; hs = hs->next_hs)
		if (!memcmp(hs->key, key, 36))
			return hs;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		exit(1);
	memcpy(hs->key, key, 36);
	hs->conn = hs->dir = -1;
	hs_identify(hs, (key[32] << 8) | key[33], (key[34] << 8) | key[35]);
	hs->next_hs = hs_table[h % HS_BUCKETS];
	hs_table[h % HS_BUCKETS] = hs;
	return hs;
}

/* @len bytes at @off, @caplen of them in @p (0, 0: a FIN at @off). */
static void hs_data(struct half_stream *hs, uint64_t off, const uint8_t *p, uint32_t caplen,
		    uint32_t len)
{
	static uint8_t want[65536 + 64];

	if (off > hs->next) {
		hs->gaps += off - hs->next;
		hs->next = off;
	}
	if (hs->conn < 0 || off + len <= hs->next) /* an old duplicate: counted by tlspcap */
		return;
	if (caplen > sizeof(want))
		caplen = sizeof(want);
	stream_fill((uint32_t)hs->conn, hs->dir, off, want, caplen);
	if (memcmp(want, p, caplen)) {
		uint32_t i;

		for (i = 0; i < caplen; i++)
			hs->mismatched += want[i] != p[i];
	}
	hs->covered += caplen;
	hs->gaps += len - caplen; /* cut by a snap length */
	hs->next = off + len;
}

/* Reads the manifest (v2, with ports) into cfg, @expect and client_ports; 0 or -1. */
static int read_manifest(uint64_t (**expect)[2])
{
	FILE *mf = fopen(cfg.manifest, "r");
	unsigned int c, port, conns, server_port, n = 0;
	char line[256];
	uint64_t a, b;

	if (!mf || !fgets(line, sizeof(line), mf) ||
	    sscanf(line, "tls_load-manifest 2 seed=%u conns=%u server_port=%u", &cfg.seed, &conns,
		   &server_port) != 3 || !conns || conns > 999999 || server_port > 65535)
		goto bad;
	cfg.conns = conns;
	verify_server_port = (uint16_t)server_port;
	*expect = calloc(conns, sizeof(**expect));
	client_ports = calloc(conns, sizeof(*client_ports));
	if (!*expect || !client_ports)
		exit(1);
	while (fgets(line, sizeof(line), mf)) {
		if (sscanf(line, "%u %" SCNu64 " %" SCNu64 " %u", &c, &a, &b, &port) != 4 ||
		    c >= conns || port > 65535)
			goto bad;
		(*expect)[c][0] = a;
		(*expect)[c][1] = b;
		client_ports[c] = (uint16_t)port;
		n++;
	}
	if (n != conns)
		goto bad;
	fclose(mf);
	return 0;
bad:
	fprintf(stderr, "tls_load: verify: bad or missing manifest %s\n", cfg.manifest);
	if (mf)
		fclose(mf);
	return -1;
}

static int run_verify(const char *path, bool lossy)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct half_stream *(*seen)[2];
	uint64_t (*expect)[2];
	struct pcap_pkthdr *ph;
	const u_char *pkt;
	pcap_t *pc;
	uint64_t packets = 0, expected = 0, compared = 0, mismatched = 0, lost = 0, extra = 0;
	uint64_t foreign = 0, identified = 0, duplicated = 0, absent = 0, unaccounted = 0;
	unsigned int i, c;
	bool ok;
	int r, d;

	if (read_manifest(&expect))
		return 2;
	seen = calloc(cfg.conns, sizeof(*seen));
	if (!seen)
		return 2;
	table_init(cfg.seed);

	pc = pcap_open_offline(path, errbuf);
	if (!pc) {
		fprintf(stderr, "tls_load: verify: %s\n", errbuf);
		return 2;
	}
	while ((r = pcap_next_ex(pc, &ph, &pkt)) == 1) {
		const uint8_t *ip = pkt, *tcp;
		uint8_t key[36] = { 0 };
		uint32_t iplen, hl, seq, caplen = ph->caplen, len = ph->len, thl, paylen, paycap;
		struct half_stream *hs;
		bool fin;
		uint64_t off;

		packets++;
		if (caplen < 20)
			continue;
		if ((ip[0] >> 4) == 4) {
			hl = (ip[0] & 15) * 4;
			if (ip[9] != IPPROTO_TCP || caplen < hl + 20)
				continue;
			iplen = (ip[2] << 8) | ip[3];
			memcpy(key, ip + 12, 4);
			memcpy(key + 16, ip + 16, 4);
		} else if ((ip[0] >> 4) == 6) {
			hl = 40;
			if (ip[6] != IPPROTO_TCP || caplen < hl + 20)
				continue;
			iplen = 40 + ((ip[4] << 8) | ip[5]);
			memcpy(key, ip + 8, 16);
			memcpy(key + 16, ip + 24, 16);
		} else {
			continue;
		}
		tcp = ip + hl;
		memcpy(key + 32, tcp, 4); /* both ports */
		thl = (tcp[12] >> 4) * 4;
		seq = ((uint32_t)tcp[4] << 24) | (tcp[5] << 16) | (tcp[6] << 8) | tcp[7];
		hs = hs_get(key);
		if (tcp[13] & 0x02) { /* SYN */
			hs->isn = seq;
			hs->has_isn = true;
			continue;
		}
		fin = tcp[13] & 0x01;
		if (iplen > len)
			iplen = len;
		if (iplen < hl + thl)
			continue;
		paylen = iplen - hl - thl;
		if ((!paylen && !fin) || !hs->has_isn)
			continue;
		paycap = caplen > hl + thl ? caplen - hl - thl : 0;
		if (paycap > paylen)
			paycap = paylen;
		/* unwrap: offsets grow; pick the 64-bit value nearest the last one */
		off = (hs->last_off & ~0xffffffffull) | (uint32_t)(seq - hs->isn - 1);
		if (off + 0x80000000ull < hs->last_off)
			off += 1ull << 32;
		hs->last_off = off;
		/* a FIN's sequence number is where the direction ended: a hole before it is loss */
		hs_data(hs, off, tcp + thl, paycap, paylen);
	}
	if (r == -1) {
		fprintf(stderr, "tls_load: verify: %s\n", pcap_geterr(pc));
		return 2;
	}
	pcap_close(pc);

	for (i = 0; i < HS_BUCKETS; i++) {
		struct half_stream *hs;

		for (hs = hs_table[i]; hs; hs = hs->next_hs) {
			if (hs->conn < 0) {
				foreign += hs->next > 0;
				continue;
			}
			identified++;
			if (seen[hs->conn][hs->dir]) {
				duplicated++; /* a connection written twice (views not merged) */
				continue;
			}
			seen[hs->conn][hs->dir] = hs;
		}
	}
	for (c = 0; c < cfg.conns; c++) {
		uint64_t in_file[2] = { 0, 0 }, holes[2] = { 0, 0 };

		for (d = 0; d < 2; d++) {
			const struct half_stream *hs = seen[c][d];
			uint64_t end = hs ? hs->next : 0;

			expected += expect[c][d];
			if (!hs) {
				absent += expect[c][d] > 0;
				continue;
			}
			in_file[d] = hs->covered;
			holes[d] = hs->gaps;
			compared += hs->covered;
			mismatched += hs->mismatched;
			lost += hs->gaps;
			if (end > expect[c][d])
				extra += end - expect[c][d];
			/* bytes sent = bytes in the file + holes: the direction ends where it should */
			unaccounted += end != expect[c][d];
		}
		if (lossy)
			printf("tls_load: verify: conn=%u port=%u c2s_sent=%" PRIu64 " c2s_in_file=%" PRIu64
			       " c2s_lost=%" PRIu64 " s2c_sent=%" PRIu64 " s2c_in_file=%" PRIu64
			       " s2c_lost=%" PRIu64 "\n",
			       c, client_ports[c], expect[c][0], in_file[0], holes[0], expect[c][1],
			       in_file[1], holes[1]);
	}
	ok = !mismatched && !extra && !duplicated && !foreign && !absent && !unaccounted &&
	     compared + lost == expected && (lossy || !lost);
	printf("tls_load: verify: packets=%" PRIu64 " half_streams=%" PRIu64 " foreign=%" PRIu64
	       " absent_half_streams=%" PRIu64 " expected_bytes=%" PRIu64 " compared_bytes=%" PRIu64
	       " lost_bytes=%" PRIu64 " unaccounted_half_streams=%" PRIu64 " mismatched_bytes=%" PRIu64
	       " extra_bytes=%" PRIu64 " duplicated_half_streams=%" PRIu64 " %s\n",
	       packets, identified, foreign, absent, expected, compared, lost, unaccounted, mismatched,
	       extra, duplicated, ok ? "OK" : "FAILED");
	return ok ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f, "usage: tls_load rr   [-c CONNS] [-d SECONDS | -n ROUNDTRIPS] [-M MANIFEST] [-S SEED]\n"
		   "       tls_load bulk [-c CONNS] [-m MB] [-M MANIFEST] [-S SEED]\n"
		   "       tls_load hold [-c CONNS] [-t SECONDS] [-M MANIFEST] [-S SEED]\n"
		   "       tls_load verify [-l] -M MANIFEST CAPTURE.pcapng\n");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	uint64_t mb = 256;
	bool lossy = false;
	int opt;

	if (!strcmp(cmd, "rr"))
		cfg.mode = MODE_RR;
	else if (!strcmp(cmd, "bulk"))
		cfg.mode = MODE_BULK;
	else if (!strcmp(cmd, "hold"))
		cfg.mode = MODE_HOLD, cfg.seconds = 5, cfg.conns = 10000;
	else if (strcmp(cmd, "verify")) {
		usage(stderr);
		return 2;
	}
	optind = 2;
	while ((opt = getopt(argc, argv, "c:d:n:m:t:M:S:lh")) != -1) {
		switch (opt) {
		case 'l':
			lossy = true;
			break;
		case 'c':
			cfg.conns = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'd':
		case 't':
			cfg.seconds = strtod(optarg, NULL);
			break;
		case 'n':
			cfg.round_trips = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			mb = strtoull(optarg, NULL, 0);
			break;
		case 'M':
			cfg.manifest = optarg;
			break;
		case 'S':
			cfg.seed = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!strcmp(cmd, "verify")) {
		if (optind != argc - 1 || !cfg.manifest) {
			usage(stderr);
			return 2;
		}
		return run_verify(argv[optind], lossy);
	}
	if (!cfg.conns || cfg.conns > 999999) {
		usage(stderr);
		return 2;
	}
	cfg.bulk_bytes = (mb << 20) / cfg.conns;
	if (cfg.bulk_bytes < HEADER_LEN)
		cfg.bulk_bytes = HEADER_LEN;
	signal(SIGPIPE, SIG_IGN);
	table_init(cfg.seed);
	return run_load();
}
