// SPDX-License-Identifier: MIT
/*
 * HTTP/2 and HPACK redaction from byte strings, judged by tshark's own HPACK
 * decoder: sensitive literals (raw and Huffman) rewritten at the same length,
 * later indexed references consistent, header blocks split across records,
 * padding, priority, CONTINUATION; gRPC messages, compressed ones masked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "redact_harness.h"
#include "tshark_helpers.h"

#define C2S TCP_STREAM_CLIENT_TO_SERVER
#define S2C TCP_STREAM_SERVER_TO_CLIENT

struct bytes {
	uint8_t b[4096];
	size_t n;
};

static void put(struct bytes *o, const void *p, size_t n)
{
	assert_true(o->n + n <= sizeof(o->b));
	if (n)
		memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void put_frame(struct bytes *o, uint8_t type, uint8_t flags, uint32_t stream, const void *p,
		      size_t n)
{
	uint8_t h[9] = { (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			 (uint8_t)(stream >> 24), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8),
			 (uint8_t)stream };

	put(o, h, sizeof(h));
	put(o, p, n);
}

#define B(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

/* Huffman strings (RFC 7541 Appendix B codes): */
/* "www.example.com", as in RFC 7541 C.4.1 */
#define H_AUTHORITY 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff
/* "Bearer tok3n1s3cr3t" */
#define H_BEARER 0x8e, 0xba, 0x51, 0xd8, 0x5b, 0x14, 0x49, 0xfa, 0xb3, 0x50, 0x50, 0xc9, 0x2c, 0x65, 0x3f
/* "sid=ab12cd; Path=/" */
#define H_COOKIE 0x8d, 0x41, 0xa4, 0x80, 0x71, 0x84, 0x44, 0x93, 0xed, 0x4d, 0x63, 0x4c, 0xf0, 0x31

/*
 * Request 1: :authority (Huffman, indexed), authorization (Huffman, indexed),
 * x-api-key (raw, new name, indexed), cookie (Huffman, not indexed); a DATA
 * frame with a JSON password.  Request 2 refers to the three entries by index.
 * @split: request 1's block in a padded, prioritised HEADERS and a CONTINUATION.
 */
static void client_stream(struct bytes *o, bool split)
{
	static const uint8_t block1[] = {
		0x82, 0x86, 0x84, 0x41, H_AUTHORITY, 0x57, H_BEARER,
		0x40, 0x09, 'x', '-', 'a', 'p', 'i', '-', 'k', 'e', 'y',
		0x0a, 'K', '3', 'y', 'K', '3', 'y', 'K', '3', 'y', '9',
		0x0f, 0x11, H_COOKIE,
	};
	static const char body[] = "{\"user\":\"u\",\"password\":\"j50nPw\"}";
	uint8_t first[sizeof(block1) + 16];
	size_t cut = 20;

	memset(o, 0, sizeof(*o));
	put(o, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	put_frame(o, 0x4, 0, 0, NULL, 0);
	if (split) {
		first[0] = 3; /* pad length */
		memcpy(first + 1, B(0x80, 0, 0, 0, 15));
		memcpy(first + 6, block1, cut);
		memset(first + 6 + cut, 0, 3);
		put_frame(o, 0x1, 0x8 | 0x20, 1, first, 6 + cut + 3);
		put_frame(o, 0x9, 0x4, 1, block1 + cut, sizeof(block1) - cut);
	} else {
		put_frame(o, 0x1, 0x4, 1, block1, sizeof(block1));
	}
	put_frame(o, 0x0, 0x1, 1, body, strlen(body));
	put_frame(o, 0x1, 0x5, 3, B(0x82, 0x86, 0x84, 0xc0, 0xbf, 0xbe));
}

static char *header_values(const char *path)
{
	char *out = tshark_run(NULL, "tshark -r '%s' -T fields -e http2.header.value 2>/dev/null", path);

	assert_non_null(out);
	return out;
}

/*
 * Redacts @in (client to server) whole and in pieces of every size up to
 * @max_piece: the output must not depend on it.  Returns it (malloc'd).
 */
static char *c2s_in_pieces(const struct bytes *in, size_t max_piece)
{
	struct harness h;
	char *first = NULL;
	size_t piece, at;

	for (piece = 0; piece <= max_piece; piece += piece < 12 ? 1 : 7) {
		harness_open(&h);
		harness_feed(&h, C2S, in->b, in->n, piece);
		harness_close(&h);
		assert_int_equal(h.out_len[C2S], in->n);
		if (!first) {
			first = malloc(in->n);
			assert_non_null(first);
			memcpy(first, h.out[C2S], in->n);
		} else if (memcmp(first, h.out[C2S], in->n)) {
			for (at = 0; first[at] == h.out[C2S][at]; at++)
				;
			fail_msg("pieces of %zu bytes give another result from byte %zu", piece, at);
		}
		harness_free(&h);
	}
	return first;
}

static void check_client(bool split)
{
	struct harness h;
	struct bytes in;
	char *expert, *values, *out;

	client_stream(&in, split);
	harness_open(&h);
	harness_feed(&h, C2S, in.b, in.n, 0);
	harness_close(&h);
	/* tshark decodes every block, with its own dynamic table, and sees no secret */
	expert = tshark_expert(h.path, "warn");
	assert_non_null(expert);
	assert_string_equal(expert, "");
	free(expert);
	values = header_values(h.path);
	assert_lacks(values, "tok3n1s3cr3t");
	assert_lacks(values, "K3yK3yK3y9");
	assert_lacks(values, "ab12cd");
	assert_lacks(values, "j50nPw");
	/* the fill of a Huffman run: as many symbols, as many bits */
	assert_has(values, "GET,http,/,www.example.com,Bearer redacted----,REDACTEDxx,"
			   "sid=00-0-0; Path=-,");
	/* request 2's indexed references show request 1's rewritten values */
	assert_has(values, "Path=-,GET,http,/,www.example.com,Bearer redacted----,REDACTEDxx\n");
	assert_has(h.summary, "Redacted: 5 values (authorization: 1, x-api-key: 1, cookie: 2, "
			      "password: 1)");
	free(values);
	harness_free(&h);
	out = c2s_in_pieces(&in, 40);
	assert_non_null(memmem(out, in.n, "{\"user\":\"u\",\"password\":\"REDACT\"}", 33));
	free(out);
}

static void test_client(void **state)
{
	check_client(false);
}

static void test_client_continuation(void **state)
{
	check_client(true);
}

/*
 * RFC 7541 C.6.1-C.6.3 (responses, Huffman) with a 256-byte table, so entries
 * are evicted: the set-cookie of C.6.3 loses its value, keeps its attributes,
 * and the dynamic table stays in step through the evictions.
 */
static void test_server_rfc_examples(void **state)
{
	static const uint8_t c61[] = {
		0x3f, 0xe1, 0x01, /* table size 256, as the examples assume */
		0x48, 0x82, 0x64, 0x02, 0x58, 0x85, 0xae, 0xc3, 0x77, 0x1a, 0x4b, 0x61, 0x96, 0xd0,
		0x7a, 0xbe, 0x94, 0x10, 0x54, 0xd4, 0x44, 0xa8, 0x20, 0x05, 0x95, 0x04, 0x0b, 0x81,
		0x66, 0xe0, 0x82, 0xa6, 0x2d, 0x1b, 0xff, 0x6e, 0x91, 0x9d, 0x29, 0xad, 0x17, 0x18,
		0x63, 0xc7, 0x8f, 0x0b, 0x97, 0xc8, 0xe9, 0xae, 0x82, 0xae, 0x43, 0xd3,
	};
	static const uint8_t c62[] = { 0x48, 0x83, 0x64, 0x0e, 0xff, 0xc1, 0xc0, 0xbf };
	static const uint8_t c63[] = {
		0x88, 0xc1, 0x61, 0x96, 0xd0, 0x7a, 0xbe, 0x94, 0x10, 0x54, 0xd4, 0x44, 0xa8, 0x20,
		0x05, 0x95, 0x04, 0x0b, 0x81, 0x66, 0xe0, 0x84, 0xa6, 0x2d, 0x1b, 0xff, 0xc0, 0x5a,
		0x83, 0x9b, 0xd9, 0xab, 0x77, 0xad, 0x94, 0xe7, 0x82, 0x1d, 0xd7, 0xf2, 0xe6, 0xc7,
		0xb3, 0x35, 0xdf, 0xdf, 0xcd, 0x5b, 0x39, 0x60, 0xd5, 0xaf, 0x27, 0x08, 0x7f, 0x36,
		0x72, 0xc1, 0xab, 0x27, 0x0f, 0xb5, 0x29, 0x1f, 0x95, 0x87, 0x31, 0x60, 0x65, 0xc0,
		0x03, 0xed, 0x4e, 0xe5, 0xb1, 0x06, 0x3d, 0x50, 0x07,
	};
	struct bytes in = { .n = 0 };
	struct harness h;
	char *values, *expert;

	put(&in, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	put_frame(&in, 0x4, 0, 0, NULL, 0);
	harness_open(&h);
	harness_feed(&h, C2S, in.b, in.n, 0);
	in.n = 0;
	put_frame(&in, 0x4, 0, 0, NULL, 0);
	put_frame(&in, 0x1, 0x4, 1, c61, sizeof(c61));
	put_frame(&in, 0x1, 0x4, 3, c62, sizeof(c62));
	put_frame(&in, 0x1, 0x4, 5, c63, sizeof(c63));
	harness_feed(&h, S2C, in.b, in.n, 5);
	harness_close(&h);
	values = header_values(h.path);
	expert = tshark_expert(h.path, "warn");
	assert_string_equal(expert, "");
	assert_lacks(values, "ASDJKHQKBZXOQWEOPIUAXQWEOIU");
	assert_has(values, "307,private,Mon, 21 Oct 2013 20:13:21 GMT,https://www.example.com\n");
	assert_has(values, "200,private,Mon, 21 Oct 2013 20:13:22 GMT,https://www.example.com,gzip,"
			   "foo=redactedXXXXXXXXXXxXxXxXxXx; max-age=3600; version=1\n");
	assert_has(h.summary, "Redacted: 1 value (cookie: 1)");
	free(values);
	free(expert);
	harness_free(&h);
}

/*
 * Fail closed: a body with a content coding cannot be scanned for fields,
 * so it is masked whole, by literal and by indexed reference (the dynamic
 * table keeps no values); an uncoded body is scanned as usual.
 */
static void test_compressed_bodies(void **state)
{
	struct bytes in = { .n = 0 };
	struct harness h;

	put(&in, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	put_frame(&in, 0x4, 0, 0, NULL, 0);
	harness_open(&h);
	harness_feed(&h, C2S, in.b, in.n, 0);
	in.n = 0;
	put_frame(&in, 0x4, 0, 0, NULL, 0);
	/* :status 200, content-encoding: gzip (literal, incremental indexing) */
	put_frame(&in, 0x1, 0x4, 1, B(0x88, 0x5a, 0x04, 'g', 'z', 'i', 'p'));
	put_frame(&in, 0x0, 0x1, 1, "\x1f\x8bz1pS3cret", 12);
	/* the same coding by its index in the dynamic table */
	put_frame(&in, 0x1, 0x4, 3, B(0x88, 0xbe));
	put_frame(&in, 0x0, 0x1, 3, "zz2S3cret", 9);
	/* no coding: the field scanner reads it */
	put_frame(&in, 0x1, 0x4, 5, B(0x88));
	put_frame(&in, 0x0, 0x1, 5, "token=abc", 9);
	harness_feed(&h, S2C, in.b, in.n, 5);
	harness_close(&h);
	assert_int_equal(h.out_len[S2C], in.n);
	assert_null(memmem(h.out[S2C], h.out_len[S2C], "S3cret", 6));
	assert_non_null(memmem(h.out[S2C], h.out_len[S2C], "REDACTEDxxxx", 12));
	assert_non_null(memmem(h.out[S2C], h.out_len[S2C], "REDACTEDx", 9));
	assert_non_null(memmem(h.out[S2C], h.out_len[S2C], "token=RED", 9));
	assert_has(h.summary, "compressed body: 2");
	harness_free(&h);
}

/*
 * gRPC (content-type application/grpc, by literal and then by index): each
 * length-prefixed message on its own, its 5-byte prefix kept.  A compressed
 * message (flag set: gzip of a JSON password, say) cannot be scanned, so it
 * is masked whole (fail closed); an uncompressed one is scanned as a
 * document.  Messages and prefixes split across DATA frames and records;
 * a body that is not gRPC keeps a flag-like byte as it is.
 */
static void test_grpc_messages(void **state)
{
	/* flag 0, 30 bytes of JSON: the password is redacted, the rest kept */
	static const char json[] = "\0\0\0\0\x1e{\"password\":\"Pw1S3cret\",\"n\":7}";
	/* flag 1, 12 bytes "compressed", split 2 + 3 + 7 by the DATA frames below */
	static const char gz[] = "\x01\0\0\0\x0c\x1f\x8bgzS3cretZZ";
	/* flag 0, 3 plain bytes; then an empty compressed message */
	static const char plain[] = "\0\0\0\0\x03" "abc\x01\0\0\0\0";
	struct bytes in = { .n = 0 };
	struct harness h;
	char *first, *fields, *expert;
	size_t prefix_at[5];

	put(&in, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	put_frame(&in, 0x4, 0, 0, NULL, 0);
	/* POST, https, :path /t.S/M (literal), content-type: application/grpc (indexed) */
	put_frame(&in, 0x1, 0x4, 1, B(0x83, 0x87, 0x04, 0x06, '/', 't', '.', 'S', '/', 'M', 0x5f, 0x10,
				       'a', 'p', 'p', 'l', 'i', 'c', 'a', 't', 'i', 'o', 'n', '/', 'g',
				       'r', 'p', 'c'));
	prefix_at[0] = in.n + 9;
	put_frame(&in, 0x0, 0, 1, json, sizeof(json) - 1);
	prefix_at[1] = in.n + 9;
	put_frame(&in, 0x0, 0, 1, gz, 2);
	put_frame(&in, 0x0, 0, 1, gz + 2, 3);
	put_frame(&in, 0x0, 0x1, 1, gz + 5, sizeof(gz) - 1 - 5);
	/* stream 3: content-type by its index in the dynamic table */
	put_frame(&in, 0x1, 0x4, 3, B(0x83, 0x87, 0x04, 0x06, '/', 't', '.', 'S', '/', 'M', 0xbe));
	prefix_at[2] = in.n + 9;
	put_frame(&in, 0x0, 0, 3, gz, sizeof(gz) - 1);
	prefix_at[3] = in.n + 9;
	put_frame(&in, 0x0, 0x1, 3, plain, sizeof(plain) - 1);
	/* stream 5: not gRPC (no content-type): a flag-like first byte means nothing */
	put_frame(&in, 0x1, 0x4, 5, B(0x83, 0x87, 0x84));
	prefix_at[4] = in.n + 9;
	put_frame(&in, 0x0, 0x1, 5, gz, sizeof(gz) - 1);
	harness_open(&h);
	harness_feed(&h, C2S, in.b, in.n, 0);
	harness_close(&h);
	assert_has(h.summary, "Redacted: 3 values (password: 1, compressed grpc message: 2)");
	fields = tshark_run(NULL, "tshark -r '%s' --disable-protocol protobuf -Y grpc -T fields "
			    "-e grpc.compressed_flag -e grpc.message_length 2>/dev/null", h.path);
	assert_non_null(fields);
	/* every gRPC message framed as it was (one TCP segment: one line) */
	assert_string_equal(fields, "0,1,1,0,1\t30,12,12,3,0\n");
	free(fields);
	/* the messages are not protobuf */
	expert = tshark_expert_with(h.path, "--disable-protocol protobuf", "warn");
	assert_non_null(expert);
	assert_string_equal(expert, "");
	free(expert);
	harness_free(&h);
	first = c2s_in_pieces(&in, 30);
	assert_memory_equal(first + prefix_at[0], json, 5);
	assert_memory_equal(first + prefix_at[0] + 5, "{\"password\":\"REDACTEDx\",\"n\":7}", 30);
	/* the prefix in two DATA frames, the message in a third */
	assert_memory_equal(first + prefix_at[1], gz, 2);
	assert_memory_equal(first + prefix_at[1] + 2 + 9, gz + 2, 3);
	assert_memory_equal(first + prefix_at[1] + 2 + 9 + 3 + 9, "REDACTEDxxxx", 12);
	assert_memory_equal(first + prefix_at[2], gz, 5);
	assert_memory_equal(first + prefix_at[2] + 5, "REDACTEDxxxx", 12);
	assert_memory_equal(first + prefix_at[3], plain, sizeof(plain) - 1);
	assert_memory_equal(first + prefix_at[4], gz, sizeof(gz) - 1);
	free(first);
}

/* A block that does not decode: the rest of the direction is masked, and said so. */
static void test_bad_block(void **state)
{
	struct bytes in = { .n = 0 };
	struct harness h;

	put(&in, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	put_frame(&in, 0x1, 0x4, 1, B(0x82, 0xff, 0x7f)); /* index far beyond the table */
	put_frame(&in, 0x0, 0x1, 1, "abc", 3);
	harness_open(&h);
	harness_feed(&h, C2S, in.b, in.n, 0);
	harness_close(&h);
	assert_memory_equal(h.out[C2S], in.b, 24);
	assert_int_equal(h.out_len[C2S], in.n);
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "abc", 3));
	assert_has(h.summary, "masked entirely (HPACK index beyond the table");
	harness_free(&h);
}

/*
 * A gap loses a HEADERS frame that added an entry to the dynamic table: the
 * receiver's indexes moved and ours did not.  The block after the gap names
 * authorization by index 63 (ours would say x-trace): the rest of the
 * direction must be masked, not followed with the stale table.
 */
static void test_gap_fails_closed(void **state)
{
	/* 62: authorization, 63: x-trace */
	static const uint8_t before[] = { 0x82, 0x86, 0x84, 0x40, 0x07, 'x', '-', 't', 'r', 'a', 'c', 'e',
					  0x01, 't', 0x57, 0x08, 'B', 'e', 'a', 'r', 'e', 'r', ' ', 'a' };
	/* lost: 62: x-other, 63: authorization, 64: x-trace */
	static const uint8_t lost[] = { 0x82, 0x86, 0x84, 0x40, 0x07, 'x', '-', 'o', 't', 'h', 'e', 'r',
					0x01, 'o' };
	/* a literal named by index 63, with a new value */
	static const uint8_t after[] = { 0x82, 0x86, 0x84, 0x7f, 0x00, 0x10, 'B', 'e', 'a', 'r', 'e', 'r',
					 ' ', 'S', '3', 'c', 'r', '3', 't', 'G', 'a', 'p' };
	struct bytes a = { .n = 0 }, b = { .n = 0 }, c = { .n = 0 };
	struct harness h;

	put(&a, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	put_frame(&a, 0x4, 0, 0, NULL, 0);
	put_frame(&a, 0x1, 0x5, 1, before, sizeof(before));
	put_frame(&b, 0x1, 0x5, 3, lost, sizeof(lost));
	put_frame(&c, 0x1, 0x5, 5, after, sizeof(after));
	harness_open(&h);
	harness_write_at(&h, C2S, 0, a.b, a.n, a.n);
	harness_write_at(&h, C2S, a.n + b.n, c.b, c.n, c.n);
	harness_close(&h);
	/* the bytes around the gap keep their lengths; before it, only the secret changed */
	assert_int_equal(h.out_len[C2S], a.n + c.n);
	assert_memory_equal(h.out[C2S], a.b, a.n - 1);
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "S3cr3tGap", 9));
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "Bearer a", 8));
	assert_string_equal(h.summary, "Redacted: 1 value (authorization: 1)\nRedacted: 31 bytes masked "
				       "entirely (bytes not captured: their meaning was not sure)");
	harness_free(&h);
}

/* Joined mid-connection: no preface, no table; a HEADERS frame is masked whole, and said so. */
static void test_joined_fails_closed(void **state)
{
	static const uint8_t block[] = { 0x82, 0x86, 0x84, 0x57, 0x0f, 'B', 'e', 'a', 'r', 'e', 'r', ' ',
					 'J', '0', 'i', 'n', 'e', 'd', 'T', 'k' };
	struct bytes in = { .n = 0 };
	struct harness h;

	put_frame(&in, 0x1, 0x5, 7, block, sizeof(block));
	harness_open_policy(&h, redact_policy__new(), true);
	harness_feed(&h, C2S, in.b, in.n, 0);
	harness_close(&h);
	assert_int_equal(h.out_len[C2S], in.n);
	assert_null(memmem(h.out[C2S], h.out_len[C2S], "J0inedTk", 8));
	assert_string_equal(h.summary, "Redacted: 0 values\nRedacted: 29 bytes masked entirely "
				       "(joined mid-connection: their meaning was not sure)");
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_client_continuation),
		cmocka_unit_test(test_server_rfc_examples),
		cmocka_unit_test(test_bad_block),
		cmocka_unit_test(test_compressed_bodies),
		cmocka_unit_test(test_grpc_messages),
		cmocka_unit_test(test_gap_fails_closed),
		cmocka_unit_test(test_joined_fails_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
