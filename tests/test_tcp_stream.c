// SPDX-License-Identifier: MIT
/*
 * Synthetic TCP streams, judged by tshark: every byte fed in comes back out
 * of "follow tcp" in the right direction, checksums verify, and the expert
 * system has nothing to say (except about gaps, where it must).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "pcapng.h"
#include "tcp_stream.h"
#include "tshark_helpers.h"

#define T0 1700000000000000000ULL /* a plausible capture time, ns */

struct ctx {
	char dir[64];
	char path[96];
	FILE *f;
	struct pcapng_writer *w;
	struct tcp_stream_table *t;
	struct tcp_stream_counters counters; /* copied at finish */
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	int id;

	if (!c)
		return -1;
	strcpy(c->dir, "/tmp/test_tcp_stream.XXXXXX");
	id = test_capture_open(c->dir, c->path, sizeof(c->path), &c->f, &c->w);
	if (id < 0)
		return -1;
	c->t = tcp_stream_table__new(c->w, id);
	if (!c->t)
		return -1;
	*state = c;
	return 0;
}

/* Frees the table and writer and closes the file, so tshark can read it. */
static void finish(struct ctx *c)
{
	c->counters = *tcp_stream_table__counters(c->t);
	tcp_stream_table__free(c->t);
	c->t = NULL;
	pcapng_writer__free(c->w);
	c->w = NULL;
	assert_int_equal(fclose(c->f), 0);
	c->f = NULL;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	tcp_stream_table__free(c->t);
	pcapng_writer__free(c->w);
	if (c->f)
		fclose(c->f);
	test_capture_remove(c->dir, c->path);
	free(c);
	return 0;
}

static struct tcp_stream_info info_v4(const char *client, uint16_t cport, const char *server, uint16_t sport)
{
	struct tcp_stream_info in = {
		.client = { .family = AF_INET, .port = cport },
		.server = { .family = AF_INET, .port = sport },
	};

	inet_pton(AF_INET, client, in.client.addr);
	inet_pton(AF_INET, server, in.server.addr);
	return in;
}

static struct tcp_stream *open_ok(struct ctx *c, const struct tcp_stream_info *in)
{
	struct tcp_stream *s = tcp_stream__open(c->t, in, T0);

	assert_non_null(s);
	return s;
}

static void write_ok(struct tcp_stream *s, enum tcp_stream_dir dir, uint64_t off, const void *data,
		     uint64_t len)
{
	assert_int_equal(tcp_stream__write(s, dir, off, data, len, len, T0 + off, NULL), 0);
}

static void test_all_byte_values(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = info_v4("10.0.0.1", 40000, "10.0.0.2", 7777);
	uint8_t up[256], down[256];
	struct tcp_stream *s;
	int i;

	for (i = 0; i < 256; i++) {
		up[i] = i;
		down[i] = 255 - i;
	}
	s = open_ok(c, &in);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 0, up, 256);
	write_ok(s, TCP_STREAM_SERVER_TO_CLIENT, 0, down, 255); /* odd: the checksum's padded tail */
	assert_int_equal(tcp_stream__next_offset(s, TCP_STREAM_CLIENT_TO_SERVER), 256);
	assert_int_equal(tcp_stream__close(s, T0 + 1000, NULL), 0);
	finish(c);

	/* handshake 3 + data 2 + close 3 */
	assert_int_equal(tshark_count(c->path, "tcp"), 8);
	assert_int_equal(tshark_count(c->path, "tcp.checksum.status==1 && ip.checksum.status==1"), 8);
	assert_int_equal(tshark_count(c->path, "tcp.flags.syn==1 && tcp.options.wscale.shift==14 && tcp.options.mss_val==65495"), 2);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, up, 256, down, 255);
	assert_int_equal(c->counters.streams, 1);
	assert_int_equal(c->counters.packets, 8);
	assert_int_equal(c->counters.payload_bytes, 511);
}

static void test_one_mib_split(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = info_v4("10.0.0.1", 40001, "10.0.0.2", 7777);
	size_t len = 1 << 20;
	uint8_t *big = test_pattern(len, 1);
	struct tcp_stream *s;

	s = open_ok(c, &in);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 0, big, len);
	write_ok(s, TCP_STREAM_SERVER_TO_CLIENT, 0, "ok", 2);
	assert_int_equal(tcp_stream__close(s, T0 + 1000, NULL), 0);
	finish(c);

	/* 16 full segments of 65495 and one of 656 */
	assert_int_equal(tshark_count(c->path, "tcp.len==65495 && ip.len==65535"), 16);
	assert_int_equal(tshark_count(c->path, "tcp.len==656"), 1);
	assert_int_equal(tshark_count(c->path, "tcp.len>65495"), 0);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, big, len, "ok", 2);
	free(big);
}

static void test_ipv6(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = {
		.client = { .family = AF_INET6, .port = 50000 },
		.server = { .family = AF_INET6, .port = 443 },
	};
	size_t len = 200000;
	uint8_t *up = test_pattern(len, 2), *down = test_pattern(777, 3);
	struct tcp_stream *s;

	inet_pton(AF_INET6, "fd00::1", in.client.addr);
	inet_pton(AF_INET6, "fd00::2", in.server.addr);
	s = open_ok(c, &in);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 0, up, len);
	write_ok(s, TCP_STREAM_SERVER_TO_CLIENT, 0, down, 777);
	assert_int_equal(tcp_stream__close(s, T0 + 1000, NULL), 0);
	finish(c);

	/* handshake 3, data 4 + 1, close 3 */
	assert_int_equal(tshark_count(c->path, "ipv6 && tcp"), 11);
	assert_int_equal(tshark_count(c->path, "ip"), 0);
	/* 200000 = 3 * 65515 + 3455 */
	assert_int_equal(tshark_count(c->path, "tcp.len==65515 && ipv6.plen==65535"), 3);
	assert_int_equal(tshark_count(c->path, "tcp.len==3455"), 1);
	assert_int_equal(tshark_count(c->path, "tcp.options.mss_val==65475"), 2);
	assert_int_equal(tshark_count(c->path, "tcp.dstport==80 && ipv6.src==fd00::1"), 8);
	assert_int_equal(tshark_count(c->path, "tcp.checksum.status==1"), 11);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, up, len, down, 777);
	free(up);
	free(down);
}

static void test_gap(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = info_v4("10.0.0.1", 40002, "10.0.0.2", 7777);
	uint8_t *a = test_pattern(100, 4), *b = test_pattern(100, 5);
	const char *missing = "[1234 bytes missing in capture file]";
	struct follow_result r = {};
	struct tcp_stream *s;
	long stream = 0;
	char *rows, *fields;

	s = open_ok(c, &in);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 0, "hello", 5);
	write_ok(s, TCP_STREAM_SERVER_TO_CLIENT, 0, a, 100);
	/* 1234 bytes never seen: the next write jumps ahead */
	assert_int_equal(tcp_stream__write(s, TCP_STREAM_SERVER_TO_CLIENT, 1334, b, 100, 100, T0 + 5,
					   "server said more"), 0);
	assert_int_equal(tcp_stream__next_offset(s, TCP_STREAM_SERVER_TO_CLIENT), 1434);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 5, "bye", 3);
	/* a trailing loss is reported on the FIN, whose seq covers it */
	assert_int_equal(tcp_stream__mark_lost(s, TCP_STREAM_CLIENT_TO_SERVER, 8, 50), 0);
	assert_int_equal(tcp_stream__next_offset(s, TCP_STREAM_CLIENT_TO_SERVER), 58);
	assert_int_equal(tcp_stream__close(s, T0 + 1000, NULL), 0);
	finish(c);

	assert_int_equal(c->counters.lost_bytes, 1284);
	rows = tshark_expert(c->path, "warn");
	assert_non_null(rows);
	/* Expected here and only here: the gaps themselves, and the acks that
	 * cover them (a real capture that missed a segment looks the same). */
	assert_non_null(strstr(rows, "Previous segment(s) not captured"));
	{
		char *line, *save = NULL;

		for (line = strtok_r(rows, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (!strstr(line, "Previous segment(s) not captured") &&
			    !strstr(line, "ACKed segment that wasn't captured"))
				fail_msg("unexpected expert row: %s", line);
	}
	free(rows);
	assert_int_equal(tshark_count(c->path, "tcp.checksum.status==0 || ip.checksum.status==0"), 0);

	fields = tshark_run(NULL, "tshark -r '%s' -Y 'tcp.analysis.lost_segment' -T fields -e tcp.seq -e tcp.len -e frame.comment 2>/dev/null",
			    c->path);
	assert_non_null(fields);
	assert_non_null(strstr(fields, "1335\t100\ttlspcap: 1234 bytes not captured before this segment,server said more\n"));
	/* FIN: relative seq 1 + 8 written + 50 lost */
	assert_non_null(strstr(fields, "59\t0\ttlspcap: 50 bytes not captured before this FIN\n"));
	free(fields);

	assert_int_equal(tshark_follow(c->path, &stream, 1, &r), 0);
	assert_int_equal(r.len[0], 8);
	assert_memory_equal(r.data[0], "hellobye", 8);
	assert_int_equal(r.len[1], 200 + strlen(missing) + 1);
	assert_memory_equal(r.data[1], a, 100);
	assert_memory_equal(r.data[1] + 100, missing, strlen(missing));
	assert_memory_equal(r.data[1] + 100 + strlen(missing) + 1, b, 100);
	follow_result__free(&r);
	free(a);
	free(b);
}

static void test_truncated(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = info_v4("10.0.0.1", 40003, "10.0.0.2", 7777);
	uint8_t *data = test_pattern(100000, 6);
	struct tcp_stream *s;
	char *fields;

	s = open_ok(c, &in);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 0, "req", 3);
	/* 5000 bytes sent, a snap length kept 1000 */
	assert_int_equal(tcp_stream__write(s, TCP_STREAM_SERVER_TO_CLIENT, 0, data, 1000, 5000, T0 + 1, NULL), 0);
	/* nothing captured at all: the headers still are */
	assert_int_equal(tcp_stream__write(s, TCP_STREAM_SERVER_TO_CLIENT, 5000, NULL, 0, 300, T0 + 2, NULL), 0);
	/* cut inside the second of two segments */
	assert_int_equal(tcp_stream__write(s, TCP_STREAM_SERVER_TO_CLIENT, 5300, data, 70000, 100000, T0 + 3, NULL), 0);
	assert_int_equal(tcp_stream__next_offset(s, TCP_STREAM_SERVER_TO_CLIENT), 105300);
	assert_int_equal(tcp_stream__close(s, T0 + 1000, NULL), 0);
	finish(c);
	free(data);

	assert_int_equal(c->counters.truncated_bytes, 4000 + 300 + 30000);
	assert_int_equal(c->counters.lost_bytes, 0);
	fields = tshark_run(NULL, "tshark -r '%s' -Y 'tcp.srcport==7777 && tcp.len>0' -T fields -e frame.cap_len -e frame.len -e tcp.len 2>/dev/null",
			    c->path);
	assert_non_null(fields);
	assert_string_equal(fields, "1040\t5040\t5000\n"
				    "40\t340\t300\n"
				    "65535\t65535\t65495\n"
				    "4545\t34545\t34505\n");
	free(fields);
	/* snapped frames are not flagged as lost data and cannot be checksummed */
	tshark_assert_clean(c->path);
	assert_int_equal(tshark_count(c->path, "tcp.checksum.status==2"), 3);
}

static void test_seq_wrap(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = info_v4("10.0.0.1", 40004, "10.0.0.2", 7777);
	uint8_t *up = test_pattern(3000, 7), *down = test_pattern(5000, 8);
	struct tcp_stream *s;
	char *fields;
	int i;

	in.fixed_isn = 1;
	in.client_isn = 0xfffffc00;
	in.server_isn = 0xffffffff;
	s = open_ok(c, &in);
	for (i = 0; i < 3; i++)
		write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, i * 1000, up + i * 1000, 1000);
	write_ok(s, TCP_STREAM_SERVER_TO_CLIENT, 0, down, 5000);
	assert_int_equal(tcp_stream__close(s, T0 + 1000, NULL), 0);
	finish(c);

	fields = tshark_run(NULL, "tshark -r '%s' -Y 'tcp.flags.syn==1' -T fields -e tcp.seq_raw 2>/dev/null", c->path);
	assert_non_null(fields);
	assert_string_equal(fields, "4294966272\n4294967295\n");
	free(fields);
	tshark_assert_clean(c->path);
	tshark_assert_follow(c->path, 0, up, 3000, down, 5000);
	free(up);
	free(down);
}

#define N_STREAMS 1000
#define N_CHUNKS 3
#define CHUNK 100

/*
 * Rebuilds both directions of every stream from the frames' payloads in file
 * order (one tshark pass) and compares them with what was written: stream i
 * has client port 20000 + i, its client sends want[i], its server want[i]^1.
 */
static void assert_streams_from_fields(const struct ctx *c, uint8_t *const *want)
{
	size_t (*got)[2] = calloc(N_STREAMS, sizeof(*got));
	long frames = 0;
	char *out, *line, *save = NULL;
	size_t i;

	assert_non_null(got);
	out = tshark_run(NULL, "tshark -r '%s' -Y 'tcp.len>0' -T fields -e tcp.srcport -e tcp.dstport -e tcp.payload 2>/dev/null",
			 c->path);
	assert_non_null(out);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned sport, dport;
		char hex[2 * CHUNK + 2];
		int dir, idx;
		size_t k, n;

		assert_int_equal(sscanf(line, "%u\t%u\t%201s", &sport, &dport, hex), 3);
		dir = sport == 7777;
		idx = (int)(dir ? dport : sport) - 20000;
		assert_in_range(idx, 0, N_STREAMS - 1);
		n = strlen(hex) / 2;
		assert_int_equal(n, CHUNK);
		assert_true(got[idx][dir] + n <= N_CHUNKS * CHUNK);
		for (k = 0; k < n; k++) {
			uint8_t b = hexval(hex[2 * k]) << 4 | hexval(hex[2 * k + 1]);

			assert_int_equal(b, want[idx][got[idx][dir] + k] ^ dir);
		}
		got[idx][dir] += n;
		frames++;
	}
	free(out);
	for (i = 0; i < N_STREAMS; i++) {
		assert_int_equal(got[i][0], N_CHUNKS * CHUNK);
		assert_int_equal(got[i][1], N_CHUNKS * CHUNK);
	}
	assert_int_equal(frames, N_STREAMS * 2 * N_CHUNKS);
	free(got);
}

static void test_many_streams_interleaved(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream **s = calloc(N_STREAMS, sizeof(*s));
	uint8_t **want = calloc(N_STREAMS, sizeof(*want));
	uint8_t down[N_CHUNKS * CHUNK];
	long sample[] = { 0, 1, 499, 998, 999 };
	struct follow_result r[5] = {};
	char *streams;
	int i, k, n = 0;

	assert_non_null(s);
	assert_non_null(want);
	for (i = 0; i < N_STREAMS; i++) {
		struct tcp_stream_info in = info_v4("10.0.0.1", 20000 + i, "10.0.0.2", 7777);

		want[i] = test_pattern(N_CHUNKS * CHUNK, 100 + i);
		s[i] = open_ok(c, &in);
	}
	for (k = 0; k < N_CHUNKS; k++) {
		for (i = 0; i < N_STREAMS; i++) {
			uint8_t back[CHUNK];
			int j;

			for (j = 0; j < CHUNK; j++)
				back[j] = want[i][k * CHUNK + j] ^ 1;
			write_ok(s[i], TCP_STREAM_CLIENT_TO_SERVER, k * CHUNK, want[i] + k * CHUNK, CHUNK);
			write_ok(s[i], TCP_STREAM_SERVER_TO_CLIENT, k * CHUNK, back, CHUNK);
		}
	}
	for (i = 0; i < N_STREAMS; i++)
		assert_int_equal(tcp_stream__close(s[i], T0 + 1000, NULL), 0);
	finish(c);
	assert_int_equal(c->counters.streams, N_STREAMS);
	assert_int_equal(c->counters.packets, N_STREAMS * (3 + 2 * N_CHUNKS + 3));

	streams = tshark_run(NULL, "tshark -r '%s' -T fields -e tcp.stream 2>/dev/null | sort -nu | wc -l", c->path);
	assert_non_null(streams);
	assert_int_equal(atoi(streams), N_STREAMS);
	free(streams);
	tshark_assert_clean(c->path);
	assert_streams_from_fields(c, want);

	/* and a sample through tshark's own reassembly, in one pass */
	assert_int_equal(tshark_follow(c->path, sample, 5, r), 0);
	for (i = 0; i < 5; i++) {
		int idx = sample[i]; /* streams are numbered in open order */

		for (k = 0; k < N_CHUNKS * CHUNK; k++)
			down[k] = want[idx][k] ^ 1;
		assert_int_equal(r[i].len[0], sizeof(down));
		assert_int_equal(r[i].len[1], sizeof(down));
		assert_memory_equal(r[i].data[0], want[idx], sizeof(down));
		assert_memory_equal(r[i].data[1], down, sizeof(down));
		follow_result__free(&r[i]);
		n++;
	}
	assert_int_equal(n, 5);
	for (i = 0; i < N_STREAMS; i++)
		free(want[i]);
	free(want);
	free(s);
}

static void test_plaintext_port_table(void **state)
{
	char *decodes, *line, *save = NULL;
	int tls_ports = 0;

	(void)state;
	assert_int_equal(tcp_stream__plaintext_port(443), 80);
	assert_int_equal(tcp_stream__plaintext_port(8443), 8080);
	assert_int_equal(tcp_stream__plaintext_port(993), 143);
	assert_int_equal(tcp_stream__plaintext_port(995), 110);
	assert_int_equal(tcp_stream__plaintext_port(465), 25);
	assert_int_equal(tcp_stream__plaintext_port(636), 389);
	assert_int_equal(tcp_stream__plaintext_port(853), 53);
	assert_int_equal(tcp_stream__plaintext_port(5671), 5672);
	assert_int_equal(tcp_stream__plaintext_port(8883), 1883);
	assert_int_equal(tcp_stream__plaintext_port(80), 80);
	assert_int_equal(tcp_stream__plaintext_port(5432), 5432);
	assert_int_equal(tcp_stream__plaintext_port(0), 0);

	/* Every port tshark decodes as TLS maps to one it does not. */
	decodes = tshark_run(NULL, "tshark -G decodes 2>/dev/null | awk -F'\\t' '$1 == \"tcp.port\" && $3 == \"tls\" { print $2 }'");
	assert_non_null(decodes);
	for (line = strtok_r(decodes, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint16_t port = atoi(line), plain = tcp_stream__plaintext_port(port);
		char needle[16];

		snprintf(needle, sizeof(needle), "\n%u\n", plain);
		if (plain == port)
			fail_msg("TLS port %u is not remapped", port);
		assert_int_equal(tcp_stream__plaintext_port(plain), plain);
		tls_ports++;
	}
	free(decodes);
	assert_true(tls_ports >= 24);
}

static void test_tls_port_remap_http(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = info_v4("10.0.0.1", 40005, "10.0.0.2", 443);
	struct tcp_stream_info h2 = info_v4("10.0.0.1", 40006, "10.0.0.3", 9999);
	const char *req = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
	const char *rsp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
	/* client preface + empty SETTINGS; server empty SETTINGS + SETTINGS ack */
	static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
					 "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
	static const uint8_t settings[] = "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
					  "\x00\x00\x00\x04\x01\x00\x00\x00\x00";
	struct tcp_stream *s;

	s = open_ok(c, &in);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 0, req, strlen(req));
	write_ok(s, TCP_STREAM_SERVER_TO_CLIENT, 0, rsp, strlen(rsp));
	assert_int_equal(tcp_stream__close(s, T0 + 1000, NULL), 0);

	h2.server_port_override = 80;
	s = open_ok(c, &h2);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 0, preface, sizeof(preface) - 1);
	write_ok(s, TCP_STREAM_SERVER_TO_CLIENT, 0, settings, sizeof(settings) - 1);
	assert_int_equal(tcp_stream__close(s, T0 + 1000, NULL), 0);
	finish(c);

	assert_int_equal(tshark_count(c->path, "tcp.port==443"), 0);
	assert_int_equal(tshark_count(c->path, "tls"), 0);
	assert_int_equal(tshark_count(c->path, "http.request && http.request.uri==\"/index.html\" && tcp.dstport==80"), 1);
	assert_int_equal(tshark_count(c->path, "http.response.code==200"), 1);
	assert_int_equal(tshark_count(c->path, "http2.magic && ip.dst==10.0.0.3"), 1);
	assert_int_equal(tshark_count(c->path, "http2.type==4"), 2);
	tshark_assert_clean(c->path);
}

static void test_tuple_uniqueness(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info same = info_v4("10.0.0.1", 40007, "10.0.0.2", 443);
	struct tcp_stream_info tls_next = info_v4("10.0.0.1", 442, "10.0.0.2", 7777);
	struct tcp_stream_info top = info_v4("10.0.0.1", 65535, "10.0.0.2", 7777);
	struct tcp_stream_info unknown = info_v4("0.0.0.0", 0, "0.0.0.0", 0);
	struct tcp_stream *a, *b, *s, *open[4];
	char *ports;
	int i;

	/* both ends of one local connection: same real tuple, two views */
	a = open_ok(c, &same);
	same.local_side = TCP_STREAM_SIDE_SERVER;
	b = open_ok(c, &same);
	write_ok(a, TCP_STREAM_CLIENT_TO_SERVER, 0, "abc", 3);
	write_ok(b, TCP_STREAM_CLIENT_TO_SERVER, 0, "abc", 3);
	assert_int_equal(tcp_stream__close(a, T0 + 1000, NULL), 0);
	assert_int_equal(tcp_stream__close(b, T0 + 1000, NULL), 0);
	/* once both closed, the tuple is free: a new SYN, a new tcp.stream, no warning */
	s = open_ok(c, &same);
	assert_int_equal(tcp_stream__close(s, T0 + 2000, NULL), 0);
	/* bumping skips TLS ports (443) and 0 */
	for (i = 0; i < 2; i++) {
		open[2 * i] = open_ok(c, &tls_next);
		open[2 * i + 1] = open_ok(c, &top);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(tcp_stream__close(open[i], T0 + 3000, NULL), 0);
	/* many unknown tuples stay cheap and distinct */
	for (i = 0; i < 20000; i++) {
		s = tcp_stream__open(c->t, &unknown, T0 + 4000);
		assert_non_null(s);
		assert_int_equal(tcp_stream__close(s, T0 + 4000, NULL), 0);
	}
	finish(c);

	ports = tshark_run(NULL, "tshark -r '%s' -Y 'tcp.flags.syn==1 && tcp.flags.ack==0 && ip.src==10.0.0.1' -T fields -e tcp.stream -e tcp.srcport -e tcp.dstport 2>/dev/null",
			   c->path);
	assert_non_null(ports);
	assert_string_equal(ports, "0\t40007\t80\n"
				   "1\t40008\t80\n"
				   "2\t40007\t80\n"
				   "3\t442\t7777\n"
				   "4\t65535\t7777\n"
				   "5\t444\t7777\n"
				   "6\t1\t7777\n");
	free(ports);
	ports = tshark_run(NULL, "tshark -r '%s' -T fields -e tcp.stream 2>/dev/null | sort -nu | wc -l", c->path);
	assert_non_null(ports);
	assert_int_equal(atoi(ports), 7 + 20000);
	free(ports);
	ports = tshark_run(NULL, "tshark -r '%s' -Y 'ip.src==0.0.0.0 && tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.srcport 2>/dev/null | sort -u | wc -l",
			   c->path);
	assert_non_null(ports);
	assert_int_equal(atoi(ports), 20000);
	free(ports);
	tshark_assert_clean(c->path);
}

/*
 * A long run: one client and server pair makes far more connections than it
 * has client ports, its real ports cycling as the kernel hands them out again.
 * Each closed stream gives its tuple back, so every one opens.
 */
static void test_tuples_given_back(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = info_v4("10.0.0.1", 0, "10.0.0.2", 5432);
	struct tcp_stream *s, *keep;
	int i;

	keep = open_ok(c, &in); /* one stays open throughout, holding its tuple */
	for (i = 0; i < 70000; i++) {
		in.client.port = 32768 + i % 28232;
		s = tcp_stream__open(c->t, &in, T0 + i);
		if (!s)
			fail_msg("stream %d did not open: %s", i, strerror(errno));
		assert_int_equal(tcp_stream__close(s, T0 + i, NULL), 0);
	}
	assert_int_equal(tcp_stream__close(keep, T0 + i, NULL), 0);
	assert_int_equal(tcp_stream_table__counters(c->t)->streams, 70001);
}

static void test_comments_and_direction(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = info_v4("10.0.0.1", 40010, "10.0.0.2", 7777);
	struct tcp_stream *s;
	char *out;

	in.local_side = TCP_STREAM_SIDE_SERVER;
	in.comments[0] = "PID: 4242";
	in.comments[1] = "Cmd: nginx";
	in.comments[2] = "Real: 10.0.0.1:40010 -> 10.0.0.2:7777";
	s = open_ok(c, &in);
	assert_int_equal(tcp_stream__write(s, TCP_STREAM_CLIENT_TO_SERVER, 0, "q", 1, 1, T0 + 1, "req"), 0);
	write_ok(s, TCP_STREAM_SERVER_TO_CLIENT, 0, "a", 1);
	assert_int_equal(tcp_stream__close(s, T0 + 1000, "peer closed"), 0);
	finish(c);

	out = tshark_run(NULL, "tshark -r '%s' -T fields -e ip.src -e frame.packet_flags_direction -e frame.comment 2>/dev/null",
			 c->path);
	assert_non_null(out);
	/* the local side is the server: its sends are outbound (0x2) */
	assert_string_equal(out,
			    "10.0.0.1\t0x00000001\tPID: 4242,Cmd: nginx,Real: 10.0.0.1:40010 -> 10.0.0.2:7777\n"
			    "10.0.0.2\t0x00000002\t\n"
			    "10.0.0.1\t0x00000001\t\n"
			    "10.0.0.1\t0x00000001\treq\n"
			    "10.0.0.2\t0x00000002\t\n"
			    "10.0.0.1\t0x00000001\tpeer closed\n"
			    "10.0.0.2\t0x00000002\t\n"
			    "10.0.0.1\t0x00000001\t\n");
	free(out);
	tshark_assert_clean(c->path);
}

static void test_duplicates_and_overlap(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = info_v4("10.0.0.1", 40011, "10.0.0.2", 7777);
	uint8_t *data = test_pattern(200, 9);
	struct tcp_stream *s;

	s = open_ok(c, &in);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 0, data, 100);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 0, data, 100);           /* all old */
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 50, data + 50, 100);     /* half old */
	assert_int_equal(tcp_stream__write(s, TCP_STREAM_CLIENT_TO_SERVER, 140, data + 140, 20, 60,
					   T0 + 5, NULL), 0);                /* 10 old, snapped */
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 150, data + 150, 50);    /* 50 old */
	write_ok(s, TCP_STREAM_SERVER_TO_CLIENT, 0, "x", 1);
	assert_int_equal(tcp_stream__next_offset(s, TCP_STREAM_CLIENT_TO_SERVER), 200);
	assert_int_equal(tcp_stream__close(s, T0 + 1000, NULL), 0);
	finish(c);

	assert_int_equal(c->counters.duplicate_bytes, 100 + 50 + 10 + 50);
	assert_int_equal(c->counters.truncated_bytes, 40);
	assert_int_equal(tshark_count(c->path, "tcp.len>0"), 4);
	assert_int_equal(tshark_count(c->path, "tcp.analysis.retransmission || tcp.analysis.out_of_order"), 0);
	tshark_assert_clean(c->path);
	free(data);
}

static void test_errors(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = info_v4("10.0.0.1", 40012, "10.0.0.2", 7777);
	struct tcp_stream_info mixed = in;
	struct tcp_stream *s;
	struct pcapng_writer *w;
	struct tcp_stream_table *t;
	char room[160];
	FILE *full;
	int id;

	mixed.server.family = AF_INET6;
	errno = 0;
	assert_null(tcp_stream__open(c->t, &mixed, T0));
	assert_int_equal(errno, EINVAL);
	s = open_ok(c, &in);
	assert_int_equal(tcp_stream__write(s, TCP_STREAM_CLIENT_TO_SERVER, 0, "ab", 3, 2, T0, NULL), -EINVAL);
	assert_int_equal(tcp_stream__write(s, TCP_STREAM_CLIENT_TO_SERVER, 0, NULL, 2, 2, T0, NULL), -EINVAL);
	assert_int_equal(tcp_stream__write(s, 2, 0, "ab", 2, 2, T0, NULL), -EINVAL);
	assert_int_equal(tcp_stream__close(s, T0, NULL), 0);
	tcp_stream_table__free(NULL);
	errno = 0;
	assert_null(tcp_stream_table__new(NULL, 0));
	assert_int_equal(errno, EINVAL);

	/* writer errors come back, not swallowed: room for the headers only */
	full = fmemopen(room, sizeof(room), "w");
	assert_non_null(full);
	setvbuf(full, NULL, _IONBF, 0); /* each block meets the full buffer at once */
	w = pcapng_writer__new(full, NULL, NULL);
	assert_non_null(w);
	id = pcapng_writer__add_interface(w, "x", NULL);
	assert_true(id >= 0);
	t = tcp_stream_table__new(w, id);
	assert_non_null(t);
	errno = 0;
	assert_null(tcp_stream__open(t, &in, T0));
	assert_int_equal(errno, ENOSPC);
	tcp_stream_table__free(t);
	pcapng_writer__free(w);
	fclose(full);
	finish(c);
}

/*
 * Rotation: a new section, then the stream goes on.  The second section cut
 * out as a file of its own is clean, starts without a handshake, carries the
 * comments on its first frame; the whole file (both sections, as mergecap
 * would give) is one stream, byte-exact.
 */
static void test_continue_in_new_file(void **state)
{
	struct ctx *c = *state;
	struct tcp_stream_info in = info_v4("10.0.0.1", 40020, "10.0.0.2", 7777);
	const char *comments[] = { "PID: 42\nRole: client", NULL };
	uint8_t *up = test_pattern(300000, 5), *down = test_pattern(200000, 6);
	char second[160], *part;
	struct tcp_stream *s;
	uint64_t cut;
	size_t len;
	FILE *f;

	in.comments[0] = comments[0];
	s = open_ok(c, &in);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 0, up, 100000);
	write_ok(s, TCP_STREAM_SERVER_TO_CLIENT, 0, down, 50000);
	assert_int_equal(pcapng_writer__flush(c->w), 0);
	cut = pcapng_writer__bytes_written(c->w);
	assert_int_equal(pcapng_writer__new_section(c->w), 0);
	assert_int_equal(tcp_stream__continue(s, comments), 0);
	/* the server speaks first in the new file: it acks client bytes the file lacks */
	write_ok(s, TCP_STREAM_SERVER_TO_CLIENT, 50000, down + 50000, 150000);
	write_ok(s, TCP_STREAM_CLIENT_TO_SERVER, 100000, up + 100000, 200000);
	assert_int_equal(tcp_stream__close(s, T0 + 1000000, NULL), 0);
	finish(c);

	f = fopen(c->path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f) - cut;
	part = malloc(len);
	assert_non_null(part);
	assert_int_equal(fseek(f, cut, SEEK_SET), 0);
	assert_int_equal(fread(part, 1, len, f), len);
	fclose(f);
	snprintf(second, sizeof(second), "%s.2", c->path);
	f = fopen(second, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(part, 1, len, f), len);
	assert_int_equal(fclose(f), 0);

	tshark_assert_clean(second);
	assert_int_equal(tshark_count(second, "tcp.flags.syn==1"), 0);
	assert_int_equal(tshark_count(second, "frame.number==1 && frame.comment contains \"continues from the previous file\" && frame.comment contains \"PID: 42\""), 1);
	assert_int_equal(tshark_count(second, "frame.comment"), 1);
	tshark_assert_clean(c->path);
	assert_int_equal(tshark_count(c->path, "tcp.flags.syn==1"), 2);
	assert_int_equal(tshark_count(c->path, "tcp.stream==1"), 0);
	tshark_assert_follow(c->path, 0, up, 300000, down, 200000);
	unlink(second);
	free(part);
	free(up);
	free(down);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_byte_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_mib_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_streams_interleaved, setup, teardown),
		cmocka_unit_test(test_plaintext_port_table),
		cmocka_unit_test_setup_teardown(test_tls_port_remap_http, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tuple_uniqueness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tuples_given_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments_and_direction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_and_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continue_in_new_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
