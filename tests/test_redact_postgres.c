// SPDX-License-Identifier: MIT
/* PostgreSQL password messages, by the authentication the server asked for; passwords in SQL. */
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

/* A message of @type with @body (@len bytes) into @out; returns its length. */
static size_t pg_message(uint8_t *out, char type, const char *body, size_t len)
{
	out[0] = (uint8_t)type;
	out[1] = (uint8_t)((len + 4) >> 24);
	out[2] = (uint8_t)((len + 4) >> 16);
	out[3] = (uint8_t)((len + 4) >> 8);
	out[4] = (uint8_t)(len + 4);
	memcpy(out + 5, body, len);
	return len + 5;
}

/* SQL of a simple query (with its NUL) into a 'Q' message. */
static size_t pg_query_message(uint8_t *out, const char *sql)
{
	return pg_message(out, 'Q', sql, strlen(sql) + 1);
}

static void test_sql_passwords(void **state)
{
	static const char parse[] = "stmt1\0ALTER ROLE bob PASSWORD E'e\\'scP' VALID UNTIL 'infinity'\0\0\0";
	uint8_t q1[256], q2[256], q3[256], p1[256];
	struct turn turns[] = {
		TURN(C2S, STARTUP),
		TURN(S2C, AUTH_OK READY),
		{ C2S, q1, pg_query_message(q1, "alter user alice password 'sq''lPw1'; select 'password', 'keep';") },
		{ C2S, q2, pg_query_message(q2, "CREATE USER carol WITH ENCRYPTED PASSWORD $$d0llarPw$$ LOGIN;"
						"create role dan password $t$tagPw$t$; -- password 'no'\n"
						"select \"password\" from t where x = 'password' /* password 'c' */") },
		{ C2S, p1, pg_message(p1, 'P', parse, sizeof(parse) - 1) },
		{ C2S, q3, pg_query_message(q3, "create user mapping for bob server s options (user 'bob', password 'fdwPw')") },
	};
	const char *out;
	struct harness h;

	redact_conversation(&h, turns, sizeof(turns) / sizeof(turns[0]), 12);
	out = h.out[C2S];
	assert_int_equal(h.out_len[C2S], 30 + turns[2].len + turns[3].len + turns[4].len + turns[5].len);
	assert_memory_equal(out + 30 + 5, "alter user alice password 'REDACTED'; select 'password', 'keep';\0",
			    turns[2].len - 5);
	out += 30 + turns[2].len;
	assert_memory_equal(out + 5, "CREATE USER carol WITH ENCRYPTED PASSWORD $$REDACTED$$ LOGIN;"
				 "create role dan password $t$REDAC$t$; -- password 'no'\n"
				 "select \"password\" from t where x = 'password' /* password 'c' */\0",
			    turns[3].len - 5);
	out += turns[3].len;
	assert_memory_equal(out + 5, "stmt1\0ALTER ROLE bob PASSWORD E'REDACT' VALID UNTIL 'infinity'\0\0\0",
			    turns[4].len - 5);
	out += turns[4].len;
	assert_memory_equal(out + 5, "create user mapping for bob server s options (user 'bob', password 'REDAC')",
			    turns[5].len - 6);
	assert_string_equal(h.summary, "Redacted: 5 values (sql password: 5)");
	harness_free(&h);
}

/* A query too long to take whole is masked whole; the next one is read again. */
static void test_query_too_long(void **state)
{
	size_t big = (300u << 10), n;
	char *sql = malloc(big + 1);
	uint8_t *q = malloc(big + 16), q2[64];
	struct harness h;

	assert_non_null(sql);
	assert_non_null(q);
	memset(sql, 'a', big);
	memcpy(sql, "alter user x password '", 23);
	sql[big] = '\0';
	n = pg_query_message(q, sql);
	harness_open(&h);
	harness_feed(&h, C2S, STARTUP, 30, 0);
	harness_feed(&h, C2S, q, n, 4096);
	harness_feed(&h, C2S, q2, pg_query_message(q2, "alter user y password 'pw2'"), 0);
	harness_close(&h);
	assert_int_equal(h.out_len[C2S], 30 + n + 5 + 28);
	assert_memory_equal(h.out[C2S] + 30, q, 5);
	assert_null(memmem(h.out[C2S] + 35, n - 5, "alter", 5));
	assert_memory_equal(h.out[C2S] + 30 + n + 5, "alter user y password 'RED'", 27);
	assert_string_equal(h.summary, "Redacted: 2 values (postgresql query too long: 1, sql password: 1)");
	harness_free(&h);
	free(sql);
	free(q);
}

/*
 * Joined mid-connection: the startup and the server's authentication request
 * are not seen, so a password message is not known as one; it is masked
 * whole, and said so.
 */
static void test_joined(void **state)
{
	static const char msg[] = "p\0\0\0\x0fpgJ0inPw12\0";
	struct harness h;

	harness_open_policy(&h, redact_policy__new(), true);
	harness_feed(&h, C2S, msg, sizeof(msg) - 1, 0);
	harness_feed(&h, S2C, AUTH_OK READY, 15, 0);
	harness_close(&h);
	assert_int_equal(h.out_len[C2S], 16);
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "J0inPw", 6));
	assert_int_equal(h.out_len[S2C], 15);
	assert_string_equal(h.summary, "Redacted: 0 values\nRedacted: 31 bytes masked entirely "
				       "(joined mid-connection: their meaning was not sure)");
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cleartext),
		cmocka_unit_test(test_md5_and_scram),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_sql_passwords),
		cmocka_unit_test(test_query_too_long),
		cmocka_unit_test(test_joined),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
