// SPDX-License-Identifier: MIT
/*
 * pcapng writer tests: every block byte for byte against hand-written
 * bytes, files read back by libpcap and tshark, write errors on /dev/full,
 * and API misuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pcapng.h"
#include "test_helpers.h"

/* Expected bytes are written little-endian, as the writer uses host order. */
#define LE16(x) (uint8_t)((x) & 0xff), (uint8_t)(((x) >> 8) & 0xff)
#define LE32(x) LE16((x) & 0xffff), LE16(((x) >> 16) & 0xffff)
#define LE64(x) LE32((uint64_t)(x) & 0xffffffff), LE32((uint64_t)(x) >> 32)

#define SKIP_IF_BIG_ENDIAN()                                \
	do {                                                \
		if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) \
			skip();                             \
	} while (0)

static char tmpdir[sizeof("/tmp/test_pcapng.XXXXXX")];

static int tmpdir_setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_pcapng.XXXXXX");
	return test_tmpdir_make(tmpdir);
}

static int tmpdir_teardown(void **state)
{
	return test_tmpdir_remove(tmpdir);
}

static void tmp_path(char *path, size_t size, const char *name)
{
	snprintf(path, size, "%s/%s", tmpdir, name);
}

/* An in-memory stream whose contents are visible after each flush. */
struct memfile {
	FILE *f;
	char *buf;
	size_t size;
};

static void memfile_open(struct memfile *m)
{
	m->buf = NULL;
	m->size = 0;
	m->f = open_memstream(&m->buf, &m->size);
	assert_non_null(m->f);
}

static void memfile_close(struct memfile *m)
{
	fclose(m->f);
	free(m->buf);
}

static void assert_bytes(const struct memfile *m, size_t offset, const uint8_t *expected,
			 size_t len)
{
	assert_int_equal(m->size, offset + len);
	assert_memory_equal(m->buf + offset, expected, len);
}

/* A writer on @m with its SHB (no options) and one interface already out. */
static struct pcapng_writer *writer_with_interface(struct memfile *m)
{
	struct pcapng_writer *w;

	memfile_open(m);
	w = pcapng_writer__new(m->f, NULL, NULL);
	assert_non_null(w);
	assert_int_equal(pcapng_writer__add_interface(w, NULL, NULL), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	return w;
}

/* Size of the SHB + IDB written by writer_with_interface(). */
#define BARE_SHB_IDB_SIZE (28 + 32)

static void test_shb_idb_bytes(void **state)
{
	static const struct pcapng_section_info section = {
		.hardware = "hw",
		.os = "Linux",
		.application = "tlspcap",
		.comment = "c",
	};
	static const uint8_t shb_idb[] = {
		/* SHB */
		LE32(0x0A0D0D0A), LE32(72),
		LE32(0x1A2B3C4D), LE16(1), LE16(0), LE64(-1),
		LE16(1), LE16(1), 'c', 0, 0, 0,
		LE16(2), LE16(2), 'h', 'w', 0, 0,
		LE16(3), LE16(5), 'L', 'i', 'n', 'u', 'x', 0, 0, 0,
		LE16(4), LE16(7), 't', 'l', 's', 'p', 'c', 'a', 'p', 0,
		LE16(0), LE16(0),
		LE32(72),
		/* IDB */
		LE32(1), LE32(48),
		LE16(101), LE16(0), LE32(262144),
		LE16(2), LE16(4), 'e', 't', 'h', '0',
		LE16(3), LE16(3), 'd', '1', '2', 0,
		LE16(9), LE16(1), 9, 0, 0, 0,
		LE16(0), LE16(0),
		LE32(48),
	};
	static const uint8_t idb2[] = {
		LE32(1), LE32(32),
		LE16(101), LE16(0), LE32(262144),
		LE16(9), LE16(1), 9, 0, 0, 0,
		LE16(0), LE16(0),
		LE32(32),
	};
	struct pcapng_writer *w;
	struct memfile m;

	SKIP_IF_BIG_ENDIAN();
	memfile_open(&m);
	w = pcapng_writer__new(m.f, &section, NULL);
	assert_non_null(w);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_int_equal(m.size, 0); /* the SHB waits for the first IDB */
	assert_int_equal(pcapng_writer__bytes_written(w), 0);

	assert_int_equal(pcapng_writer__add_interface(w, "eth0", "d12"), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_bytes(&m, 0, shb_idb, sizeof(shb_idb));

	assert_int_equal(pcapng_writer__add_interface(w, NULL, NULL), 1);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_bytes(&m, sizeof(shb_idb), idb2, sizeof(idb2));
	assert_int_equal(pcapng_writer__bytes_written(w), m.size);

	pcapng_writer__free(w);
	memfile_close(&m);
}

static void test_shb_without_options_bytes(void **state)
{
	static const uint8_t shb[] = {
		LE32(0x0A0D0D0A), LE32(28),
		LE32(0x1A2B3C4D), LE16(1), LE16(0), LE64(-1),
		LE32(28),
	};
	static const struct pcapng_writer_opts opts = { .snaplen = 1500 };
	static const uint8_t idb[] = {
		LE32(1), LE32(32),
		LE16(101), LE16(0), LE32(1500),
		LE16(9), LE16(1), 9, 0, 0, 0,
		LE16(0), LE16(0),
		LE32(32),
	};
	struct pcapng_writer *w;
	struct memfile m;

	SKIP_IF_BIG_ENDIAN();
	memfile_open(&m);
	w = pcapng_writer__new(m.f, NULL, &opts);
	assert_non_null(w);
	assert_int_equal(pcapng_writer__add_interface(w, NULL, NULL), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_int_equal(m.size, sizeof(shb) + sizeof(idb));
	assert_memory_equal(m.buf, shb, sizeof(shb));
	assert_memory_equal(m.buf + sizeof(shb), idb, sizeof(idb));
	pcapng_writer__free(w);
	memfile_close(&m);
}

static void test_epb_bytes(void **state)
{
	static const uint8_t data[] = { 0x45, 0x01, 0x02, 0x03, 0x04 };
	static const uint8_t epb[] = {
		LE32(6), LE32(72),
		LE32(0), LE32(0x01020304), LE32(0x05060708), LE32(5), LE32(9),
		0x45, 0x01, 0x02, 0x03, 0x04, 0, 0, 0,
		LE16(1), LE16(1), 'a', 0, 0, 0,
		LE16(1), LE16(5), 'b', 'c', 'd', 'e', 'f', 0, 0, 0,
		LE16(2), LE16(4), LE32(PCAPNG_DIRECTION_OUTBOUND),
		LE16(0), LE16(0),
		LE32(72),
	};
	struct pcapng_packet pkt = {
		.timestamp_ns = 0x0102030405060708ULL,
		.data = data,
		.caplen = sizeof(data),
		.len = 9,
		.direction = PCAPNG_DIRECTION_OUTBOUND,
		.comments = { "a", "bcdef" },
	};
	struct pcapng_writer *w;
	struct memfile m;

	SKIP_IF_BIG_ENDIAN();
	w = writer_with_interface(&m);
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_bytes(&m, BARE_SHB_IDB_SIZE, epb, sizeof(epb));
	pcapng_writer__free(w);
	memfile_close(&m);
}

static void test_epb_without_options_bytes(void **state)
{
	static const uint8_t data[] = { 0x45, 0x01, 0x02, 0x03 };
	/* No options at all: not even opt_endofopt. */
	static const uint8_t epb[] = {
		LE32(6), LE32(36),
		LE32(0), LE32(0), LE32(1000), LE32(4), LE32(4),
		0x45, 0x01, 0x02, 0x03,
		LE32(36),
	};
	struct pcapng_packet pkt = {
		.timestamp_ns = 1000,
		.data = data,
		.caplen = sizeof(data),
		.len = sizeof(data),
	};
	struct pcapng_writer *w;
	struct memfile m;

	SKIP_IF_BIG_ENDIAN();
	w = writer_with_interface(&m);
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_bytes(&m, BARE_SHB_IDB_SIZE, epb, sizeof(epb));
	pcapng_writer__free(w);
	memfile_close(&m);
}

static void test_isb_bytes(void **state)
{
	static const uint8_t isb[] = {
		LE32(5), LE32(84),
		LE32(0), LE32(0xA), LE32(0xB),
		LE16(1), LE16(2), 'o', 'k', 0, 0,
		LE16(2), LE16(8), LE32(1), LE32(2),
		LE16(3), LE16(8), LE32(3), LE32(4),
		LE16(4), LE16(8), LE64(10),
		LE16(5), LE16(8), LE64(3),
		LE16(0), LE16(0),
		LE32(84),
	};
	static const struct pcapng_interface_stats stats = {
		.timestamp_ns = 0x0000000A0000000BULL,
		.start_ns = 0x0000000100000002ULL,
		.end_ns = 0x0000000300000004ULL,
		.received = 10,
		.dropped = 3,
		.comment = "ok",
	};
	struct pcapng_writer *w;
	struct memfile m;

	SKIP_IF_BIG_ENDIAN();
	w = writer_with_interface(&m);
	assert_int_equal(pcapng_writer__write_interface_stats(w, 0, &stats), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_bytes(&m, BARE_SHB_IDB_SIZE, isb, sizeof(isb));
	pcapng_writer__free(w);
	memfile_close(&m);
}

static void test_nrb_bytes(void **state)
{
	static const uint8_t nrb[] = {
		LE32(4), LE32(60),
		LE16(1), LE16(14), 192, 0, 2, 1,
		'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 0,
		LE16(2), LE16(18),
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		'b', 0, 0, 0,
		LE16(0), LE16(0),
		LE32(60),
	};
	struct pcapng_name_record records[2] = {
		{ .family = AF_INET, .name = "a.example" },
		{ .family = AF_INET6, .name = "b" },
	};
	struct pcapng_writer *w;
	struct memfile m;

	SKIP_IF_BIG_ENDIAN();
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", records[0].addr), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", records[1].addr), 1);
	w = writer_with_interface(&m);
	assert_int_equal(pcapng_writer__write_name_resolution(w, records, 2), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_bytes(&m, BARE_SHB_IDB_SIZE, nrb, sizeof(nrb));
	pcapng_writer__free(w);
	memfile_close(&m);
}

static void test_dsb_bytes(void **state)
{
	static const uint8_t dsb[] = {
		LE32(0x0000000A), LE32(28),
		LE32(0x544c534b), LE32(5),
		'a', 'b', 'c', 'd', 'e', 0, 0, 0,
		LE32(28),
	};
	struct pcapng_writer *w;
	struct memfile m;

	SKIP_IF_BIG_ENDIAN();
	w = writer_with_interface(&m);
	assert_int_equal(pcapng_writer__write_decryption_secrets(w, PCAPNG_SECRETS_TLS_KEYLOG,
								 "abcde", 5), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_bytes(&m, BARE_SHB_IDB_SIZE, dsb, sizeof(dsb));
	pcapng_writer__free(w);
	memfile_close(&m);
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* A valid IPv4/UDP packet 192.0.2.1:1234 -> 192.0.2.2:5678 with @payload_len bytes. */
static size_t build_udp4(uint8_t *buf, size_t payload_len, uint8_t fill)
{
	size_t total = 20 + 8 + payload_len;
	uint16_t csum;

	memset(buf, 0, 28);
	buf[0] = 0x45;
	buf[2] = total >> 8;
	buf[3] = total & 0xff;
	buf[8] = 64;
	buf[9] = 17;
	memcpy(buf + 12, (uint8_t[]){ 192, 0, 2, 1, 192, 0, 2, 2 }, 8);
	csum = ip_checksum(buf, 20);
	buf[10] = csum >> 8;
	buf[11] = csum & 0xff;
	buf[20] = 1234 >> 8;
	buf[21] = 1234 & 0xff;
	buf[22] = 5678 >> 8;
	buf[23] = 5678 & 0xff;
	buf[24] = (8 + payload_len) >> 8;
	buf[25] = (8 + payload_len) & 0xff;
	memset(buf + 28, fill, payload_len);
	return total;
}

#define ROUNDTRIP_PACKETS 5
#define TRUNC_CAPLEN      40

static const uint64_t roundtrip_ts[ROUNDTRIP_PACKETS] = {
	1700000000123456789ULL, 1700000000123456790ULL, 1700000001000000001ULL,
	1700000002999999999ULL, 1700000003000000000ULL,
};

/*
 * Writes ROUNDTRIP_PACKETS packets: odd sizes, the first with a comment and
 * outbound, the second inbound, the last truncated to TRUNC_CAPLEN bytes.
 */
static void write_roundtrip_file(const char *path, size_t lens[ROUNDTRIP_PACKETS])
{
	static const struct pcapng_section_info section = { .application = "test_pcapng" };
	struct pcapng_writer *w;
	uint8_t buf[2048];
	struct stat st;
	FILE *f;
	int i;

	f = fopen(path, "w");
	assert_non_null(f);
	w = pcapng_writer__new(f, &section, NULL);
	assert_non_null(w);
	assert_int_equal(pcapng_writer__add_interface(w, "tls", "test"), 0);
	for (i = 0; i < ROUNDTRIP_PACKETS; i++) {
		struct pcapng_packet pkt = {
			.timestamp_ns = roundtrip_ts[i],
			.data = buf,
		};

		lens[i] = build_udp4(buf, 1 + 300 * i, 'a' + i);
		pkt.len = lens[i];
		pkt.caplen = i == ROUNDTRIP_PACKETS - 1 ? TRUNC_CAPLEN : lens[i];
		if (i == 0) {
			pkt.comments[0] = "hello comment";
			pkt.direction = PCAPNG_DIRECTION_OUTBOUND;
		} else if (i == 1) {
			pkt.direction = PCAPNG_DIRECTION_INBOUND;
		}
		assert_int_equal(pcapng_writer__write_packet(w, &pkt), 0);
	}
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(pcapng_writer__bytes_written(w), st.st_size);
	pcapng_writer__free(w);
	assert_int_equal(fclose(f), 0);
}

static void test_roundtrip_libpcap(void **state)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	size_t lens[ROUNDTRIP_PACKETS];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	char path[PATH_MAX];
	uint8_t expected[2048];
	pcap_t *p;
	int i;

	tmp_path(path, sizeof(path), "roundtrip.pcapng");
	write_roundtrip_file(path, lens);

	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p)
		fail_msg("pcap_open_offline: %s", errbuf);
	assert_int_equal(pcap_datalink(p), DLT_RAW);
	assert_int_equal(pcap_snapshot(p), 262144);
	for (i = 0; i < ROUNDTRIP_PACKETS; i++) {
		uint32_t caplen = i == ROUNDTRIP_PACKETS - 1 ? TRUNC_CAPLEN : lens[i];

		assert_int_equal(pcap_next_ex(p, &hdr, &data), 1);
		assert_int_equal(hdr->caplen, caplen);
		assert_int_equal(hdr->len, lens[i]);
		assert_int_equal(hdr->ts.tv_sec, roundtrip_ts[i] / 1000000000);
		/* With nano precision libpcap puts nanoseconds in tv_usec. */
		assert_int_equal(hdr->ts.tv_usec, roundtrip_ts[i] % 1000000000);
		build_udp4(expected, 1 + 300 * i, 'a' + i);
		assert_memory_equal(data, expected, caplen);
	}
	assert_int_equal(pcap_next_ex(p, &hdr, &data), PCAP_ERROR_BREAK);
	pcap_close(p);
	assert_int_equal(unlink(path), 0);
}

static int have_tshark(void)
{
	return system("command -v tshark >/dev/null 2>&1") == 0;
}

/* Runs @cmd, stores its stdout lines in @lines and returns the exit status. */
static int run_lines(const char *cmd, char lines[][256], int max, int *count)
{
	char line[256];
	FILE *p;
	int status;

	*count = 0;
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (*count < max)
			strcpy(lines[*count], line);
		(*count)++;
	}
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_roundtrip_tshark(void **state)
{
	size_t lens[ROUNDTRIP_PACKETS];
	char lines[ROUNDTRIP_PACKETS + 1][256];
	char path[PATH_MAX], cmd[PATH_MAX + 256];
	int count, i;

	if (!have_tshark())
		skip();
	tmp_path(path, sizeof(path), "tshark.pcapng");
	write_roundtrip_file(path, lens);

	snprintf(cmd, sizeof(cmd), "tshark -r '%s' 2>/dev/null", path);
	assert_int_equal(run_lines(cmd, lines, ROUNDTRIP_PACKETS + 1, &count), 0);
	assert_int_equal(count, ROUNDTRIP_PACKETS);

	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -T fields -E separator=, -e frame.comment "
		 "-e frame.packet_flags_direction -e frame.len -e frame.cap_len 2>/dev/null",
		 path);
	assert_int_equal(run_lines(cmd, lines, ROUNDTRIP_PACKETS + 1, &count), 0);
	assert_int_equal(count, ROUNDTRIP_PACKETS);
	assert_string_equal(lines[0], "hello comment,0x00000002,29,29");
	assert_string_equal(lines[1], ",0x00000001,329,329");
	for (i = 2; i < ROUNDTRIP_PACKETS; i++) {
		char expected[64];

		snprintf(expected, sizeof(expected), ",,%zu,%zu", lens[i],
			 i == ROUNDTRIP_PACKETS - 1 ? (size_t)TRUNC_CAPLEN : lens[i]);
		assert_string_equal(lines[i], expected);
	}
	assert_int_equal(unlink(path), 0);
}

/* The name and secrets blocks also pass tshark's parser. */
static void test_all_blocks_tshark(void **state)
{
	static const char keylog[] = "CLIENT_RANDOM 00 00\n";
	struct pcapng_name_record records[2] = {
		{ .family = AF_INET, .name = "a.example" },
		{ .family = AF_INET6, .name = "b.example" },
	};
	struct pcapng_interface_stats stats = {
		.timestamp_ns = roundtrip_ts[1],
		.start_ns = roundtrip_ts[0],
		.end_ns = roundtrip_ts[1],
		.received = 1,
		.comment = "stats",
	};
	char lines[4][256];
	char path[PATH_MAX], cmd[PATH_MAX + 128];
	struct pcapng_writer *w;
	uint8_t buf[64];
	struct pcapng_packet pkt = {
		.interface_id = 1,
		.timestamp_ns = roundtrip_ts[0],
		.data = buf,
	};
	int count;
	FILE *f;

	if (!have_tshark())
		skip();
	assert_int_equal(inet_pton(AF_INET, "192.0.2.2", records[0].addr), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::2", records[1].addr), 1);
	tmp_path(path, sizeof(path), "blocks.pcapng");
	f = fopen(path, "w");
	assert_non_null(f);
	w = pcapng_writer__new(f, NULL, NULL);
	assert_non_null(w);
	assert_int_equal(pcapng_writer__add_interface(w, "a", NULL), 0);
	assert_int_equal(pcapng_writer__add_interface(w, "b", NULL), 1);
	assert_int_equal(pcapng_writer__write_decryption_secrets(w, PCAPNG_SECRETS_TLS_KEYLOG,
								 keylog, strlen(keylog)), 0);
	assert_int_equal(pcapng_writer__write_name_resolution(w, records, 2), 0);
	pkt.caplen = pkt.len = build_udp4(buf, 3, 'x');
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), 0);
	assert_int_equal(pcapng_writer__write_interface_stats(w, 1, &stats), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	pcapng_writer__free(w);
	assert_int_equal(fclose(f), 0);

	/* -N n resolves from the NRB: the destination shows as a.example. */
	snprintf(cmd, sizeof(cmd),
		 "tshark -N n -r '%s' -T fields -e frame.interface_id -e ip.dst_host 2>/dev/null",
		 path);
	assert_int_equal(run_lines(cmd, lines, 4, &count), 0);
	assert_int_equal(count, 1);
	assert_string_equal(lines[0], "1\ta.example");
	assert_int_equal(unlink(path), 0);
}

/* A new section repeats SHB and IDB byte for byte; its packets never predate the last one. */
static void test_new_section(void **state)
{
	static const uint8_t data[] = { 0x45, 0x01, 0x02, 0x03 };
	struct pcapng_packet pkt = { .data = data, .caplen = 4, .len = 4 };
	struct memfile m;
	struct pcapng_writer *w = writer_with_interface(&m);
	uint32_t high, low;
	size_t epb;

	pkt.timestamp_ns = 5000;
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), 0);
	pkt.timestamp_ns = 3000; /* earlier, in the same section: kept as it is */
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), 0);
	assert_int_equal(pcapng_writer__new_section(w), 0);
	pkt.timestamp_ns = 4000; /* delayed across the new section */
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	epb = 32 + 4;
	assert_int_equal(m.size, 2 * BARE_SHB_IDB_SIZE + 3 * epb);
	assert_memory_equal(m.buf + BARE_SHB_IDB_SIZE + 2 * epb, m.buf, BARE_SHB_IDB_SIZE);
	memcpy(&low, m.buf + BARE_SHB_IDB_SIZE + epb + 16, 4);
	assert_int_equal(low, 3000);
	memcpy(&high, m.buf + 2 * BARE_SHB_IDB_SIZE + 2 * epb + 12, 4);
	memcpy(&low, m.buf + 2 * BARE_SHB_IDB_SIZE + 2 * epb + 16, 4);
	assert_int_equal(high, 0);
	assert_int_equal(low, 5001);
	pcapng_writer__free(w);
	memfile_close(&m);
}

/* A packet in two pieces (headers, then the payload where it is) is one packet body. */
static void test_packet_tail(void **state)
{
	static const uint8_t head[] = { 0x45, 0x01, 0x02 }, tail[] = { 0x03, 0x04 };
	static const uint8_t whole[] = { 0x45, 0x01, 0x02, 0x03, 0x04, 0, 0, 0 };
	struct pcapng_packet pkt = { .data = head, .caplen = 5, .len = 9, .tail = tail, .tail_len = 2 };
	struct memfile m;
	struct pcapng_writer *w = writer_with_interface(&m);
	uint32_t caplen, len;

	assert_int_equal(pcapng_writer__write_packet(w, &pkt), 0);
	pkt.tail_len = 6; /* more than the packet */
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), -EINVAL);
	pkt.tail_len = 2;
	pkt.tail = NULL;
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), -EINVAL);
	pkt.tail = tail;
	pkt.data = NULL;
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), -EINVAL);
	assert_int_equal(pcapng_writer__flush(w), 0);
	/* block header 8, interface 4, timestamp 8, caplen 4, len 4, data padded to 8, length 4 */
	assert_int_equal(m.size, BARE_SHB_IDB_SIZE + 40);
	memcpy(&caplen, m.buf + BARE_SHB_IDB_SIZE + 20, 4);
	memcpy(&len, m.buf + BARE_SHB_IDB_SIZE + 24, 4);
	assert_int_equal(caplen, 5);
	assert_int_equal(len, 9);
	assert_memory_equal(m.buf + BARE_SHB_IDB_SIZE + 28, whole, sizeof(whole));
	pcapng_writer__free(w);
	memfile_close(&m);
}

static void test_bytes_written_exact(void **state)
{
	struct pcapng_interface_stats stats = { .received = 7, .comment = "x" };
	char path[PATH_MAX];
	struct pcapng_writer *w;
	uint8_t buf[512];
	struct pcapng_packet pkt = { .data = buf };
	struct stat st;
	FILE *f;
	int i;

	tmp_path(path, sizeof(path), "size.pcapng");
	f = fopen(path, "w");
	assert_non_null(f);
	w = pcapng_writer__new(f, &(struct pcapng_section_info){ .os = "Linux" }, NULL);
	assert_non_null(w);
	assert_int_equal(pcapng_writer__bytes_written(w), 0);
	assert_int_equal(pcapng_writer__add_interface(w, "x", "y"), 0);
	for (i = 0; i < 100; i++) {
		pkt.caplen = pkt.len = build_udp4(buf, i * 3, i);
		pkt.comments[0] = i % 2 ? "odd" : NULL;
		assert_int_equal(pcapng_writer__write_packet(w, &pkt), 0);
	}
	assert_int_equal(pcapng_writer__write_interface_stats(w, 0, &stats), 0);
	assert_int_equal(pcapng_writer__write_decryption_secrets(w, 1, "abc", 3), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(pcapng_writer__bytes_written(w), st.st_size);
	pcapng_writer__free(w);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(unlink(path), 0);
}

static void test_dev_full_unbuffered(void **state)
{
	struct pcapng_writer *w;
	uint8_t buf[64];
	struct pcapng_packet pkt = { .data = buf };
	FILE *f;

	f = fopen("/dev/full", "w");
	assert_non_null(f);
	assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
	w = pcapng_writer__new(f, NULL, NULL);
	assert_non_null(w);
	assert_int_equal(pcapng_writer__add_interface(w, "x", NULL), -ENOSPC);
	assert_int_equal(pcapng_writer__bytes_written(w), 0);
	/* The stream is broken: every later call reports the error. */
	pkt.caplen = pkt.len = build_udp4(buf, 1, 0);
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), -ENOSPC);
	assert_int_equal(pcapng_writer__add_interface(w, "x", NULL), -ENOSPC);
	assert_int_equal(pcapng_writer__flush(w), -ENOSPC);
	pcapng_writer__free(w);
	fclose(f);
}

static void test_dev_full_buffered(void **state)
{
	struct pcapng_writer *w;
	uint8_t buf[64];
	struct pcapng_packet pkt = { .data = buf };
	int ret;
	FILE *f;

	f = fopen("/dev/full", "w");
	assert_non_null(f);
	w = pcapng_writer__new(f, NULL, NULL);
	assert_non_null(w);
	/* Small blocks sit in the stdio buffer; the error shows at flush. */
	assert_int_equal(pcapng_writer__add_interface(w, "x", NULL), 0);
	pkt.caplen = pkt.len = build_udp4(buf, 1, 0);
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), 0);
	assert_true(pcapng_writer__bytes_written(w) > 0);
	assert_int_equal(pcapng_writer__flush(w), -ENOSPC);
	assert_int_equal(pcapng_writer__flush(w), -ENOSPC);
	ret = pcapng_writer__write_packet(w, &pkt);
	assert_int_equal(ret, -ENOSPC);
	pcapng_writer__free(w);
	fclose(f);
}

static void test_dev_full_large_block(void **state)
{
	static uint8_t buf[65535];
	struct pcapng_packet pkt = { .data = buf, .caplen = sizeof(buf), .len = sizeof(buf) };
	struct pcapng_writer *w;
	FILE *f;

	f = fopen("/dev/full", "w");
	assert_non_null(f);
	w = pcapng_writer__new(f, NULL, NULL);
	assert_non_null(w);
	assert_int_equal(pcapng_writer__add_interface(w, "x", NULL), 0);
	/* Larger than the stdio buffer: fwrite itself must fail. */
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), -ENOSPC);
	pcapng_writer__free(w);
	fclose(f);
}

static void test_misuse(void **state)
{
	static const struct pcapng_interface_stats stats = { 0 };
	uint8_t buf[64];
	struct pcapng_packet pkt = { .data = buf };
	struct pcapng_name_record rec = { .family = AF_INET, .name = "x" };
	struct pcapng_writer *w;
	struct memfile m;

	errno = 0;
	assert_null(pcapng_writer__new(NULL, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	pcapng_writer__free(NULL);

	memfile_open(&m);
	w = pcapng_writer__new(m.f, NULL, &(struct pcapng_writer_opts){ .snaplen = 64 });
	assert_non_null(w);
	pkt.caplen = pkt.len = build_udp4(buf, 4, 0);

	/* Nothing but an interface may come before the first interface. */
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), -EINVAL);
	assert_int_equal(pcapng_writer__write_interface_stats(w, 0, &stats), -EINVAL);
	assert_int_equal(pcapng_writer__write_name_resolution(w, &rec, 1), -EINVAL);
	assert_int_equal(pcapng_writer__write_decryption_secrets(w, 1, "a", 1), -EINVAL);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_int_equal(m.size, 0);

	assert_int_equal(pcapng_writer__add_interface(w, NULL, NULL), 0);
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), 0);
	pkt.caplen = pkt.len + 1;
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), -EINVAL);
	pkt.caplen = pkt.len = 65; /* above the snaplen */
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), -EINVAL);
	pkt.caplen = pkt.len = 20;
	pkt.interface_id = 1;
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), -EINVAL);
	assert_int_equal(pcapng_writer__write_interface_stats(w, 1, &stats), -EINVAL);
	pkt.interface_id = 0;
	pkt.data = NULL;
	assert_int_equal(pcapng_writer__write_packet(w, &pkt), -EINVAL);
	assert_int_equal(pcapng_writer__write_packet(w, NULL), -EINVAL);
	assert_int_equal(pcapng_writer__write_name_resolution(w, &rec, 0), -EINVAL);
	rec.family = AF_UNIX;
	assert_int_equal(pcapng_writer__write_name_resolution(w, &rec, 1), -EINVAL);
	rec.family = AF_INET;
	rec.name = NULL;
	assert_int_equal(pcapng_writer__write_name_resolution(w, &rec, 1), -EINVAL);
	assert_int_equal(pcapng_writer__write_decryption_secrets(w, 1, NULL, 1), -EINVAL);

	/* Rejected calls write nothing: only SHB + IDB + one EPB are out. */
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_int_equal(m.size, BARE_SHB_IDB_SIZE + 64);
	assert_int_equal(pcapng_writer__bytes_written(w), m.size);
	pcapng_writer__free(w);
	memfile_close(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shb_idb_bytes),
		cmocka_unit_test(test_shb_without_options_bytes),
		cmocka_unit_test(test_epb_bytes),
		cmocka_unit_test(test_epb_without_options_bytes),
		cmocka_unit_test(test_isb_bytes),
		cmocka_unit_test(test_nrb_bytes),
		cmocka_unit_test(test_dsb_bytes),
		cmocka_unit_test(test_roundtrip_libpcap),
		cmocka_unit_test(test_roundtrip_tshark),
		cmocka_unit_test(test_all_blocks_tshark),
		cmocka_unit_test(test_new_section),
		cmocka_unit_test(test_packet_tail),
		cmocka_unit_test(test_bytes_written_exact),
		cmocka_unit_test(test_dev_full_buffered),
		cmocka_unit_test(test_dev_full_large_block),
		cmocka_unit_test(test_dev_full_unbuffered),
		cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
