// SPDX-License-Identifier: MIT
#include "options.h"

#include "extcap.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	OPT_EXTCAP_INTERFACES,
	OPT_EXTCAP_VERSION,
	OPT_EXTCAP_INTERFACE,
	OPT_EXTCAP_DLTS,
	OPT_EXTCAP_CONFIG,
	OPT_EXTCAP_CAPTURE_FILTER,
	OPT_CAPTURE,
	OPT_FIFO,
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
	{ "relinquish-privileges", required_argument, NULL, 'Z' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "extcap-interfaces", no_argument, NULL, OPT_EXTCAP_INTERFACES },
	{ "extcap-version", optional_argument, NULL, OPT_EXTCAP_VERSION },
	{ "extcap-interface", required_argument, NULL, OPT_EXTCAP_INTERFACE },
	{ "extcap-dlts", no_argument, NULL, OPT_EXTCAP_DLTS },
	{ "extcap-config", no_argument, NULL, OPT_EXTCAP_CONFIG },
	{ "extcap-capture-filter", required_argument, NULL, OPT_EXTCAP_CAPTURE_FILTER },
	{ "capture", no_argument, NULL, OPT_CAPTURE },
	{ "fifo", required_argument, NULL, OPT_FIFO },
	{ 0 },
};

void options__usage(FILE *out)
{
	fprintf(out,
		"Usage: tlspcap -w FILE [options] [EXPRESSION] [-- COMMAND [ARGS...]]\n"
		"       tlspcap --list [-p PID]... [--lib PATH]...\n"
		"Record the plaintext of TLS connections on this host as pcapng.\n"
		"\n"
		"  -w, --write FILE          write pcapng to FILE ('-' for standard output)\n"
		"  -p, --pid PID[,PID...]    trace only these processes and their children\n"
		"                            (repeatable)\n"
		"      --comm NAME           trace only processes whose command name is NAME\n"
		"  -s, --snapshot-length N   keep at most N bytes of each TLS call (0 or default: all)\n"
		"  -c, --count N             stop after N TLS data records\n"
		"  -B, --buffer-size KiB     ring buffer size (default: %llu)\n"
		"      --lib PATH            also probe this library or executable (repeatable)\n"
		"  -C, --file-size MB        start a new file once this one is larger than MB million\n"
		"                            bytes (before compression):\n"
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
		"  -Z, --relinquish-privileges USER\n"
		"                            once capturing, run as USER with only the capabilities\n"
		"                            probing needs; output files belong to USER\n"
		"      --list                print the TLS libraries that would be probed and exit\n"
		"  -v, --verbose             print each library probed and libbpf's messages\n"
		"  -h, --help                show this help\n"
		"      --version             show the version\n"
		"  EXPRESSION                a tcpdump filter (pcap-filter(7)) judged on each\n"
		"                            connection's real addresses and ports: 'port 443',\n"
		"                            'host 127.0.0.1 and tcp port 5432', 'ip6'\n"
		"  -- COMMAND [ARGS...]      run COMMAND, trace it and its children, stop when it\n"
		"                            exits; the exit status is the command's\n"
		"\n"
		"SIGUSR1 prints the running summary to stderr; SIGINT or SIGTERM stops.\n"
		"\n"
		"As a Wireshark extcap program (interface \"" EXTCAP_INTERFACE "\", see tlspcap(8)):\n"
		"      --extcap-interfaces   list the interface (--extcap-version=VER is ignored)\n"
		"      --extcap-interface " EXTCAP_INTERFACE " --extcap-dlts | --extcap-config\n"
		"                            its link type, its options (-p, --comm, -s)\n"
		"      --extcap-interface " EXTCAP_INTERFACE " --extcap-capture-filter EXPRESSION\n"
		"                            check EXPRESSION: libpcap's message, or nothing\n"
		"      --extcap-interface " EXTCAP_INTERFACE " --capture --fifo PATH\n"
		"                            capture into PATH (--extcap-capture-filter: EXPRESSION)\n"
		"\n"
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

static int set_user(struct options *opts, const char *name, FILE *err)
{
	struct passwd *pw;

	errno = 0;
	pw = *name ? getpwnam(name) : NULL;
	if (!pw) {
		fprintf(err, "tlspcap: -Z '%s': %s\n", name, errno ? strerror(errno) : "no such user");
		return -EINVAL;
	}
	opts->user = name;
	opts->uid = pw->pw_uid;
	opts->gid = pw->pw_gid;
	return 0;
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

/* -p 12,34: a list, as Wireshark's one extcap field for PIDs gives it. */
static int add_pids(struct options *opts, const char *list, FILE *err)
{
	char pid[32];
	const char *comma;
	int ret;

	do {
		size_t len;

		comma = strchr(list, ',');
		len = comma ? (size_t)(comma - list) : strlen(list);
		if (len >= sizeof(pid)) {
			fprintf(err, "tlspcap: -p '%.*s': not a number\n", (int)len, list);
			return -EINVAL;
		}
		memcpy(pid, list, len);
		pid[len] = '\0';
		ret = add_pid(opts, pid, err);
		if (comma)
			list = comma + 1;
	} while (!ret && comma);
	return ret;
}

/* Copies @text into opts->filter. */
static int set_filter(struct options *opts, const char *text, FILE *err)
{
	if (strlen(text) >= sizeof(opts->filter)) {
		fprintf(err, "tlspcap: the filter expression is longer than %zu bytes\n",
			sizeof(opts->filter) - 1);
		return -EINVAL;
	}
	strcpy(opts->filter, text);
	return 0;
}

/* Which extcap call the options make, and its checks; @asked: --extcap-dlts etc. seen. */
static int resolve_extcap(struct options *opts, const char *interface, const char *fifo,
			  enum options_extcap asked, bool capture, FILE *err)
{
	if (opts->extcap == OPTIONS_EXTCAP_INTERFACES)
		return 0;
	if (!interface) {
		if (!asked && !capture && !fifo)
			return 0;
		fprintf(err, "tlspcap: extcap: --extcap-interface %s is needed\n", EXTCAP_INTERFACE);
		return -EINVAL;
	}
	if (strcmp(interface, EXTCAP_INTERFACE)) {
		fprintf(err, "tlspcap: --extcap-interface '%s': no such interface (the one is %s)\n",
			interface, EXTCAP_INTERFACE);
		return -EINVAL;
	}
	if (capture) {
		if (!fifo) {
			fprintf(err, "tlspcap: --capture needs --fifo PATH\n");
			return -EINVAL;
		}
		opts->output = fifo;
		opts->extcap = OPTIONS_EXTCAP_CAPTURE;
		return 0;
	}
	opts->extcap = asked ? asked : *opts->filter ? OPTIONS_EXTCAP_CHECK_FILTER : OPTIONS_EXTCAP_NONE;
	if (opts->extcap == OPTIONS_EXTCAP_NONE) {
		fprintf(err, "tlspcap: --extcap-interface: say what for (--extcap-dlts, --extcap-config, "
			     "--extcap-capture-filter or --capture)\n");
		return -EINVAL;
	}
	return 0;
}

/* tcpdump's EXPRESSION: the words up to "--", joined by spaces. Returns the index after it. */
static int join_expression(struct options *opts, int argc, char **argv, int first, FILE *err)
{
	size_t used = 0;
	int i;

	for (i = first; i < argc && strcmp(argv[i], "--"); i++) {
		size_t len = strlen(argv[i]);

		/* getopt stopped at the expression: a later option is a misplaced one */
		if (argv[i][0] == '-' && (isalpha((unsigned char)argv[i][1]) || argv[i][1] == '-')) {
			fprintf(err, "tlspcap: option '%s' after the filter expression: options go first\n",
				argv[i]);
			return -EINVAL;
		}
		if (used + !!used + len >= sizeof(opts->filter)) {
			fprintf(err, "tlspcap: the filter expression is longer than %zu bytes\n",
				sizeof(opts->filter) - 1);
			return -EINVAL;
		}
		if (used)
			opts->filter[used++] = ' ';
		memcpy(opts->filter + used, argv[i], len + 1);
		used += len;
	}
	return i;
}

int options__parse(struct options *opts, int argc, char **argv, FILE *out, FILE *err)
{
	const char *extcap_interface = NULL, *fifo = NULL;
	enum options_extcap extcap_asked = OPTIONS_EXTCAP_NONE;
	bool capture = false;
	int c, ret = 0;

	memset(opts, 0, sizeof(*opts));
	opts->buffer_bytes = DEFAULT_BUFFER_BYTES;
	optind = 0; /* 0, not 1: glibc also forgets a half-scanned "-hv" bundle */
	opterr = 0;
	/* '+': stop at the first non-option so "--" and COMMAND are ours. */
	while ((c = getopt_long(argc, argv, "+:w:p:s:c:B:C:G:W:Z:qvh", long_options, NULL)) != -1) {
		switch (c) {
		case 'w':
			opts->output = optarg;
			break;
		case 'p':
			ret = add_pids(opts, optarg, err);
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
		case 'Z':
			ret = set_user(opts, optarg, err);
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
		case OPT_EXTCAP_INTERFACES:
			opts->extcap = OPTIONS_EXTCAP_INTERFACES;
			break;
		case OPT_EXTCAP_VERSION: /* Wireshark's version: one output fits all */
			break;
		case OPT_EXTCAP_INTERFACE:
			extcap_interface = optarg;
			break;
		case OPT_EXTCAP_DLTS:
			extcap_asked = OPTIONS_EXTCAP_DLTS;
			break;
		case OPT_EXTCAP_CONFIG:
			extcap_asked = OPTIONS_EXTCAP_CONFIG;
			break;
		case OPT_EXTCAP_CAPTURE_FILTER:
			ret = set_filter(opts, optarg, err);
			break;
		case OPT_CAPTURE:
			capture = true;
			break;
		case OPT_FIFO:
			fifo = optarg;
			break;
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
	/* getopt_long stops after "--" or at the first operand (the expression). */
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		ret = join_expression(opts, argc, argv, optind, err);
		if (ret < 0)
			return ret;
		optind = ret < argc ? ret + 1 : ret; /* past the "--" */
	}
	if (optind < argc)
		opts->command = &argv[optind];
	ret = resolve_extcap(opts, extcap_interface, fifo, extcap_asked, capture, err);
	if (ret)
		return ret;
	if (opts->extcap && opts->extcap != OPTIONS_EXTCAP_CAPTURE)
		return OPTIONS_RUN; /* a question, answered by extcap__answer */
	if (opts->extcap && opts->command) {
		fprintf(err, "tlspcap: --capture and -- COMMAND exclude each other\n");
		return -EINVAL;
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
