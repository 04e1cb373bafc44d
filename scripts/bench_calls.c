// SPDX-License-Identifier: MIT
/*
 * bench_calls: what one call of a probed TLS function costs, for the
 * benchmark's per-call table (probe at the function entry against probe at
 * tlspcap's chosen point, scripts/bench.sh).  Calls each function of LIB
 * that tlspcap probes COUNT times in a way that returns at once with an
 * error but passes the chosen probe point (an unconnected context, or a
 * NULL one where the function checks for it first), and prints
 * "FUNCTION NS" (nanoseconds per call) per function.
 *
 *   bench_calls openssl|boringssl|wolfssl|mbedtls|nspr LIB COUNT
 *
 * The library is dlopen()ed: this program links none, so OpenSSL and
 * BoringSSL (same symbol names) never mix.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void *(*ptr_fn)();
typedef long (*call_fn)();

static void *lib;
static char buf[64];

static void *sym(const char *name)
{
	void *p = dlsym(lib, name);

	if (!p) {
		fprintf(stderr, "bench_calls: %s: %s\n", name, dlerror());
		exit(1);
	}
	return p;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum form { INT_CALL, EX_CALL, IOV_CALL };

/* COUNT calls of @name(ctx, buf, ...), ns per call. */
static void time_calls(const char *name, void *ctx, enum form form, long count)
{
	call_fn fn = (call_fn)sym(name);
	size_t done;
	double t0 = now_ns();
	long i;

	for (i = 0; i < count; i++) {
		switch (form) {
		case INT_CALL:
			fn(ctx, buf, 1);
			break;
		case EX_CALL:
			fn(ctx, buf, (size_t)1, &done);
			break;
		case IOV_CALL: /* more pieces than PR_Writev takes: refused before the fd is used */
			fn(ctx, NULL, 17, 0);
			break;
		}
	}
	printf("%s %.0f\n", name, (now_ns() - t0) / count);
}

/* An SSL object with no connection: the internal write/read refuse it at once. */
static void *openssl_unconnected(void)
{
	void *ctx = ((ptr_fn)sym("SSL_CTX_new"))(((ptr_fn)sym("TLS_method"))());
	void *ssl = ctx ? ((ptr_fn)sym("SSL_new"))(ctx) : NULL;

	if (!ssl) {
		fprintf(stderr, "bench_calls: SSL_new failed\n");
		exit(1);
	}
	return ssl;
}

int main(int argc, char **argv)
{
	const char *kind;
	long count;

	if (argc != 4 || (count = strtol(argv[3], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: bench_calls openssl|boringssl|wolfssl|mbedtls|nspr LIB COUNT\n");
		return 2;
	}
	kind = argv[1];
	lib = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "bench_calls: %s\n", dlerror());
		return 1;
	}
	if (!strcmp(kind, "openssl")) {
		void *ssl = openssl_unconnected();

		time_calls("SSL_write", ssl, INT_CALL, count);
		time_calls("SSL_read", ssl, INT_CALL, count);
		time_calls("SSL_write_ex", ssl, EX_CALL, count);
		time_calls("SSL_read_ex", ssl, EX_CALL, count);
	} else if (!strcmp(kind, "boringssl")) {
		void *ctx = ((ptr_fn)sym("SSL_CTX_new"))(((ptr_fn)sym("TLS_method"))());
		void *ssl = ((ptr_fn)sym("SSL_new"))(ctx);

		time_calls("SSL_write", ssl, INT_CALL, count);
		time_calls("SSL_read", ssl, INT_CALL, count);
	} else if (!strcmp(kind, "wolfssl")) {
		time_calls("wolfSSL_write", NULL, INT_CALL, count);
		time_calls("wolfSSL_read", NULL, INT_CALL, count);
	} else if (!strcmp(kind, "mbedtls")) {
		time_calls("mbedtls_ssl_write", NULL, INT_CALL, count);
		time_calls("mbedtls_ssl_read", NULL, INT_CALL, count);
	} else if (!strcmp(kind, "nspr")) {
		time_calls("PR_Writev", NULL, IOV_CALL, count);
	} else {
		fprintf(stderr, "bench_calls: unknown library kind %s\n", kind);
		return 2;
	}
	return 0;
}
