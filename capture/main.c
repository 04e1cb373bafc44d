// SPDX-License-Identifier: MIT
/*
 * tlspcap: records the plaintext of TLS connections with eBPF uprobes and
 * writes it as pcapng, one synthetic TCP stream per connection.
 *
 * probes (bpf/) -> records -> connections -> streams -> pcapng blocks -> file
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "clock.h"
#include "connections.h"
#include "ensure_mem.h"
#include "extcap.h"
#include "filter.h"
#include "library_tracker.h"
#include "netinfo.h"
#include "options.h"
#include "pcapng.h"
#include "privileges.h"
#include "probes.h"
#include "process.h"
#include "sink.h"
#include "redact.h"
#include "tcp_stream.h"

#define EXIT_USAGE 2
#define POLL_INTERVAL_MS 50
#define CAPTURE_NICE -10
#define TRIM_AFTER_CLOSES 1000
#define PEER_WAIT_NS 250000000ull
#define PENDING_LIMIT (4u << 20)
#define CLOCK_RECALIBRATE_NS 10000000000ull
#define STATUS_INTERVAL_NS 1000000000ull

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t summary_requested;

struct capture {
	struct options opts;
	struct capture_filter *filter;
	struct sink *sink;
	bool to_stdout;
	struct pcapng_writer *writer;
	int interface_id;
	struct tcp_stream_table *streams;
	struct process_cache *processes;
	struct netinfo *netinfo;
	struct clock_offset clock;
	struct connection_table *connections;
	struct redactor *redactor;
	struct probes *probes;
	struct ring_buffer *ring;    /* data records */
	struct ring_buffer *control; /* connection and process events */
	/* CLOSE and EXIT records waiting for the next pass over the data ring */
	struct deferred_end *ends;
	size_t nends, ends_cap;
	struct library_tracker *libraries;
	pid_t child;
	int child_release_fd;
	int child_status;
	bool child_exited;
	int write_error;
	bool usage_error;
	uint64_t start_ns;
	uint64_t closed_at_trim;
	bool status_line;         /* stderr is a terminal and no -q */
	bool status_shown;
	uint64_t status_ns;
};

static void on_signal(int sig)
{
	stop_requested = 1;
}

static void on_summary_signal(int sig)
{
	summary_requested = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static int libbpf_print_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

static const char *library_label(void *ctx, uint32_t index)
{
	return library_tracker__label(ctx, index);
}

static const char *output_error(int err)
{
	if (err == -ELOOP)
		return "a symbolic link in a sticky world-writable directory, owned by another user: "
		       "not followed (as O_NOFOLLOW would refuse it)";
	return strerror(-err);
}

/* A bad expression is bad input: libpcap's message, and no file is created. */
static int capture__compile_filter(struct capture *cap)
{
	char msg[CAPTURE_FILTER_MESSAGE_MAX];

	if (!*cap->opts.filter)
		return 0;
	cap->filter = capture_filter__new(cap->opts.filter, msg, sizeof(msg));
	if (!cap->filter) {
		fprintf(stderr, "tlspcap: filter '%s': %s\n", cap->opts.filter, msg);
		return -EINVAL;
	}
	return 0;
}

static void views_paired(void *ctx, const struct connection_end *receiver,
			 const struct connection_end *sender)
{
	struct probes_view r = { receiver->tgid, receiver->ssl, receiver->conn_id };
	struct probes_view s = { sender->tgid, sender->ssl, sender->conn_id };

	probes__pair_views(ctx, &r, &s); /* on failure both views keep recording */
}

/* Opens the output before anything slow, so a bad path fails at once. */
static int capture__open_output(struct capture *cap)
{
	struct sink_opts sopts = {
		.path = cap->opts.output,
		.compress = cap->opts.compress,
		.rotate_bytes = cap->opts.rotate_bytes,
		.rotate_seconds = cap->opts.rotate_seconds,
		.max_files = cap->opts.max_files,
	};
	char first[PATH_MAX];
	int err;

	cap->to_stdout = !strcmp(cap->opts.output, "-");
	if (cap->to_stdout && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "tlspcap: -w -: standard output is a terminal; pipe it "
				"(tlspcap -w - | wireshark -k -i -) or use -w FILE\n");
		return -EINVAL;
	}
	/* A live reader sees each block at once (zstd output: within half a second). */
	sopts.write_through = cap->to_stdout;
	cap->sink = sink__open(&sopts, clock__realtime_ns());
	if (!cap->sink) {
		err = -errno;
		if (sink__file_name(&sopts, 0, clock__realtime_ns(), first, sizeof(first)))
			snprintf(first, sizeof(first), "%s", cap->opts.output);
		fprintf(stderr, "tlspcap: -w %s: %s\n", first, output_error(err));
		return -EINVAL;
	}
	return 0;
}

/* The command starts only once every probe is attached: it waits on a pipe. */
static int capture__fork_command(struct capture *cap)
{
	int release[2];
	char go;

	if (pipe2(release, O_CLOEXEC))
		return -errno;
	cap->child = fork();
	if (cap->child < 0) {
		close(release[0]);
		close(release[1]);
		return -errno;
	}
	if (cap->child == 0) {
		close(release[1]);
		if (read(release[0], &go, 1) != 1)
			_exit(127);
		close(release[0]);
		if (cap->to_stdout)
			dup2(STDERR_FILENO, STDOUT_FILENO); /* keep the pcapng stream clean */
		execvp(cap->opts.command[0], cap->opts.command);
		fprintf(stderr, "tlspcap: %s: %s\n", cap->opts.command[0], strerror(errno));
		_exit(127);
	}
	close(release[0]);
	cap->child_release_fd = release[1];
	return 0;
}

/* The file execvp will run for -- COMMAND, searched in $PATH as it does */
static int capture__probe_command(struct capture *cap)
{
	const char *name = cap->opts.command[0], *dirs = getenv("PATH");
	char path[PATH_MAX];
	size_t len;

	if (strchr(name, '/'))
		return library_tracker__add_program(cap->libraries, name);
	for (dirs = dirs ? dirs : "/usr/local/bin:/usr/bin:/bin"; *dirs; dirs += len + !!dirs[len]) {
		len = strcspn(dirs, ":");
		if (snprintf(path, sizeof(path), "%.*s/%s", (int)len, len ? dirs : ".", name) <
			    (int)sizeof(path) &&
		    !access(path, X_OK))
			return library_tracker__add_program(cap->libraries, path);
	}
	return 0;
}

static int capture__find_libraries(struct capture *cap)
{
	size_t i;
	int err;

	err = library_tracker__scan(cap->libraries, cap->opts.nr_pids ? cap->opts.pids : NULL,
				    cap->opts.nr_pids);
	for (i = 0; !err && i < cap->opts.nr_libs; i++) {
		err = library_tracker__add_path(cap->libraries, cap->opts.libs[i]);
		cap->usage_error = err != 0; /* a --lib that is no TLS library is bad input */
	}
	/* a Go command must be probed before its first TLS call */
	if (!err && cap->opts.command)
		err = capture__probe_command(cap);
	if (!err && cap->probes && !library_tracker__attached(cap->libraries)) {
		fprintf(stderr, "tlspcap: no TLS library could be probed (see tlspcap --list)\n");
		err = -ENOENT;
	}
	return err;
}

/* --redact: the policy is the defaults and the --redact-* names. */
static int capture__make_redactor(struct capture *cap)
{
	struct redact_policy *policy;
	size_t i;
	int err = 0;

	if (!cap->opts.redact)
		return 0;
	policy = redact_policy__new();
	if (!policy)
		return -ENOMEM;
	for (i = 0; i < cap->opts.nr_redact_headers && !err; i++)
		err = redact_policy__add_header(policy, cap->opts.redact_headers[i]);
	for (i = 0; i < cap->opts.nr_redact_fields && !err; i++)
		err = redact_policy__add_field(policy, cap->opts.redact_fields[i]);
	if (!err && !(cap->redactor = redactor__new(policy)))
		err = -ENOMEM;
	if (err)
		redact_policy__free(policy);
	return err;
}

static int capture__start_file(struct capture *cap)
{
	struct pcapng_section_info section = { .application = "tlspcap " TLSPCAP_VERSION };
	struct utsname uts;
	char os[256] = "";
	int err;

	if (!uname(&uts))
		snprintf(os, sizeof(os), "%s %s %s", uts.sysname, uts.release, uts.machine);
	section.os = os;
	if (cap->redactor)
		section.comment = redact_policy__describe(redactor__policy(cap->redactor));
	cap->writer = pcapng_writer__new(sink__stream(cap->sink), &section, NULL);
	if (!cap->writer)
		return -errno;
	cap->interface_id = pcapng_writer__add_interface(
		cap->writer, "tls",
		"TLS plaintext recorded by tlspcap; TCP framing is synthetic, the real "
		"endpoints are in each stream's first packet comment");
	if (cap->interface_id < 0)
		return cap->interface_id;
	/* A full disk or a closed pipe should stop us before "capturing", not after. */
	err = pcapng_writer__flush(cap->writer) ?: sink__flush(cap->sink, clock__realtime_ns());
	if (err)
		return err;
	cap->streams = tcp_stream_table__new(cap->writer, (uint32_t)cap->interface_id);
	return cap->streams ? 0 : -errno;
}

/*
 * The interface statistics block: counts since the capture began (pcapng's
 * isb_ifrecv/isb_ifdrop), at the end of every file, so each one read alone
 * says what the ring buffer dropped so far.
 */
static int capture__write_stats(struct capture *cap, const uint64_t counters[TLSPCAP_COUNTER_COUNT])
{
	const struct connection_stats *st = connection_table__stats(cap->connections);
	uint64_t dropped = counters[TLSPCAP_COUNTER_RECORDS_DROPPED];
	struct pcapng_interface_stats isb = {
		.timestamp_ns = clock__realtime_ns(),
		.start_ns = cap->start_ns,
		.received = st->data_records + dropped,
		.dropped = dropped,
	};
	char comment[256];

	isb.end_ns = isb.timestamp_ns;
	snprintf(comment, sizeof(comment),
		 "tlspcap: %" PRIu64 " TLS data records, %" PRIu64 " dropped by a full ring "
		 "buffer (%" PRIu64 " bytes)",
		 st->data_records, dropped, counters[TLSPCAP_COUNTER_BYTES_DROPPED]);
	isb.comment = comment;
	return pcapng_writer__write_interface_stats(cap->writer, (uint32_t)cap->interface_id, &isb);
}

/* -C/-G: the next block goes into a new file, which stands alone. */
static int capture__maybe_rotate(struct capture *cap)
{
	uint64_t counters[TLSPCAP_COUNTER_COUNT] = { 0 };
	uint64_t now = clock__realtime_ns();
	int err;

	if (!sink__rotation_due(cap->sink, now))
		return 0;
	probes__read_counters(cap->probes, counters); /* what it cannot read stays 0 */
	err = capture__write_stats(cap, counters);
	err = err ?: pcapng_writer__flush(cap->writer);
	err = err ?: sink__rotate(cap->sink, now);
	err = err ?: pcapng_writer__new_section(cap->writer);
	return err ?: connection_table__continue_all(cap->connections);
}

static int rotate_between_records(void *ctx)
{
	return capture__maybe_rotate(ctx);
}

struct deferred_end {
	size_t size;
	struct tlspcap_close_record rec; /* the largest end record */
};

static int handle_record(void *ctx, void *data, size_t size);

/*
 * A CLOSE or EXIT record from the control ring waits for the next pass over
 * the data ring: data records its thread wrote before it may have been
 * committed after this pass read the data ring.  Applied now, the close
 * would count them as lost and they would come back as a new connection.
 */
static int handle_control_record(void *ctx, void *data, size_t size)
{
	const struct tlspcap_record *hdr = data;
	struct capture *cap = ctx;

	if (size < sizeof(*hdr) || size > sizeof(cap->ends->rec) ||
	    (hdr->type != TLSPCAP_RECORD_CLOSE && hdr->type != TLSPCAP_RECORD_EXIT))
		return handle_record(ctx, data, size);
	if (ensure_mem((void **)&cap->ends, &cap->ends_cap, sizeof(*cap->ends), cap->nends + 1))
		return cap->write_error = -ENOMEM;
	cap->ends[cap->nends].size = size;
	memcpy(&cap->ends[cap->nends].rec, data, size);
	cap->nends++;
	return 0;
}

/* Applies the first @n deferred ends. */
static int capture__apply_ends(struct capture *cap, size_t n)
{
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++)
		err = handle_record(cap, &cap->ends[i].rec, cap->ends[i].size);
	memmove(cap->ends, cap->ends + i, (cap->nends - i) * sizeof(*cap->ends));
	cap->nends -= i;
	return err;
}

/* Data ring, the ends seen before it, control ring; @final: every end too. */
static int capture__drain(struct capture *cap, bool final)
{
	size_t ready = cap->nends;
	int err = ring_buffer__consume(cap->ring);

	if (err >= 0 && !cap->write_error)
		err = capture__apply_ends(cap, ready);
	if (err >= 0 && !cap->write_error)
		err = ring_buffer__consume(cap->control);
	if (err >= 0 && !cap->write_error && final) {
		err = ring_buffer__consume(cap->ring);
		if (err >= 0 && !cap->write_error)
			err = capture__apply_ends(cap, cap->nends);
	}
	return err < 0 ? err : cap->write_error;
}

static void snapshot_late_process(void *netinfo, pid_t pid)
{
	/* Gone already: nothing of it to mark. */
	netinfo__snapshot_process(netinfo, pid);
}

/*
 * A new connection's SOCKET record is in the control ring before its first
 * data (one program emits both): read it now, or a flood on the data ring
 * fills the connection's queue and opens its stream without addresses.
 */
static int read_control_ring(void *ctx)
{
	struct capture *cap = ctx;
	int n = ring_buffer__consume(cap->control);

	return n < 0 ? n : cap->write_error;
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct capture *cap = ctx;
	const struct tlspcap_record *hdr = data;
	int err;

	if (size >= sizeof(*hdr) && hdr->type == TLSPCAP_RECORD_EXEC) {
		/* Read /proc now: short-lived processes are gone by the time their streams open. */
		process_cache__refresh(cap->processes, hdr->tgid);
		return library_tracker__note_program(cap->libraries, hdr->tgid, hdr->timestamp_ns);
	}
	if (size >= sizeof(*hdr) && hdr->type == TLSPCAP_RECORD_MAP) {
		library_tracker__note_exec(cap->libraries, hdr->tgid, hdr->timestamp_ns);
		return 0;
	}
	if (size >= sizeof(*hdr) && hdr->type == TLSPCAP_RECORD_EXIT)
		library_tracker__note_exit(cap->libraries, hdr->timestamp_ns);
	/* -c COUNT: like tcpdump, exactly COUNT records; the streams end there. */
	if (cap->opts.count &&
	    connection_table__stats(cap->connections)->data_records >= cap->opts.count)
		return 0;
	err = connection_table__handle_record(cap->connections, data, size) ?:
	      capture__maybe_rotate(cap);
	if (err) {
		cap->write_error = err;
		return err; /* stops ring_buffer__consume */
	}
	return 0;
}

static bool capture__should_stop(struct capture *cap)
{
	if (stop_requested || cap->write_error)
		return true;
	if (cap->opts.count &&
	    connection_table__stats(cap->connections)->data_records >= cap->opts.count)
		return true;
	if (cap->child > 0 && !cap->child_exited &&
	    waitpid(cap->child, &cap->child_status, WNOHANG) == cap->child)
		cap->child_exited = true;
	return cap->child_exited;
}

/* glibc keeps freed heap for reuse: give it back after many connections closed. */
static void capture__return_memory(struct capture *cap)
{
	const struct connection_stats *st = connection_table__stats(cap->connections);
	uint64_t closed = st->connections - st->open_now;

	if (closed - cap->closed_at_trim >= TRIM_AFTER_CLOSES) {
		malloc_trim(0);
		cap->closed_at_trim = closed;
	}
}

static void capture__print_summary(struct capture *cap, const uint64_t counters[TLSPCAP_COUNTER_COUNT])
{
	const struct connection_stats *st = connection_table__stats(cap->connections);
	const struct tcp_stream_counters *sc = tcp_stream_table__counters(cap->streams);
	double least, median, most;
	size_t windows;

	fprintf(stderr,
		"tlspcap: %" PRIu64 " connections (%" PRIu64 " seen from both ends, %" PRIu64
		" unattributed, %" PRIu64 " joined mid-connection), %" PRIu64 " records, %" PRIu64
		" bytes captured, %" PRIu64 " bytes in streams, %" PRIu64 " bytes lost\n",
		st->connections, st->merged, st->unattributed, st->joined, st->data_records,
		st->captured_bytes, sc->payload_bytes, sc->lost_bytes);
	if (cap->filter)
		fprintf(stderr,
			"tlspcap: filter '%s': %" PRIu64 " connections rejected (%" PRIu64
			" bytes captured and not written)\n",
			cap->opts.filter, st->filtered, st->filtered_bytes);
	fprintf(stderr,
		"tlspcap: lost: %" PRIu64 " records (%" PRIu64 " bytes, each traced end's copy counted) "
		"dropped by a full ring buffer, %" PRIu64 " connection events dropped, %" PRIu64
		" unreadable buffers, %" PRIu64 " malformed records, %" PRIu64
		" TLS calls not recorded (%" PRIu64 " bytes); %" PRIu64 " bytes cut by -s\n",
		counters[TLSPCAP_COUNTER_RECORDS_DROPPED], counters[TLSPCAP_COUNTER_BYTES_DROPPED],
		counters[TLSPCAP_COUNTER_CONTROL_DROPPED], counters[TLSPCAP_COUNTER_READ_FAULTS],
		st->bad_records,
		counters[TLSPCAP_COUNTER_CALLS_UNRECORDED], counters[TLSPCAP_COUNTER_BYTES_UNRECORDED],
		sc->truncated_bytes);
	fprintf(stderr,
		"tlspcap: TLS calls tied to their socket: %" PRIu64 " by a syscall inside the call, "
		"%" PRIu64 " by cached context, %" PRIu64 " by API hint, %" PRIu64
		" by syscall order (memory BIO), %" PRIu64 " not at all (%" PRIu64
		" contexts tied later by order); %" PRIu64 " calls on plain files or sockets skipped\n",
		counters[TLSPCAP_COUNTER_ATTR_SYSCALL], counters[TLSPCAP_COUNTER_ATTR_CACHED],
		counters[TLSPCAP_COUNTER_ATTR_HINT], counters[TLSPCAP_COUNTER_ATTR_ORDER],
		counters[TLSPCAP_COUNTER_ATTR_NONE], counters[TLSPCAP_COUNTER_BOUND_BY_ORDER],
		counters[TLSPCAP_COUNTER_NOT_TLS]);
	if (counters[TLSPCAP_COUNTER_GO_ATTR_NONE] + counters[TLSPCAP_COUNTER_GO_ATTR_SYSCALL] +
	    counters[TLSPCAP_COUNTER_GO_ATTR_CACHED] + counters[TLSPCAP_COUNTER_GO_ATTR_HINT])
		fprintf(stderr,
			"tlspcap: Go calls tied by goroutine: %" PRIu64 " by a syscall inside the call, "
			"%" PRIu64 " by the connection's earlier socket, %" PRIu64
			" by its handshake's socket, %" PRIu64 " not at all; %" PRIu64
			" calls moved to another thread than their entry's (a syscall or the return ran "
			"there); %" PRIu64 " entries run twice (stack growth)\n",
			counters[TLSPCAP_COUNTER_GO_ATTR_SYSCALL],
			counters[TLSPCAP_COUNTER_GO_ATTR_CACHED], counters[TLSPCAP_COUNTER_GO_ATTR_HINT],
			counters[TLSPCAP_COUNTER_GO_ATTR_NONE],
			counters[TLSPCAP_COUNTER_GO_OTHER_THREAD],
			counters[TLSPCAP_COUNTER_GO_REENTERED]);
	windows = library_tracker__exec_windows(cap->libraries, &least, &median, &most);
	if (windows)
		fprintf(stderr,
			"tlspcap: programs probed at their exec: %zu, their probes attached %.1f ms "
			"(least), %.1f ms (median), %.1f ms (most) after the exec\n",
			windows, least, median, most);
	if (cap->redactor) {
		const struct redact_stats *rs = redactor__stats(cap->redactor);

		fprintf(stderr,
			"tlspcap: redacted: %" PRIu64 " values (in %" PRIu64 " streams and the comments), "
			"%" PRIu64 " bytes masked entirely in %" PRIu64 " streams (meaning not sure)\n",
			rs->values, rs->streams, rs->masked_bytes, rs->masked_streams);
	}
	fprintf(stderr,
		"tlspcap: probe hits: %" PRIu64 " emulated, %" PRIu64 " single-stepped; %" PRIu64
		" received bytes taken from the traced sender's records\n",
		counters[TLSPCAP_COUNTER_HITS_EMULATED], counters[TLSPCAP_COUNTER_HITS_STEPPED],
		counters[TLSPCAP_COUNTER_BYTES_FROM_PEER]);
	fprintf(stderr, "tlspcap: %" PRIu64 " bytes written to %s", sink__bytes_written(cap->sink),
		sink__name(cap->sink));
	if (sink__files(cap->sink) > 1)
		fprintf(stderr, " (the last of %" PRIu64 " files)", sink__files(cap->sink));
	if (cap->opts.compress)
		fprintf(stderr, ", %" PRIu64 " bytes after zstd", sink__bytes_compressed(cap->sink));
	if (sink__bytes_not_written(cap->sink))
		fprintf(stderr, ", %" PRIu64 " bytes NOT written", sink__bytes_not_written(cap->sink));
	fputc('\n', stderr);
}

/* The live status line: rewritten in place, at most once a second. */
static void capture__show_status(struct capture *cap, uint64_t now)
{
	const struct connection_stats *st = connection_table__stats(cap->connections);
	const struct tcp_stream_counters *sc = tcp_stream_table__counters(cap->streams);
	uint64_t counters[TLSPCAP_COUNTER_COUNT] = { 0 };

	if (!cap->status_line || now - cap->status_ns < STATUS_INTERVAL_NS)
		return;
	cap->status_ns = now;
	probes__read_counters(cap->probes, counters);
	fprintf(stderr,
		"\rtlspcap: %" PRIu64 " connections (%" PRIu64 " open), %" PRIu64 " bytes, lost: %" PRIu64
		" bytes, %" PRIu64 " records\033[K",
		st->connections, st->open_now, sc->payload_bytes, sc->lost_bytes,
		counters[TLSPCAP_COUNTER_RECORDS_DROPPED]);
	cap->status_shown = true;
}

static void capture__clear_status(struct capture *cap)
{
	if (cap->status_shown)
		fputs("\r\033[K", stderr);
	cap->status_shown = false;
}

/* SIGUSR1, as tcpdump: the summary so far, and the capture goes on. */
static void capture__print_running_summary(struct capture *cap)
{
	uint64_t counters[TLSPCAP_COUNTER_COUNT] = { 0 };

	summary_requested = 0;
	probes__read_counters(cap->probes, counters);
	capture__clear_status(cap);
	capture__print_summary(cap, counters);
}

static int capture__run(struct capture *cap)
{
	int err;

	while (!capture__should_stop(cap)) {
		int timeout = library_tracker__ms_until_due(cap->libraries, clock__monotonic_ns());
		uint64_t now;
		struct pollfd rings[2] = {
			{ .fd = ring_buffer__epoll_fd(cap->ring), .events = POLLIN },
			{ .fd = ring_buffer__epoll_fd(cap->control), .events = POLLIN },
		};

		if (timeout < 0 || timeout > POLL_INTERVAL_MS)
			timeout = POLL_INTERVAL_MS;
		/* The probes wake us only for a backlog (bpf/tlspcap.bpf.c, ring_output):
		 * what a timed-out poll left in the rings is ours to collect. */
		if (poll(rings, 2, timeout) < 0 && errno != EINTR)
			return -errno;
		err = capture__drain(cap, false);
		if (err < 0 && err != -EINTR && !cap->write_error)
			return err;
		now = clock__monotonic_ns();
		clock_offset__refresh(&cap->clock, CLOCK_RECALIBRATE_NS);
		err = library_tracker__run_due(cap->libraries, now);
		if (!err)
			err = connection_table__tick(cap->connections, now);
		if (!err)
			err = capture__maybe_rotate(cap);
		if (!err)
			err = pcapng_writer__flush(cap->writer) ?: sink__flush(cap->sink, clock__realtime_ns());
		if (err)
			cap->write_error = err;
		if (summary_requested)
			capture__print_running_summary(cap);
		capture__show_status(cap, now);
		capture__return_memory(cap);
	}
	capture__clear_status(cap);
	return 0;
}

/* Drains the ring buffer, closes every stream and writes the statistics. */
static int capture__finish(struct capture *cap, uint64_t counters[TLSPCAP_COUNTER_COUNT])
{
	int err = 0, ret;

	if (!cap->write_error)
		capture__drain(cap, true);
	if (probes__read_counters(cap->probes, counters))
		memset(counters, 0, sizeof(uint64_t) * TLSPCAP_COUNTER_COUNT);
	if (!cap->write_error)
		err = connection_table__close_all(cap->connections, clock__monotonic_ns());
	if (!err && !cap->write_error)
		err = capture__write_stats(cap, counters);
	if (!err && !cap->write_error)
		err = pcapng_writer__flush(cap->writer);
	/* Ends the zstd stream; after a write error it only reports it again. */
	ret = sink__close(cap->sink);
	if (!err && !cap->write_error)
		err = ret;
	return err ? err : cap->write_error;
}

static int capture__setup(struct capture *cap)
{
	struct probes_config pcfg = {
		.self = getpid(),
		.snaplen = cap->opts.snaplen,
		.comm = cap->opts.comm,
		.filter_pids = cap->opts.nr_pids || cap->opts.command,
		.ring_bytes = cap->opts.buffer_bytes,
	};
	struct connection_table_config ccfg = {
		.clock = &cap->clock,
		.library_label = library_label,
		.between_records = rotate_between_records,
		.views_paired = views_paired,
		.socket_pending = read_control_ring,
		.peer_wait_ns = PEER_WAIT_NS,
		.pending_limit = PENDING_LIMIT,
		.filter = cap->filter,
	};
	unsigned int attached;
	size_t i;
	int err;

	libbpf_set_print(cap->opts.verbose ? libbpf_print : libbpf_print_quiet);
	cap->netinfo = netinfo__new();
	cap->processes = process_cache__new();
	if (!cap->netinfo || !cap->processes)
		return -ENOMEM;
	clock_offset__calibrate(&cap->clock);
	cap->probes = probes__open(&pcfg);
	if (!cap->probes) {
		err = -errno;
		fprintf(stderr, "tlspcap: loading the BPF probes: %s%s\n", strerror(errno),
			errno == EPERM ? " (tlspcap needs root)" : "");
		return err;
	}
	for (i = 0; i < cap->opts.nr_pids; i++)
		if ((err = probes__trace_pid(cap->probes, cap->opts.pids[i])))
			return err;
	if (cap->child > 0 && (err = probes__trace_pid(cap->probes, cap->child)))
		return err;
	cap->libraries = library_tracker__new(cap->probes, cap->opts.verbose);
	if (!cap->libraries)
		return -ENOMEM;
	library_tracker__on_late_probes(cap->libraries, snapshot_late_process, cap->netinfo);
	err = capture__find_libraries(cap);
	if (err)
		return err;
	/* After the probes: a connection made while they were attached missed calls too. */
	err = netinfo__snapshot_established(cap->netinfo);
	if (err)
		return err;
	attached = library_tracker__attached(cap->libraries);
	err = capture__make_redactor(cap);
	if (err)
		return err;
	err = capture__start_file(cap);
	if (err) {
		fprintf(stderr, "tlspcap: writing %s: %s\n", sink__name(cap->sink), output_error(err));
		return err;
	}
	ccfg.streams = cap->streams;
	ccfg.processes = cap->processes;
	ccfg.netinfo = cap->netinfo;
	ccfg.library_ctx = cap->libraries;
	ccfg.between_ctx = cap;
	ccfg.redactor = cap->redactor;
	ccfg.views_ctx = cap->probes;
	ccfg.socket_pending_ctx = cap;
	cap->connections = connection_table__new(&ccfg);
	if (!cap->connections)
		return -ENOMEM;
	cap->ring = ring_buffer__new(probes__events_fd(cap->probes), handle_record, cap, NULL);
	if (!cap->ring)
		return -errno;
	cap->control = ring_buffer__new(probes__control_fd(cap->probes), handle_control_record, cap,
					NULL);
	if (!cap->control)
		return -errno;
	cap->start_ns = clock__realtime_ns();
	/* Wireshark shows any extcap stderr as an error: only errors go there. */
	if (cap->opts.extcap != OPTIONS_EXTCAP_CAPTURE)
		fprintf(stderr, "tlspcap: capturing on %u librar%s in %u processes, writing to %s\n",
			attached, attached == 1 ? "y" : "ies",
			library_tracker__processes(cap->libraries), sink__name(cap->sink));
	return 0;
}

static void capture__cleanup(struct capture *cap)
{
	ring_buffer__free(cap->ring);
	ring_buffer__free(cap->control);
	free(cap->ends);
	connection_table__free(cap->connections);
	redactor__free(cap->redactor);
	tcp_stream_table__free(cap->streams);
	pcapng_writer__free(cap->writer);
	sink__free(cap->sink);
	probes__free(cap->probes);
	library_tracker__free(cap->libraries);
	process_cache__free(cap->processes);
	netinfo__free(cap->netinfo);
	capture_filter__free(cap->filter);
	if (cap->child_release_fd > 0)
		close(cap->child_release_fd);
}

/* --list: what would be probed, the answer to "why is nothing captured?". */
static int list_libraries(const struct options *opts)
{
	struct capture cap = { .opts = *opts };
	int err;

	cap.libraries = library_tracker__new(NULL, opts->verbose);
	if (!cap.libraries)
		return 1;
	err = capture__find_libraries(&cap);
	if (!err)
		err = library_tracker__print(cap.libraries, stdout);
	library_tracker__free(cap.libraries);
	return cap.usage_error ? EXIT_USAGE : err ? 1 : 0;
}

/* -Z: the probes are loaded and the first file is open; it becomes USER's, as later ones are. */
static int capture__drop_privileges(struct capture *cap)
{
	int err = sink__chown(cap->sink, cap->opts.uid, cap->opts.gid);

	if (!err)
		err = privileges__drop(cap->opts.uid, cap->opts.gid);
	if (err)
		fprintf(stderr, "tlspcap: -Z %s: %s\n", cap->opts.user, strerror(-err));
	return err;
}

/* The exit status of `tlspcap -- COMMAND` is the command's. */
static int capture__command_status(struct capture *cap)
{
	if (!cap->child_exited && waitpid(cap->child, &cap->child_status, 0) != cap->child)
		return 1;
	if (WIFEXITED(cap->child_status))
		return WEXITSTATUS(cap->child_status);
	return 128 + WTERMSIG(cap->child_status);
}

int main(int argc, char **argv)
{
	struct capture cap = { .child_release_fd = -1 };
	uint64_t counters[TLSPCAP_COUNTER_COUNT] = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	int err, status = 1;

	err = options__parse(&cap.opts, argc, argv, stdout, stderr);
	if (err == OPTIONS_EXIT)
		return 0;
	if (err)
		return EXIT_USAGE;
	if (cap.opts.list)
		return list_libraries(&cap.opts);
	if (cap.opts.extcap && cap.opts.extcap != OPTIONS_EXTCAP_CAPTURE)
		return extcap__answer(&cap.opts, stdout);
	if (capture__compile_filter(&cap) || capture__open_output(&cap)) {
		capture_filter__free(cap.filter);
		return EXIT_USAGE;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_summary_signal;
	sigaction(SIGUSR1, &sa, NULL);
	cap.status_line = isatty(STDERR_FILENO) && !cap.opts.quiet;
	signal(SIGPIPE, SIG_IGN); /* a closed reader shows up as EPIPE */
	if (cap.opts.command && (err = capture__fork_command(&cap))) {
		fprintf(stderr, "tlspcap: starting %s: %s\n", cap.opts.command[0], strerror(-err));
		goto cleanup;
	}
	err = capture__setup(&cap);
	if (err)
		goto cleanup;
	/* The traced programs can saturate every core; a starved reader loses data. */
	setpriority(PRIO_PROCESS, 0, CAPTURE_NICE);
	if (cap.opts.user && (err = capture__drop_privileges(&cap)))
		goto cleanup;
	if (cap.child > 0) {
		if (write(cap.child_release_fd, "g", 1) != 1) {
			err = -errno;
			goto cleanup;
		}
		close(cap.child_release_fd);
		cap.child_release_fd = -1;
	}
	err = capture__run(&cap);
	if (!err)
		err = capture__finish(&cap, counters);
	if (cap.opts.extcap == OPTIONS_EXTCAP_CAPTURE && err == -EPIPE)
		err = 0; /* Wireshark closed the FIFO: that is how its captures end */
	if (cap.opts.extcap != OPTIONS_EXTCAP_CAPTURE)
		capture__print_summary(&cap, counters);
	if (err)
		fprintf(stderr, "tlspcap: writing %s: %s\n", sink__name(cap.sink), output_error(err));
	status = err ? 1 : 0;
cleanup:
	if (cap.child > 0) {
		if (cap.child_release_fd >= 0) /* never released: it must not run untraced */
			kill(cap.child, SIGKILL);
		status = err ? 1 : capture__command_status(&cap);
	}
	if (cap.usage_error)
		status = EXIT_USAGE;
	capture__cleanup(&cap);
	return status;
}
