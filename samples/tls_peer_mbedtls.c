// SPDX-License-Identifier: MIT
/* Sample TLS peer on mbed TLS 2.28 (Debian's libmbedtls): mbedtls_net_* sockets bound
 * with mbedtls_ssl_set_bio(mbedtls_net_send, mbedtls_net_recv), mbedtls_ssl_write/read.
 * Usage: see tls_peer.h. */
#include "tls_peer.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdlib.h>

struct tls_peer_conn {
	mbedtls_net_context net;
	mbedtls_ssl_context ssl;
	int handshaken;
};

static mbedtls_net_context listen_net;
static mbedtls_ssl_config conf;
static mbedtls_x509_crt crt; /* own certificate (server) or trusted CA (client) */
static mbedtls_pk_context pkey;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;

static void log_error(const char *what, int ret)
{
	char buf[160];

	mbedtls_strerror(ret, buf, sizeof(buf));
	tls_peer_log("%s failed: -0x%04x %s", what, (unsigned)-ret, buf);
}

static int want_more(int ret)
{
	return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* Shared set-up: contexts initialised (teardown frees them whatever happens), RNG seeded,
 * configuration defaults for ENDPOINT. */
static int common_setup(int endpoint)
{
	static const unsigned char pers[] = "tls_peer_mbedtls";
	int ret;

	mbedtls_net_init(&listen_net);
	mbedtls_ssl_config_init(&conf);
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&pkey);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, pers, sizeof(pers) - 1);
	if (ret) {
		log_error("mbedtls_ctr_drbg_seed", ret);
		return -1;
	}
	ret = mbedtls_ssl_config_defaults(&conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
					  MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret) {
		log_error("mbedtls_ssl_config_defaults", ret);
		return -1;
	}
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	return 0;
}

static int server_setup(const char *port, const char *cert, const char *key)
{
	int ret;

	if (common_setup(MBEDTLS_SSL_IS_SERVER) < 0)
		return -1;
	if ((ret = mbedtls_x509_crt_parse_file(&crt, cert)) != 0) {
		log_error("loading the certificate", ret);
		return -1;
	}
	if ((ret = mbedtls_pk_parse_keyfile(&pkey, key, NULL)) != 0) {
		log_error("loading the key", ret);
		return -1;
	}
	if ((ret = mbedtls_ssl_conf_own_cert(&conf, &crt, &pkey)) != 0) {
		log_error("mbedtls_ssl_conf_own_cert", ret);
		return -1;
	}
	if ((ret = mbedtls_net_bind(&listen_net, "127.0.0.1", port, MBEDTLS_NET_PROTO_TCP)) != 0) {
		log_error("listening on 127.0.0.1", ret);
		return -1;
	}
	return 0;
}

static struct tls_peer_conn *new_conn(void)
{
	struct tls_peer_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		tls_peer_log("out of memory");
		return NULL;
	}
	mbedtls_net_init(&c->net);
	mbedtls_ssl_init(&c->ssl);
	return c;
}

static void conn_close(struct tls_peer_conn *c)
{
	int ret, i;

	if (!c)
		return;
	if (c->handshaken) {
		/* close_notify; the peer's is not awaited (bounded retries) */
		for (i = 0; i < 100; i++) {
			ret = mbedtls_ssl_close_notify(&c->ssl);
			if (!want_more(ret))
				break;
		}
	}
	mbedtls_ssl_free(&c->ssl);
	mbedtls_net_free(&c->net);
	free(c);
}

/* Bind the connected c->net to a new TLS context and run the handshake. */
static int handshake(struct tls_peer_conn *c)
{
	int ret;

	if ((ret = mbedtls_ssl_setup(&c->ssl, &conf)) != 0) {
		log_error("mbedtls_ssl_setup", ret);
		return -1;
	}
	mbedtls_ssl_set_bio(&c->ssl, &c->net, mbedtls_net_send, mbedtls_net_recv, NULL);
	do
		ret = mbedtls_ssl_handshake(&c->ssl);
	while (want_more(ret));
	if (ret) {
		log_error("mbedtls_ssl_handshake", ret);
		return -1;
	}
	c->handshaken = 1;
	return 0;
}

static struct tls_peer_conn *server_accept(void)
{
	struct tls_peer_conn *c = new_conn();
	int ret;

	if (!c)
		return NULL;
	if ((ret = mbedtls_net_accept(&listen_net, &c->net, NULL, 0, NULL)) != 0) {
		log_error("mbedtls_net_accept", ret);
		conn_close(c);
		return NULL;
	}
	if (handshake(c) < 0) {
		conn_close(c);
		return NULL;
	}
	return c;
}

static int client_setup(const char *cafile)
{
	int ret;

	if (common_setup(MBEDTLS_SSL_IS_CLIENT) < 0)
		return -1;
	if ((ret = mbedtls_x509_crt_parse_file(&crt, cafile)) != 0) {
		log_error("loading the CA file", ret);
		return -1;
	}
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&conf, &crt, NULL);
	return 0;
}

static struct tls_peer_conn *client_connect(const char *host, const char *port)
{
	struct tls_peer_conn *c = new_conn();
	int ret;

	if (!c)
		return NULL;
	if ((ret = mbedtls_net_connect(&c->net, host, port, MBEDTLS_NET_PROTO_TCP)) != 0) {
		log_error("mbedtls_net_connect", ret);
		goto err;
	}
	if ((ret = mbedtls_ssl_setup(&c->ssl, &conf)) != 0) {
		log_error("mbedtls_ssl_setup", ret);
		goto err;
	}
	/* mbed TLS 2.28 matches DNS names only: an IP literal is checked by the chain only. */
	if (!tls_peer_is_ip_literal(host) && (ret = mbedtls_ssl_set_hostname(&c->ssl, host)) != 0) {
		log_error("mbedtls_ssl_set_hostname", ret);
		goto err;
	}
	mbedtls_ssl_set_bio(&c->ssl, &c->net, mbedtls_net_send, mbedtls_net_recv, NULL);
	do
		ret = mbedtls_ssl_handshake(&c->ssl);
	while (want_more(ret));
	if (ret) {
		log_error("mbedtls_ssl_handshake", ret);
		goto err;
	}
	c->handshaken = 1;
	return c;
err:
	conn_close(c);
	return NULL;
}

static long conn_write(struct tls_peer_conn *c, const void *buf, size_t len)
{
	int n;

	do
		n = mbedtls_ssl_write(&c->ssl, buf, len);
	while (want_more(n));
	if (n > 0)
		return n;
	log_error("mbedtls_ssl_write", n);
	return -1;
}

static long conn_read(struct tls_peer_conn *c, void *buf, size_t len)
{
	int n;

	do
		n = mbedtls_ssl_read(&c->ssl, buf, len);
	while (want_more(n));
	if (n > 0)
		return n;
	if (n == 0 || n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	log_error("mbedtls_ssl_read", n);
	return -1;
}

static int conn_fd(struct tls_peer_conn *c)
{
	return c->net.fd;
}

static void teardown(void)
{
	mbedtls_net_free(&listen_net);
	mbedtls_ssl_config_free(&conf);
	mbedtls_x509_crt_free(&crt);
	mbedtls_pk_free(&pkey);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
}

TLS_PEER_MAIN("mbedtls")
