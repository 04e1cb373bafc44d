// SPDX-License-Identifier: MIT
/* The redaction stage: gaps, duplicates, -s cuts, joined streams, unknown protocols. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>

#include "redact_harness.h"

#define C2S TCP_STREAM_CLIENT_TO_SERVER
#define S2C TCP_STREAM_SERVER_TO_CLIENT

/*
 * A gap cuts a header short: what is held is masked, the bytes after the gap
 * are masked until a record starts a message, then followed again.
 */
static void test_gap(void **state)
{
	static const char a[] = "GET / HTTP/1.1\r\nX-Other: ";
	static const char b[] = "Bearer s3cr3t\r\n\r\n";
	static const char c[] = "GET /x?token=abc HTTP/1.1\r\n\r\n";
	struct harness h;

	harness_open(&h);
	harness_write_at(&h, C2S, 0, a, strlen(a), strlen(a));
	harness_write_at(&h, C2S, 100, b, strlen(b), strlen(b));
	harness_write_at(&h, C2S, 200, c, strlen(c), strlen(c));
	harness_close(&h);
	/* the file has the bytes around the gaps; none of b survives */
	assert_int_equal(h.out_len[C2S], strlen(a) + strlen(b) + strlen(c));
	assert_has(h.out[C2S], "GET / HTTP/1.1\r\nxxxxxxxxx");
	assert_has(h.out[C2S], "xxxxxxxxxxxxx\r\n\r\nGET /x?token=RED HTTP/1.1\r\n\r\n");
	harness_free(&h);
}

/* The second view's copy of bytes already taken in is not written again. */
static void test_duplicate_views(void **state)
{
	static const char req[] = "GET /?password=pw1234 HTTP/1.1\r\nHost: h\r\n\r\n";
	struct harness h;

	harness_open(&h);
	harness_write_at(&h, C2S, 0, req, 20, 20);
	harness_write_at(&h, C2S, 0, req, strlen(req), strlen(req));
	harness_write_at(&h, C2S, 10, req + 10, strlen(req) - 10, strlen(req) - 10);
	harness_close(&h);
	assert_string_equal(h.out[C2S], "GET /?password=REDACT HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_has(h.summary, "Redacted: 1 value (password: 1)");
	harness_free(&h);
}

/* Bytes cut by -s: the frame keeps its wire length; what follows cannot be followed. */
static void test_snaplen_cut(void **state)
{
	static const char req[] = "POST / HTTP/1.1\r\nContent-Length: 30\r\n\r\npassword=abcdefghijklmnopqrst";
	struct harness h;

	harness_open(&h);
	harness_write_at(&h, C2S, 0, req, 45, strlen(req) + 1);
	harness_feed_str(&h, C2S, "password=after\r\n", 0);
	harness_close(&h);
	assert_int_equal(h.out_len[C2S], 45 + strlen("password=after\r\n"));
	assert_memory_equal(h.out[C2S], "POST / HTTP/1.1\r\nContent-Length: 30\r\n\r\npasswoxxxxxxxxxxxxxx\r\n",
			    h.out_len[C2S]);
	assert_has(h.summary, "(bytes cut by -s:");
	harness_free(&h);
}

/* A call without captured bytes (a zero-length write, or all of it a gap) is no unit. */
static void test_empty_writes(void **state)
{
	struct harness h;

	harness_open(&h);
	harness_write_at(&h, C2S, 0, NULL, 0, 0);
	harness_write_at(&h, C2S, 20, NULL, 0, 0);
	harness_feed_str(&h, C2S, "abc", 0);
	harness_close(&h);
	assert_string_equal(h.out[C2S], "xxx");
	assert_has(h.summary, "(bytes not captured:");
	harness_free(&h);
}

/* Joined mid-connection: masked until a record starts with a request line. */
static void test_joined(void **state)
{
	struct harness h;

	harness_open_policy(&h, redact_policy__new(), true);
	harness_feed_str(&h, C2S, "ie: a=secret\r\n\r\n", 0);
	harness_feed_str(&h, C2S, "GET / HTTP/1.1\r\nCookie: b=xyz\r\n\r\n", 0);
	harness_feed_str(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	harness_close(&h);
	assert_string_equal(h.out[C2S], "xxxxxxxxxxxx\r\n\r\nGET / HTTP/1.1\r\nCookie: b=RED\r\n\r\n");
	assert_string_equal(h.out[S2C], "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_has(h.summary, "Redacted: 1 value (cookie: 1)\nRedacted: 16 bytes masked entirely "
			      "(joined mid-connection");
	harness_free(&h);
}

/* A protocol we do not know: its key=value and JSON fields still go. */
static void test_unknown_protocol(void **state)
{
	struct harness h;
	uint8_t bin[256];
	size_t i;

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)i;
	harness_open(&h);
	harness_feed(&h, S2C, bin, sizeof(bin), 7);
	harness_feed_str(&h, C2S, "HELLO x\napi_key=KKKK;\n{\"token\" : 42}\n", 3);
	harness_close(&h);
	assert_memory_equal(h.out[S2C], bin, sizeof(bin));
	assert_string_equal(h.out[C2S], "HELLO x\napi_key=REDA;\n{\"token\" : 99}\n");
	harness_free(&h);
}

static void test_policy(void **state)
{
	struct redact_policy *p = redact_policy__new();
	struct redactor *r;

	assert_non_null(p);
	assert_int_equal(redact_policy__add_header(p, "X-Tenant"), 0);
	assert_int_equal(redact_policy__add_field(p, "ssn"), 0);
	assert_int_equal(redact_policy__add_field(p, ""), -EINVAL);
	assert_int_equal(redact_policy__add_field(p, "a b"), -EINVAL);
	assert_string_equal(redact_policy__describe(p),
			    "tlspcap: this file was redacted (--redact): secrets were overwritten with "
			    "same-length markers (REDACTED..., x) before writing; policy: default; "
			    "extra headers: x-tenant; extra fields: ssn");
	r = redactor__new(p);
	assert_non_null(r);
	redactor__free(r);
	redactor__free(NULL);
	redact_stream__free(NULL);
	assert_null(redact_stream__summary(NULL));
	assert_int_equal(redact_stream__flush(NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_duplicate_views),
		cmocka_unit_test(test_snaplen_cut),
		cmocka_unit_test(test_empty_writes),
		cmocka_unit_test(test_joined),
		cmocka_unit_test(test_unknown_protocol),
		cmocka_unit_test(test_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
