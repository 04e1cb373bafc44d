// SPDX-License-Identifier: MIT
/*
 * The command line: options__parse with argv arrays, its messages caught in
 * memory streams.  Every bad command line is refused with -EINVAL and a
 * message that names the problem; --help and --version print and exit.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include <cmocka.h>

#include "options.h"
#include "test_helpers.h"

struct parsed {
	int ret;
	struct options opts;
	char *out; /* what went to @out and @err, NUL-terminated */
	char *err;
};

/* Parses a NULL-terminated argv (argv[0] included). */
static struct parsed *parse_argv(char **argv)
{
	struct parsed *p = calloc(1, sizeof(*p));
	size_t out_len, err_len;
	FILE *out, *err;
	int argc = 0;

	assert_non_null(p);
	while (argv[argc])
		argc++;
	out = open_memstream(&p->out, &out_len);
	err = open_memstream(&p->err, &err_len);
	assert_non_null(out);
	assert_non_null(err);
	p->ret = options__parse(&p->opts, argc, argv, out, err);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(fclose(err), 0);
	return p;
}

#define PARSE(...) parse_argv((char *[]){ "tlspcap", __VA_ARGS__, NULL })

static void parsed_free(struct parsed *p)
{
	free(p->out);
	free(p->err);
	free(p);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in '%s'", needle, hay);
}

static void assert_ok(const struct parsed *p)
{
	if (p->ret != OPTIONS_RUN)
		fail_msg("options__parse returned %d, stderr: %s", p->ret, p->err);
	assert_string_equal(p->err, "");
	assert_string_equal(p->out, "");
}

/* Refused with -EINVAL, nothing on @out, a "tlspcap: " message naming @what. */
static void assert_refused(const struct parsed *p, const char *what)
{
	if (p->ret != -EINVAL)
		fail_msg("options__parse returned %d, want -EINVAL (stderr: '%s')", p->ret, p->err);
	assert_string_equal(p->out, "");
	assert_memory_equal(p->err, "tlspcap: ", strlen("tlspcap: "));
	assert_contains(p->err, what);
	/* one message, printable text */
	for (const char *c = p->err; *c; c++)
		assert_true(*c == '\n' || (*c >= ' ' && *c < 0x7f));
}

/* A command line refused with a message containing @what. */
#define REFUSED(what, ...)                               \
	do {                                             \
		struct parsed *refused = PARSE(__VA_ARGS__); \
		assert_refused(refused, what);           \
		parsed_free(refused);                    \
	} while (0)

static void test_output_required(void **state)
{
	struct parsed *p = parse_argv((char *[]){ "tlspcap", NULL });

	assert_refused(p, "-w");
	parsed_free(p);
	REFUSED("-w", "-v");
	REFUSED("-w", "-p", "1");
}

static void test_defaults(void **state)
{
	struct parsed *p = PARSE("-w", "out.pcapng");

	assert_ok(p);
	assert_string_equal(p->opts.output, "out.pcapng");
	assert_int_equal(p->opts.nr_pids, 0);
	assert_null(p->opts.comm);
	assert_int_equal(p->opts.snaplen, 0);
	assert_int_equal(p->opts.count, 0);
	assert_int_equal(p->opts.buffer_bytes, 64ull << 20);
	assert_int_equal(p->opts.verbose, 0);
	assert_null(p->opts.command);
	parsed_free(p);
}

static void test_stdout_and_long_forms(void **state)
{
	struct parsed *p = PARSE("-w", "-");

	assert_ok(p);
	assert_string_equal(p->opts.output, "-");
	parsed_free(p);

	p = PARSE("--write=x.pcapng", "--snapshot-length", "100", "--count=5", "--buffer-size", "128",
		  "--verbose", "-v", "--comm=nginx");
	assert_ok(p);
	assert_string_equal(p->opts.output, "x.pcapng");
	assert_int_equal(p->opts.snaplen, 100);
	assert_int_equal(p->opts.count, 5);
	assert_int_equal(p->opts.buffer_bytes, 128 << 10);
	assert_int_equal(p->opts.verbose, 2);
	assert_string_equal(p->opts.comm, "nginx");
	parsed_free(p);

	/* bundled short options */
	p = PARSE("-vvw", "y");
	assert_ok(p);
	assert_string_equal(p->opts.output, "y");
	assert_int_equal(p->opts.verbose, 2);
	parsed_free(p);
}

static void test_pids(void **state)
{
	char self[16], parent[16], absent[16];
	struct parsed *p;

	snprintf(self, sizeof(self), "%d", getpid());
	snprintf(parent, sizeof(parent), "%d", getppid());
	snprintf(absent, sizeof(absent), "%d", absent_pid());

	p = PARSE("-w", "f", "-p", self, "--pid", parent, "-p", "1");
	assert_ok(p);
	assert_int_equal(p->opts.nr_pids, 3);
	assert_int_equal(p->opts.pids[0], getpid());
	assert_int_equal(p->opts.pids[1], getppid());
	assert_int_equal(p->opts.pids[2], 1);
	parsed_free(p);

	p = PARSE("-w", "f", "-p", self, "-p", absent);
	assert_refused(p, absent);
	assert_contains(p->err, "no such process");
	parsed_free(p);

	p = PARSE("-w", "f", "-p", "abc");
	assert_refused(p, "abc");
	assert_contains(p->err, "-p");
	parsed_free(p);

	REFUSED("12x", "-w", "f", "-p", "12x");

	REFUSED("-p", "-w", "f", "-p", "-5");

	REFUSED("-p 0", "-w", "f", "-p", "0");

	REFUSED("-p", "-w", "f", "-p", "");

	/* beyond pid_t */
	REFUSED("4294967297", "-w", "f", "-p", "4294967297");
}

static void test_too_many_pids(void **state)
{
	char *argv[3 + 2 * (OPTIONS_MAX_PIDS + 1) + 1];
	char self[16];
	struct parsed *p;
	int i, n = 0;

	snprintf(self, sizeof(self), "%d", getpid());
	argv[n++] = "tlspcap";
	argv[n++] = "-w";
	argv[n++] = "f";
	for (i = 0; i < OPTIONS_MAX_PIDS; i++) {
		argv[n++] = "-p";
		argv[n++] = self;
	}
	argv[n] = NULL;
	p = parse_argv(argv);
	assert_ok(p);
	assert_int_equal(p->opts.nr_pids, OPTIONS_MAX_PIDS);
	parsed_free(p);

	argv[n++] = "-p";
	argv[n++] = self;
	argv[n] = NULL;
	p = parse_argv(argv);
	assert_refused(p, "-p");
	parsed_free(p);
}

static void test_snaplen(void **state)
{
	struct parsed *p = PARSE("-w", "f", "-s", "65536");

	assert_ok(p);
	assert_int_equal(p->opts.snaplen, 65536);
	parsed_free(p);

	p = PARSE("-w", "f", "-s", "4294967295");
	assert_ok(p);
	assert_int_equal(p->opts.snaplen, 4294967295u);
	parsed_free(p);

	/* tcpdump's convention: -s 0 keeps everything. */
	p = PARSE("-w", "f", "-s", "0");
	assert_ok(p);
	assert_int_equal(p->opts.snaplen, 0);
	parsed_free(p);

	REFUSED("-c", "-w", "f", "-c", " 5");

	p = PARSE("-w", "f", "-s", "abc");
	assert_refused(p, "abc");
	assert_contains(p->err, "-s");
	parsed_free(p);

	p = PARSE("-w", "f", "-s", "4294967296");
	assert_refused(p, "4294967296");
	assert_contains(p->err, "out of range");
	parsed_free(p);

	/* too big for any integer */
	REFUSED("99999999999999999999999", "-w", "f", "-s", "99999999999999999999999");

	REFUSED("-s", "-w", "f", "-s", "-1");

	REFUSED("10k", "-w", "f", "-s", "10k");
}

static void test_count(void **state)
{
	struct parsed *p = PARSE("-w", "f", "-c", "10");

	assert_ok(p);
	assert_int_equal(p->opts.count, 10);
	parsed_free(p);

	p = PARSE("-w", "f", "-c", "18446744073709551615");
	assert_ok(p);
	assert_int_equal(p->opts.count, UINT64_MAX);
	parsed_free(p);

	REFUSED("-c 0", "-w", "f", "-c", "0");

	p = PARSE("-w", "f", "-c", "abc");
	assert_refused(p, "abc");
	assert_contains(p->err, "-c");
	parsed_free(p);

	REFUSED("18446744073709551616", "-w", "f", "-c", "18446744073709551616");
}

static void test_buffer_size(void **state)
{
	struct parsed *p = PARSE("-w", "f", "-B", "64");

	assert_ok(p);
	assert_int_equal(p->opts.buffer_bytes, 64 << 10);
	parsed_free(p);

	p = PARSE("-w", "f", "-B", "4194304");
	assert_ok(p);
	assert_int_equal(p->opts.buffer_bytes, 4ull << 30);
	parsed_free(p);

	p = PARSE("-w", "f", "-B", "63");
	assert_refused(p, "-B 63");
	assert_contains(p->err, "out of range");
	parsed_free(p);

	REFUSED("-B 4194305", "-w", "f", "-B", "4194305");

	REFUSED("lots", "-w", "f", "-B", "lots");
}

static void test_output_rotation_and_compression(void **state)
{
	struct parsed *p = PARSE("-w", "f", "-C", "5", "-W", "3", "-q");

	assert_ok(p);
	assert_int_equal(p->opts.rotate_bytes, 5000000); /* tcpdump: millions of bytes */
	assert_int_equal(p->opts.max_files, 3);
	assert_int_equal(p->opts.rotate_seconds, 0);
	assert_int_equal(p->opts.compress, 0);
	assert_int_equal(p->opts.quiet, 1);
	parsed_free(p);

	p = PARSE("-w", "out-%H.pcapng.zst", "--rotate-seconds=60", "--file-count", "24");
	assert_ok(p);
	assert_int_equal(p->opts.rotate_seconds, 60);
	assert_int_equal(p->opts.max_files, 24);
	assert_int_equal(p->opts.compress, 1); /* by the name */
	parsed_free(p);

	p = PARSE("-w", "-", "--compress", "zstd");
	assert_ok(p);
	assert_int_equal(p->opts.compress, 1);
	parsed_free(p);

	REFUSED("-w -", "-w", "-", "-C", "1");
	REFUSED("-w -", "-w", "-", "-G", "1");
	REFUSED("-W needs -C or -G", "-w", "f", "-W", "2");
	REFUSED("-C 0", "-w", "f", "-C", "0");
	REFUSED("-G 0", "-w", "f", "-G", "0");
	REFUSED("-W 0", "-w", "f", "-C", "1", "-W", "0");
	REFUSED("'1.5'", "-w", "f", "-C", "1.5");
	REFUSED("only zstd", "-w", "f", "--compress", "gzip");
}

static void test_comm(void **state)
{
	struct parsed *p = PARSE("-w", "f", "--comm", "abcdefghijklmno"); /* 15 */

	assert_ok(p);
	assert_string_equal(p->opts.comm, "abcdefghijklmno");
	parsed_free(p);

	p = PARSE("-w", "f", "--comm", "abcdefghijklmnop"); /* 16 */
	assert_refused(p, "abcdefghijklmnop");
	assert_contains(p->err, "--comm");
	parsed_free(p);

	REFUSED("--comm", "-w", "f", "--comm", "");
}

static void test_redact(void **state)
{
	struct parsed *p = PARSE("-w", "f");

	assert_ok(p);
	assert_int_equal(p->opts.redact, 0);
	parsed_free(p);

	p = PARSE("-w", "f", "--redact");
	assert_ok(p);
	assert_int_equal(p->opts.redact, 1);
	assert_int_equal(p->opts.nr_redact_headers + p->opts.nr_redact_fields, 0);
	parsed_free(p);

	/* the name options extend the policy, and imply it */
	p = PARSE("-w", "f", "--redact-header", "X-Tenant", "--redact-field", "ssn",
		  "--redact-header", "X-Other");
	assert_ok(p);
	assert_int_equal(p->opts.redact, 1);
	assert_int_equal(p->opts.nr_redact_headers, 2);
	assert_string_equal(p->opts.redact_headers[1], "X-Other");
	assert_int_equal(p->opts.nr_redact_fields, 1);
	assert_string_equal(p->opts.redact_fields[0], "ssn");
	parsed_free(p);

	REFUSED("--redact-header 'X Y'", "-w", "f", "--redact-header", "X Y");
	REFUSED("--redact-header 'X:'", "-w", "f", "--redact-header", "X:");
	REFUSED("--redact-field ''", "-w", "f", "--redact-field", "");
	REFUSED("--redact-field 'a=b'", "-w", "f", "--redact-field", "a=b");
	REFUSED("1 to 31 characters", "-w", "f", "--redact-field", "abcdefghijabcdefghijabcdefghijab");
	REFUSED("needs an argument", "-w", "f", "--redact-field");
}

static void test_unknown_option(void **state)
{
	struct parsed *p = PARSE("-w", "f", "--bogus");

	assert_refused(p, "--bogus");
	assert_contains(p->err, "unknown option");
	assert_contains(p->err, "--help");
	parsed_free(p);

	REFUSED("--bogus", "-w", "f", "--bogus=3");

	REFUSED("'-x'", "-w", "f", "-x");

	/* in a bundle */
	REFUSED("'-x'", "-vx", "-w", "f");
}

/* An option whose argument is missing is named as such, not as unknown. */
static void test_missing_argument(void **state)
{
	static const char *const options[] = { "-w", "-p", "-s", "-c", "-B", "-Z", "--write", "--comm", "--count" };
	size_t i;

	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		struct parsed *p = i == 0 ? parse_argv((char *[]){ "tlspcap", (char *)options[i], NULL })
					  : PARSE("-w", "f", (char *)options[i]);
		char want[64];

		snprintf(want, sizeof(want), "'%s'", options[i]);
		assert_refused(p, want);
		assert_contains(p->err, "needs an argument");
		if (strstr(p->err, "unknown"))
			fail_msg("%s: %s", options[i], p->err);
		parsed_free(p);
	}
}

static void test_command(void **state)
{
	struct parsed *p = PARSE("-w", "f", "-v", "--", "curl", "-s", "--", "https://x/");

	assert_ok(p);
	assert_non_null(p->opts.command);
	assert_string_equal(p->opts.command[0], "curl");
	assert_string_equal(p->opts.command[1], "-s");
	assert_string_equal(p->opts.command[2], "--");
	assert_string_equal(p->opts.command[3], "https://x/");
	assert_null(p->opts.command[4]);
	assert_int_equal(p->opts.verbose, 1);
	parsed_free(p);

	/* The command's own options are not ours. */
	p = PARSE("-w", "f", "--", "ls", "-w", "--bogus");
	assert_ok(p);
	assert_string_equal(p->opts.command[0], "ls");
	assert_string_equal(p->opts.command[1], "-w");
	parsed_free(p);

	/* Operands before "--" are the filter expression (main compiles it). */
	p = PARSE("-w", "f", "curl", "https://x/");
	assert_ok(p);
	assert_string_equal(p->opts.filter, "curl https://x/");
	assert_null(p->opts.command);
	parsed_free(p);

	REFUSED("option '-w' after the filter expression", "curl", "-w", "f");

	/* -w still required with a command */
	REFUSED("-w", "--", "true");
}

/* tcpdump's EXPRESSION: one quoted argument or several words, before "-- COMMAND". */
static void test_filter_expression(void **state)
{
	char *longer = malloc(OPTIONS_MAX_FILTER + 1);
	struct parsed *p;

	p = PARSE("-w", "f", "host 127.0.0.1 and tcp port 5432");
	assert_ok(p);
	assert_string_equal(p->opts.filter, "host 127.0.0.1 and tcp port 5432");
	parsed_free(p);

	p = PARSE("-w", "f", "-v", "not", "port", "8443", "--", "curl", "-k", "https://x/");
	assert_ok(p);
	assert_string_equal(p->opts.filter, "not port 8443");
	assert_string_equal(p->opts.command[0], "curl");
	assert_string_equal(p->opts.command[1], "-k");
	assert_int_equal(p->opts.verbose, 1);
	parsed_free(p);

	/* a trailing "--" with no command, and an expression's own minus sign */
	p = PARSE("-w", "f", "ip6", "and", "tcp[12:1]", "-", "1", ">", "0", "--");
	assert_ok(p);
	assert_string_equal(p->opts.filter, "ip6 and tcp[12:1] - 1 > 0");
	assert_null(p->opts.command);
	parsed_free(p);

	p = PARSE("-w", "f");
	assert_ok(p);
	assert_string_equal(p->opts.filter, "");
	parsed_free(p);

	REFUSED("option '--comm' after the filter expression", "-w", "f", "port", "443", "--comm", "x");

	assert_non_null(longer);
	memset(longer, 'a', OPTIONS_MAX_FILTER);
	longer[OPTIONS_MAX_FILTER] = '\0';
	REFUSED("longer than", "-w", "f", longer);
	longer[OPTIONS_MAX_FILTER - 1] = '\0';
	p = PARSE("-w", "f", longer);
	assert_ok(p);
	assert_int_equal(strlen(p->opts.filter), OPTIONS_MAX_FILTER - 1);
	parsed_free(p);
	free(longer);
}

/* -Z USER: looked up at once, so an unknown user is a usage error before any file exists. */
static void test_user(void **state)
{
	struct parsed *p = PARSE("-w", "f", "-Z", "nobody");
	struct passwd *pw = getpwnam("nobody");

	assert_non_null(pw);
	assert_ok(p);
	assert_string_equal(p->opts.user, "nobody");
	assert_int_equal(p->opts.uid, pw->pw_uid);
	assert_int_equal(p->opts.gid, pw->pw_gid);
	parsed_free(p);

	p = PARSE("-w", "f", "--relinquish-privileges=root");
	assert_ok(p);
	assert_int_equal(p->opts.uid, 0);
	parsed_free(p);

	p = PARSE("-w", "f");
	assert_null(p->opts.user);
	parsed_free(p);

	REFUSED("-Z 'no-such-user-here': no such user", "-w", "f", "-Z", "no-such-user-here");
	REFUSED("-Z '': no such user", "-w", "f", "-Z", "");
}

/* Wireshark's calls: each question, the capture into the FIFO, and their mistakes. */
static void test_extcap(void **state)
{
	char pids[40];
	struct parsed *p;

	snprintf(pids, sizeof(pids), "%d,1", getpid());

	p = PARSE("--extcap-interfaces", "--extcap-version=4.0");
	assert_ok(p);
	assert_int_equal(p->opts.extcap, OPTIONS_EXTCAP_INTERFACES);
	assert_null(p->opts.output);
	parsed_free(p);

	p = PARSE("--extcap-dlts", "--extcap-interface", "tlspcap");
	assert_ok(p);
	assert_int_equal(p->opts.extcap, OPTIONS_EXTCAP_DLTS);
	parsed_free(p);

	p = PARSE("--extcap-config", "--extcap-interface", "tlspcap");
	assert_ok(p);
	assert_int_equal(p->opts.extcap, OPTIONS_EXTCAP_CONFIG);
	parsed_free(p);

	p = PARSE("--extcap-capture-filter", "port 443 and", "--extcap-interface", "tlspcap");
	assert_ok(p);
	assert_int_equal(p->opts.extcap, OPTIONS_EXTCAP_CHECK_FILTER);
	assert_string_equal(p->opts.filter, "port 443 and");
	parsed_free(p);

	/* what tshark -i tlspcap -f 'ip6' -o extcap.tlspcap.pid:... passes */
	p = PARSE("--capture", "--extcap-interface", "tlspcap", "--extcap-capture-filter", "ip6",
		  "--fifo", "/tmp/wireshark_extcap_tlspcap1", "--pid", pids, "--snapshot-length", "0");
	assert_ok(p);
	assert_int_equal(p->opts.extcap, OPTIONS_EXTCAP_CAPTURE);
	assert_string_equal(p->opts.output, "/tmp/wireshark_extcap_tlspcap1");
	assert_string_equal(p->opts.filter, "ip6");
	assert_int_equal(p->opts.nr_pids, 2);
	assert_int_equal(p->opts.pids[0], getpid());
	assert_int_equal(p->opts.pids[1], 1);
	parsed_free(p);

	REFUSED("--extcap-interface 'eth0': no such interface", "--extcap-interface", "eth0", "--extcap-dlts");
	REFUSED("--extcap-interface tlspcap is needed", "--extcap-dlts");
	REFUSED("--extcap-interface tlspcap is needed", "--capture", "--fifo", "x");
	REFUSED("--capture needs --fifo", "--capture", "--extcap-interface", "tlspcap");
	REFUSED("say what for", "--extcap-interface", "tlspcap");
	REFUSED("exclude each other", "--capture", "--extcap-interface", "tlspcap", "--fifo", "x", "--", "true");
	REFUSED("-p '1x'", "--capture", "--extcap-interface", "tlspcap", "--fifo", "x", "--pid", "1,1x");
	REFUSED("-p ''", "-w", "f", "-p", "1,");
	REFUSED("not a number", "-w", "f", "-p", "111111111111111111111111111111111111");
}

static void test_pid_and_command_exclusive(void **state)
{
	char self[16];
	struct parsed *p;

	snprintf(self, sizeof(self), "%d", getpid());
	p = PARSE("-w", "f", "-p", self, "--", "true");
	assert_refused(p, "-p");
	assert_contains(p->err, "--");
	parsed_free(p);
}

static void test_help_and_version(void **state)
{
	struct parsed *p = PARSE("--help");

	assert_int_equal(p->ret, OPTIONS_EXIT);
	assert_string_equal(p->err, "");
	assert_memory_equal(p->out, "Usage: tlspcap -w FILE", strlen("Usage: tlspcap -w FILE"));
	assert_contains(p->out, "--snapshot-length");
	assert_contains(p->out, "(default: 65536)"); /* -B default in KiB */
	parsed_free(p);

	/* -h wins even before a missing -w and after other options */
	p = PARSE("-v", "-h");
	assert_int_equal(p->ret, OPTIONS_EXIT);
	assert_contains(p->out, "Usage: tlspcap");
	parsed_free(p);

	/* help in the middle of a bundle; the next parse must start afresh */
	p = PARSE("-hv");
	assert_int_equal(p->ret, OPTIONS_EXIT);
	parsed_free(p);
	p = PARSE("-w", "f");
	assert_ok(p);
	assert_int_equal(p->opts.verbose, 0);
	assert_string_equal(p->opts.output, "f");
	parsed_free(p);

	p = PARSE("--version");
	assert_int_equal(p->ret, OPTIONS_EXIT);
	assert_string_equal(p->err, "");
	assert_memory_equal(p->out, "tlspcap ", strlen("tlspcap "));
	assert_true(strlen(p->out) > strlen("tlspcap \n"));
	assert_int_equal(p->out[strlen(p->out) - 1], '\n');
	parsed_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_required),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_stdout_and_long_forms),
		cmocka_unit_test(test_pids),
		cmocka_unit_test(test_too_many_pids),
		cmocka_unit_test(test_snaplen),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_buffer_size),
		cmocka_unit_test(test_output_rotation_and_compression),
		cmocka_unit_test(test_comm),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_missing_argument),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_filter_expression),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_extcap),
		cmocka_unit_test(test_pid_and_command_exclusive),
		cmocka_unit_test(test_help_and_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
