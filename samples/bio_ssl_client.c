// SPDX-License-Identifier: MIT
/*
 * An HTTP/1.0 client on OpenSSL's SSL BIO (BIO_new_ssl_connect): its reads
 * and writes go BIO_read/BIO_write -> ssl_read_internal/ssl_write_internal,
 * never through SSL_read/SSL_write (tests/e2e/test_openssl_bio.sh).
 *
 *   bio_ssl_client HOST:PORT PATH CAFILE OUT
 *
 * Sends "GET PATH HTTP/1.0" with a Host header, writes every byte received
 * until the server closes to OUT, and prints "request N bytes, response M
 * bytes" on stdout.  Exits 1 on any error.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static int fail(const char *what)
{
	fprintf(stderr, "bio_ssl_client: %s\n", what);
	ERR_print_errors_fp(stderr);
	return 1;
}

int main(int argc, char **argv)
{
	char request[512], buf[16384];
	SSL_CTX *ctx = NULL;
	BIO *bio = NULL;
	FILE *out = NULL;
	size_t received = 0;
	int n, len, rc = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: bio_ssl_client HOST:PORT PATH CAFILE OUT\n");
		return 2;
	}
	len = snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", argv[2],
		       argv[1]);
	if (len < 0 || (size_t)len >= sizeof(request))
		return fail("request too long");
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !SSL_CTX_load_verify_locations(ctx, argv[3], NULL)) {
		rc = fail("TLS context");
		goto cleanup;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	bio = BIO_new_ssl_connect(ctx);
	if (!bio || !BIO_set_conn_hostname(bio, argv[1]) || BIO_do_connect(bio) <= 0 ||
	    BIO_do_handshake(bio) <= 0) {
		rc = fail("connecting");
		goto cleanup;
	}
	if (BIO_write(bio, request, len) != len) {
		rc = fail("sending the request");
		goto cleanup;
	}
	out = fopen(argv[4], "wb");
	if (!out) {
		rc = fail("opening the output");
		goto cleanup;
	}
	while ((n = BIO_read(bio, buf, sizeof(buf))) > 0) {
		if (fwrite(buf, 1, n, out) != (size_t)n) {
			rc = fail("writing the output");
			goto cleanup;
		}
		received += n;
	}
	printf("request %d bytes, response %zu bytes\n", len, received);
	rc = received ? 0 : fail("no response");
cleanup:
	if (out && fclose(out))
		rc = fail("closing the output");
	BIO_free_all(bio);
	SSL_CTX_free(ctx);
	return rc;
}
