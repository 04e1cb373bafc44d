// SPDX-License-Identifier: MIT
/*
 * netinfo alone, on this process's own loopback sockets: which connections
 * were open before a snapshot (joined mid-connection), from /proc/net and
 * from /proc/PID/fd, and which ports listen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "netinfo.h"

struct pair {
	int listener, client, server;
	uint16_t port;
};

static void pair_open(struct pair *p)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	p->listener = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->listener >= 0);
	assert_int_equal(bind(p->listener, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(p->listener, 1), 0);
	assert_int_equal(getsockname(p->listener, (struct sockaddr *)&a, &len), 0);
	p->port = ntohs(a.sin_port);
	p->client = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(p->client, (struct sockaddr *)&a, sizeof(a)), 0);
	p->server = accept(p->listener, NULL, NULL);
	assert_true(p->server >= 0);
}

static void pair_close(struct pair *p)
{
	close(p->client);
	close(p->server);
	close(p->listener);
}

static uint64_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static void test_established_at_snapshot(void **state)
{
	struct netinfo *n = netinfo__new();
	struct pair before, after;

	assert_non_null(n);
	pair_open(&before);
	assert_int_equal(netinfo__snapshot_established(n), 0);
	pair_open(&after);
	assert_true(netinfo__was_established(n, inode_of(before.client)));
	assert_true(netinfo__was_established(n, inode_of(before.server)));
	/* /proc/net/tcp lists connections, not listeners */
	assert_false(netinfo__was_established(n, inode_of(before.listener)));
	assert_false(netinfo__was_established(n, inode_of(after.client)));
	assert_false(netinfo__was_established(n, inode_of(after.server)));
	assert_false(netinfo__was_established(n, 0));
	pair_close(&before);
	pair_close(&after);
	netinfo__free(n);
}

static void test_process_snapshot(void **state)
{
	struct netinfo *n = netinfo__new();
	struct pair before, after;

	assert_non_null(n);
	pair_open(&before);
	assert_int_equal(netinfo__snapshot_process(n, getpid()), 0);
	pair_open(&after);
	/* every socket the process had open, the listener too */
	assert_true(netinfo__was_established(n, inode_of(before.client)));
	assert_true(netinfo__was_established(n, inode_of(before.server)));
	assert_true(netinfo__was_established(n, inode_of(before.listener)));
	assert_false(netinfo__was_established(n, inode_of(after.client)));
	assert_false(netinfo__was_established(n, inode_of(after.server)));
	assert_int_equal(netinfo__snapshot_process(n, -1), -ENOENT);
	pair_close(&before);
	pair_close(&after);
	netinfo__free(n);
}

static void test_listening_and_local(void **state)
{
	static const uint8_t loopback[4] = { 127, 0, 0, 1 }, other[4] = { 192, 0, 2, 1 };
	struct netinfo *n = netinfo__new();
	struct pair p;

	assert_non_null(n);
	pair_open(&p);
	assert_true(netinfo__is_listening(n, p.port, 1000000000000ull));
	assert_true(netinfo__is_local_address(n, AF_INET, loopback));
	assert_false(netinfo__is_local_address(n, AF_INET, other));
	pair_close(&p);
	netinfo__free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_established_at_snapshot),
		cmocka_unit_test(test_process_snapshot),
		cmocka_unit_test(test_listening_and_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
