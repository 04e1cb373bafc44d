// SPDX-License-Identifier: MIT
/* Redis: passwords of AUTH, HELLO, MIGRATE, CONFIG SET, ACL SETUSER; RESP and inline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "redact_harness.h"

#define C2S TCP_STREAM_CLIENT_TO_SERVER
#define S2C TCP_STREAM_SERVER_TO_CLIENT

static void test_resp(void **state)
{
	static const struct turn turns[] = {
		TURN(C2S, "*2\r\n$4\r\nAUTH\r\n$8\r\nr3disPw1\r\n"),
		TURN(S2C, "+OK\r\n"),
		TURN(C2S, "*3\r\n$4\r\nauth\r\n$5\r\nalice\r\n$6\r\nPw2Pw2\r\n"),
		TURN(C2S, "*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$3\r\nbob\r\n$3\r\nPw3\r\n"),
		TURN(C2S, "*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$6\r\nnewPw4\r\n"),
		TURN(C2S, "*5\r\n$3\r\nACL\r\n$7\r\nSETUSER\r\n$3\r\ncat\r\n$2\r\non\r\n$5\r\n>Pw55\r\n"),
		TURN(C2S, "*3\r\n$3\r\nSET\r\n$8\r\npassword\r\n$5\r\nkept!\r\n"),
		TURN(S2C, "$5\r\nkept!\r\n"),
	};
	struct harness h;

	redact_conversation(&h, turns, sizeof(turns) / sizeof(turns[0]), 16);
	assert_string_equal(h.out[C2S],
			    "*2\r\n$4\r\nAUTH\r\n$8\r\nREDACTED\r\n"
			    "*3\r\n$4\r\nauth\r\n$5\r\nalice\r\n$6\r\nREDACT\r\n"
			    "*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$3\r\nbob\r\n$3\r\nRED\r\n"
			    "*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$6\r\nREDACT\r\n"
			    "*5\r\n$3\r\nACL\r\n$7\r\nSETUSER\r\n$3\r\ncat\r\n$2\r\non\r\n$5\r\n>EDAC\r\n"
			    "*3\r\n$3\r\nSET\r\n$8\r\npassword\r\n$5\r\nkept!\r\n");
	assert_string_equal(h.out[S2C], "+OK\r\n$5\r\nkept!\r\n");
	assert_string_equal(h.summary, "Redacted: 5 values (redis auth: 2, redis hello: 1, "
				       "redis config: 1, redis acl: 1)");
	harness_free(&h);
}

static void test_inline(void **state)
{
	static const struct turn turns[] = {
		TURN(C2S, "AUTH inl1nePw\r\n"),
		TURN(C2S, "PING\r\n"),
		TURN(C2S, "AUTH carol s3c\r\n"),
	};
	struct harness h;

	redact_conversation(&h, turns, 3, 6);
	assert_string_equal(h.out[C2S], "AUTH REDACTED\r\nPING\r\nAUTH carol RED\r\n");
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resp),
		cmocka_unit_test(test_inline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
