// SPDX-License-Identifier: MIT
/* IMAP LOGIN / AUTHENTICATE and SMTP AUTH, the server's answers deciding what is SASL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "redact_harness.h"

#define C2S TCP_STREAM_CLIENT_TO_SERVER
#define S2C TCP_STREAM_SERVER_TO_CLIENT

static void test_imap(void **state)
{
	static const struct turn turns[] = {
		TURN(S2C, "* OK IMAP4rev1 ready\r\n"),
		TURN(C2S, "a1 LOGIN alice \"imapPw \\\" 1\"\r\n"),
		TURN(S2C, "a1 NO try again\r\n"),
		TURN(C2S, "a2 LOGIN bob {6}\r\n"),
		TURN(S2C, "+ go\r\n"),
		TURN(C2S, "litPw6\r\n"),
		TURN(S2C, "a2 NO\r\n"),
		TURN(C2S, "a3 AUTHENTICATE PLAIN\r\n"),
		TURN(S2C, "+ \r\n"),
		TURN(C2S, "AGFsaWNlAHNhc2xQdw==\r\n"),
		TURN(S2C, "a3 OK done\r\n"),
		TURN(C2S, "a4 SELECT INBOX\r\n"),
	};
	struct harness h;

	redact_conversation(&h, turns, sizeof(turns) / sizeof(turns[0]), 9);
	assert_string_equal(h.out[C2S], "a1 LOGIN alice REDACTEDxxxxx\r\n"
					"a2 LOGIN bob RED\r\n"
					"REDACT\r\n"
					"a3 AUTHENTICATE PLAIN\r\n"
					/* base64 of "\0REDACT\0REDACTE": still a PLAIN response */
					"AFJFREFDVABSRURBQ1RF\r\n"
					"a4 SELECT INBOX\r\n");
	assert_string_equal(h.summary, "Redacted: 4 values (imap login: 2, mail auth: 2)");
	harness_free(&h);
}

static void test_smtp(void **state)
{
	static const struct turn turns[] = {
		TURN(S2C, "220 mail ESMTP\r\n"),
		TURN(C2S, "EHLO me\r\n"),
		TURN(S2C, "250-mail\r\n250 AUTH PLAIN LOGIN\r\n"),
		TURN(C2S, "AUTH PLAIN AGJvYgBzbXRwUHc=\r\n"),
		TURN(S2C, "535 no\r\n"),
		TURN(C2S, "AUTH LOGIN\r\n"),
		TURN(S2C, "334 VXNlcm5hbWU6\r\n"),
		TURN(C2S, "Ym9i\r\n"),
		TURN(S2C, "334 UGFzc3dvcmQ6\r\n"),
		TURN(C2S, "c210cFB3Mg==\r\n"),
		TURN(S2C, "235 ok\r\n"),
		TURN(C2S, "MAIL FROM:<bob@x>\r\n"),
	};
	struct harness h;

	redact_conversation(&h, turns, sizeof(turns) / sizeof(turns[0]), 9);
	/* AUTH PLAIN's initial response: base64 of "\0REDAC\0REDAC" (Wireshark decodes it) */
	assert_string_equal(h.out[C2S], "EHLO me\r\nAUTH PLAIN AFJFREFDAFJFREFD\r\nAUTH LOGIN\r\nREDA\r\n"
					"REDACTEDxxxx\r\nMAIL FROM:<bob@x>\r\n");
	harness_free(&h);
}

/* After STARTTLS the IMAP client speaks first: its first line says IMAP. */
static void test_imap_client_first(void **state)
{
	static const struct turn turns[] = {
		TURN(C2S, "A001 CAPABILITY\r\n"),
		TURN(S2C, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA001 OK\r\n"),
		TURN(C2S, "A002 LOGIN alice s3cretPw\r\n"),
		TURN(S2C, "A002 NO\r\n"),
		/* both user name and password as literals, synchronizing and not */
		TURN(C2S, "A003 LOGIN {5}\r\n"),
		TURN(S2C, "+ go\r\n"),
		TURN(C2S, "alice {7}\r\n"),
		TURN(S2C, "+ go\r\n"),
		TURN(C2S, "litPw77\r\n"),
		TURN(S2C, "A003 NO\r\n"),
		TURN(C2S, "A004 LOGIN {3+}\r\nbob {6+}\r\nplusPw\r\n"),
		TURN(S2C, "A004 OK\r\n"),
		TURN(C2S, "A005 SELECT INBOX\r\n"),
	};
	struct harness h;

	redact_conversation(&h, turns, sizeof(turns) / sizeof(turns[0]), 9);
	assert_string_equal(h.out[C2S], "A001 CAPABILITY\r\n"
					"A002 LOGIN alice REDACTED\r\n"
					"A003 LOGIN RED\r\n"
					"REDACTEDx\r\n"
					"REDACTE\r\n"
					"A004 LOGIN REDA\r\n"
					"REDACTED\r\n"
					"REDACT\r\n"
					"A005 SELECT INBOX\r\n");
	assert_string_equal(h.summary, "Redacted: 7 values (imap login: 3, mail auth: 4)");
	harness_free(&h);
}

/* A cancelled AUTHENTICATE PLAIN leaves nothing behind: the LOGIN after it gets the marker. */
static void test_cancelled_plain(void **state)
{
	static const struct turn turns[] = {
		TURN(S2C, "* OK ready\r\n"),
		TURN(C2S, "a1 AUTHENTICATE PLAIN\r\n"),
		TURN(S2C, "+ \r\n"),
		TURN(C2S, "*\r\n"),
		TURN(S2C, "a1 BAD cancelled\r\n"),
		TURN(C2S, "a2 LOGIN bob l0ginPw\r\n"),
	};
	struct harness h;

	redact_conversation(&h, turns, sizeof(turns) / sizeof(turns[0]), 9);
	assert_string_equal(h.out[C2S], "a1 AUTHENTICATE PLAIN\r\n*\r\na2 LOGIN bob REDACTE\r\n");
	harness_free(&h);
}

/* A tagged first line is IMAP only with an IMAP command: other text stays text. */
static void test_not_imap(void **state)
{
	static const struct turn turns[] = {
		TURN(C2S, "x1 NOTE password=tXt1\r\n"),
	};
	struct harness h;

	redact_conversation(&h, turns, sizeof(turns) / sizeof(turns[0]), 9);
	assert_string_equal(h.out[C2S], "x1 NOTE password=REDA\r\n");
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap),
		cmocka_unit_test(test_smtp),
		cmocka_unit_test(test_imap_client_first),
		cmocka_unit_test(test_cancelled_plain),
		cmocka_unit_test(test_not_imap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
