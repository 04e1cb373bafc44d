// SPDX-License-Identifier: MIT
/*
 * LD_PRELOAD library that records what a process hands to SSL_write and gets
 * from SSL_read (tests/e2e/test_grpc_python.sh): the truth a capture is
 * judged against for programs whose TLS plaintext no script of ours sees
 * (gRPC core writes HTTP/2 frames itself).  No BPF is involved.
 *
 *   SSL_RECORD=PREFIX LD_PRELOAD=ssl_record_preload.so PROGRAM ...
 *
 * At exit PREFIX.w holds every byte SSL_write accepted and PREFIX.r every
 * byte SSL_read returned, in call order, all connections of the process
 * together (the test gives it one).  The bytes are kept in memory until then:
 * a file write after each TLS call would add a syscall to the thread that
 * tlspcap ties memory-BIO calls to their socket by.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct record {
	unsigned char *bytes;
	size_t len, cap;
	const char *suffix;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct record written = { .suffix = ".w" }, read_back = { .suffix = ".r" };
static int failed, flushed;

static void record__append(struct record *r, const void *buf, int n)
{
	unsigned char *p;
	size_t cap;

	if (n <= 0)
		return;
	pthread_mutex_lock(&lock);
	if (flushed || failed)
		goto cleanup;
	if (r->len + (size_t)n > r->cap) {
		cap = r->cap ? r->cap : 1 << 16;
		while (cap < r->len + (size_t)n)
			cap *= 2;
		p = realloc(r->bytes, cap);
		if (!p) {
			failed = 1;
			goto cleanup;
		}
		r->bytes = p;
		r->cap = cap;
	}
	memcpy(r->bytes + r->len, buf, (size_t)n);
	r->len += (size_t)n;
cleanup:
	pthread_mutex_unlock(&lock);
}

/*
 * The program's own libssl.so.3: RTLD_NEXT does not find it when it came in as a
 * dependency of a module loaded with RTLD_LOCAL (python's extension modules).
 */
static void *real_function(const char *name)
{
	void *lib = dlopen("libssl.so.3", RTLD_LAZY | RTLD_NOLOAD);
	void *f = lib ? dlsym(lib, name) : NULL;

	if (!f) {
		fprintf(stderr, "ssl_record_preload: no %s in a loaded libssl.so.3\n", name);
		abort();
	}
	return f;
}

int SSL_write(void *ssl, const void *buf, int num)
{
	static int (*real)(void *, const void *, int);
	int n;

	if (!real)
		real = (int (*)(void *, const void *, int))real_function("SSL_write");
	n = real(ssl, buf, num);
	record__append(&written, buf, n);
	return n;
}

int SSL_read(void *ssl, void *buf, int num)
{
	static int (*real)(void *, void *, int);
	int n;

	if (!real)
		real = (int (*)(void *, void *, int))real_function("SSL_read");
	n = real(ssl, buf, num);
	record__append(&read_back, buf, n);
	return n;
}

static int record__save(const char *prefix, const struct record *r)
{
	char path[4096];
	size_t off = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s%s", prefix, r->suffix);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (off < r->len) {
		n = write(fd, r->bytes + off, r->len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	return off == r->len ? 0 : -1;
}

/* Out of memory leaves no files at all: the test fails on their absence. */
__attribute__((destructor)) static void record__flush(void)
{
	const char *prefix = getenv("SSL_RECORD");

	pthread_mutex_lock(&lock);
	flushed = 1;
	if (prefix && !failed && (record__save(prefix, &written) || record__save(prefix, &read_back)))
		fprintf(stderr, "ssl_record_preload: cannot write %s.w/.r\n", prefix);
	if (prefix && failed)
		fprintf(stderr, "ssl_record_preload: out of memory, nothing recorded\n");
	pthread_mutex_unlock(&lock);
}
