// SPDX-License-Identifier: MIT
/* Sample TLS peer on BoringSSL (Debian's android-libboringssl): SSL_set_fd on a plain
 * socket, SSL_write/SSL_read.  Usage: see tls_peer.h. */
#include "tls_peer.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tls_peer_conn {
	SSL *ssl;
	int fd;
};

static SSL_CTX *ctx;
static int listen_fd = -1;

static void log_errors(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	ERR_error_string_n(e, buf, sizeof(buf));
	tls_peer_log("%s failed: %s", what, e ? buf : "(no error queued)");
	ERR_clear_error();
}

static int new_ctx(void)
{
	ctx = SSL_CTX_new(TLS_method());
	if (!ctx) {
		log_errors("SSL_CTX_new");
		return -1;
	}
	return 0;
}

static int server_setup(const char *port, const char *cert, const char *key)
{
	if (new_ctx() < 0)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		log_errors("loading the certificate");
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		log_errors("loading the key");
		return -1;
	}
	listen_fd = tls_peer_listen(port);
	return listen_fd < 0 ? -1 : 0;
}

static struct tls_peer_conn *wrap(int fd)
{
	struct tls_peer_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		tls_peer_log("out of memory");
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->ssl = SSL_new(ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
		log_errors("SSL_new/SSL_set_fd");
		SSL_free(c->ssl);
		close(fd);
		free(c);
		return NULL;
	}
	return c;
}

static void conn_close(struct tls_peer_conn *c)
{
	if (!c)
		return;
	if (SSL_is_init_finished(c->ssl))
		SSL_shutdown(c->ssl); /* close_notify; the peer's is not awaited */
	SSL_free(c->ssl);
	close(c->fd);
	free(c);
}

static struct tls_peer_conn *server_accept(void)
{
	struct tls_peer_conn *c;
	int fd = tls_peer_accept(listen_fd);

	if (fd < 0 || !(c = wrap(fd)))
		return NULL;
	if (SSL_accept(c->ssl) != 1) {
		log_errors("SSL_accept");
		conn_close(c);
		return NULL;
	}
	return c;
}

static int client_setup(const char *cafile)
{
	if (new_ctx() < 0)
		return -1;
	if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		log_errors("loading the CA file");
		return -1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return 0;
}

static struct tls_peer_conn *client_connect(const char *host, const char *port)
{
	struct tls_peer_conn *c;
	int fd = tls_peer_connect(host, port), ok;

	if (fd < 0 || !(c = wrap(fd)))
		return NULL;
	if (tls_peer_is_ip_literal(host)) {
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host);
	} else {
		ok = SSL_set_tlsext_host_name(c->ssl, host) == 1 && SSL_set1_host(c->ssl, host) == 1;
	}
	if (!ok) {
		log_errors("setting the expected server name");
		conn_close(c);
		return NULL;
	}
	if (SSL_connect(c->ssl) != 1) {
		log_errors("SSL_connect");
		conn_close(c);
		return NULL;
	}
	return c;
}

static long conn_write(struct tls_peer_conn *c, const void *buf, size_t len)
{
	int n = SSL_write(c->ssl, buf, (int)len);

	if (n > 0)
		return n;
	log_errors("SSL_write");
	return -1;
}

static long conn_read(struct tls_peer_conn *c, void *buf, size_t len)
{
	int n = SSL_read(c->ssl, buf, (int)len);

	if (n > 0)
		return n;
	if (SSL_get_error(c->ssl, n) == SSL_ERROR_ZERO_RETURN)
		return 0;
	log_errors("SSL_read");
	return -1;
}

static int conn_fd(struct tls_peer_conn *c)
{
	return c->fd;
}

static void teardown(void)
{
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
	SSL_CTX_free(ctx);
	ctx = NULL;
}

TLS_PEER_MAIN("boringssl")
