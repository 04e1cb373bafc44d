// SPDX-License-Identifier: MIT
/* MySQL/MariaDB inside TLS: auth data of each exchange, passwords in SQL, gaps, detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "redact_harness.h"

#define C2S TCP_STREAM_CLIENT_TO_SERVER
#define S2C TCP_STREAM_SERVER_TO_CLIENT

/*
 * HandshakeResponse41, sequence 2: capabilities 0x002aaa09 (LONG_PASSWORD,
 * CONNECT_WITH_DB, PROTOCOL_41, SSL, TRANSACTIONS, SECURE_CONNECTION,
 * PLUGIN_AUTH, PLUGIN_AUTH_LENENC), max packet, charset 45, 23 bytes of
 * filler, user "app", auth response of 20 bytes (length-encoded), database
 * "db", plugin.  82 bytes of payload.
 */
#define HR_HEAD "\x52\0\0\x02" "\x09\xaa\x2a\0" "\0\0\0\x01" "\x2d" \
	"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" "app\0"
#define HR_TAIL "db\0mysql_native_password\0"
#define HR HR_HEAD "\x14" "Scr4mbleScr4mble0123" HR_TAIL
#define HR_MASKED HR_HEAD "\x14" "REDACTEDxxxxxxxxxxxx" HR_TAIL
#define OK(seq) "\x07\0\0" seq "\0\0\0\x02\0\0\0"
#define HR_LEN (sizeof(HR) - 1)

/* A packet of @seq with @payload (@n bytes) into @out; returns its length. */
static size_t packet(uint8_t *out, uint8_t seq, const void *payload, size_t n)
{
	out[0] = (uint8_t)n;
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)(n >> 16);
	out[3] = seq;
	memcpy(out + 4, payload, n);
	return n + 4;
}

/* COM_QUERY (sequence 0) of @sql. */
static size_t query(uint8_t *out, uint8_t cmd, const char *sql)
{
	uint8_t payload[1024];

	payload[0] = cmd;
	memcpy(payload + 1, sql, strlen(sql));
	return packet(out, 0, payload, strlen(sql) + 1);
}

static void test_handshake_response(void **state)
{
	uint8_t q[64];
	struct turn turns[] = {
		TURN(C2S, HR),
		TURN(S2C, OK("\x03")),
		{ C2S, q, query(q, 0x03, "select 1") },
	};
	struct harness h;

	redact_conversation(&h, turns, 3, 12);
	assert_int_equal(h.out_len[C2S], HR_LEN + 13);
	assert_memory_equal(h.out[C2S], HR_MASKED "\x09\0\0\0\x03select 1", HR_LEN + 13);
	assert_memory_equal(h.out[S2C], OK("\x03"), 11);
	assert_string_equal(h.summary, "Redacted: 1 value (mysql auth data: 1)");
	harness_free(&h);
}

/*
 * The server switches to mysql_clear_password: the client's answer is the
 * password itself.  Then caching_sha2_password's full authentication
 * (AuthMoreData 0x04) on COM_CHANGE_USER: the password after it goes too.
 */
static void test_auth_switch(void **state)
{
	static const struct turn turns[] = {
		TURN(C2S, HR),
		TURN(S2C, "\x16\0\0\x03\xfemysql_clear_password\0"),
		TURN(C2S, "\x0e\0\0\x04" "Cl34rPassw0rd\0"),
		TURN(S2C, OK("\x05")),
		TURN(C2S, "\x0e\0\0\0\x03select 'kept'"),
		TURN(S2C, OK("\x01")),
		/* COM_CHANGE_USER: user "bob", 1-byte length 4 ("Ch4n"), database, charset, plugin */
		TURN(C2S, "\x25\0\0\0\x11" "bob\0" "\x04" "Ch4n" "db\0" "\x2d\0" "caching_sha2_password\0"),
		TURN(S2C, "\x02\0\0\x01\x01\x04"),
		TURN(C2S, "\x0b\0\0\x02" "Sh4Passw0r\0"),
		TURN(S2C, OK("\x03")),
	};
	struct harness h;
	const char *out;

	redact_conversation(&h, turns, sizeof(turns) / sizeof(turns[0]), 12);
	out = h.out[C2S] + HR_LEN;
	assert_memory_equal(out, "\x0e\0\0\x04" "REDACTEDxxxxxx", 18);
	out += 18;
	assert_memory_equal(out, "\x0e\0\0\0\x03select 'kept'", 18);
	out += 18;
	assert_memory_equal(out, "\x25\0\0\0\x11" "bob\0" "\x04" "REDA" "db\0" "\x2d\0" "caching_sha2_password\0", 41);
	out += 41;
	assert_memory_equal(out, "\x0b\0\0\x02" "REDACTEDxxx", 15);
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "Passw0r", 7));
	assert_string_equal(h.summary, "Redacted: 4 values (mysql auth data: 4)");
	harness_free(&h);
}

/* Each MySQL form of a password in SQL, in COM_QUERY and COM_STMT_PREPARE. */
static void test_sql_forms(void **state)
{
	static const char *const in[] = {
		"ALTER USER 'app'@'%' IDENTIFIED BY 'pw1'",
		"CREATE USER u2 IDENTIFIED WITH mysql_native_password BY \"p\\\"w2\" PASSWORD EXPIRE",
		"ALTER USER u3 IDENTIFIED VIA ed25519 USING PASSWORD('pw3') OR unix_socket",
		"SET PASSWORD FOR 'app'@'localhost' = PASSWORD('p''w4')",
		"SET PASSWORD = 'pw5' REPLACE 'old5'",
		"GRANT ALL ON *.* TO u6@'%' IDENTIFIED BY 'p\\'w6'; SELECT 'keep', `password` FROM t -- IDENTIFIED BY 'x'",
		"select 1 # password 'x'\n; CREATE USER u7 IDENTIFIED BY /* c */ _utf8mb4'pw7' 'more7'",
		"/*!80000 ALTER USER u8 IDENTIFIED BY 'pw8' */",
		"SELECT 'a\\'; ALTER USER u9 IDENTIFIED BY 'pw9'", /* sql_mode NO_BACKSLASH_ESCAPES */
	};
	static const char *const want[] = {
		"ALTER USER 'app'@'%' IDENTIFIED BY 'RED'",
		"CREATE USER u2 IDENTIFIED WITH mysql_native_password BY \"REDAC\" PASSWORD EXPIRE",
		"ALTER USER u3 IDENTIFIED VIA ed25519 USING PASSWORD('RED') OR unix_socket",
		"SET PASSWORD FOR 'app'@'localhost' = PASSWORD('REDAC')",
		"SET PASSWORD = 'RED' REPLACE 'REDA'",
		"GRANT ALL ON *.* TO u6@'%' IDENTIFIED BY 'REDAC'; SELECT 'keep', `password` FROM t -- IDENTIFIED BY 'x'",
		"select 1 # password 'x'\n; CREATE USER u7 IDENTIFIED BY /* c */ _utf8mb4'RED' 'REDAC'",
		"/*!80000 ALTER USER u8 IDENTIFIED BY 'RED' */",
		"SELECT 'a\\'; ALTER USER u9 IDENTIFIED BY 'RED'",
	};
	uint8_t q[9][256];
	struct turn turns[11] = { TURN(C2S, HR), TURN(S2C, OK("\x03")) };
	const char *out;
	struct harness h;
	size_t i;

	for (i = 0; i < 9; i++) {
		turns[2 + i].dir = C2S;
		turns[2 + i].data = q[i];
		turns[2 + i].len = query(q[i], i == 7 ? 0x16 : 0x03, in[i]);
	}
	redact_conversation(&h, turns, 11, 12);
	out = h.out[C2S] + HR_LEN;
	for (i = 0; i < 9; i++) {
		assert_memory_equal(out, q[i], 5);
		if (memcmp(out + 5, want[i], strlen(want[i])))
			fail_msg("query %zu gives\n%.*s", i, (int)strlen(want[i]), out + 5);
		out += turns[2 + i].len;
	}
	assert_string_equal(h.summary, "Redacted: 12 values (mysql auth data: 1, sql password: 11)");
	harness_free(&h);
}

/* A query in two records, cut inside its password: held until whole. */
static void test_query_split(void **state)
{
	uint8_t q[128];
	size_t n = query(q, 0x03, "ALTER USER app IDENTIFIED BY 'Spl1tPassw0rd'");
	struct harness h;

	harness_open(&h);
	harness_feed(&h, C2S, HR, HR_LEN, 0);
	harness_feed(&h, S2C, OK("\x03"), 11, 0);
	harness_feed(&h, C2S, q, 40, 0);
	harness_feed(&h, C2S, q + 40, n - 40, 0);
	harness_close(&h);
	assert_int_equal(h.out_len[C2S], HR_LEN + n);
	assert_memory_equal(h.out[C2S] + HR_LEN + 5, "ALTER USER app IDENTIFIED BY 'REDACTEDxxxxx'", n - 5);
	harness_free(&h);
}

/* A query too long to hold, and one of 16 MiB - 1 continued in the next packet: masked, the next read. */
static void test_long_queries(void **state)
{
	size_t big = 300u << 10, huge = 0xffffff, n;
	uint8_t *q = malloc(huge + 64), q2[64];
	struct harness h;
	const char *out;

	assert_non_null(q);
	memset(q + 5, 'a', huge);
	memcpy(q + 5, "ALTER USER x IDENTIFIED BY '", 28);
	harness_open(&h);
	harness_feed(&h, C2S, HR, HR_LEN, 0);
	harness_feed(&h, S2C, OK("\x03"), 11, 0);
	q[4] = 0x03;
	packet(q, 0, q + 4, big);
	harness_feed(&h, C2S, q, 4 + big, 65536);
	packet(q, 0, q + 4, huge);
	harness_feed(&h, C2S, q, 4 + huge, 1 << 20);
	harness_feed(&h, C2S, "\x05\0\0\x01" "ABCDE", 9, 0);
	n = query(q2, 0x03, "set password = 'pw'");
	harness_feed(&h, C2S, q2, n, 0);
	harness_close(&h);
	out = h.out[C2S] + HR_LEN;
	assert_int_equal(h.out_len[C2S], HR_LEN + 4 + big + 4 + huge + 9 + n);
	assert_memory_equal(out, "\x00\xb0\x04\0\x03", 5);
	assert_null(memmem(out, big + 4, "ALTER", 5));
	out += 4 + big;
	assert_memory_equal(out, "\xff\xff\xff\0\x03", 5);
	assert_null(memmem(out, huge + 4, "ALTER", 5));
	out += 4 + huge;
	assert_memory_equal(out, "\x05\0\0\x01xxxxx", 9);
	assert_memory_equal(out + 9 + 5, "set password = 'RE'", n - 5);
	assert_string_equal(h.summary, "Redacted: 4 values (mysql auth data: 1, mysql query too long: 2, "
				       "sql password: 1)");
	harness_free(&h);
	free(q);
}

/*
 * A gap in the client's bytes: masked until a record that is a whole
 * command packet; and a packet that does not parse (an auth response
 * longer than its packet) masks the rest.
 */
static void test_gap_and_bad_packet(void **state)
{
	uint8_t q1[64], q2[64], q3[64];
	size_t n1 = query(q1, 0x03, "ALTER USER a IDENTIFIED BY 'G4pPw1'");
	size_t n2 = query(q2, 0x03, "ALTER USER b IDENTIFIED BY 'G4pPw2'");
	size_t n3 = query(q3, 0x03, "ALTER USER c IDENTIFIED BY 'G4pPw3'");
	static const char bad[] = HR_HEAD "\x40" "Scr4mble" HR_TAIL;
	struct harness h;

	harness_open(&h);
	harness_feed(&h, C2S, HR, HR_LEN, 0);
	harness_feed(&h, C2S, q1, 20, 0);
	/* the rest of q1 not captured; q2 comes in two pieces: no packet starts a record */
	harness_write_at(&h, C2S, HR_LEN + n1, q2, 30, 30);
	harness_feed(&h, C2S, q2 + 30, n2 - 30, 0);
	harness_feed(&h, C2S, q3, n3, 0);
	harness_close(&h);
	assert_int_equal(h.out_len[C2S], HR_LEN + 20 + n2 + n3);
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "G4pPw", 5));
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "USER b", 6));
	assert_memory_equal(h.out[C2S] + HR_LEN + 20 + n2 + 5, "ALTER USER c IDENTIFIED BY 'REDACT'", n3 - 5);
	assert_string_equal(h.summary, "Redacted: 2 values (mysql auth data: 1, sql password: 1)\n"
				       "Redacted: 60 bytes masked entirely (bytes not captured: their meaning was not sure)");
	harness_free(&h);

	harness_open(&h);
	harness_feed(&h, C2S, bad, sizeof(bad) - 1, 0);
	harness_feed(&h, C2S, q3, n3, 0);
	harness_close(&h);
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "Scr4mble", 8));
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "G4pPw", 5));
	assert_has(h.summary, "(MySQL authentication packet not valid: their meaning was not sure)");
	harness_free(&h);
}

/*
 * LOCAL INFILE: once authenticated, the client's packets after the server's
 * request (0xfb) are the file's content and pass; after the next command,
 * a packet inside an exchange is credential material again.
 */
static void test_local_infile(void **state)
{
	static const struct turn turns[] = {
		TURN(C2S, HR),
		TURN(S2C, OK("\x03")),
		TURN(C2S, "\x28\0\0\0\x03LOAD DATA LOCAL INFILE 'f' INTO TABLE t"),
		TURN(S2C, "\x02\0\0\x01\xfb" "f"),
		TURN(C2S, "\x0a\0\0\x02" "row1,kept\n" "\0\0\0\x03"),
		TURN(S2C, OK("\x04")),
		TURN(C2S, "\x01\0\0\0\x0e"),             /* COM_PING */
		TURN(C2S, "\x06\0\0\x01" "n0tF1l"),       /* no file asked for */
	};
	struct harness h;

	redact_conversation(&h, turns, sizeof(turns) / sizeof(turns[0]), 12);
	assert_int_equal(h.out_len[C2S], HR_LEN + 44 + 18 + 5 + 10);
	assert_memory_equal(h.out[C2S] + HR_LEN + 44, turns[4].data, 18);
	assert_memory_equal(h.out[C2S] + HR_LEN + 44 + 18 + 5, "\x06\0\0\x01REDACT", 10);
	assert_string_equal(h.summary, "Redacted: 2 values (mysql auth data: 2)");
	harness_free(&h);
}

/*
 * The server's bytes first (its answer to the handshake response, sequence
 * 3): MySQL too.  A client asking for compression: what follows its
 * handshake response cannot be read, so it is masked.
 */
static void test_server_first_and_compression(void **state)
{
	static const char compress[] = "\x52\0\0\x02" "\x29\xaa\x2a\0" "\0\0\0\x01" "\x2d"
		"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" "app\0\x14" "Scr4mbleScr4mble0123" HR_TAIL;
	struct harness h;

	harness_open(&h);
	harness_feed(&h, S2C, OK("\x03"), 11, 0);
	harness_feed(&h, C2S, HR, HR_LEN, 0);
	harness_close(&h);
	assert_memory_equal(h.out[C2S], HR_MASKED, HR_LEN);
	assert_memory_equal(h.out[S2C], OK("\x03"), 11);
	harness_free(&h);

	harness_open(&h);
	harness_feed(&h, C2S, compress, sizeof(compress) - 1, 0);
	harness_feed(&h, S2C, OK("\x03"), 11, 0);
	/* a compressed packet that would look like a command: no resync in there */
	harness_feed(&h, C2S, "\x0b\0\0\0\x0b\0\0\x03select", 15, 0);
	harness_close(&h);
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "Scr4mble", 8));
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "select", 6));
	assert_string_equal(h.summary, "Redacted: 1 value (mysql auth data: 1)\nRedacted: 26 bytes masked "
				       "entirely (MySQL compressed protocol: their meaning was not sure)");
	harness_free(&h);
}

/* MySQL 8's query attributes before the SQL: none, the SQL is read; some, all of it is masked. */
static void test_query_attributes(void **state)
{
	/* HR with CLIENT_QUERY_ATTRIBUTES (1 << 27) */
	static const char attrs_hr[] = "\x52\0\0\x02" "\x09\xaa\x2a\x08" "\0\0\0\x01" "\x2d"
		"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" "app\0\x14" "Scr4mbleScr4mble0123" HR_TAIL;
	static const struct turn turns[] = {
		TURN(C2S, attrs_hr),
		TURN(S2C, OK("\x03")),
		/* no attributes (count 0, one set), then the SQL */
		TURN(C2S, "\x23\0\0\0\x03\x00\x01" "ALTER USER u IDENTIFIED BY 'pw1'"),
		/* one attribute: null bitmap, bound, type, name, value "'", then SQL */
		TURN(C2S, "\x2b\0\0\0\x03\x01\x01\x00\x01\xfe\x00\x01n\x01'" "ALTER USER u IDENTIFIED BY 'pw2'"),
	};
	struct harness h;

	redact_conversation(&h, turns, 4, 12);
	assert_memory_equal(h.out[C2S] + HR_LEN + 7, "ALTER USER u IDENTIFIED BY 'RED'", 32);
	assert_memory_equal(h.out[C2S] + HR_LEN + 39, "\x2b\0\0\0\x03REDACTEDxxx", 16);
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "pw2", 3));
	assert_string_equal(h.summary, "Redacted: 3 values (mysql auth data: 1, sql password: 1, "
				       "mysql query attributes: 1)");
	harness_free(&h);
}

/*
 * Not MySQL: text, HTTP and PostgreSQL keep their own rules (were they taken
 * for MySQL, the length check would mask them whole).  A handshake response
 * with sequence 1 comes with no SSLRequest before it, so never inside TLS.
 */
static void test_not_mysql(void **state)
{
	static const char pg[] = "\0\0\0\x1e\0\x03\0\0user\0app\0database\0db\0\0";
	static const char plain[] = "\x52\0\0\x01" "\x09\xa2\x2a\0" "\0\0\0\x01" "\x2d"
		"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" "app\0\x14" "Scr4mbleScr4mble0123" HR_TAIL;
	char *out;
	struct harness h;

	out = redact_in_pieces("x=1\npassword=hunter2\n", C2S, 8, NULL, 0);
	assert_string_equal(out, "x=1\npassword=REDACTE\n");
	free(out);
	out = redact_in_pieces("GET /?token=abc HTTP/1.1\r\nHost: h\r\n\r\n", C2S, 8, NULL, 0);
	assert_string_equal(out, "GET /?token=RED HTTP/1.1\r\nHost: h\r\n\r\n");
	free(out);
	harness_open(&h);
	harness_feed(&h, C2S, pg, sizeof(pg) - 1, 0);
	harness_close(&h);
	assert_memory_equal(h.out[C2S], pg, sizeof(pg) - 1);
	assert_string_equal(h.summary, "");
	harness_free(&h);
	harness_open(&h);
	harness_feed(&h, C2S, plain, sizeof(plain) - 1, 0);
	harness_close(&h);
	assert_memory_equal(h.out[C2S], plain, sizeof(plain) - 1);
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_response),
		cmocka_unit_test(test_auth_switch),
		cmocka_unit_test(test_sql_forms),
		cmocka_unit_test(test_query_split),
		cmocka_unit_test(test_long_queries),
		cmocka_unit_test(test_gap_and_bad_packet),
		cmocka_unit_test(test_local_infile),
		cmocka_unit_test(test_server_first_and_compression),
		cmocka_unit_test(test_query_attributes),
		cmocka_unit_test(test_not_mysql),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
