// SPDX-License-Identifier: MIT
/* Library-independent part of the sample TLS peers: see tls_peer.h. */
#include "tls_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 16384
#define CHUNK 16384

static const char *prog = "tls_peer";

/* TLS_PEER_RECORD: the current connection's plaintext, per direction. */
static struct {
	FILE *sent, *received;
} rec;

void tls_peer_log(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int tls_peer_is_ip_literal(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

int tls_peer_listen(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char *end;
	long p = strtol(port, &end, 10);
	int fd, one = 1;

	if (*port == '\0' || *end != '\0' || p <= 0 || p > 65535) {
		tls_peer_log("bad port '%s'", port);
		return -1;
	}
	sa.sin_port = htons((unsigned short)p);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		tls_peer_log("socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		tls_peer_log("listen on 127.0.0.1:%s: %s", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int tls_peer_accept(int lfd)
{
	int fd;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		tls_peer_log("accept: %s", strerror(errno));
	return fd;
}

int tls_peer_connect(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int fd = -1, err;

	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		tls_peer_log("%s:%s: %s", host, port, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		tls_peer_log("cannot connect to %s:%s", host, port);
	return fd;
}

/* Start recording connection c when TLS_PEER_RECORD names a directory. 0 or -1. */
static int record_open(const struct tls_peer_ops *ops, struct tls_peer_conn *c, int server)
{
	const char *dir = getenv("TLS_PEER_RECORD");
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char path[4096];
	int port, r;

	if (!dir || !*dir)
		return 0;
	/* The client's port: our own as a client, the peer's as a server. */
	r = server ? getpeername(ops->fd(c), (struct sockaddr *)&ss, &sl)
		   : getsockname(ops->fd(c), (struct sockaddr *)&ss, &sl);
	if (r < 0) {
		tls_peer_log("TLS_PEER_RECORD: socket address: %s", strerror(errno));
		return -1;
	}
	port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(path, sizeof(path), "%s/%d.%s", dir, port, server ? "s2c" : "c2s");
	rec.sent = fopen(path, "wbe");
	snprintf(path, sizeof(path), "%s/%d.%s", dir, port, server ? "c2s" : "s2c");
	rec.received = fopen(path, "wbe");
	if (!rec.sent || !rec.received) {
		tls_peer_log("TLS_PEER_RECORD: %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int record_close(void)
{
	int bad = 0;

	if (rec.sent && fclose(rec.sent) != 0)
		bad = 1;
	if (rec.received && fclose(rec.received) != 0)
		bad = 1;
	rec.sent = rec.received = NULL;
	if (bad)
		tls_peer_log("TLS_PEER_RECORD: writing failed");
	return bad ? -1 : 0;
}

static int record(FILE *f, const void *buf, size_t len)
{
	if (f && len && fwrite(buf, 1, len, f) != len) {
		tls_peer_log("TLS_PEER_RECORD: writing failed");
		return -1;
	}
	return 0;
}

/* The library's write (all of buf) and read, recorded. */
static int peer_write(const struct tls_peer_ops *ops, struct tls_peer_conn *c, const void *buf,
		      size_t len)
{
	const unsigned char *p = buf;
	size_t left = len;
	long n;

	while (left > 0) {
		n = ops->write(c, p, left > TLS_PEER_IO_MAX ? TLS_PEER_IO_MAX : left);
		if (n <= 0)
			return -1;
		p += n;
		left -= (size_t)n;
	}
	return record(rec.sent, buf, len);
}

static long peer_read(const struct tls_peer_ops *ops, struct tls_peer_conn *c, void *buf,
		      size_t len)
{
	long n = ops->read(c, buf, len > TLS_PEER_IO_MAX ? TLS_PEER_IO_MAX : len);

	if (n > 0 && record(rec.received, buf, (size_t)n) < 0)
		return -1;
	return n;
}

/* Parse a non-negative decimal; -1 when not a number. */
static long long parse_count(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v < 0)
		return -1;
	return v;
}

/* Write len bytes of pattern(seed) starting at offset 0. */
static int send_pattern(const struct tls_peer_ops *ops, struct tls_peer_conn *c,
			unsigned long long len, unsigned seed)
{
	unsigned char buf[CHUNK];
	unsigned long long off = 0;
	size_t i, n;

	while (off < len) {
		n = len - off < CHUNK ? (size_t)(len - off) : CHUNK;
		for (i = 0; i < n; i++)
			buf[i] = tls_peer_pattern(off + i, seed);
		if (peer_write(ops, c, buf, n) < 0)
			return -1;
		off += n;
	}
	return 0;
}

/* Read an HTTP head (up to the empty line) into head (NUL-terminated); bytes after it
 * go to extra (count in *nextra). Returns 0, or -1 on error / early end / oversized head. */
static int read_head(const struct tls_peer_ops *ops, struct tls_peer_conn *c, char *head,
		     unsigned char *extra, size_t *nextra)
{
	size_t len = 0, hl;
	char *end;
	long n;

	for (;;) {
		n = peer_read(ops, c, head + len, HEAD_MAX - 1 - len);
		if (n <= 0) {
			tls_peer_log("%s while reading the HTTP head (%zu bytes)",
				     n == 0 ? "end of stream" : "error", len);
			return -1;
		}
		len += (size_t)n;
		head[len] = '\0';
		end = strstr(head, "\r\n\r\n");
		if (end) {
			hl = (size_t)(end - head) + 4;
			*nextra = len - hl;
			memcpy(extra, head + hl, *nextra);
			head[hl] = '\0';
			return 0;
		}
		if (len >= HEAD_MAX - 1) {
			tls_peer_log("HTTP head longer than %d bytes", HEAD_MAX - 1);
			return -1;
		}
	}
}

/* Content-Length of a head, -1 when absent or bad. */
static long long content_length(const char *head)
{
	const char *p = head;
	char num[32];
	size_t n;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, "Content-Length:", 15) == 0) {
			p += 15;
			p += strspn(p, " \t");
			n = strcspn(p, "\r\n \t");
			if (n == 0 || n >= sizeof(num))
				return -1;
			memcpy(num, p, n);
			num[n] = '\0';
			return parse_count(num);
		}
	}
	return -1;
}

/* One request/response on an accepted connection; 0 when all went well. */
static int serve(const struct tls_peer_ops *ops, struct tls_peer_conn *c, unsigned conn,
		 unsigned long long body_bytes)
{
	static char head[HEAD_MAX];
	unsigned char buf[CHUNK];
	char method[16] = "", path[256] = "", hdr[256];
	unsigned long long got = 0, bad = 0, want;
	long long clen;
	size_t nbuf = 0, i;
	long n;
	int hl;

	if (read_head(ops, c, head, buf, &nbuf) < 0)
		return -1;
	if (sscanf(head, "%15s %255s HTTP/1.", method, path) != 2) {
		tls_peer_log("conn %u: not an HTTP request", conn);
		return -1;
	}
	clen = content_length(head);
	want = clen > 0 ? (unsigned long long)clen : 0;
	/* The request body, checked against the client's pattern as it arrives. */
	for (;;) {
		for (i = 0; i < nbuf && got < want; i++, got++)
			bad += buf[i] != tls_peer_pattern(got, TLS_PEER_SEED_REQUEST);
		if (got >= want)
			break;
		n = peer_read(ops, c, buf, want - got < CHUNK ? (size_t)(want - got) : CHUNK);
		if (n <= 0) {
			tls_peer_log("conn %u: request body ended after %llu of %llu bytes", conn,
				     got, want);
			return -1;
		}
		nbuf = (size_t)n;
	}
	tls_peer_log("conn %u: %s %s, %llu body bytes%s", conn, method, path, got,
		     bad ? " NOT matching the pattern" : "");
	hl = snprintf(hdr, sizeof(hdr),
		      "HTTP/1.1 200 OK\r\n"
		      "Server: tls_peer_%s\r\n"
		      "Content-Type: application/octet-stream\r\n"
		      "Content-Length: %llu\r\n"
		      "Connection: close\r\n"
		      "\r\n",
		      ops->name, body_bytes);
	if (hl < 0 || (size_t)hl >= sizeof(hdr) || peer_write(ops, c, hdr, (size_t)hl) < 0 ||
	    send_pattern(ops, c, body_bytes, TLS_PEER_SEED_RESPONSE) < 0) {
		tls_peer_log("conn %u: writing the response failed", conn);
		return -1;
	}
	return bad ? -1 : 0;
}

static int run_server(const struct tls_peer_ops *ops, int argc, char **argv)
{
	long long conns = 1, body = 1000;
	struct tls_peer_conn *c;
	int failed = 0;
	long long i;

	if (argc < 5 || argc > 7)
		return 2;
	if (argc > 5 && (conns = parse_count(argv[5])) < 1)
		return 2;
	if (argc > 6 && (body = parse_count(argv[6])) < 0)
		return 2;
	if (ops->server_setup(argv[2], argv[3], argv[4]) < 0)
		return 1;
	tls_peer_log("listening on 127.0.0.1:%s for %lld connection(s)", argv[2], conns);
	for (i = 1; i <= conns; i++) {
		c = ops->server_accept();
		if (!c) {
			failed++;
			continue;
		}
		if (record_open(ops, c, 1) < 0 ||
		    serve(ops, c, (unsigned)i, (unsigned long long)body) < 0)
			failed++;
		ops->close(c);
		if (record_close() < 0)
			failed++;
	}
	ops->teardown();
	tls_peer_log("served %lld connection(s), %d failed", conns, failed);
	return failed ? 1 : 0;
}

static int run_client(const struct tls_peer_ops *ops, int argc, char **argv)
{
	static char head[HEAD_MAX];
	unsigned char buf[CHUNK];
	const char *host, *port, *path = "/lib";
	long long req = 0, clen;
	unsigned long long got = 0;
	struct tls_peer_conn *c = NULL;
	char hdr[1024];
	size_t nbuf = 0;
	int hl, status = 0, rc = 1;
	long n;

	if (argc < 5 || argc > 7)
		return 2;
	host = argv[2];
	port = argv[3];
	if (argc > 5 && (req = parse_count(argv[5])) < 0)
		return 2;
	if (argc > 6)
		path = argv[6];
	if (ops->client_setup(argv[4]) < 0)
		return 1;
	c = ops->client_connect(host, port);
	if (!c || record_open(ops, c, 0) < 0)
		goto out;
	if (req > 0)
		hl = snprintf(hdr, sizeof(hdr),
			      "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: tls_peer_%s\r\n"
			      "Accept: */*\r\nConnection: close\r\n"
			      "Content-Type: application/octet-stream\r\nContent-Length: %lld\r\n\r\n",
			      path, host, port, ops->name, req);
	else
		hl = snprintf(hdr, sizeof(hdr),
			      "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: tls_peer_%s\r\n"
			      "Accept: */*\r\nConnection: close\r\n\r\n",
			      path, host, port, ops->name);
	if (hl < 0 || (size_t)hl >= sizeof(hdr)) {
		tls_peer_log("request head too long");
		goto out;
	}
	if (peer_write(ops, c, hdr, (size_t)hl) < 0 ||
	    send_pattern(ops, c, (unsigned long long)req, TLS_PEER_SEED_REQUEST) < 0) {
		tls_peer_log("sending the request failed");
		goto out;
	}
	if (read_head(ops, c, head, buf, &nbuf) < 0)
		goto out;
	if (sscanf(head, "HTTP/1.%*d %d", &status) != 1) {
		tls_peer_log("not an HTTP response");
		goto out;
	}
	clen = content_length(head); /* -1: read up to the end of the stream */
	for (;;) {
		if (clen >= 0 && got + nbuf > (unsigned long long)clen)
			nbuf = (size_t)((unsigned long long)clen - got);
		if (nbuf && fwrite(buf, 1, nbuf, stdout) != nbuf) {
			tls_peer_log("writing stdout: %s", strerror(errno));
			goto out;
		}
		got += nbuf;
		if (clen >= 0 && got >= (unsigned long long)clen)
			break;
		n = peer_read(ops, c, buf, sizeof(buf));
		if (n < 0 || (n == 0 && clen >= 0)) {
			tls_peer_log("response body ended after %llu bytes", got);
			goto out;
		}
		if (n == 0)
			break;
		nbuf = (size_t)n;
	}
	if (fflush(stdout) != 0) {
		tls_peer_log("writing stdout: %s", strerror(errno));
		goto out;
	}
	tls_peer_log("%s %s: status %d, %llu body bytes", req > 0 ? "POST" : "GET", path, status,
		     got);
	rc = status == 200 ? 0 : 1;
out:
	ops->close(c);
	if (record_close() < 0)
		rc = 1;
	ops->teardown();
	return rc;
}

int tls_peer_main(const struct tls_peer_ops *ops, int argc, char **argv)
{
	const char *life = getenv("TLS_PEER_LIFETIME");
	long long secs = life ? parse_count(life) : TLS_PEER_LIFETIME;
	int rc = 2;

	prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	/* Bounded run: SIGALRM's default action ends a peer that hangs. */
	alarm(secs > 0 ? (unsigned)secs : TLS_PEER_LIFETIME);
	if (argc >= 2 && strcmp(argv[1], "server") == 0)
		rc = run_server(ops, argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "client") == 0)
		rc = run_client(ops, argc, argv);
	if (rc == 2)
		fprintf(stderr,
			"usage: %s server PORT CERT KEY [CONNS [BODY_BYTES]]\n"
			"       %s client HOST PORT CAFILE [REQUEST_BYTES [PATH]]\n",
			prog, prog);
	return rc;
}
