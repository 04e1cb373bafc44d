// SPDX-License-Identifier: MIT
/*
 * The capture filter alone: libpcap expressions judged on a connection's real
 * endpoints (the SYN client -> server, the SYN-ACK back), and libpcap's own
 * message for an expression it refuses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "filter.h"
#include "tcp_stream.h"

static struct tcp_endpoint endpoint(const char *addr, uint16_t port)
{
	struct tcp_endpoint e = { .port = port };

	e.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(e.family, addr, e.addr), 1);
	return e;
}

/* Does @expression keep the connection @caddr:@cport -> @saddr:@sport? */
static bool keeps(const char *expression, const char *caddr, uint16_t cport, const char *saddr,
		  uint16_t sport)
{
	struct tcp_endpoint client = endpoint(caddr, cport), server = endpoint(saddr, sport);
	struct capture_filter *f;
	char msg[256] = "";
	bool verdict;

	f = capture_filter__new(expression, msg, sizeof(msg));
	if (!f)
		fail_msg("'%s' refused: %s", expression, msg);
	verdict = capture_filter__match(f, &client, &server);
	capture_filter__free(f);
	return verdict;
}

static void test_ports(void **state)
{
	assert_true(keeps("port 443", "127.0.0.1", 50000, "127.0.0.1", 443));
	assert_false(keeps("port 443", "127.0.0.1", 50000, "127.0.0.1", 8443));
	assert_true(keeps("tcp port 8443", "10.1.2.3", 40000, "10.9.9.9", 8443));
	assert_true(keeps("not port 8443", "127.0.0.1", 50000, "127.0.0.1", 443));
	assert_false(keeps("not port 8443", "127.0.0.1", 50000, "127.0.0.1", 8443));
	assert_true(keeps("portrange 400-500", "127.0.0.1", 50000, "127.0.0.1", 443));
	/* the client's port counts too: "port" is either end */
	assert_true(keeps("port 50000", "127.0.0.1", 50000, "127.0.0.1", 443));
}

/* src/dst: the connection passes when one of its packets does, as in tcpdump. */
static void test_directions(void **state)
{
	assert_true(keeps("dst port 443", "127.0.0.1", 50000, "127.0.0.1", 443));
	assert_true(keeps("src port 443", "127.0.0.1", 50000, "127.0.0.1", 443));
	assert_true(keeps("src host 10.0.0.1 and dst port 443", "10.0.0.1", 50000, "10.0.0.2", 443));
	assert_false(keeps("src host 10.0.0.2 and dst port 443", "10.0.0.1", 50000, "10.0.0.2", 443));
	/* only the client sends a SYN without ACK */
	assert_true(keeps("tcp[tcpflags] & tcp-ack == 0 and src host 10.0.0.1", "10.0.0.1", 50000,
			  "10.0.0.2", 443));
	assert_false(keeps("tcp[tcpflags] & tcp-ack == 0 and src host 10.0.0.2", "10.0.0.1", 50000,
			   "10.0.0.2", 443));
}

static void test_hosts_and_families(void **state)
{
	assert_true(keeps("host 127.0.0.1 and tcp port 5432", "127.0.0.1", 50000, "127.0.0.1", 5432));
	assert_false(keeps("host 127.0.0.2 and tcp port 5432", "127.0.0.1", 50000, "127.0.0.1", 5432));
	assert_true(keeps("ip6", "::1", 50000, "::1", 443));
	assert_false(keeps("ip6", "127.0.0.1", 50000, "127.0.0.1", 443));
	assert_true(keeps("ip", "127.0.0.1", 50000, "127.0.0.1", 443));
	assert_false(keeps("ip", "::1", 50000, "::1", 443));
	assert_false(keeps("not host ::1", "::1", 50000, "::1", 443));
	assert_true(keeps("not host ::1", "127.0.0.1", 50000, "127.0.0.1", 443));
	assert_true(keeps("net 192.0.2.0/24", "198.51.100.1", 50000, "192.0.2.77", 443));
	assert_true(keeps("host 2001:db8::1", "2001:db8::1", 50000, "2001:db8::2", 443));
	assert_false(keeps("udp", "127.0.0.1", 50000, "127.0.0.1", 443));
	assert_true(keeps("tcp", "127.0.0.1", 50000, "127.0.0.1", 443));
}

static void test_mixed_families_rejected(void **state)
{
	struct tcp_endpoint client = endpoint("127.0.0.1", 1), server = endpoint("::1", 2);
	struct capture_filter *f;
	char msg[256];

	f = capture_filter__new("tcp", msg, sizeof(msg));
	assert_non_null(f);
	assert_false(capture_filter__match(f, &client, &server));
	capture_filter__free(f);
	capture_filter__free(NULL);
}

static void test_bad_expressions(void **state)
{
	static const char *const bad[] = { "port", "port 443 and", "host", "prot 443", "port 99999" };
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(msg, 0, sizeof(msg));
		errno = 0;
		assert_null(capture_filter__new(bad[i], msg, sizeof(msg)));
		assert_int_equal(errno, EINVAL);
		if (!*msg)
			fail_msg("no message for '%s'", bad[i]);
	}
	assert_null(capture_filter__new("port 443 and", msg, sizeof(msg)));
	assert_non_null(strstr(msg, "syntax error"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_hosts_and_families),
		cmocka_unit_test(test_mixed_families_rejected),
		cmocka_unit_test(test_bad_expressions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
