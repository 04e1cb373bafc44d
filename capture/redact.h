/* SPDX-License-Identifier: MIT */
/*
 * The redaction stage, between connections and frames (--redact): secrets
 * are overwritten in the plaintext before any frame is built, so they never
 * reach the file.  Every replacement has the length of what it replaces
 * (Content-Length, chunk sizes, HTTP/2 frame lengths, HPACK tables and TCP
 * sequence numbers stay true) and shows a marker where the length allows.
 *
 * One redact_stream per TCP stream holds a parser per protocol (found from
 * the first bytes) and, per direction, the bytes of a unit not complete yet
 * (a header line, an HTTP/2 header block split across TLS records): those
 * are written with the record that completes them.  Where the parser cannot
 * be sure what a byte is (a gap, a connection joined mid-stream, a header
 * block it cannot decode) it masks more, never less, and the stream's
 * comment says so.
 */
#ifndef TLSPCAP_REDACT_H
#define TLSPCAP_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp_stream.h"

struct redact_policy;

/* The default policy; extended with the options. NULL + errno on failure. */
struct redact_policy *redact_policy__new(void);
void redact_policy__free(struct redact_policy *p);
/* --redact-header NAME, --redact-field NAME: 0 or -EINVAL (empty, too long) / -ENOMEM. */
int redact_policy__add_header(struct redact_policy *p, const char *name);
int redact_policy__add_field(struct redact_policy *p, const char *name);
/* One line for the section header comment: which policy was applied. */
const char *redact_policy__describe(const struct redact_policy *p);

/* Totals over the file, for the summary. */
struct redact_stats {
	uint64_t values;          /* secrets overwritten */
	uint64_t streams;         /* streams with at least one */
	uint64_t masked_bytes;    /* bytes masked because their meaning was unsure */
	uint64_t masked_streams;
};

struct redactor;

/* Takes @policy (freed with the redactor). NULL + errno on failure. */
struct redactor *redactor__new(struct redact_policy *policy);
void redactor__free(struct redactor *r);
const struct redact_stats *redactor__stats(const struct redactor *r);
const struct redact_policy *redactor__policy(const struct redactor *r);
/* Overwrites the secrets of a packet comment (Args: ...) in place; returns how many.
 * The totals count them once per comment text, however often it is written.
 * Accepts NULL (no redaction). */
unsigned int redactor__comment(struct redactor *r, char *text);

struct redact_stream;

/*
 * A stream's redaction state; @joined: the connection was open before the
 * capture, so its first bytes may be anywhere in a message.  NULL + errno on
 * failure.
 */
struct redact_stream *redact_stream__new(struct redactor *r, bool joined);
void redact_stream__free(struct redact_stream *s);
/*
 * tcp_stream__write through the stage (@s NULL: straight through).  Bytes of
 * an unfinished unit are held and written, redacted, with a later call.
 */
int redact_stream__write(struct redact_stream *s, struct tcp_stream *tcp, enum tcp_stream_dir dir,
			 uint64_t offset, const void *data, uint32_t caplen, uint64_t len,
			 uint64_t timestamp_ns);
/* Writes what is held (the stream ends); unfinished units are masked. */
int redact_stream__flush(struct redact_stream *s, struct tcp_stream *tcp);
/* "Redacted: N values (...)" for the stream's last comment, or NULL when none;
 * called once, at the end: adds the stream to the totals.  Accepts NULL. */
const char *redact_stream__summary(struct redact_stream *s);

#endif /* TLSPCAP_REDACT_H */
