// SPDX-License-Identifier: MIT
/* Field names and values in text of no known protocol, fed whole and in every small piece size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "redact_harness.h"

static void expect(const char *in, const char *want, const char *summary_has)
{
	char summary[1024];
	char *out = redact_in_pieces(in, TCP_STREAM_CLIENT_TO_SERVER, 12, summary, sizeof(summary));

	assert_string_equal(out, want);
	if (summary_has)
		assert_has(summary, summary_has);
	free(out);
}

/* A key names a secret when the words of a field stand in it in a row, however they are joined. */
static void test_field_names(void **state)
{
	expect("{\"newPassword\":\"Np4ss\",\"sessionToken\":\"sT0k\",\"idToken\":\"iT0k3n\","
	       "\"privateKey\":\"pK3y\",\"APIKey\":\"aK\",\"tokenCount\":3,\"username\":\"al\"}",
	       "{\"newPassword\":\"REDAC\",\"sessionToken\":\"REDA\",\"idToken\":\"REDACT\","
	       "\"privateKey\":\"REDA\",\"APIKey\":\"RE\",\"tokenCount\":9,\"username\":\"al\"}",
	       "Redacted: 6 values");
	expect("user%5Bpassword%5D=pct1&user%5bnew_password%5d=pct2&a%5Bb%5D=keep&user[password]=br4",
	       "user%5Bpassword%5D=REDA&user%5bnew_password%5d=REDA&a%5Bb%5D=keep&user[password]=RED",
	       "user%5bpassword%5d: 1");
	expect("x.password2=p2&Password_Confirmation=pc&old-pwd=op&bypass=keep&passport=keep",
	       "x.password2=RE&Password_Confirmation=RE&old-pwd=RE&bypass=keep&passport=keep",
	       "Redacted: 3 values");
}

/* Documents of syntaxes the scanner does not parse: a sensitive key's value is masked to its end. */
static void test_unparsed_documents(void **state)
{
	expect("<?xml version=\"1.0\"?><login><user>al</user><password>xm1Pw</password>"
	       "<ns:apiKey type=\"t\">k3y</ns:apiKey><token/><note>password</note></login>",
	       "<?xml version=\"1.0\"?><login><user>al</user><password>REDAC</password>"
	       "<ns:apiKey type=\"t\">RED</ns:apiKey><token/><note>password</note></login>",
	       "Redacted: 2 values (password in xml: 1, apikey in xml: 1)");
	/* CDATA: all of it to "]]>"; a comment in a value masks the rest (never closed as CDATA) */
	expect("<r><password><![CDATA[c]d]]x]]></password><u>k</u><token><!-- n -->t</token>",
	       "<r><password><![CDATA[REDACTED></password><u>k</u><token><!REDACTEDxxxxxxxxx",
	       "Redacted: 2 values (password in xml: 1, token in xml: 1)");
	expect("db:\n  user: app\n  password: yam1 Pw\r\n  client_secret: \"qu0ted\" # c\n"
	       "secret_key = in1Val\nthe password is here\ntoken:\n",
	       "db:\n  user: app\n  password: REDACTE\r\n  client_secret: \"REDACT\" # c\n"
	       "secret_key = REDACT\nthe password is here\ntoken:\n",
	       "Redacted: 3 values (password in text: 1, client_secret in text: 1, secret_key in text: 1)");
}

/* YAML block scalars: the lines deeper than the key's are the value (a PEM key, say). */
static void test_yaml_blocks(void **state)
{
	expect("a:\n  private_key: |\n    -----BEGIN KEY-----\n    s3cr3tLine\n\n  user: bob\n"
	       "password: >-\n  folded pw\r\nend: 1\ntoken: |2 x\n",
	       "a:\n  private_key: |\n    REDACTEDxxxxxxxxxxx\n    xxxxxxxxxx\n\n  user: bob\n"
	       "password: >-\n  REDACTEDx\r\nend: 1\ntoken: |2 R\n",
	       "Redacted: 3 values (private_key in text: 1, password in text: 1, token in text: 1)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_names),
		cmocka_unit_test(test_unparsed_documents),
		cmocka_unit_test(test_yaml_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
