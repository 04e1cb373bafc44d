// SPDX-License-Identifier: MIT
/* Sample TLS peer on wolfSSL (Debian's libwolfssl): wolfSSL_set_fd on a plain socket,
 * wolfSSL_write/wolfSSL_read.  Usage: see tls_peer.h. */
#include "tls_peer.h"

#include <wolfssl/options.h> /* the build's configuration: first */
#include <wolfssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tls_peer_conn {
	WOLFSSL *ssl;
	int fd;
};

static WOLFSSL_CTX *ctx;
static int listen_fd = -1;
static int initialized;

static void log_error(const char *what, WOLFSSL *ssl, int ret)
{
	char buf[WOLFSSL_MAX_ERROR_SZ];
	int err = ssl ? wolfSSL_get_error(ssl, ret) : ret;

	wolfSSL_ERR_error_string_n((unsigned long)err, buf, sizeof(buf));
	tls_peer_log("%s failed: %d %s", what, err, buf);
}

static int new_ctx(WOLFSSL_METHOD *method)
{
	int ret = wolfSSL_Init();

	if (ret != WOLFSSL_SUCCESS) {
		log_error("wolfSSL_Init", NULL, ret);
		return -1;
	}
	initialized = 1;
	ctx = method ? wolfSSL_CTX_new(method) : NULL;
	if (!ctx) {
		tls_peer_log("wolfSSL_CTX_new failed");
		return -1;
	}
	return 0;
}

static int server_setup(const char *port, const char *cert, const char *key)
{
	int ret;

	if (new_ctx(wolfSSLv23_server_method()) < 0)
		return -1;
	ret = wolfSSL_CTX_use_certificate_chain_file(ctx, cert);
	if (ret != WOLFSSL_SUCCESS) {
		log_error("loading the certificate", NULL, ret);
		return -1;
	}
	ret = wolfSSL_CTX_use_PrivateKey_file(ctx, key, WOLFSSL_FILETYPE_PEM);
	if (ret != WOLFSSL_SUCCESS) {
		log_error("loading the key", NULL, ret);
		return -1;
	}
	listen_fd = tls_peer_listen(port);
	return listen_fd < 0 ? -1 : 0;
}

static struct tls_peer_conn *wrap(int fd)
{
	struct tls_peer_conn *c = calloc(1, sizeof(*c));
	int ret;

	if (!c) {
		tls_peer_log("out of memory");
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->ssl = wolfSSL_new(ctx);
	if (!c->ssl) {
		tls_peer_log("wolfSSL_new failed");
		goto err;
	}
	ret = wolfSSL_set_fd(c->ssl, fd);
	if (ret != WOLFSSL_SUCCESS) {
		log_error("wolfSSL_set_fd", NULL, ret);
		goto err;
	}
	return c;
err:
	wolfSSL_free(c->ssl);
	close(fd);
	free(c);
	return NULL;
}

static void conn_close(struct tls_peer_conn *c)
{
	if (!c)
		return;
	if (wolfSSL_is_init_finished(c->ssl))
		wolfSSL_shutdown(c->ssl); /* close_notify; the peer's is not awaited */
	wolfSSL_free(c->ssl);
	close(c->fd);
	free(c);
}

static struct tls_peer_conn *server_accept(void)
{
	struct tls_peer_conn *c;
	int fd = tls_peer_accept(listen_fd), ret;

	if (fd < 0 || !(c = wrap(fd)))
		return NULL;
	ret = wolfSSL_accept(c->ssl);
	if (ret != WOLFSSL_SUCCESS) {
		log_error("wolfSSL_accept", c->ssl, ret);
		conn_close(c);
		return NULL;
	}
	return c;
}

static int client_setup(const char *cafile)
{
	int ret;

	if (new_ctx(wolfSSLv23_client_method()) < 0)
		return -1;
	ret = wolfSSL_CTX_load_verify_locations(ctx, cafile, NULL);
	if (ret != WOLFSSL_SUCCESS) {
		log_error("loading the CA file", NULL, ret);
		return -1;
	}
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
	return 0;
}

static struct tls_peer_conn *client_connect(const char *host, const char *port)
{
	struct tls_peer_conn *c;
	int fd = tls_peer_connect(host, port), ret;

	if (fd < 0 || !(c = wrap(fd)))
		return NULL;
	/* This build has no IP SAN matching: an IP literal is checked by the chain only. */
	if (!tls_peer_is_ip_literal(host) &&
	    (wolfSSL_UseSNI(c->ssl, WOLFSSL_SNI_HOST_NAME, host, (unsigned short)strlen(host)) !=
		     WOLFSSL_SUCCESS ||
	     wolfSSL_check_domain_name(c->ssl, host) != WOLFSSL_SUCCESS)) {
		tls_peer_log("setting the expected server name failed");
		conn_close(c);
		return NULL;
	}
	ret = wolfSSL_connect(c->ssl);
	if (ret != WOLFSSL_SUCCESS) {
		log_error("wolfSSL_connect", c->ssl, ret);
		conn_close(c);
		return NULL;
	}
	return c;
}

static long conn_write(struct tls_peer_conn *c, const void *buf, size_t len)
{
	int n = wolfSSL_write(c->ssl, buf, (int)len);

	if (n > 0)
		return n;
	log_error("wolfSSL_write", c->ssl, n);
	return -1;
}

static long conn_read(struct tls_peer_conn *c, void *buf, size_t len)
{
	int n = wolfSSL_read(c->ssl, buf, (int)len);

	if (n > 0)
		return n;
	if (wolfSSL_get_error(c->ssl, n) == WOLFSSL_ERROR_ZERO_RETURN)
		return 0;
	log_error("wolfSSL_read", c->ssl, n);
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
	wolfSSL_CTX_free(ctx);
	ctx = NULL;
	if (initialized)
		wolfSSL_Cleanup();
	initialized = 0;
}

TLS_PEER_MAIN("wolfssl")
