/* SPDX-License-Identifier: MIT */
/* Shared part of the sample TLS peers (tls_peer_<library>.c): command line, the tiny
 * HTTP/1.1 exchange and the deterministic payloads.  Each library file provides the TLS
 * side through struct tls_peer_ops and calls tls_peer_main().
 *
 *   server PORT CERT KEY [CONNS [BODY_BYTES]]
 *       listen on 127.0.0.1:PORT, serve CONNS connections (default 1) one after the
 *       other, answer each request "200 OK" with BODY_BYTES (default 1000) bytes of
 *       tls_peer_pattern(i, TLS_PEER_SEED_RESPONSE), then close; exit 0 when every
 *       connection went well.  A log line per connection on stderr.
 *   client HOST PORT CAFILE [REQUEST_BYTES [PATH]]
 *       connect, verify the server against CAFILE (and HOST), send one request
 *       (GET PATH, or POST PATH with REQUEST_BYTES bytes of
 *       tls_peer_pattern(i, TLS_PEER_SEED_REQUEST) when REQUEST_BYTES > 0; PATH
 *       defaults to /lib), write the response body to stdout; exit 0 on "200" with a
 *       complete body.
 *
 * Every run ends by itself: an alarm of TLS_PEER_LIFETIME seconds (env
 * TLS_PEER_LIFETIME overrides) kills a peer that hangs.
 *
 * With TLS_PEER_RECORD=DIR in the environment every connection's plaintext is also
 * written, exactly as passed to and returned by the TLS library, to DIR/<client
 * port>.c2s and DIR/<client port>.s2c (the layout tests/e2e/follow.py match reads).
 */
#ifndef TLS_PEER_H
#define TLS_PEER_H

#include <stddef.h>

#define TLS_PEER_LIFETIME 60
#define TLS_PEER_SEED_REQUEST 0x5a
#define TLS_PEER_SEED_RESPONSE 0x00
#define TLS_PEER_IO_MAX 65536 /* the most one ops->write or ops->read call is given */

struct tls_peer_conn; /* one TLS connection, defined by each library file */

struct tls_peer_ops {
	const char *name; /* library name for log lines */
	/* Server: load CERT/KEY and listen on 127.0.0.1:PORT. 0 or -1. */
	int (*server_setup)(const char *port, const char *cert, const char *key);
	/* Accept one connection and complete the handshake; NULL on failure. */
	struct tls_peer_conn *(*server_accept)(void);
	/* Client: trust CAFILE. 0 or -1. */
	int (*client_setup)(const char *cafile);
	/* Connect to HOST:PORT, complete the handshake verifying HOST; NULL on failure. */
	struct tls_peer_conn *(*client_connect)(const char *host, const char *port);
	/* Write some of buf (len is at most TLS_PEER_IO_MAX): > 0 bytes written, -1 on error. */
	long (*write)(struct tls_peer_conn *c, const void *buf, size_t len);
	/* Read up to len (at most TLS_PEER_IO_MAX) bytes: > 0, 0 at the end of the stream, -1 on error. */
	long (*read)(struct tls_peer_conn *c, void *buf, size_t len);
	/* The connection's socket fd (for TLS_PEER_RECORD). */
	int (*fd)(struct tls_peer_conn *c);
	/* Send close_notify, close the socket, free the connection (NULL-safe). */
	void (*close)(struct tls_peer_conn *c);
	/* Free what setup made (listening socket, contexts). */
	void (*teardown)(void);
};

/* Byte i of a deterministic payload; the e2e tests rebuild it (tests/e2e/lib_peers.sh). */
static inline unsigned char tls_peer_pattern(size_t i, unsigned seed)
{
	return (unsigned char)(i * 31 + (i >> 8) + seed);
}

/* Log to stderr with the program's name. */
void tls_peer_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Plain BSD sockets for libraries that take an fd (SSL_set_fd, wolfSSL_set_fd). */
int tls_peer_listen(const char *port);		   /* 127.0.0.1:PORT, -1 on error */
int tls_peer_accept(int lfd);			   /* connected fd, -1 on error */
int tls_peer_connect(const char *host, const char *port); /* connected fd, -1 on error */
int tls_peer_is_ip_literal(const char *host);

int tls_peer_main(const struct tls_peer_ops *ops, int argc, char **argv);

/* The ops table and main() of a library file whose static functions have the usual
 * names: server_setup, server_accept, client_setup, client_connect, conn_write,
 * conn_read, conn_fd, conn_close and teardown. */
#define TLS_PEER_MAIN(library)                                   \
	static const struct tls_peer_ops ops = {                 \
		.name = library,                                 \
		.server_setup = server_setup,                    \
		.server_accept = server_accept,                  \
		.client_setup = client_setup,                    \
		.client_connect = client_connect,                \
		.write = conn_write,                             \
		.read = conn_read,                               \
		.fd = conn_fd,                                   \
		.close = conn_close,                             \
		.teardown = teardown,                            \
	};                                                       \
	int main(int argc, char **argv)                          \
	{                                                        \
		return tls_peer_main(&ops, argc, argv);          \
	}

#endif
