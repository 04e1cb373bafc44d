// SPDX-License-Identifier: MIT
/* Sample NSS client that sends its request with PR_Writev (the gather write of NSPR's
 * I/O layer, which NSS's SSL layer implements as ssl_WriteV): tests/e2e/test_lib_nss_writev.sh.
 *
 *   nss_writev_client DBDIR HOST PORT BODY_BYTES
 *
 * NSS_Init(DBDIR) (read-only; the server's certificate trusted there, as for tstclnt),
 * connect to PORT on loopback (HOST if it is an IP literal, else 127.0.0.1; HOST is the
 * name the certificate is verified against and the Host header), TLS handshake, then one
 * request "POST /echo HTTP/1.1 ... Connection: close" with BODY_BYTES bytes of
 * tls_peer_pattern(i, TLS_PEER_SEED_REQUEST), written with PR_Writev from three
 * vectors: the headers, the first half of the body, the second half (a partial write
 * is continued with the rest of the vectors).  The response is read with PR_Read
 * until the server closes; its body goes to stdout.  Exit 0 on a "200" response whose
 * body is complete (Content-Length, chunked, or up to the close).
 *
 * With TLS_PEER_RECORD=DIR in the environment the plaintext is also written, exactly
 * as accepted by PR_Writev and returned by PR_Read, to DIR/<client port>.c2s and
 * DIR/<client port>.s2c (the layout tests/e2e/follow.py match reads).  An alarm of
 * TLS_PEER_LIFETIME seconds ends a run that hangs.
 */
#include "tls_peer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <nspr.h>
#include <nss.h>
#include <prerror.h>
#include <prio.h>
#include <ssl.h>
#include <sslproto.h>

#define IO_TIMEOUT PR_SecondsToInterval(30)
#define RESP_MAX (16u << 20)

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("nss_writev_client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void log_pr(const char *what)
{
	PRErrorCode err = PR_GetError();
	const char *name = PR_ErrorToName(err);

	logmsg("%s failed: %d %s (%s)", what, (int)err, name ? name : "?",
	       PR_ErrorToString(err, PR_LANGUAGE_I_DEFAULT));
}

static long parse_num(const char *s, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v < 0 || v > max) {
		logmsg("bad %s '%s'", what, s);
		return -1;
	}
	return v;
}

/* TLS_PEER_RECORD */
static FILE *rec_sent, *rec_received;

static int record_open(PRFileDesc *fd)
{
	const char *dir = getenv("TLS_PEER_RECORD");
	char path[4096];
	PRNetAddr local;

	if (!dir)
		return 0;
	if (PR_GetSockName(fd, &local) != PR_SUCCESS) {
		log_pr("PR_GetSockName");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%u.c2s", dir, (unsigned)PR_ntohs(PR_NetAddrInetPort(&local)));
	rec_sent = fopen(path, "wb");
	snprintf(path, sizeof(path), "%s/%u.s2c", dir, (unsigned)PR_ntohs(PR_NetAddrInetPort(&local)));
	rec_received = fopen(path, "wb");
	if (!rec_sent || !rec_received) {
		logmsg("TLS_PEER_RECORD: %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int record(FILE *f, const void *buf, size_t len)
{
	if (f && len && fwrite(buf, 1, len, f) != len) {
		logmsg("TLS_PEER_RECORD: writing failed");
		return -1;
	}
	return 0;
}

static int record_close(void)
{
	int bad = 0;

	if (rec_sent && fclose(rec_sent) != 0)
		bad = 1;
	if (rec_received && fclose(rec_received) != 0)
		bad = 1;
	rec_sent = rec_received = NULL;
	if (bad)
		logmsg("TLS_PEER_RECORD: writing failed");
	return bad ? -1 : 0;
}

/* Records the vectors' first n bytes (what PR_Writev accepted), then drops them from
 * iov/cnt: *iov and *cnt describe what is left. */
static int advance(PRIOVec **iov, int *cnt, PRInt32 n)
{
	while (*cnt > 0 && n > 0) {
		PRInt32 take = n < (*iov)->iov_len ? n : (*iov)->iov_len;

		if (record(rec_sent, (*iov)->iov_base, (size_t)take) < 0)
			return -1;
		(*iov)->iov_base += take;
		(*iov)->iov_len -= take;
		n -= take;
		if ((*iov)->iov_len == 0) {
			(*iov)++;
			(*cnt)--;
		}
	}
	/* skip empty vectors */
	while (*cnt > 0 && (*iov)->iov_len == 0) {
		(*iov)++;
		(*cnt)--;
	}
	return 0;
}

/* All of the vectors through PR_Writev.  0 or -1. */
static int writev_all(PRFileDesc *fd, PRIOVec *iov, int cnt)
{
	int calls = 0;

	if (advance(&iov, &cnt, 0) < 0)
		return -1;
	while (cnt > 0) {
		PRInt32 n = PR_Writev(fd, iov, cnt, IO_TIMEOUT);

		calls++;
		if (n < 0) {
			if (PR_GetError() == PR_WOULD_BLOCK_ERROR && calls < 1000)
				continue;
			log_pr("PR_Writev");
			return -1;
		}
		if (n == 0) {
			logmsg("PR_Writev wrote nothing");
			return -1;
		}
		if (advance(&iov, &cnt, n) < 0)
			return -1;
	}
	logmsg("request written with %d PR_Writev call%s", calls, calls == 1 ? "" : "s");
	return 0;
}

static PRFileDesc *connect_tls(const char *host, unsigned short port)
{
	SSLVersionRange vr = { SSL_LIBRARY_VERSION_TLS_1_2, SSL_LIBRARY_VERSION_TLS_1_3 };
	PRFileDesc *tcp, *ssl;
	PRNetAddr addr;

	if (PR_StringToNetAddr(host, &addr) == PR_SUCCESS) {
		if (PR_SetNetAddr(PR_IpAddrNull, PR_NetAddrFamily(&addr), port, &addr) != PR_SUCCESS) {
			log_pr("PR_SetNetAddr");
			return NULL;
		}
	} else if (PR_InitializeNetAddr(PR_IpAddrLoopback, port, &addr) != PR_SUCCESS) {
		log_pr("PR_InitializeNetAddr");
		return NULL;
	}
	tcp = PR_OpenTCPSocket(PR_NetAddrFamily(&addr));
	if (!tcp) {
		log_pr("PR_OpenTCPSocket");
		return NULL;
	}
	ssl = SSL_ImportFD(NULL, tcp);
	if (!ssl) {
		log_pr("SSL_ImportFD");
		PR_Close(tcp);
		return NULL;
	}
	if (SSL_OptionSet(ssl, SSL_SECURITY, PR_TRUE) != SECSuccess ||
	    SSL_OptionSet(ssl, SSL_HANDSHAKE_AS_CLIENT, PR_TRUE) != SECSuccess ||
	    SSL_OptionSet(ssl, SSL_ENABLE_SESSION_TICKETS, PR_TRUE) != SECSuccess) {
		log_pr("SSL_OptionSet");
		goto fail;
	}
	if (SSL_VersionRangeSet(ssl, &vr) != SECSuccess) {
		log_pr("SSL_VersionRangeSet");
		goto fail;
	}
	/* The name the certificate must match (default SSL_AuthCertificate hook, against
	 * the trust in DBDIR); also SNI. */
	if (SSL_SetURL(ssl, host) != SECSuccess) {
		log_pr("SSL_SetURL");
		goto fail;
	}
	if (PR_Connect(ssl, &addr, IO_TIMEOUT) != PR_SUCCESS) {
		log_pr("PR_Connect");
		goto fail;
	}
	if (SSL_ForceHandshake(ssl) != SECSuccess) {
		log_pr("SSL_ForceHandshake");
		goto fail;
	}
	return ssl;
fail:
	PR_Close(ssl);
	return NULL;
}

/* Reads the response with PR_Read until the peer closes.  Its bytes in *out. */
static int read_response(PRFileDesc *fd, char **out, size_t *outlen)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	if (!buf) {
		logmsg("out of memory");
		return -1;
	}
	for (;;) {
		PRInt32 n;

		if (cap - len < 16384) {
			char *nb;

			if (cap >= RESP_MAX) {
				logmsg("response longer than %u bytes", RESP_MAX);
				free(buf);
				return -1;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				logmsg("out of memory");
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
		n = PR_Read(fd, buf + len, 16384);
		if (n == 0)
			break;
		if (n < 0) {
			log_pr("PR_Read");
			free(buf);
			return -1;
		}
		if (record(rec_received, buf + len, (size_t)n) < 0) {
			free(buf);
			return -1;
		}
		len += (size_t)n;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* Case-insensitive search of header NAME in the head [h, end); its value or NULL. */
static const char *header(const char *h, const char *end, const char *name)
{
	size_t nl = strlen(name);
	const char *p = memchr(h, '\n', (size_t)(end - h)); /* skip the status line */

	while (p && ++p < end) {
		if ((size_t)(end - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			return p;
		}
		p = memchr(p, '\n', (size_t)(end - p));
	}
	return NULL;
}

/* The body of response r (head ending at body) to stdout.  0 if complete, -1. */
static int write_body(const char *r, const char *body, const char *end)
{
	const char *te = header(r, body, "Transfer-Encoding");
	const char *cl = header(r, body, "Content-Length");

	if (te && strncasecmp(te, "chunked", 7) == 0) {
		const char *p = body;

		for (;;) {
			char *e;
			unsigned long n = strtoul(p, &e, 16);
			const char *data = memchr(e, '\n', (size_t)(end - e));

			if (e == p || !data) {
				logmsg("bad chunked body");
				return -1;
			}
			data++;
			if (n == 0)
				return 0;
			if ((size_t)(end - data) < n + 2) {
				logmsg("chunked body cut short");
				return -1;
			}
			if (fwrite(data, 1, n, stdout) != n)
				return -1;
			p = data + n + 2;
		}
	}
	if (cl) {
		unsigned long n = strtoul(cl, NULL, 10);

		if ((size_t)(end - body) != n) {
			logmsg("body has %zu bytes, Content-Length %lu", (size_t)(end - body), n);
			return -1;
		}
	}
	if (end > body && fwrite(body, 1, (size_t)(end - body), stdout) != (size_t)(end - body))
		return -1;
	return 0;
}

static int run(const char *host, unsigned short port, size_t body_len)
{
	char head[1024], *body = NULL, *resp = NULL;
	const char *rbody;
	size_t i, resp_len = 0;
	PRIOVec iov[3];
	PRFileDesc *fd = NULL;
	int hl, rc = -1;

	/* iov_len is an int: BODY_BYTES is bounded in main */
	body = malloc(body_len ? body_len : 1);
	if (!body) {
		logmsg("out of memory");
		return -1;
	}
	for (i = 0; i < body_len; i++)
		body[i] = (char)tls_peer_pattern(i, TLS_PEER_SEED_REQUEST);
	hl = snprintf(head, sizeof(head),
		      "POST /echo HTTP/1.1\r\n"
		      "Host: %s:%u\r\n"
		      "User-Agent: nss_writev_client\r\n"
		      "Content-Type: application/octet-stream\r\n"
		      "Content-Length: %zu\r\n"
		      "Connection: close\r\n"
		      "\r\n",
		      host, (unsigned)port, body_len);
	if (hl < 0 || (size_t)hl >= sizeof(head)) {
		logmsg("host name too long");
		goto out;
	}
	fd = connect_tls(host, port);
	if (!fd)
		goto out;
	if (record_open(fd) < 0)
		goto close;
	iov[0].iov_base = head;
	iov[0].iov_len = hl;
	iov[1].iov_base = body;
	iov[1].iov_len = (int)(body_len / 2);
	iov[2].iov_base = body + body_len / 2;
	iov[2].iov_len = (int)(body_len - body_len / 2);
	if (writev_all(fd, iov, 3) < 0)
		goto close;
	if (read_response(fd, &resp, &resp_len) < 0)
		goto close;
	if (resp_len < 12 || memcmp(resp, "HTTP/1.", 7) != 0) {
		logmsg("no HTTP response (%zu bytes)", resp_len);
		goto close;
	}
	rbody = memmem(resp, resp_len, "\r\n\r\n", 4);
	if (!rbody) {
		logmsg("response head incomplete (%zu bytes)", resp_len);
		goto close;
	}
	rbody += 4;
	if (memcmp(resp + 8, " 200", 4) != 0) {
		logmsg("response: %.*s", (int)(strcspn(resp, "\r\n")), resp);
		goto close;
	}
	if (write_body(resp, rbody, resp + resp_len) < 0 || fflush(stdout) != 0)
		goto close;
	rc = 0;
close:
	if (record_close() < 0)
		rc = -1;
	if (PR_Close(fd) != PR_SUCCESS) {
		log_pr("PR_Close");
		rc = -1;
	}
out:
	free(resp);
	free(body);
	return rc;
}

int main(int argc, char **argv)
{
	const char *life = getenv("TLS_PEER_LIFETIME");
	long port, body_len;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: %s DBDIR HOST PORT BODY_BYTES\n", argv[0]);
		return 2;
	}
	port = parse_num(argv[3], 65535, "port");
	body_len = parse_num(argv[4], 1L << 30, "BODY_BYTES");
	if (port <= 0 || body_len < 0)
		return 2;
	alarm(life && atoi(life) > 0 ? (unsigned)atoi(life) : TLS_PEER_LIFETIME);

	PR_Init(PR_USER_THREAD, PR_PRIORITY_NORMAL, 1);
	if (NSS_Init(argv[1]) != SECSuccess) {
		log_pr("NSS_Init");
		return 1;
	}
	if (NSS_SetDomesticPolicy() != SECSuccess) {
		log_pr("NSS_SetDomesticPolicy");
		NSS_Shutdown();
		return 1;
	}
	rc = run(argv[2], (unsigned short)port, (size_t)body_len);
	SSL_ClearSessionCache();
	if (NSS_Shutdown() != SECSuccess) {
		log_pr("NSS_Shutdown");
		rc = -1;
	}
	PR_Cleanup();
	return rc == 0 ? 0 : 1;
}
