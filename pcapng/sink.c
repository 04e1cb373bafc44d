// SPDX-License-Identifier: MIT
/*
 * The sink (see sink.h for the contract).
 *
 * Bookkeeping: @bytes_in counts every pcapng byte the writer handed over,
 * @written those known to be in a file at a boundary a reader can stop at
 * (a block for plain output, a zstd flush or frame end for compressed
 * output).  A write error cuts the file back to @committed, the file offset of that boundary,
 * so what stays is readable; bytes_in - written were not written.
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#define BUFFER_BYTES (1u << 20)
/* Compressed bytes are flushed this long after the first of them was seen by a flush. */
#define ZSTD_FLUSH_NS 500000000ull
#define NS_PER_SEC 1000000000ull
#define ZST_SUFFIX ".zst"

struct sink {
	struct sink_opts opts;
	char *pattern;            /* opts.path, owned */
	FILE *stream;             /* the writer's side */
	int fd;                   /* -1 when no file is open */
	bool regular;             /* the output can be cut back with ftruncate */
	char name[PATH_MAX];
	/* Names of the files kept under -W, the oldest at files % max_files. */
	char **kept;
	uint64_t files;
	uint64_t period_index;    /* files opened in this -G period */
	uint64_t period_start_ns;
	ZSTD_CCtx *zc;
	uint64_t pending_since_ns; /* 0: no flush has seen the bytes zstd still holds */
	uint8_t *buf;             /* bytes for write(2): whole blocks, or zstd output */
	size_t len;
	uint64_t offset;          /* bytes of the current file written */
	uint64_t committed;       /* offset of the last boundary written */
	uint64_t file_bytes;      /* pcapng bytes in the current file */
	uint64_t bytes_in;
	uint64_t written;
	uint64_t compressed;
	int err;                  /* first write error; nothing is written after it */
};

static int digits(uint64_t n)
{
	int d = 0;

	for (; n; n /= 10)
		d++;
	return d;
}

/*
 * tcpdump's names: FILE (strftime-expanded under -G) for the first file of
 * a period, then FILE1, FILE2...; with -C and -W the numbers cycle and are
 * zero-padded to the width of W-1 (FILE0, FILE1, FILE2 for -W 3).  A name
 * ending in .zst keeps that ending: out.pcapng1.zst.
 */
int sink__file_name(const struct sink_opts *opts, uint64_t index, uint64_t now_ns, char *buf,
		    size_t size)
{
	char base[PATH_MAX];
	size_t base_len, stem_len, suffix_len = strlen(ZST_SUFFIX);
	int width = 0, n;

	if (opts->rotate_seconds) {
		time_t t = now_ns / NS_PER_SEC;
		struct tm tm;

		if (!localtime_r(&t, &tm) || !strftime(base, sizeof(base), opts->path, &tm))
			return -ENAMETOOLONG;
	} else if ((size_t)snprintf(base, sizeof(base), "%s", opts->path) >= sizeof(base)) {
		return -ENAMETOOLONG;
	}
	if (opts->rotate_bytes && opts->max_files && !opts->rotate_seconds)
		width = digits(opts->max_files - 1);
	if (!opts->rotate_bytes || (index == 0 && width == 0))
		n = snprintf(buf, size, "%s", base);
	else {
		base_len = strlen(base);
		stem_len = base_len;
		if (base_len > suffix_len && !strcmp(base + base_len - suffix_len, ZST_SUFFIX))
			stem_len -= suffix_len;
		n = snprintf(buf, size, "%.*s%0*llu%s", (int)stem_len, base, width,
			     (unsigned long long)index, base + stem_len);
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/*
 * @path is a symbolic link: may we follow it?  The kernel's
 * fs.protected_symlinks rule, whatever the sysctl says: not in a sticky
 * world-writable directory unless the link is the directory owner's or ours.
 */
static bool symlink_may_be_followed(const char *path, const struct stat *link)
{
	struct stat dir;
	char *copy = strdup(path);
	bool ok;

	if (!copy)
		return false;
	ok = !stat(dirname(copy), &dir) &&
	     ((dir.st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH) ||
	      link->st_uid == dir.st_uid || link->st_uid == geteuid());
	free(copy);
	return ok;
}

static int open_output(const char *path)
{
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
	int fd = open(path, flags | O_NOFOLLOW, 0600);
	struct stat link;

	/* A final symlink fails with ELOOP, or EACCES when O_CREAT meets a sticky directory. */
	if (fd < 0 && (errno == ELOOP || errno == EACCES) && !lstat(path, &link) &&
	    S_ISLNK(link.st_mode)) {
		if (!symlink_may_be_followed(path, &link))
			return -ELOOP;
		fd = open(path, flags, 0600);
	}
	return fd < 0 ? -errno : fd;
}

static int write_all(int fd, const uint8_t *p, size_t len, uint64_t *offset)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= n;
		*offset += n;
	}
	return 0;
}

/* Records the first error and cuts the file back to its last boundary. */
static int sink__fail(struct sink *s, int err)
{
	if (!s->err) {
		s->err = err;
		if (s->fd >= 0 && s->regular && !ftruncate(s->fd, s->committed))
			s->offset = s->committed;
	}
	return s->err;
}

/* Writes the buffer; @boundary: it ends where a reader may stop. */
static int sink__drain(struct sink *s, bool boundary)
{
	uint64_t before = s->offset;
	int err = write_all(s->fd, s->buf, s->len, &s->offset);

	if (err)
		return sink__fail(s, err);
	if (s->opts.compress)
		s->compressed += s->offset - before;
	else
		s->written += s->len;
	s->len = 0;
	if (boundary)
		s->committed = s->offset;
	if (boundary && s->opts.compress)
		s->written = s->bytes_in;
	return 0;
}

static int sink__append(struct sink *s, const void *data, size_t len)
{
	uint64_t before = s->offset;
	int err;

	if (s->len + len > BUFFER_BYTES && (err = sink__drain(s, true)))
		return err;
	if (len < BUFFER_BYTES) {
		memcpy(s->buf + s->len, data, len);
		s->len += len;
		return 0;
	}
	err = write_all(s->fd, data, len, &s->offset);
	if (err)
		return sink__fail(s, err);
	s->written += s->offset - before;
	s->committed = s->offset;
	return 0;
}

static int sink__compress(struct sink *s, const void *data, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { .src = data, .size = len };
	size_t left;
	int err;

	do {
		ZSTD_outBuffer out;

		if (BUFFER_BYTES - s->len < ZSTD_CStreamOutSize() && (err = sink__drain(s, false)))
			return err;
		out = (ZSTD_outBuffer){ .dst = s->buf + s->len, .size = BUFFER_BYTES - s->len };
		left = ZSTD_compressStream2(s->zc, &out, &in, mode);
		if (ZSTD_isError(left))
			return sink__fail(s, -EIO);
		s->len += out.pos;
	} while (mode == ZSTD_e_continue ? in.pos < in.size : left != 0);
	return 0;
}

/* Writes what zstd holds, decodable up to here (ZSTD_e_end also ends the frame). */
static int sink__zstd_flush(struct sink *s, ZSTD_EndDirective mode)
{
	int err = sink__compress(s, NULL, 0, mode);

	s->pending_since_ns = 0;
	return err ?: sink__drain(s, true);
}

static ssize_t sink__stream_write(void *cookie, const char *data, size_t len)
{
	struct sink *s = cookie;
	int err = s->err;

	s->bytes_in += len;
	if (!err) {
		s->file_bytes += len;
		err = s->opts.compress ? sink__compress(s, data, len, ZSTD_e_continue)
				       : sink__append(s, data, len);
	}
	if (!err && s->opts.write_through && !s->opts.compress)
		err = sink__drain(s, true);
	if (err) {
		errno = -err;
		return -1;
	}
	return len;
}

static int sink__open_file(struct sink *s, uint64_t now_ns)
{
	uint64_t index = s->period_index;
	char **oldest = NULL;
	struct stat st;
	int fd, err;

	if (s->opts.rotate_bytes && s->opts.max_files && !s->opts.rotate_seconds)
		index %= s->opts.max_files;
	err = sink__file_name(&s->opts, index, now_ns, s->name, sizeof(s->name));
	if (err)
		return err;
	if (s->kept) {
		oldest = &s->kept[s->files % s->opts.max_files];
		/* -W: this file replaces the oldest one (the same name under -C, truncated by open) */
		if (*oldest && strcmp(*oldest, s->name))
			unlink(*oldest);
		free(*oldest);
		*oldest = NULL;
	}
	fd = open_output(s->name);
	if (fd < 0)
		return fd;
	if (oldest && !(*oldest = strdup(s->name))) {
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
	s->regular = !fstat(fd, &st) && S_ISREG(st.st_mode);
	s->offset = s->committed = s->file_bytes = 0;
	s->files++;
	return 0;
}

static int sink__close_file(struct sink *s)
{
	int err = s->err;

	if (s->fd < 0)
		return err;
	if (!err)
		err = s->opts.compress ? sink__zstd_flush(s, ZSTD_e_end) : sink__drain(s, true);
	if (s->fd != STDOUT_FILENO && close(s->fd) && !err)
		err = sink__fail(s, -errno);
	s->fd = -1;
	return err;
}

int sink__chown(struct sink *s, uid_t uid, gid_t gid)
{
	if (s->fd < 0 || s->fd == STDOUT_FILENO)
		return 0;
	return fchown(s->fd, uid, gid) ? -errno : 0;
}

struct sink *sink__open(const struct sink_opts *opts, uint64_t now_ns)
{
	cookie_io_functions_t io = { .write = sink__stream_write };
	struct sink *s;
	int err;

	if (!opts || !opts->path || (opts->max_files && !opts->rotate_bytes && !opts->rotate_seconds)) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fd = -1;
	s->opts = *opts;
	s->pattern = strdup(opts->path);
	s->buf = malloc(BUFFER_BYTES);
	if (!s->pattern || !s->buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	s->opts.path = s->pattern;
	if (opts->max_files && !(s->kept = calloc(opts->max_files, sizeof(*s->kept)))) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (opts->compress) {
		s->zc = ZSTD_createCCtx();
		if (!s->zc ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_checksumFlag, 1))) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	s->period_start_ns = now_ns;
	if (!strcmp(opts->path, "-")) {
		if (opts->rotate_bytes || opts->rotate_seconds) {
			err = -EINVAL; /* one stream cannot be several files */
			goto cleanup;
		}
		s->fd = STDOUT_FILENO;
		snprintf(s->name, sizeof(s->name), "standard output");
		s->files = 1;
	} else if ((err = sink__open_file(s, now_ns))) {
		goto cleanup;
	}
	s->stream = fopencookie(s, "w", io);
	if (!s->stream) {
		err = -errno;
		goto cleanup;
	}
	/* Unbuffered: each fwrite() of the writer reaches us whole, as one block. */
	setvbuf(s->stream, NULL, _IONBF, 0);
	return s;

cleanup:
	sink__free(s);
	errno = -err;
	return NULL;
}

FILE *sink__stream(struct sink *s)
{
	return s->stream;
}

int sink__flush(struct sink *s, uint64_t now_ns)
{
	if (s->err || s->fd < 0)
		return s->err;
	if (!s->opts.compress)
		return sink__drain(s, true);
	if (s->bytes_in == s->written)
		return 0;
	if (!s->pending_since_ns)
		s->pending_since_ns = now_ns ?: 1;
	if (now_ns - s->pending_since_ns < ZSTD_FLUSH_NS)
		return 0;
	return sink__zstd_flush(s, ZSTD_e_flush);
}

static bool sink__period_over(const struct sink *s, uint64_t now_ns)
{
	return s->opts.rotate_seconds &&
	       now_ns - s->period_start_ns >= s->opts.rotate_seconds * NS_PER_SEC;
}

bool sink__rotation_due(const struct sink *s, uint64_t now_ns)
{
	if (s->err)
		return false;
	return (s->opts.rotate_bytes && s->file_bytes > s->opts.rotate_bytes) ||
	       sink__period_over(s, now_ns);
}

int sink__rotate(struct sink *s, uint64_t now_ns)
{
	int err;

	if (s->fd == STDOUT_FILENO)
		return -EINVAL;
	err = sink__close_file(s);
	if (err)
		return err;
	if (sink__period_over(s, now_ns)) {
		s->period_start_ns = now_ns;
		s->period_index = 0;
	} else {
		s->period_index++;
	}
	err = sink__open_file(s, now_ns);
	return err ? sink__fail(s, err) : 0;
}

int sink__close(struct sink *s)
{
	return sink__close_file(s);
}

void sink__free(struct sink *s)
{
	uint32_t i;

	if (!s)
		return;
	if (s->stream)
		fclose(s->stream); /* writes nothing: the stream is unbuffered */
	sink__close_file(s);
	for (i = 0; s->kept && i < s->opts.max_files; i++)
		free(s->kept[i]);
	free(s->kept);
	ZSTD_freeCCtx(s->zc);
	free(s->buf);
	free(s->pattern);
	free(s);
}

const char *sink__name(const struct sink *s)
{
	return s->name;
}

uint64_t sink__files(const struct sink *s)
{
	return s->files;
}

uint64_t sink__bytes_written(const struct sink *s)
{
	return s->written;
}

uint64_t sink__bytes_compressed(const struct sink *s)
{
	return s->compressed;
}

uint64_t sink__bytes_not_written(const struct sink *s)
{
	return s->bytes_in - s->written;
}
