/* SPDX-License-Identifier: MIT */
/*
 * The sink: where pcapng blocks end up.  It hides from the writer whether
 * the bytes go to a file or standard output, plain or zstd-compressed, and
 * whether the output rotates through several files (tcpdump's -C, -G, -W).
 *
 * The writer writes into sink__stream(), an unbuffered stdio stream on
 * which each fwrite() is one whole block; the sink buffers whole blocks
 * itself, so every write(2) it makes ends on a block boundary.  After a
 * failed write (a full disk) the file is cut back to the last complete
 * block (compressed: the last zstd flush) and every later byte is
 * counted as not written.
 *
 * Compressed output is one zstd frame per file, ended at rotation and at
 * sink__close.  Within it, what came in is flushed (ZSTD_e_flush) at most
 * about half a second later (sink__flush), so a file cut by SIGKILL
 * decompresses up to its last flush, which ends on a block boundary.  One
 * frame, not a frame per flush: after a frame ends, tshark 4.0 (Debian 12)
 * looks for the next frame's magic at the start of its 131075-byte read
 * buffer instead of where the frame ended, and misreads the rest of a file
 * whose frames end past its first buffer (measured, see README).
 *
 * Files are created with mode 0600.  As root, a symbolic link in a sticky
 * world-writable directory (/tmp) is not followed unless it belongs to the
 * directory's owner or to us (the kernel's fs.protected_symlinks rule),
 * for the first file and every rotated one: -ELOOP.
 *
 * Conventions (libbpf style): int functions return 0 or a negative errno;
 * sink__open() returns NULL with errno set; sink__free() accepts NULL.
 */
#ifndef TLSPCAP_SINK_H
#define TLSPCAP_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct sink_opts {
	const char *path;          /* FILE, or "-" for standard output */
	bool compress;             /* zstd */
	uint64_t rotate_bytes;     /* -C: next file once more pcapng bytes than this are in, 0 = never */
	uint32_t rotate_seconds;   /* -G: next file every N seconds, strftime names, 0 = never */
	uint32_t max_files;        /* -W: keep at most N files (the oldest is replaced), 0 = all */
	bool write_through;        /* every block to the kernel at once (a live pipe) */
};

struct sink;

/* Opens the first file; @now_ns (Unix epoch) names it under -G. */
struct sink *sink__open(const struct sink_opts *opts, uint64_t now_ns);
/* Finishes the output (ends the zstd frame) and closes it: 0 or the first write error. */
int sink__close(struct sink *s);
/* sink__close() without the error; accepts NULL. */
void sink__free(struct sink *s);

/* The stream the pcapng writer writes to: one fwrite() per block. */
FILE *sink__stream(struct sink *s);
/* Hands buffered bytes to the kernel; zstd: what came in half a second or more ago. */
int sink__flush(struct sink *s, uint64_t now_ns);
/* True when -C or -G says the next block belongs in a new file. */
bool sink__rotation_due(const struct sink *s, uint64_t now_ns);
/* Finishes the current file and opens the next (removing the oldest beyond -W). */
int sink__rotate(struct sink *s, uint64_t now_ns);

/* Gives the file being written to @uid/@gid (tlspcap -Z opens it as root); 0 for stdout. */
int sink__chown(struct sink *s, uid_t uid, gid_t gid);
/* The file being written ("standard output" for -w -). */
const char *sink__name(const struct sink *s);
uint64_t sink__files(const struct sink *s);          /* files opened so far */
uint64_t sink__bytes_written(const struct sink *s);  /* pcapng bytes safely handed to the kernel */
uint64_t sink__bytes_compressed(const struct sink *s); /* bytes of zstd output written */
uint64_t sink__bytes_not_written(const struct sink *s); /* pcapng bytes lost to a write error */

/* -C/-W file name @index of a period under -G (tcpdump's naming); tests use it too. */
int sink__file_name(const struct sink_opts *opts, uint64_t index, uint64_t now_ns, char *buf,
		    size_t size);

#endif /* TLSPCAP_SINK_H */
