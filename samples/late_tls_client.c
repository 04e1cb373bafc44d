// SPDX-License-Identifier: MIT
/*
 * A TLS client whose library arrives while its connection is open
 * (tests/e2e/test_late_library.sh): it connects a TCP socket, loads a TLS
 * library with dlopen(), makes the TLS handshake and its first SSL_write at
 * once, waits WAIT_MS, then writes the rest and reads the answer.  A capture
 * that probes the library when it is mapped has missed the first write, so
 * this end's view of the connection is joined mid-connection.
 *
 *   late_tls_client PORT LIBSSL WAIT_MS RESPONSE_BYTES OUT
 *
 * Speaks tls_peer.py's protocol to 127.0.0.1:PORT (8-byte header: request and
 * response lengths, then the request; no certificate check), writes what it
 * sent to OUT.c2s and what it received to OUT.s2c, and prints "early N bytes,
 * late M bytes, response R bytes".  Exits 1 on any error.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EARLY_BYTES 1000
#define LATE_BYTES 3000

struct libssl {
	const void *(*client_method)(void);
	void *(*ctx_new)(const void *method);
	void *(*ssl_new)(void *ctx);
	int (*set_fd)(void *ssl, int fd);
	int (*connect)(void *ssl);
	int (*write)(void *ssl, const void *buf, int num);
	int (*read)(void *ssl, void *buf, int num);
};

static int fail(const char *what)
{
	fprintf(stderr, "late_tls_client: %s\n", what);
	return 1;
}

static int load(const char *path, struct libssl *l)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "late_tls_client: %s\n", dlerror());
		return -1;
	}
	l->client_method = (const void *(*)(void))dlsym(h, "TLS_client_method");
	l->ctx_new = (void *(*)(const void *))dlsym(h, "SSL_CTX_new");
	l->ssl_new = (void *(*)(void *))dlsym(h, "SSL_new");
	l->set_fd = (int (*)(void *, int))dlsym(h, "SSL_set_fd");
	l->connect = (int (*)(void *))dlsym(h, "SSL_connect");
	l->write = (int (*)(void *, const void *, int))dlsym(h, "SSL_write");
	l->read = (int (*)(void *, void *, int))dlsym(h, "SSL_read");
	return l->client_method && l->ctx_new && l->ssl_new && l->set_fd && l->connect &&
			       l->write && l->read
		       ? 0
		       : -1;
}

static int save(const char *out, const char *ext, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", out, ext);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static uint8_t sent[8 + EARLY_BYTES + LATE_BYTES], received[1 << 20];
	struct timespec wait;
	uint32_t response;
	size_t got = 0;
	struct libssl l;
	void *ssl;
	long ms;
	int fd, n, i;

	if (argc != 6) {
		fprintf(stderr, "usage: late_tls_client PORT LIBSSL WAIT_MS RESPONSE_BYTES OUT\n");
		return 2;
	}
	addr.sin_port = htons((uint16_t)atoi(argv[1]));
	ms = atol(argv[3]);
	response = (uint32_t)atol(argv[4]);
	if (response > sizeof(received))
		return fail("response too large");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return fail("connect");
	/* the connection is open before the library is in the process */
	if (load(argv[2], &l))
		return fail("loading the TLS library");
	ssl = l.ssl_new(l.ctx_new(l.client_method()));
	if (!ssl || l.set_fd(ssl, fd) != 1 || l.connect(ssl) != 1)
		return fail("TLS handshake");
	*(uint32_t *)sent = htonl(EARLY_BYTES + LATE_BYTES);
	*(uint32_t *)(sent + 4) = htonl(response);
	for (i = 8; i < (int)sizeof(sent); i++)
		sent[i] = 'a' + i % 26;
	if (l.write(ssl, sent, 8 + EARLY_BYTES) != 8 + EARLY_BYTES)
		return fail("early write");
	wait.tv_sec = ms / 1000;
	wait.tv_nsec = ms % 1000 * 1000000;
	nanosleep(&wait, NULL);
	if (l.write(ssl, sent + 8 + EARLY_BYTES, LATE_BYTES) != LATE_BYTES)
		return fail("late write");
	while (got < response && (n = l.read(ssl, received + got, (int)(response - got))) > 0)
		got += n;
	if (got != response)
		return fail("short response");
	if (save(argv[5], ".c2s", sent, sizeof(sent)) || save(argv[5], ".s2c", received, got))
		return fail("writing OUT");
	printf("early %d bytes, late %d bytes, response %zu bytes\n", 8 + EARLY_BYTES, LATE_BYTES, got);
	close(fd);
	return 0;
}
