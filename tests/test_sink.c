// SPDX-License-Identifier: MIT
/*
 * Sink tests: pcapng written through the sink and read back (libpcap, and
 * libzstd for compressed files), tcpdump's file names, rotation with -W,
 * zstd frames complete after a flush, a write error cutting the file back
 * to its last block, and symbolic links in sticky directories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "pcapng.h"
#include "test_helpers.h"
#include "sink.h"

#define T0 1700000000000000000ull /* 2023-11-14T22:13:20Z */
#define SEC 1000000000ull

static char tmpdir[sizeof("/tmp/test_sink.XXXXXX")];

/* Paths in the tests stay short; the size silences truncation warnings. */
#define PATH_SIZE (PATH_MAX + 64)

static int tmpdir_setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_sink.XXXXXX");
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

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

/* Packets whose payload is one byte value (@i mod 256) repeated @len times. */
static int write_packets(struct pcapng_writer *w, int first, int count, uint32_t len)
{
	static uint8_t data[70000];
	struct pcapng_packet pkt = { .caplen = len, .len = len, .data = data };
	int i, err = 0;

	for (i = first; i < first + count && !err; i++) {
		memset(data, i & 0xff, len);
		pkt.timestamp_ns = T0 + i;
		err = pcapng_writer__write_packet(w, &pkt);
	}
	return err;
}

static struct pcapng_writer *writer_on(struct sink *s)
{
	struct pcapng_writer *w = pcapng_writer__new(sink__stream(s), NULL, NULL);

	assert_non_null(w);
	assert_int_equal(pcapng_writer__add_interface(w, "tls", NULL), 0);
	return w;
}

/*
 * Every packet of @path (plain pcapng) in order, payload byte first+n
 * (@first < 0: whatever the first packet has), @len bytes (0: any); returns
 * the count.
 */
static int count_packets(const char *path, int first, uint32_t len)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = pcap_open_offline(path, errbuf);
	int n = 0, ret;

	assert_non_null(p);
	while ((ret = pcap_next_ex(p, &h, &data)) == 1) {
		if (first < 0)
			first = data[0];
		if (len)
			assert_int_equal(h->caplen, len);
		assert_int_equal(data[0], (first + n) & 0xff);
		assert_int_equal(data[h->caplen - 1], (first + n) & 0xff);
		n++;
	}
	assert_int_equal(ret, PCAP_ERROR_BREAK); /* the end of the file, not a cut block */
	pcap_close(p);
	return n;
}

static void test_plain_roundtrip(void **state)
{
	struct sink_opts opts = { 0 };
	char path[PATH_MAX];
	struct pcapng_writer *w;
	struct sink *s;

	tmp_path(path, sizeof(path), "plain.pcapng");
	opts.path = path;
	s = sink__open(&opts, T0);
	assert_non_null(s);
	w = writer_on(s);
	/* small blocks, and blocks larger than the sink's buffer would hold twice */
	assert_int_equal(write_packets(w, 0, 300, 1000), 0);
	assert_int_equal(write_packets(w, 300, 20, 65000), 0);
	assert_int_equal(pcapng_writer__flush(w), 0);
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(sink__bytes_written(s), pcapng_writer__bytes_written(w));
	assert_int_equal(sink__bytes_not_written(s), 0);
	assert_int_equal(sink__files(s), 1);
	pcapng_writer__free(w);
	sink__free(s);
	assert_int_equal(count_packets(path, 0, 0), 320);
}

/* The same blocks plain and through zstd: the decompressed file is the plain one. */
static void test_zstd_matches_plain(void **state)
{
	struct sink_opts plain = { 0 }, zst = { .compress = true };
	char ppath[PATH_MAX], zpath[PATH_MAX];
	struct pcapng_writer *wp, *wz;
	struct sink *sp, *sz;
	size_t plen, zlen;
	char *pbuf, *zbuf, *out;
	size_t n;

	tmp_path(ppath, sizeof(ppath), "same.pcapng");
	tmp_path(zpath, sizeof(zpath), "same.pcapng.zst");
	plain.path = ppath;
	zst.path = zpath;
	sp = sink__open(&plain, T0);
	sz = sink__open(&zst, T0);
	assert_non_null(sp);
	assert_non_null(sz);
	wp = writer_on(sp);
	wz = writer_on(sz);
	assert_int_equal(write_packets(wp, 0, 500, 3000), 0);
	assert_int_equal(write_packets(wz, 0, 500, 3000), 0);
	assert_int_equal(sink__close(sp), 0);
	assert_int_equal(sink__close(sz), 0);
	assert_true(sink__bytes_compressed(sz) > 0);
	assert_int_equal(sink__bytes_written(sz), pcapng_writer__bytes_written(wz));
	pbuf = read_file(ppath, &plen);
	zbuf = read_file(zpath, &zlen);
	assert_int_equal(zlen, sink__bytes_compressed(sz));
	assert_true(zlen < plen / 10); /* repeated bytes compress well */
	assert_int_equal(ZSTD_findFrameCompressedSize(zbuf, zlen), zlen); /* one frame (tshark 4.0) */
	out = malloc(plen + 1);
	assert_non_null(out);
	n = ZSTD_decompress(out, plen + 1, zbuf, zlen);
	assert_false(ZSTD_isError(n));
	assert_int_equal(n, plen);
	assert_memory_equal(out, pbuf, plen);
	free(out);
	free(pbuf);
	free(zbuf);
	pcapng_writer__free(wp);
	pcapng_writer__free(wz);
	sink__free(sp);
	sink__free(sz);
}

/* What a SIGKILL leaves: after a flush >= 0.5 s later, the file decodes up to that point. */
static void test_zstd_flush_decodes(void **state)
{
	struct sink_opts opts = { .compress = true };
	char path[PATH_MAX];
	struct pcapng_writer *w;
	ZSTD_inBuffer in;
	ZSTD_outBuffer out;
	ZSTD_DCtx *d;
	struct sink *s;
	char *buf;
	size_t len, want, left;

	tmp_path(path, sizeof(path), "kill.pcapng.zst");
	opts.path = path;
	s = sink__open(&opts, T0);
	assert_non_null(s);
	w = writer_on(s);
	assert_int_equal(write_packets(w, 0, 100, 500), 0);
	assert_int_equal(sink__flush(s, T0), 0); /* the wait starts */
	assert_int_equal(sink__bytes_written(s), 0);
	assert_int_equal(sink__flush(s, T0 + SEC / 2), 0);
	want = pcapng_writer__bytes_written(w);
	assert_int_equal(sink__bytes_written(s), want);

	buf = read_file(path, &len);
	d = ZSTD_createDCtx();
	assert_non_null(d);
	in = (ZSTD_inBuffer){ .src = buf, .size = len };
	out = (ZSTD_outBuffer){ .dst = malloc(want + 1), .size = want + 1 };
	assert_non_null(out.dst);
	do {
		left = ZSTD_decompressStream(d, &out, &in);
		assert_false(ZSTD_isError(left));
	} while (in.pos < in.size);
	assert_int_equal(out.pos, want); /* everything written so far */
	assert_true(left > 0);           /* the frame is not finished: the file goes on */
	free(out.dst);
	ZSTD_freeDCtx(d);
	free(buf);
	pcapng_writer__free(w);
	sink__free(s);
}

static void assert_name(struct sink_opts *opts, uint64_t index, uint64_t now, const char *want)
{
	char name[PATH_MAX];

	assert_int_equal(sink__file_name(opts, index, now, name, sizeof(name)), 0);
	assert_string_equal(name, want);
}

static void test_file_names(void **state)
{
	struct sink_opts opts = { .path = "out.pcapng", .rotate_bytes = 1000000 };
	char small[8];

	setenv("TZ", "UTC", 1);
	tzset();
	assert_name(&opts, 0, T0, "out.pcapng");
	assert_name(&opts, 1, T0, "out.pcapng1");
	assert_name(&opts, 12, T0, "out.pcapng12");
	opts.max_files = 3; /* tcpdump: padded to the width of W-1 */
	assert_name(&opts, 0, T0, "out.pcapng0");
	assert_name(&opts, 2, T0, "out.pcapng2");
	opts.max_files = 11;
	assert_name(&opts, 0, T0, "out.pcapng00");
	assert_name(&opts, 10, T0, "out.pcapng10");
	opts.max_files = 0;
	opts.path = "out.pcapng.zst";
	assert_name(&opts, 0, T0, "out.pcapng.zst");
	assert_name(&opts, 3, T0, "out.pcapng3.zst");
	opts = (struct sink_opts){ .path = "cap-%Y%m%d-%H%M%S.pcapng", .rotate_seconds = 1 };
	assert_name(&opts, 0, T0, "cap-20231114-221320.pcapng");
	assert_name(&opts, 0, T0 + 61 * SEC, "cap-20231114-221421.pcapng");
	opts.rotate_bytes = 1000000; /* -G with -C: numbered within the period */
	assert_name(&opts, 2, T0, "cap-20231114-221320.pcapng2");
	opts = (struct sink_opts){ .path = "plain.pcapng", .rotate_seconds = 5 };
	assert_name(&opts, 0, T0, "plain.pcapng");
	assert_int_equal(sink__file_name(&opts, 0, T0, small, sizeof(small)), -ENAMETOOLONG);
}

/* -C with -W 2: the file names cycle, at most two files, each a whole pcapng. */
static void test_rotation_size_ring(void **state)
{
	struct sink_opts opts = { .rotate_bytes = 20000, .max_files = 2 };
	char base[PATH_MAX], name[PATH_SIZE];
	struct pcapng_writer *w;
	struct sink *s;
	int i, rotations = 0;

	tmp_path(base, sizeof(base), "ring.pcapng");
	opts.path = base;
	s = sink__open(&opts, T0);
	assert_non_null(s);
	assert_string_equal(strrchr(sink__name(s), '/'), "/ring.pcapng0");
	w = writer_on(s);
	for (i = 0; i < 110; i++) { /* 20 packets a file: the last one holds 10 */
		assert_false(sink__rotation_due(s, T0));
		assert_int_equal(write_packets(w, i, 1, 1000), 0);
		if (sink__rotation_due(s, T0)) {
			assert_int_equal(sink__rotate(s, T0), 0);
			assert_int_equal(pcapng_writer__new_section(w), 0);
			rotations++;
		}
	}
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(rotations, 5);
	assert_int_equal(sink__files(s), rotations + 1);
	/* the current file and the one before it; each stands alone */
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%s%d", base, i);
		assert_true(count_packets(name, -1, 1000) > 0);
	}
	snprintf(name, sizeof(name), "%s2", base);
	assert_int_equal(access(name, F_OK), -1);
	assert_int_equal(access(base, F_OK), -1);
	pcapng_writer__free(w);
	sink__free(s);
}

/*
 * -C with zstd: FILE.zst, FILE1.zst, ...; each file is exactly one complete
 * zstd frame (tshark 4.0 misreads several) holding a whole pcapng, and the
 * packets go on from file to file.
 */
static void test_rotation_zstd_frames(void **state)
{
	struct sink_opts opts = { .compress = true, .rotate_bytes = 100000 };
	char base[PATH_MAX], name[PATH_SIZE], plain[PATH_SIZE + 8];
	enum { PLAIN_MAX = 1 << 20 };
	size_t zlen, n, next = 0;
	struct pcapng_writer *w;
	char *zbuf, *out;
	struct sink *s;
	uint64_t i, files;
	FILE *f;

	tmp_path(base, sizeof(base), "rz.pcapng.zst");
	opts.path = base;
	s = sink__open(&opts, T0);
	assert_non_null(s);
	w = writer_on(s);
	for (i = 0; i < 700; i++) { /* 3000-byte packets: 33 a file, 22 files */
		assert_int_equal(write_packets(w, i, 1, 3000), 0);
		assert_int_equal(sink__flush(s, T0 + i * SEC / 4), 0); /* a flush within each frame */
		if (sink__rotation_due(s, T0)) {
			assert_int_equal(sink__rotate(s, T0), 0);
			assert_int_equal(pcapng_writer__new_section(w), 0);
		}
	}
	assert_int_equal(sink__close(s), 0);
	files = sink__files(s);
	assert_int_equal(files, 22);
	assert_int_equal(sink__bytes_not_written(s), 0);
	for (i = 0; i < files; i++) {
		if (i)
			snprintf(name, sizeof(name), "%.*s%llu.zst", (int)(strlen(base) - 4), base,
				 (unsigned long long)i);
		else
			snprintf(name, sizeof(name), "%s", base);
		zbuf = read_file(name, &zlen);
		assert_int_equal(ZSTD_findFrameCompressedSize(zbuf, zlen), zlen);
		out = malloc(PLAIN_MAX); /* the frame does not say its size: it was streamed */
		assert_non_null(out);
		n = ZSTD_decompress(out, PLAIN_MAX, zbuf, zlen);
		assert_false(ZSTD_isError(n));
		snprintf(plain, sizeof(plain), "%s.plain", name);
		f = fopen(plain, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(out, 1, n, f), n);
		fclose(f);
		n = count_packets(plain, next & 0xff, 3000);
		assert_true(n > 0);
		next += n;
		free(out);
		free(zbuf);
	}
	assert_int_equal(next, 700);
	pcapng_writer__free(w);
	sink__free(s);
}

/* -G with -W 2: strftime names, the oldest file removed. */
static void test_rotation_time_removes_oldest(void **state)
{
	struct sink_opts opts = { .rotate_seconds = 1, .max_files = 2 };
	char pattern[PATH_MAX], name[PATH_MAX];
	struct pcapng_writer *w;
	struct sink *s;
	int i;

	setenv("TZ", "UTC", 1);
	tzset();
	tmp_path(pattern, sizeof(pattern), "t-%H%M%S.pcapng");
	opts.path = pattern;
	s = sink__open(&opts, T0);
	assert_non_null(s);
	w = writer_on(s);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(write_packets(w, i, 5, 100), 0);
		assert_false(sink__rotation_due(s, T0 + i * SEC - 1));
		assert_true(sink__rotation_due(s, T0 + i * SEC));
		assert_int_equal(sink__rotate(s, T0 + i * SEC), 0);
		assert_int_equal(pcapng_writer__new_section(w), 0);
	}
	assert_int_equal(sink__close(s), 0);
	tmp_path(name, sizeof(name), "t-221320.pcapng");
	assert_int_equal(access(name, F_OK), -1);
	tmp_path(name, sizeof(name), "t-221321.pcapng");
	assert_int_equal(access(name, F_OK), -1);
	tmp_path(name, sizeof(name), "t-221322.pcapng");
	assert_int_equal(count_packets(name, 3, 100), 5);
	tmp_path(name, sizeof(name), "t-221323.pcapng");
	assert_int_equal(count_packets(name, 0, 100), 0); /* headers only */
	pcapng_writer__free(w);
	sink__free(s);
}

/* A file size limit (as a full disk): error, the file cut back to whole blocks. */
static void test_write_error_keeps_whole_blocks(void **state)
{
	struct sink_opts opts = { 0 };
	struct rlimit old, small = { .rlim_cur = 300000 };
	char path[PATH_MAX];
	struct pcapng_writer *w;
	struct sink *s;
	struct stat st;
	int i, err = 0, n;

	tmp_path(path, sizeof(path), "full.pcapng");
	opts.path = path;
	s = sink__open(&opts, T0);
	assert_non_null(s);
	w = writer_on(s);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	for (i = 0; i < 1000 && !err; i++) {
		err = write_packets(w, i, 1, 1500);
		if (!err && i % 50 == 49)
			err = sink__flush(s, T0);
	}
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(err, -EFBIG);
	assert_int_equal(sink__close(s), -EFBIG);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, sink__bytes_written(s));
	assert_true(st.st_size > 200000 && st.st_size <= 300000);
	/* handed over: what the writer counts, and the block that failed if a write failed */
	assert_true(sink__bytes_written(s) + sink__bytes_not_written(s) >= pcapng_writer__bytes_written(w));
	assert_true(sink__bytes_written(s) + sink__bytes_not_written(s) <=
		    pcapng_writer__bytes_written(w) + 1532);
	assert_true(sink__bytes_not_written(s) > 0);
	n = count_packets(path, 0, 1500);
	assert_true(n > 100);
	pcapng_writer__free(w);
	sink__free(s);
}

static void test_symlink_in_sticky_dir(void **state)
{
	struct sink_opts opts = { 0 };
	char dir[PATH_MAX], link[PATH_SIZE], target[PATH_MAX], own[PATH_SIZE];
	struct sink *s;
	size_t len;
	char *text;
	FILE *f;

	if (geteuid() != 0)
		skip(); /* a link owned by another user needs root to make */
	tmp_path(dir, sizeof(dir), "sticky");
	tmp_path(target, sizeof(target), "victim");
	assert_int_equal(mkdir(dir, 0777), 0);
	assert_int_equal(chmod(dir, 01777), 0);
	f = fopen(target, "w");
	assert_non_null(f);
	fputs("precious", f);
	fclose(f);
	snprintf(link, sizeof(link), "%s/planted", dir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(lchown(link, 65534, 65534), 0);
	opts.path = link;
	errno = 0;
	assert_null(sink__open(&opts, T0));
	assert_int_equal(errno, ELOOP);
	text = read_file(target, &len);
	assert_int_equal(len, 8);
	free(text);

	/* our own link there is followed, as the kernel's rule allows */
	snprintf(own, sizeof(own), "%s/mine", dir);
	assert_int_equal(symlink(target, own), 0);
	opts.path = own;
	s = sink__open(&opts, T0);
	assert_non_null(s);
	assert_int_equal(sink__close(s), 0);
	sink__free(s);
	text = read_file(target, &len);
	assert_int_equal(len, 0);
	free(text);
}

static void test_misuse(void **state)
{
	struct sink_opts opts = { .path = "-", .rotate_bytes = 1000000 };

	errno = 0;
	assert_null(sink__open(&opts, T0));
	assert_int_equal(errno, EINVAL);
	opts = (struct sink_opts){ .path = "x", .max_files = 2 };
	errno = 0;
	assert_null(sink__open(&opts, T0));
	assert_int_equal(errno, EINVAL);
	assert_null(sink__open(NULL, T0));
	sink__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_roundtrip),
		cmocka_unit_test(test_zstd_matches_plain),
		cmocka_unit_test(test_zstd_flush_decodes),
		cmocka_unit_test(test_file_names),
		cmocka_unit_test(test_rotation_size_ring),
		cmocka_unit_test(test_rotation_zstd_frames),
		cmocka_unit_test(test_rotation_time_removes_oldest),
		cmocka_unit_test(test_write_error_keeps_whole_blocks),
		cmocka_unit_test(test_symlink_in_sticky_dir),
		cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
