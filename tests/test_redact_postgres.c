// SPDX-License-Identifier: MIT
/* PostgreSQL password messages, by the authentication the server asked for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "redact_harness.h"

#define C2S TCP_STREAM_CLIENT_TO_SERVER
#define S2C TCP_STREAM_SERVER_TO_CLIENT

/* startup: length 30, protocol 3.0, user=app, database=db */
#define STARTUP "\0\0\0\x1e\0\x03\0\0user\0app\0database\0db\0\0"
#define AUTH_OK "R\0\0\0\x08\0\0\0\0"
#define READY "Z\0\0\0\x05I"

static void test_cleartext(void **state)
{
	static const struct turn turns[] = {
		TURN(C2S, STARTUP),
		TURN(S2C, "R\0\0\0\x08\0\0\0\x03"),          /* cleartext password */
		TURN(C2S, "p\0\0\0\x0fpgS3cr3tPw\0"),
		TURN(S2C, AUTH_OK READY),
		TURN(C2S, "Q\0\0\0\x0eselect 1;\0"),
	};
	struct harness h;

	redact_conversation(&h, turns, sizeof(turns) / sizeof(turns[0]), 12);
	assert_int_equal(h.out_len[C2S], 30 + 16 + 15);
	assert_memory_equal(h.out[C2S], STARTUP "p\0\0\0\x0fREDACTEDxx\0Q\0\0\0\x0eselect 1;\0", h.out_len[C2S]);
	assert_memory_equal(h.out[S2C], turns[1].data, 9);
	assert_string_equal(h.summary, "Redacted: 1 value (postgresql password: 1)");
	harness_free(&h);
}

static void test_md5_and_scram(void **state)
{
	static const struct turn md5[] = {
		TURN(C2S, STARTUP),
		TURN(S2C, "R\0\0\0\x0c\0\0\0\x05salt"),
		TURN(C2S, "p\0\0\0\x0cmd5abcd\0"),
	};
	static const struct turn scram[] = {
		TURN(C2S, STARTUP),
		TURN(S2C, "R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0"),
		/* SASLInitialResponse: mechanism, length 12, client-first-message */
		TURN(C2S, "p\0\0\0\x22SCRAM-SHA-256\0\0\0\0\x0cn,,n=,r=abcd"),
		TURN(S2C, "R\0\0\0\x12\0\0\0\x0br=abcd,s=x"),
		TURN(C2S, "p\0\0\0\x10" "c=biws,p=PRF"),
	};
	struct harness h;

	redact_conversation(&h, md5, 3, 8);
	assert_memory_equal(h.out[C2S] + 30, "p\0\0\0\x0cREDACTE\0", 13);
	harness_free(&h);
	redact_conversation(&h, scram, 5, 8);
	assert_memory_equal(h.out[C2S] + 30, "p\0\0\0\x22SCRAM-SHA-256\0\0\0\0\x0cREDACTEDxxxx", 35);
	assert_memory_equal(h.out[C2S] + 30 + 35, "p\0\0\0\x10REDACTEDxxxx", 17);
	assert_string_equal(h.summary, "Redacted: 2 values (postgresql password: 2)");
	harness_free(&h);
}

/* A message length that cannot be: the rest of the direction is masked. */
static void test_bad_length(void **state)
{
	static const struct turn turns[] = {
		TURN(C2S, STARTUP),
		TURN(C2S, "p\0\0\0\x02pw"),
	};
	struct harness h;

	redact_conversation(&h, turns, 2, 0);
	assert_memory_equal(h.out[C2S] + 30, "xxxxxxx", 7);
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cleartext),
		cmocka_unit_test(test_md5_and_scram),
		cmocka_unit_test(test_bad_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
