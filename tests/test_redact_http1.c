// SPDX-License-Identifier: MIT
/* HTTP/1.x redaction from byte strings, fed whole and in every small piece size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "redact_harness.h"

static const char request[] =
	"POST /login?user=alice&password=Qp4sSw0rd&next=/home HTTP/1.1\r\n"
	"Host: example.org\r\n"
	"Authorization: Bearer eyJ0b2tlbi1zZWNyZXQ\r\n"
	"Proxy-Authorization: Basic dXNlcjpwcm94eXB3\r\n"
	"Cookie: session=c00k1eV4lue; theme=dark\r\n"
	"X-Api-Key: k3yk3yk3y\r\n"
	"X-Upstream-Token: upTok3n\r\n"
	"User-Agent: curl/7.88\r\n"
	"Content-Type: application/x-www-form-urlencoded\r\n"
	"Content-Length: 46\r\n"
	"\r\n"
	"username=alice&client_secret=CL1ENTs3cr3t&go=1"
	"GET http://bob:hunter2pw@example.org/x?access_token=AT0k3n HTTP/1.1\r\n"
	"Host: example.org\r\n"
	"Transfer-Encoding: chunked\r\n"
	"\r\n"
	"b\r\n{\"name\":\"bo\r\n"
	"1a\r\nb\",\"password\": \"js0nPa55\"}\r\n"
	"0\r\n"
	"X-Trailer-Token: tr41ler\r\n"
	"\r\n";

static void test_request(void **state)
{
	char summary[1024];
	char *out = redact_in_pieces(request, TCP_STREAM_CLIENT_TO_SERVER, 40, summary, sizeof(summary));
	const char *secrets[] = { "Qp4sSw0rd", "eyJ0b2tlbi1zZWNyZXQ", "dXNlcjpwcm94eXB3", "c00k1eV4lue",
				  "k3yk3yk3y", "upTok3n", "CL1ENTs3cr3t", "hunter2pw", "AT0k3n",
				  "js0nPa55", "tr41ler" };
	size_t i;

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		assert_lacks(out, secrets[i]);
	/* what is not secret stays, byte for byte */
	assert_has(out, "?user=alice&password=REDACTED");
	assert_has(out, "&next=/home HTTP/1.1\r\n");
	assert_has(out, "Authorization: Bearer REDACTEDxxxxxxxxxxx\r\n");
	assert_has(out, "Proxy-Authorization: Basic REDACTEDxxxxxxxx\r\n");
	assert_has(out, "Cookie: session=REDACTEDxxx; theme=REDA\r\n");
	assert_has(out, "X-Api-Key: REDACTED\x78\r\n");
	assert_has(out, "User-Agent: curl/7.88\r\n");
	assert_has(out, "Content-Length: 46\r\n");
	assert_has(out, "username=alice&client_secret=REDACTEDxxxx&go=1GET");
	assert_has(out, "GET http://bob:REDACTED\x78@example.org/x?access_token=REDACT HTTP/1.1");
	assert_has(out, "b\r\n{\"name\":\"bo\r\n1a\r\nb\",\"password\": \"REDACTED\"}\r\n0\r\n");
	assert_has(out, "X-Trailer-Token: REDACTE\r\n");
	assert_has(summary, "Redacted: 12 values (");
	assert_has(summary, "password: 2");
	assert_has(summary, "authorization: 1");
	assert_has(summary, "cookie: 2");
	assert_has(summary, "url credentials: 1");
	free(out);
}

static const char response[] =
	"HTTP/1.1 200 OK\r\n"
	"Set-Cookie: sid=S3tC00kie; Path=/; HttpOnly\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 91\r\n"
	"\r\n"
	"{\"access_token\":\"acc3ssT\",\"expires_in\":3600,\"secret\":{\"a\":\"n3st\",\"n\":[12,-3.5]},\"ok\":true}\n"
	"HTTP/1.1 204 No Content\r\n"
	"\r\n"
	"HTTP/1.1 200 OK\r\n"
	"Content-Length: 4\r\n"
	"\r\n"
	"\x00\x01\x02\x03";

static void test_response(void **state)
{
	char summary[1024];
	char *out = redact_in_pieces(response, TCP_STREAM_SERVER_TO_CLIENT, 30, summary,
				     sizeof(summary));

	assert_lacks(out, "S3tC00kie");
	assert_lacks(out, "acc3ssT");
	assert_lacks(out, "n3st");
	assert_has(out, "Set-Cookie: sid=REDACTED\x78; Path=/; HttpOnly\r\n");
	assert_has(out, "{\"access_token\":\"REDACTE\",\"expires_in\":3600,"
			"\"secret\":{\"R\":\"REDA\",\"R\":[99,-9.9]},\"ok\":true}");
	assert_has(out, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n");
	assert_has(summary, "Redacted: 3 values");
	free(out);
}

/* A HEAD response has headers only: the next response starts right after them. */
static void test_head_and_close(void **state)
{
	struct harness h;

	harness_open(&h);
	harness_feed_str(&h, TCP_STREAM_CLIENT_TO_SERVER, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"
							  "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0);
	harness_feed_str(&h, TCP_STREAM_SERVER_TO_CLIENT,
			 "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
			 "HTTP/1.1 200 OK\r\nSet-Cookie: a=b1b2b3\r\n\r\n"
			 "x token=t0ken\n", 7);
	harness_close(&h);
	assert_has(h.out[1], "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\n"
			     "Set-Cookie: a=REDACT\r\n\r\nx token=REDAC\n");
	assert_has(h.summary, "Redacted: 2 values");
	harness_free(&h);
}

/* A line that is no HTTP where a message must start: the rest is masked, and said so. */
static void test_lost_boundary(void **state)
{
	struct harness h;

	harness_open(&h);
	harness_feed_str(&h, TCP_STREAM_CLIENT_TO_SERVER,
			 "GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nabc\r\nAuthorization: x\r\n", 0);
	harness_close(&h);
	assert_string_equal(h.out[0], "GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nabx\r\n"
				      "xxxxxxxxxxxxxxxx\r\n");
	assert_has(h.summary, "bytes masked entirely (HTTP/1 message boundary lost");
	harness_free(&h);
}

/*
 * Fail closed: a compressed or multipart body hides its fields from the
 * scanner, so all of it is masked (its framing kept); the next message is
 * read normally again.
 */
static void test_unreadable_bodies(void **state)
{
	struct harness h;

	harness_open(&h);
	harness_feed_str(&h, TCP_STREAM_SERVER_TO_CLIENT,
			 "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 8\r\n\r\n"
			 "\x1f\x8btok3n!"
			 "HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\nContent-Length: 6\r\n\r\n"
			 "a=b&c="
			 "HTTP/1.1 200 OK\r\nContent-Type: multipart/form-data; boundary=X\r\n"
			 "Transfer-Encoding: chunked\r\n\r\n"
			 "d\r\n--X\r\npw=s3c\r\n\r\n0\r\n\r\n", 5);
	harness_close(&h);
	assert_lacks(h.out[1], "tok3n");
	assert_lacks(h.out[1], "s3c");
	assert_has(h.out[1], "Content-Length: 8\r\n\r\nREDACTEDHTTP/1.1 200 OK\r\n");
	assert_has(h.out[1], "Content-Length: 6\r\n\r\na=b&c=HTTP/1.1 200 OK\r\n");
	assert_has(h.out[1], "chunked\r\n\r\nd\r\nREDACTEDxxxxx\r\n0\r\n\r\n");
	assert_has(h.summary, "compressed body: 1");
	assert_has(h.summary, "multipart body: 1");
	harness_free(&h);
}

/* XML and YAML bodies: the scanner does not parse them, a sensitive key's value goes anyway. */
static void test_xml_yaml_bodies(void **state)
{
	static const char in[] =
		"POST /soap HTTP/1.1\r\nContent-Type: text/xml\r\nContent-Length: 44\r\n\r\n"
		"<auth><password>x0mlSecret</password></auth>"
		"PUT /cfg HTTP/1.1\r\nContent-Type: application/yaml\r\nContent-Length: 29\r\n\r\n"
		"user: u\npassword: yamlS3cret\n";
	char summary[1024];
	char *out = redact_in_pieces(in, TCP_STREAM_CLIENT_TO_SERVER, 20, summary, sizeof(summary));

	assert_lacks(out, "x0mlSecret");
	assert_lacks(out, "yamlS3cret");
	assert_has(out, "<auth><password>REDACTEDxx</password></auth>PUT");
	assert_has(out, "user: u\npassword: REDACTEDxx\n");
	assert_string_equal(summary, "Redacted: 2 values (password in xml: 1, password in text: 1)");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_head_and_close),
		cmocka_unit_test(test_lost_boundary),
		cmocka_unit_test(test_unreadable_bodies),
		cmocka_unit_test(test_xml_yaml_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
