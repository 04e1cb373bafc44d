// SPDX-License-Identifier: MIT
/*
 * bench_floor: the benchmark's cost floor.  Loads bpf/floor.bpf.c (empty
 * programs on the same probe points as tlspcap), attaches the syscall and
 * scheduler hooks, then the uprobes on every LIB given, at the functions
 * tlspcap probes there (its discovery table), prints "floor: attached N
 * probes" to stderr and waits for SIGINT/SIGTERM.
 *
 *   bench_floor [--chosen] [--uprobes-only | --hooks-only | --no-return] LIB...
 *       e.g. bench_floor /usr/lib/x86_64-linux-gnu/libssl.so.3
 *
 * The classic floor puts each probe at its function's entry; --chosen at the
 * point tlspcap chooses (capture/probe_point.h).  The other options split
 * the floor for the cost analysis: only the uprobes, only the syscall and
 * scheduler hooks, or no uretprobes.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "discover.h"
#include "disasm.h"
#include "floor.skel.h"
#include "probe_point.h"

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

/* The empty twin of the program tlspcap runs in @role (capture/probes.c). */
static struct bpf_program *entry_prog(struct floor_bpf *skel, enum tls_probe_role role)
{
	switch (role) {
	case TLS_ROLE_SEND:
	case TLS_ROLE_SEND_SSIZE:
		return skel->progs.floor_ssl_write_enter;
	case TLS_ROLE_RECV:
	case TLS_ROLE_RECV_SSIZE:
		return skel->progs.floor_ssl_read_enter;
	case TLS_ROLE_SEND_EX:
		return skel->progs.floor_ssl_write_ex_enter;
	case TLS_ROLE_RECV_EX:
		return skel->progs.floor_ssl_read_ex_enter;
	case TLS_ROLE_SEND_EX2:
		return skel->progs.floor_send_ex2_enter;
	case TLS_ROLE_SEND_IOV:
		return skel->progs.floor_send_iov_enter;
	case TLS_ROLE_SET_FD:
		return skel->progs.floor_ssl_set_fd;
	case TLS_ROLE_SET_FD_PTR:
		return skel->progs.floor_set_fd_ptr;
	case TLS_ROLE_GO_WRITE:
	case TLS_ROLE_GO_READ:
	case TLS_ROLE_GO_HANDSHAKE:
		break; /* Go's returns are uprobes on its RETs: not part of this floor */
	}
	return NULL;
}

static struct bpf_program *return_prog(struct floor_bpf *skel, enum tls_probe_role role)
{
	switch (role) {
	case TLS_ROLE_SET_FD:
	case TLS_ROLE_SET_FD_PTR:
		return NULL;
	case TLS_ROLE_SEND_SSIZE:
	case TLS_ROLE_RECV_SSIZE:
		return skel->progs.floor_tls_return_ssize;
	case TLS_ROLE_SEND_IOV:
		return skel->progs.floor_tls_return_iov;
	default:
		return skel->progs.floor_tls_return;
	}
}

static int attach(struct bpf_program *prog, const char *path, uint64_t offset, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe);
	struct bpf_link *link;

	if (nr_links == MAX_LINKS)
		return -E2BIG;
	link = bpf_program__attach_uprobe_opts(prog, -1, path, offset, &opts);
	if (!link)
		return -errno;
	links[nr_links++] = link;
	return 0;
}

/* Every site tlspcap probes in @path, at its classic or chosen point, each point once. */
static int attach_library(struct floor_bpf *skel, struct disasm *d, const char *path, bool chosen,
			  bool returns, int *uprobes)
{
	struct probe_point points[TLS_LIBRARY_MAX_SITES];
	struct library_set set = { 0 };
	const struct tls_library *lib;
	size_t i, j;
	int err = library_set__add_path(&set, path);

	if (err)
		goto cleanup;
	lib = &set.libs[0];
	if (chosen)
		probe_points__choose(d, lib, points);
	else
		probe_points__classic(lib, points, "classic floor");
	for (i = 0; !err && i < TLS_LIBRARY_MAX_SITES && lib->type->sites[i].symbol; i++) {
		struct bpf_program *ret = return_prog(skel, points[i].role);

		if (!(lib->sites_found & (1u << i)) || !entry_prog(skel, points[i].role))
			continue;
		fprintf(stderr, "floor:   %s: %s at %#llx\n", lib->type->sites[i].symbol,
			probe_point_kind__name(points[i].kind), (unsigned long long)points[i].offset);
		for (j = 0; j < i && points[j].offset != points[i].offset; j++)
			;
		if (j < i)
			continue; /* wrappers sharing their callee share its probe */
		err = attach(entry_prog(skel, points[i].role), lib->path, points[i].offset, false);
		if (!err && ret && returns)
			err = attach(ret, lib->path, points[i].offset, true);
		if (err)
			fprintf(stderr, "floor: %s in %s: %s\n", lib->type->sites[i].symbol, path,
				strerror(-err));
		*uprobes += 1 + (ret && returns);
	}
cleanup:
	library_set__clear(&set);
	return err;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t stop_signals, waiting;
	struct floor_bpf *skel;
	struct disasm *d;
	int i, err, uprobes = 0, first = 1, hooks = 1, probes = 1, returns = 1, chosen = 0;

	for (; first < argc && !strncmp(argv[first], "--", 2); first++) {
		if (!strcmp(argv[first], "--uprobes-only"))
			hooks = 0;
		else if (!strcmp(argv[first], "--hooks-only"))
			probes = 0;
		else if (!strcmp(argv[first], "--no-return"))
			returns = 0;
		else if (!strcmp(argv[first], "--chosen"))
			chosen = 1;
		else
			break;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: bench_floor [--chosen] [--uprobes-only | --hooks-only | --no-return] LIB...\n");
		return 2;
	}
	libbpf_set_print(quiet);
	d = disasm__new();
	skel = floor_bpf__open_and_load();
	if (!skel || !d) {
		perror("floor: loading bpf/floor.bpf.c");
		return 1;
	}
	/* The tracepoints and tp_btf attach here; SEC("uprobe") has no target. */
	err = hooks ? floor_bpf__attach(skel) : 0;
	if (err) {
		fprintf(stderr, "floor: attaching hooks: %s\n", strerror(-err));
		return 1;
	}
	for (i = first; probes && i < argc; i++)
		if (attach_library(skel, d, argv[i], chosen, returns, &uprobes))
			return 1;
	/* blocked until sigsuspend: a signal right after the line below is not missed */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_signals, &waiting);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "floor: attached %d uprobes (%s points) on %d librar%s%s\n", uprobes,
		chosen ? "chosen" : "classic", probes ? argc - first : 0,
		argc - first == 1 ? "y" : "ies", hooks ? " + syscall/scheduler hooks" : "");
	while (!stop)
		sigsuspend(&waiting);
	for (i = 0; i < nr_links; i++)
		bpf_link__destroy(links[i]);
	floor_bpf__destroy(skel);
	disasm__free(d);
	return 0;
}
