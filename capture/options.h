/* SPDX-License-Identifier: MIT */
/* Command line of tlspcap, parsed in tcpdump's spirit: every bad option is named. */
#ifndef TLSPCAP_OPTIONS_H
#define TLSPCAP_OPTIONS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The Makefile passes the version (git describe); other builds say so. */
#ifndef TLSPCAP_VERSION
#define TLSPCAP_VERSION "unknown"
#endif

#define OPTIONS_MAX_PIDS 256
#define OPTIONS_MAX_LIBS 16
#define OPTIONS_MAX_REDACT 32
#define OPTIONS_REDACT_NAME_MAX 31
#define OPTIONS_MAX_FILTER 4096

/* What Wireshark asks of tlspcap as an extcap program (capture/extcap.h). */
enum options_extcap {
	OPTIONS_EXTCAP_NONE = 0,
	OPTIONS_EXTCAP_INTERFACES,   /* --extcap-interfaces */
	OPTIONS_EXTCAP_DLTS,         /* --extcap-interface tlspcap --extcap-dlts */
	OPTIONS_EXTCAP_CONFIG,       /* --extcap-interface tlspcap --extcap-config */
	OPTIONS_EXTCAP_CHECK_FILTER, /* --extcap-interface tlspcap --extcap-capture-filter F */
	OPTIONS_EXTCAP_CAPTURE,      /* --extcap-interface tlspcap --capture --fifo PATH */
};

struct options {
	const char *output;            /* -w FILE, "-" for stdout */
	pid_t pids[OPTIONS_MAX_PIDS];  /* -p PID, repeatable */
	size_t nr_pids;
	const char *comm;              /* --comm NAME */
	uint64_t snaplen;              /* -s: bytes kept per TLS call, 0 = all */
	uint64_t count;                /* -c: stop after this many TLS data records, 0 = never */
	uint64_t buffer_bytes;         /* -B KiB: ring buffer size */
	const char *libs[OPTIONS_MAX_LIBS]; /* --lib PATH: also probe this file */
	size_t nr_libs;
	uint64_t rotate_bytes;         /* -C MB (millions of bytes): next file beyond this size */
	uint64_t rotate_seconds;       /* -G SECONDS: next file every SECONDS, strftime names */
	uint64_t max_files;            /* -W COUNT: keep at most COUNT files */
	int compress;                  /* --compress zstd, or FILE ending in .zst */
	int redact;                    /* --redact (or a --redact-* option) */
	const char *redact_headers[OPTIONS_MAX_REDACT]; /* --redact-header NAME */
	size_t nr_redact_headers;
	const char *redact_fields[OPTIONS_MAX_REDACT];  /* --redact-field NAME */
	size_t nr_redact_fields;
	const char *user;              /* -Z USER: run as USER once capturing */
	uid_t uid;                     /* ...its ids, looked up while parsing */
	gid_t gid;
	int list;                      /* --list: print what would be probed, exit */
	int quiet;                     /* -q: no live status line */
	int verbose;                   /* -v */
	char **command;                /* after --: run it, trace it and its children */
	char filter[OPTIONS_MAX_FILTER]; /* EXPRESSION (words joined by spaces), "" = none */
	enum options_extcap extcap;    /* Wireshark's call, if it is one */
};

enum options_result {
	OPTIONS_RUN = 0,      /* capture */
	OPTIONS_EXIT = 1,     /* --help or --version printed */
};

/* Returns OPTIONS_RUN, OPTIONS_EXIT or -EINVAL after printing the problem to @err. */
int options__parse(struct options *opts, int argc, char **argv, FILE *out, FILE *err);
void options__usage(FILE *out);

#endif /* TLSPCAP_OPTIONS_H */
