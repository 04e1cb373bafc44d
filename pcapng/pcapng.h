/* SPDX-License-Identifier: MIT */
/*
 * pcapng block writer: turns packets and metadata into pcapng blocks on a
 * FILE stream.  Every block is sized first, built in one buffer and written
 * with one fwrite(), so a reader never sees half a block unless the process
 * dies inside that call.  The section header and the first interface block
 * go out together for the same reason (a file cut inside the SHB is misread
 * as another format by tshark).
 *
 * Conventions (libbpf style): int functions return 0 or a negative errno;
 * pcapng_writer__new() returns NULL with errno set; pcapng_writer__free()
 * accepts NULL.
 */
#ifndef TLSPCAP_PCAPNG_H
#define TLSPCAP_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* LINKTYPE_RAW: the packet starts with an IPv4 or IPv6 header. */
#define PCAPNG_LINKTYPE_RAW 101

/* epb_flags direction bits (pcapng spec, option 2 of the EPB). */
#define PCAPNG_DIRECTION_INBOUND  0x1
#define PCAPNG_DIRECTION_OUTBOUND 0x2

/* Decryption Secrets Block secrets type: NSS key log lines ("TLSK"). */
#define PCAPNG_SECRETS_TLS_KEYLOG 0x544c534b

#define PCAPNG_MAX_COMMENTS 8

struct pcapng_section_info {
	const char *hardware;    /* shb_hardware, may be NULL */
	const char *os;          /* shb_os, may be NULL */
	const char *application; /* shb_userappl, may be NULL */
	const char *comment;     /* opt_comment, may be NULL */
};

struct pcapng_writer_opts {
	uint32_t snaplen;          /* for every interface; 0 means 262144 */
};

struct pcapng_packet {
	uint32_t interface_id;
	uint64_t timestamp_ns;     /* nanoseconds since the Unix epoch */
	const void *data;
	uint32_t caplen;           /* bytes present: data's, then tail's */
	uint32_t len;              /* original length on the wire, >= caplen */
	/* A frame's payload where it already is (no copy into @data): the last
	 * @tail_len of the @caplen bytes; NULL when @data holds them all. */
	const void *tail;
	uint32_t tail_len;
	uint32_t direction;        /* PCAPNG_DIRECTION_*, 0 to omit epb_flags */
	const char *comments[PCAPNG_MAX_COMMENTS]; /* NULL-terminated when fewer */
};

struct pcapng_interface_stats {
	uint64_t timestamp_ns;
	uint64_t start_ns;         /* isb_starttime, 0 to omit */
	uint64_t end_ns;           /* isb_endtime, 0 to omit */
	uint64_t received;         /* isb_ifrecv */
	uint64_t dropped;          /* isb_ifdrop */
	const char *comment;       /* may be NULL */
};

struct pcapng_name_record {
	int family;                /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	const char *name;
};

struct pcapng_writer;

/* Writes nothing yet: the SHB is written together with the first IDB. */
struct pcapng_writer *pcapng_writer__new(FILE *out, const struct pcapng_section_info *section,
					 const struct pcapng_writer_opts *opts);
/* Flushes what is buffered; does not close @out. */
void pcapng_writer__free(struct pcapng_writer *w);

/* Adds an interface (LINKTYPE_RAW, if_tsresol 9) and returns its id (>= 0) or -errno. */
int pcapng_writer__add_interface(struct pcapng_writer *w, const char *name, const char *description);
int pcapng_writer__write_packet(struct pcapng_writer *w, const struct pcapng_packet *pkt);
int pcapng_writer__write_interface_stats(struct pcapng_writer *w, uint32_t interface_id,
					 const struct pcapng_interface_stats *stats);
int pcapng_writer__write_name_resolution(struct pcapng_writer *w,
					 const struct pcapng_name_record *records, size_t count);
int pcapng_writer__write_decryption_secrets(struct pcapng_writer *w, uint32_t secrets_type,
					    const void *data, uint32_t len);
/*
 * Starts a new section: the SHB and every interface again, in one write, so
 * a new file (rotation) stands alone.  Interface ids stay valid.  No packet
 * of the new section is stamped earlier than the latest of the previous ones
 * (a record delayed across the rotation gets that time plus 1 ns), so
 * mergecap, which merges by time, keeps every stream in order.
 */
int pcapng_writer__new_section(struct pcapng_writer *w);
int pcapng_writer__flush(struct pcapng_writer *w);
/* Bytes handed to the stream so far (drives size-based rotation without ftell). */
uint64_t pcapng_writer__bytes_written(const struct pcapng_writer *w);

#endif /* TLSPCAP_PCAPNG_H */
