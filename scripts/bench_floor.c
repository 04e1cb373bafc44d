// SPDX-License-Identifier: MIT
/*
 * bench_floor: the benchmark's cost floor.  Loads bpf/floor.bpf.c (empty
 * programs on the same probe points as tlspcap), attaches the syscall and
 * scheduler hooks, then the uprobes on every LIBSSL given, prints
 * "floor: attached N probes" to stderr and waits for SIGINT/SIGTERM.
 *
 *   bench_floor [--uprobes-only | --hooks-only | --no-return] LIBSSL...
 *       e.g. bench_floor /usr/lib/x86_64-linux-gnu/libssl.so.3
 *
 * The options split the floor for the cost analysis: only the uprobes, only
 * the syscall/scheduler hooks, or no uretprobes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"

#define MAX_LINKS 256

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

static struct bpf_link *links[MAX_LINKS];
static int nr_links;

/* Same set as capture/probes.c: entry (+ return) per function. */
static const struct {
	const char *name;
	int has_return;
} sites[] = {
	{ "SSL_write", 1 },  { "SSL_read", 1 },   { "SSL_write_ex", 1 }, { "SSL_read_ex", 1 },
	{ "SSL_set_fd", 0 }, { "SSL_set_rfd", 0 }, { "SSL_set_wfd", 0 },
};

static struct bpf_program *entry_prog(struct floor_bpf *skel, const char *name)
{
	if (!strcmp(name, "SSL_write"))
		return skel->progs.floor_ssl_write_enter;
	if (!strcmp(name, "SSL_read"))
		return skel->progs.floor_ssl_read_enter;
	if (!strcmp(name, "SSL_write_ex"))
		return skel->progs.floor_ssl_write_ex_enter;
	if (!strcmp(name, "SSL_read_ex"))
		return skel->progs.floor_ssl_read_ex_enter;
	return skel->progs.floor_ssl_set_fd;
}

static int attach(struct bpf_program *prog, const char *path, const char *fn, int retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = fn, .retprobe = retprobe);
	struct bpf_link *link;

	if (nr_links == MAX_LINKS)
		return -E2BIG;
	link = bpf_program__attach_uprobe_opts(prog, -1, path, 0, &opts);
	if (!link)
		return -errno;
	links[nr_links++] = link;
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct floor_bpf *skel;
	struct stat st;
	int i, err, uprobes = 0, first = 1, hooks = 1, probes = 1, returns = 1;
	size_t s;

	for (; first < argc && !strncmp(argv[first], "--", 2); first++) {
		if (!strcmp(argv[first], "--uprobes-only"))
			hooks = 0;
		else if (!strcmp(argv[first], "--hooks-only"))
			probes = 0;
		else if (!strcmp(argv[first], "--no-return"))
			returns = 0;
		else
			break;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: bench_floor [--uprobes-only | --hooks-only | --no-return] LIBSSL...\n");
		return 2;
	}
	libbpf_set_print(quiet);
	if (stat("/sys/kernel/tracing/events", &st) &&
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) && errno != EBUSY) {
		perror("floor: mount tracefs");
		return 1;
	}
	skel = floor_bpf__open_and_load();
	if (!skel) {
		perror("floor: loading bpf/floor.bpf.c");
		return 1;
	}
	/* The tracepoints and tp_btf attach here; SEC("uprobe") has no target. */
	err = hooks ? floor_bpf__attach(skel) : 0;
	if (err) {
		fprintf(stderr, "floor: attaching hooks: %s\n", strerror(-err));
		return 1;
	}
	for (i = first; probes && i < argc; i++) {
		for (s = 0; s < sizeof(sites) / sizeof(sites[0]); s++) {
			err = attach(entry_prog(skel, sites[s].name), argv[i], sites[s].name, 0);
			if (!err && sites[s].has_return && returns)
				err = attach(skel->progs.floor_tls_return, argv[i], sites[s].name, 1);
			if (err) {
				fprintf(stderr, "floor: %s in %s: %s\n", sites[s].name, argv[i],
					strerror(-err));
				return 1;
			}
			uprobes += 1 + (sites[s].has_return && returns);
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "floor: attached %d uprobes on %d librar%s%s\n", uprobes,
		probes ? argc - first : 0, argc - first == 1 ? "y" : "ies",
		hooks ? " + syscall/scheduler hooks" : "");
	while (!stop)
		pause();
	for (i = 0; i < nr_links; i++)
		bpf_link__destroy(links[i]);
	floor_bpf__destroy(skel);
	return 0;
}
