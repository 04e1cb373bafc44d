// SPDX-License-Identifier: MIT
/*
 * A TLS client one of whose threads ends inside SSL_read while the process
 * goes on (tests/e2e/test_killed_in_call.sh): a second thread connects to
 * 127.0.0.1:PORT, writes "thread exits inside SSL_read", prints
 * "blocked TID" and waits in SSL_read (the server never writes); the main
 * thread makes that thread exit where it is (a signal whose handler calls
 * exit(2) for the thread alone), prints "exited TID", waits WAIT_MS, writes
 * "the process goes on" on its own connection, prints "wrote" and after
 * WAIT_MS more exits 0.  No certificate check.  Exits 1 on any error.
 *
 *   thread_exit_client PORT WAIT_MS
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

static SSL_CTX *ctx;
static int port;
static pid_t reader_tid;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static SSL *tls_connect(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	SSL *ssl;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return NULL;
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1)
		return NULL;
	return ssl;
}

/* The thread alone ends, inside whatever call it is in. */
static void exit_thread(int sig)
{
	syscall(SYS_exit, 0);
}

static void *reader(void *arg)
{
	static const char msg[] = "thread exits inside SSL_read";
	SSL *ssl = tls_connect();
	char buf[64];

	if (!ssl || SSL_write(ssl, msg, sizeof(msg) - 1) != sizeof(msg) - 1) {
		fprintf(stderr, "thread_exit_client: reader: connect or write failed\n");
		exit(1);
	}
	__atomic_store_n(&reader_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	printf("blocked %d\n", reader_tid);
	fflush(stdout);
	SSL_read(ssl, buf, sizeof(buf));
	fprintf(stderr, "thread_exit_client: SSL_read returned\n");
	exit(1);
}

int main(int argc, char **argv)
{
	static const char msg[] = "the process goes on";
	struct sigaction sa = { .sa_handler = exit_thread };
	pthread_t thread;
	long wait_ms;
	SSL *ssl;

	if (argc != 3) {
		fprintf(stderr, "usage: thread_exit_client PORT WAIT_MS\n");
		return 2;
	}
	port = atoi(argv[1]);
	wait_ms = atol(argv[2]);
	ctx = SSL_CTX_new(TLS_client_method());
	ssl = ctx ? tls_connect() : NULL;
	if (!ssl || sigaction(SIGUSR1, &sa, NULL) || pthread_create(&thread, NULL, reader, NULL)) {
		fprintf(stderr, "thread_exit_client: setup failed\n");
		return 1;
	}
	while (!__atomic_load_n(&reader_tid, __ATOMIC_ACQUIRE))
		sleep_ms(10);
	sleep_ms(wait_ms); /* well inside SSL_read by now */
	if (pthread_kill(thread, SIGUSR1)) {
		fprintf(stderr, "thread_exit_client: pthread_kill failed\n");
		return 1;
	}
	/* gone from the thread group once its /proc entry is */
	{
		char path[64];
		int i;

		snprintf(path, sizeof(path), "/proc/self/task/%d", reader_tid);
		for (i = 0; i < 500 && !access(path, F_OK); i++)
			sleep_ms(10);
		if (i == 500) {
			fprintf(stderr, "thread_exit_client: the thread did not exit\n");
			return 1;
		}
	}
	printf("exited %d\n", reader_tid);
	fflush(stdout);
	sleep_ms(wait_ms);
	if (SSL_write(ssl, msg, sizeof(msg) - 1) != sizeof(msg) - 1) {
		fprintf(stderr, "thread_exit_client: write failed\n");
		return 1;
	}
	printf("wrote\n");
	fflush(stdout);
	sleep_ms(wait_ms);
	return 0;
}
