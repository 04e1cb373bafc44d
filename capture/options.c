// SPDX-License-Identifier: MIT
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TLSPCAP_VERSION
#define TLSPCAP_VERSION "unknown"
#endif

#define DEFAULT_BUFFER_BYTES (64ull << 20)

enum long_option {
	OPT_COMM = 0x100,
	OPT_VERSION,
	OPT_LIST,
	OPT_LIB,
	OPT_COMPRESS,
	OPT_REDACT,
	OPT_REDACT_HEADER,
	OPT_REDACT_FIELD,
};

static const struct option long_options[] = {
	{ "write", required_argument, NULL, 'w' },
	{ "pid", required_argument, NULL, 'p' },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "snapshot-length", required_argument, NULL, 's' },
	{ "count", required_argument, NULL, 'c' },
	{ "buffer-size", required_argument, NULL, 'B' },
	{ "file-size", required_argument, NULL, 'C' },
	{ "rotate-seconds", required_argument, NULL, 'G' },
	{ "file-count", required_argument, NULL, 'W' },
	{ "compress", required_argument, NULL, OPT_COMPRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "lib", required_argument, NULL, OPT_LIB },
	{ "redact", no_argument, NULL, OPT_REDACT },
	{ "redact-header", required_argument, NULL, OPT_REDACT_HEADER },
	{ "redact-field", required_argument, NULL, OPT_REDACT_FIELD },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

void options__usage(FILE *out)
{
	fprintf(out,
		"Usage: tlspcap -w FILE [options] [-- COMMAND [ARGS...]]\n"
		"       tlspcap --list [-p PID]... [--lib PATH]...\n"
		"Record the plaintext of TLS connections on this host as pcapng.\n"
		"\n"
		"  -w, --write FILE          write pcapng to FILE ('-' for standard output)\n"
		"  -p, --pid PID             trace only this process and its children (repeatable)\n"
		"      --comm NAME           trace only processes whose command name is NAME\n"
		"  -s, --snapshot-length N   keep at most N bytes of each TLS call (0 or default: all)\n"
		"  -c, --count N             stop after N TLS data records\n"
		"  -B, --buffer-size KiB     ring buffer size (default: %llu)\n"
		"      --lib PATH            also probe this library or executable (repeatable)\n"
		"  -C, --file-size MB        start a new file when this one holds MB million bytes:\n"
		"                            FILE, FILE1, FILE2... (with -W: FILE0..FILE<W-1>, reused)\n"
		"  -G, --rotate-seconds N    start a new file every N seconds; FILE is a strftime\n"
		"                            pattern (out-%%Y%%m%%d-%%H%%M%%S.pcapng)\n"
		"  -W, --file-count N        with -C or -G: keep at most N files, the oldest replaced\n"
		"      --compress zstd       write zstd (also when FILE ends in .zst); tshark reads it\n"
		"  -q, --quiet               no live status line on a terminal\n"
		"      --redact              overwrite secrets (auth headers, cookies, passwords,\n"
		"                            tokens, Args: in comments) with same-length markers\n"
		"      --redact-header NAME  also redact this header's value (repeatable; implies --redact)\n"
		"      --redact-field NAME   also redact this query/form/JSON field (repeatable)\n"
		"      --list                print the TLS libraries that would be probed and exit\n"
		"  -v, --verbose             print each library probed and libbpf's messages\n"
		"  -h, --help                show this help\n"
		"      --version             show the version\n"
		"  -- COMMAND [ARGS...]      run COMMAND, trace it and its children, stop when it\n"
		"                            exits; the exit status is the command's\n"
		"\n"
		"SIGUSR1 prints the running summary to stderr; SIGINT or SIGTERM stops.\n"
		"Open the result with: wireshark FILE   or live: tlspcap -w - | wireshark -k -i -\n",
		DEFAULT_BUFFER_BYTES >> 10);
}

/* Parses a whole decimal number in [min, max]; names the option on error. */
static int parse_number(const char *option, const char *text, uint64_t min, uint64_t max,
			uint64_t *value, FILE *err)
{
	char *end;
	unsigned long long n;

	errno = 0;
	if (!isdigit((unsigned char)*text))
		goto invalid;
	n = strtoull(text, &end, 10);
	if (errno || *end != '\0')
		goto invalid;
	if (n < min || n > max) {
		fprintf(err, "tlspcap: %s %s: out of range (%" PRIu64 "..%" PRIu64 ")\n", option,
			text, min, max);
		return -EINVAL;
	}
	*value = n;
	return 0;
invalid:
	fprintf(err, "tlspcap: %s '%s': not a number\n", option, text);
	return -EINVAL;
}

static int add_pid(struct options *opts, const char *text, FILE *err)
{
	uint64_t pid;
	int ret;

	ret = parse_number("-p", text, 1, INT_MAX, &pid, err);
	if (ret)
		return ret;
	if (opts->nr_pids == OPTIONS_MAX_PIDS) {
		fprintf(err, "tlspcap: -p: at most %d processes\n", OPTIONS_MAX_PIDS);
		return -EINVAL;
	}
	if (kill((pid_t)pid, 0) && errno == ESRCH) {
		fprintf(err, "tlspcap: -p %s: no such process\n", text);
		return -EINVAL;
	}
	opts->pids[opts->nr_pids++] = (pid_t)pid;
	return 0;
}

/* A header or field name: a token of 1 to 31 characters. */
static int add_redact_name(const char *option, const char *name, const char **names, size_t *nr,
			   FILE *err)
{
	size_t i, len = strlen(name);

	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] >= 0x7f ||
		    strchr(":=;,\"", name[i]))
			break;
	if (!len || len > OPTIONS_REDACT_NAME_MAX || i < len) {
		fprintf(err, "tlspcap: %s '%s': a name has 1 to %d characters, without spaces or :=;,\"\n",
			option, name, OPTIONS_REDACT_NAME_MAX);
		return -EINVAL;
	}
	if (*nr == OPTIONS_MAX_REDACT) {
		fprintf(err, "tlspcap: %s: at most %d names\n", option, OPTIONS_MAX_REDACT);
		return -EINVAL;
	}
	names[(*nr)++] = name;
	return 0;
}

int options__parse(struct options *opts, int argc, char **argv, FILE *out, FILE *err)
{
	int c, ret = 0;

	memset(opts, 0, sizeof(*opts));
	opts->buffer_bytes = DEFAULT_BUFFER_BYTES;
	optind = 0; /* 0, not 1: glibc also forgets a half-scanned "-hv" bundle */
	opterr = 0;
	/* '+': stop at the first non-option so "--" and COMMAND are ours. */
	while ((c = getopt_long(argc, argv, "+:w:p:s:c:B:C:G:W:qvh", long_options, NULL)) != -1) {
		switch (c) {
		case 'w':
			opts->output = optarg;
			break;
		case 'p':
			ret = add_pid(opts, optarg, err);
			break;
		case OPT_COMM:
			if (!*optarg || strlen(optarg) > 15) {
				fprintf(err, "tlspcap: --comm '%s': a command name has 1 to 15 characters\n",
					optarg);
				ret = -EINVAL;
			}
			opts->comm = optarg;
			break;
		case 's':
			/* As in tcpdump, -s 0 keeps everything. */
			ret = parse_number("-s", optarg, 0, UINT32_MAX, &opts->snaplen, err);
			break;
		case 'c':
			ret = parse_number("-c", optarg, 1, UINT64_MAX, &opts->count, err);
			break;
		case 'B': {
			uint64_t kib;

			ret = parse_number("-B", optarg, 64, 4u << 20, &kib, err);
			opts->buffer_bytes = kib << 10;
			break;
		}
		case 'C':
			/* tcpdump's unit: millions of bytes */
			ret = parse_number("-C", optarg, 1, UINT64_MAX / 1000000, &opts->rotate_bytes, err);
			opts->rotate_bytes *= 1000000;
			break;
		case 'G':
			ret = parse_number("-G", optarg, 1, INT32_MAX, &opts->rotate_seconds, err);
			break;
		case 'W':
			ret = parse_number("-W", optarg, 1, 1000000, &opts->max_files, err);
			break;
		case OPT_COMPRESS:
			if (strcmp(optarg, "zstd")) {
				fprintf(err, "tlspcap: --compress '%s': only zstd is supported\n", optarg);
				ret = -EINVAL;
			}
			opts->compress = 1;
			break;
		case 'q':
			opts->quiet = 1;
			break;
		case OPT_LIST:
			opts->list = 1;
			break;
		case OPT_LIB:
			if (opts->nr_libs == OPTIONS_MAX_LIBS) {
				fprintf(err, "tlspcap: --lib: at most %d files\n", OPTIONS_MAX_LIBS);
				return -EINVAL;
			}
			opts->libs[opts->nr_libs++] = optarg;
			break;
		case OPT_REDACT:
			opts->redact = 1;
			break;
		case OPT_REDACT_HEADER:
			opts->redact = 1;
			ret = add_redact_name("--redact-header", optarg, opts->redact_headers,
					      &opts->nr_redact_headers, err);
			break;
		case OPT_REDACT_FIELD:
			opts->redact = 1;
			ret = add_redact_name("--redact-field", optarg, opts->redact_fields,
					      &opts->nr_redact_fields, err);
			break;
		case 'v':
			opts->verbose++;
			break;
		case 'h':
			options__usage(out);
			return OPTIONS_EXIT;
		case OPT_VERSION:
			fprintf(out, "tlspcap %s\n", TLSPCAP_VERSION);
			return OPTIONS_EXIT;
		case ':':
			fprintf(err, "tlspcap: option '%s' needs an argument\n", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt)
				fprintf(err, "tlspcap: unknown option '-%c'\n", optopt);
			else
				fprintf(err, "tlspcap: unknown option '%s'\n", argv[optind - 1]);
			fprintf(err, "Try 'tlspcap --help'.\n");
			return -EINVAL;
		}
		if (ret)
			return ret;
	}
	if (optind < argc) {
		/* getopt_long stops after "--" or at the first operand. */
		if (strcmp(argv[optind - 1], "--") != 0) {
			fprintf(err, "tlspcap: unexpected argument '%s' (a command goes after --)\n",
				argv[optind]);
			return -EINVAL;
		}
		opts->command = &argv[optind];
	}
	if (!opts->output && !opts->list) {
		fprintf(err, "tlspcap: no output file: use -w FILE (or -w - for standard output)\n");
		return -EINVAL;
	}
	if (opts->output && strcmp(opts->output, "-") && strlen(opts->output) > 4 &&
	    !strcmp(opts->output + strlen(opts->output) - 4, ".zst"))
		opts->compress = 1;
	if (opts->max_files && !opts->rotate_bytes && !opts->rotate_seconds) {
		fprintf(err, "tlspcap: -W needs -C or -G (it bounds the files they make)\n");
		return -EINVAL;
	}
	if ((opts->rotate_bytes || opts->rotate_seconds) && opts->output && !strcmp(opts->output, "-")) {
		fprintf(err, "tlspcap: -C and -G make several files: they need -w FILE, not -w -\n");
		return -EINVAL;
	}
	if (opts->command && opts->nr_pids) {
		fprintf(err, "tlspcap: -p and -- COMMAND exclude each other\n");
		return -EINVAL;
	}
	return OPTIONS_RUN;
}
