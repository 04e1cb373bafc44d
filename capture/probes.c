// SPDX-License-Identifier: MIT
#include "probes.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "discover.h"
#include "ensure_mem.h"
#include "probe_point.h"
#include "tlspcap.skel.h"

struct probe_link {
	int fd;                  /* a uprobe_multi link */
	uint32_t library;        /* the index it was attached for */
};

struct probes {
	struct tlspcap_bpf *skel;
	struct probe_link *links;
	size_t nr_links;
	size_t cap_links;
	int nr_cpus;
};

/*
 * uprobe_multi links (kernel 6.6+) put all of a library's sites for one
 * program behind one link, and releasing them does not serialise on the
 * kernel's trace event mutex as perf-event uprobes do (~0.15 s each here).
 * libbpf 1.1 predates them: this is BPF_LINK_CREATE's layout for them.
 */
#define UPROBE_MULTI_ATTACH_TYPE 48 /* BPF_TRACE_UPROBE_MULTI */
#define UPROBE_MULTI_RETURN 1       /* BPF_F_UPROBE_MULTI_RETURN */

struct uprobe_multi_link_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 uprobe_flags;
	__u32 pid;
};

_Static_assert(offsetof(struct uprobe_multi_link_attr, attach_type) == 8, "link_create layout");
_Static_assert(offsetof(struct uprobe_multi_link_attr, path) == 16, "link_create.uprobe_multi layout");
_Static_assert(offsetof(struct uprobe_multi_link_attr, cnt) == 48, "link_create.uprobe_multi layout");
_Static_assert(offsetof(struct uprobe_multi_link_attr, pid) == 56, "link_create.uprobe_multi layout");

struct role_programs {
	struct bpf_program *entry;
	struct bpf_program *ret; /* NULL: no return probe */
};

static struct role_programs role_programs(struct tlspcap_bpf *skel, enum tls_probe_role role)
{
	switch (role) {
	case TLS_ROLE_SEND:
		return (struct role_programs){ skel->progs.probe_send_enter, skel->progs.probe_return_int };
	case TLS_ROLE_RECV:
		return (struct role_programs){ skel->progs.probe_recv_enter, skel->progs.probe_return_int };
	case TLS_ROLE_SEND_EX:
		return (struct role_programs){ skel->progs.probe_send_ex_enter,
					       skel->progs.probe_return_int };
	case TLS_ROLE_RECV_EX:
		return (struct role_programs){ skel->progs.probe_recv_ex_enter,
					       skel->progs.probe_return_int };
	case TLS_ROLE_SEND_EX2:
		return (struct role_programs){ skel->progs.probe_send_ex2_enter,
					       skel->progs.probe_return_int };
	case TLS_ROLE_SEND_IOV:
		return (struct role_programs){ skel->progs.probe_send_iov_enter,
					       skel->progs.probe_return_iov };
	case TLS_ROLE_SEND_SSIZE:
		return (struct role_programs){ skel->progs.probe_send_enter,
					       skel->progs.probe_return_ssize };
	case TLS_ROLE_RECV_SSIZE:
		return (struct role_programs){ skel->progs.probe_recv_enter,
					       skel->progs.probe_return_ssize };
	case TLS_ROLE_SET_FD:
		return (struct role_programs){ skel->progs.probe_set_fd, NULL };
	case TLS_ROLE_SET_FD_PTR:
		return (struct role_programs){ skel->progs.probe_set_fd_ptr, NULL };
	/* their returns are uprobes on RET instructions: probes__attach_go_returns */
	case TLS_ROLE_GO_WRITE:
		return (struct role_programs){ skel->progs.probe_go_write_enter, NULL };
	case TLS_ROLE_GO_READ:
		return (struct role_programs){ skel->progs.probe_go_read_enter, NULL };
	case TLS_ROLE_GO_HANDSHAKE:
		return (struct role_programs){ skel->progs.probe_go_handshake_enter, NULL };
	}
	return (struct role_programs){ NULL, NULL };
}

static int probes__keep_link(struct probes *p, int fd, uint32_t library)
{
	int err = ensure_mem((void **)&p->links, &p->cap_links, sizeof(*p->links), p->nr_links + 1);

	if (err)
		return err;
	p->links[p->nr_links++] = (struct probe_link){ fd, library };
	return 0;
}

/* Every program on a library site is attached through uprobe_multi links. */
static int probes__set_uprobe_multi(struct tlspcap_bpf *skel)
{
	struct bpf_program *progs[] = {
		skel->progs.probe_send_enter,    skel->progs.probe_recv_enter,
		skel->progs.probe_send_ex_enter, skel->progs.probe_recv_ex_enter,
		skel->progs.probe_send_ex2_enter, skel->progs.probe_send_iov_enter,
		skel->progs.probe_set_fd,        skel->progs.probe_set_fd_ptr,
		skel->progs.probe_return_int,    skel->progs.probe_return_ssize,
		skel->progs.probe_return_iov,
		skel->progs.probe_go_write_enter, skel->progs.probe_go_read_enter,
		skel->progs.probe_go_write_return, skel->progs.probe_go_read_return,
		skel->progs.probe_go_handshake_enter, skel->progs.probe_go_handshake_return,
	};
	size_t i;
	int err;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		err = bpf_program__set_expected_attach_type(
			progs[i], (enum bpf_attach_type)UPROBE_MULTI_ATTACH_TYPE);
		if (err)
			return err;
		/* attached per library below, never by the skeleton */
		bpf_program__set_autoattach(progs[i], false);
	}
	return 0;
}

struct probes *probes__open(const struct probes_config *cfg)
{
	struct probes *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return NULL;
	p->nr_cpus = libbpf_num_possible_cpus();
	p->skel = tlspcap_bpf__open();
	if (!p->skel) {
		err = -errno;
		goto cleanup;
	}
	p->skel->rodata->self_tgid = cfg->self;
	p->skel->bss->snaplen = cfg->snaplen;
	p->skel->rodata->filter_pids = cfg->filter_pids;
	/* A small ring (-B) must wake the reader well before it is full. */
	if (cfg->ring_bytes / 4 < p->skel->rodata->wakeup_bytes)
		p->skel->rodata->wakeup_bytes = cfg->ring_bytes / 4;
	if (cfg->comm) {
		p->skel->rodata->filter_comm = true;
		strncpy((char *)p->skel->rodata->comm_filter, cfg->comm,
			sizeof(p->skel->rodata->comm_filter) - 1);
	}
	err = bpf_map__set_max_entries(p->skel->maps.events, cfg->ring_bytes);
	if (!err)
		err = probes__set_uprobe_multi(p->skel);
	if (err)
		goto cleanup;
	err = tlspcap_bpf__load(p->skel);
	if (err)
		goto cleanup;
	/* Only the syscall and scheduler hooks attach here; uprobes go per library. */
	err = tlspcap_bpf__attach(p->skel);
	if (err)
		goto cleanup;
	return p;
cleanup:
	probes__free(p);
	errno = -err;
	return NULL;
}

static void *close_link(void *fd)
{
	close((int)(intptr_t)fd);
	return NULL;
}

/*
 * Each release waits for RCU grace periods; releasing the links from
 * parallel threads lets them share those instead of queueing one by one.
 */
static void probe_links__release(const struct probe_link *links, size_t n)
{
	pthread_t *threads = calloc(n, sizeof(*threads));
	size_t i, started = 0;

	for (i = 0; i < n; i++) {
		void *fd = (void *)(intptr_t)links[i].fd;

		if (threads && !pthread_create(&threads[started], NULL, close_link, fd))
			started++;
		else
			close_link(fd);
	}
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
}

void probes__free(struct probes *p)
{
	if (!p)
		return;
	probe_links__release(p->links, p->nr_links);
	free(p->links);
	tlspcap_bpf__destroy(p->skel);
	free(p);
}

int probes__trace_pid(struct probes *p, pid_t pid)
{
	__u32 key = pid;
	__u8 one = 1;

	return bpf_map__update_elem(p->skel->maps.pid_filter, &key, sizeof(key), &one, sizeof(one),
				    BPF_ANY);
}

static int probes__attach_multi(struct probes *p, const char *path, struct bpf_program *prog,
				bool retprobe, const uint64_t *offsets, const uint64_t *cookies,
				uint32_t count)
{
	struct uprobe_multi_link_attr attr = {
		.prog_fd = bpf_program__fd(prog),
		.attach_type = UPROBE_MULTI_ATTACH_TYPE,
		.path = (uintptr_t)path,
		.offsets = (uintptr_t)offsets,
		.cookies = (uintptr_t)cookies,
		.cnt = count,
		.uprobe_flags = retprobe ? UPROBE_MULTI_RETURN : 0,
	};
	int fd, err;

	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return -errno;
	/* every cookie carries the library's index */
	err = probes__keep_link(p, fd, cookies[0] & TLSPCAP_COOKIE_LIBRARY_MASK);
	if (err)
		close(fd);
	return err;
}

/* One link per program: the points of the library's sites that program serves,
 * each once (wrappers sharing a callee share its probe). */
static int probes__attach_program(struct probes *p, const struct tls_library *lib,
				  const struct probe_point *points, struct bpf_program *prog,
				  bool retprobe, uint32_t cookie)
{
	uint64_t offsets[TLS_LIBRARY_MAX_SITES], cookies[TLS_LIBRARY_MAX_SITES];
	uint32_t count = 0, j;
	size_t i;

	for (i = 0; i < TLS_LIBRARY_MAX_SITES && lib->type->sites[i].symbol; i++) {
		struct role_programs progs = role_programs(p->skel, points[i].role);

		if (!(lib->sites_found & (1u << i)) || (retprobe ? progs.ret : progs.entry) != prog)
			continue;
		for (j = 0; j < count && offsets[j] != points[i].offset; j++)
			;
		if (j < count)
			continue;
		offsets[count] = points[i].offset;
		cookies[count] = cookie | (points[i].emulated ? 0 : TLSPCAP_COOKIE_STEPPED);
		count++;
	}
	return count ? probes__attach_multi(p, lib->path, prog, retprobe, offsets, cookies, count)
		     : 0;
}

/* Go: the return program of each site on every RET of it, as plain uprobes */
static int probes__attach_go_returns(struct probes *p, const struct tls_library *lib,
				     uint32_t cookie)
{
	uint64_t offsets[TLS_LIBRARY_MAX_RETS], cookies[TLS_LIBRARY_MAX_RETS];
	struct bpf_program *prog;
	uint32_t count;
	size_t i, j;
	int err;

	for (i = 0; i < TLS_LIBRARY_MAX_SITES && lib->type->sites[i].symbol; i++) {
		if (!(lib->sites_found & (1u << i)))
			continue;
		switch (lib->type->sites[i].role) {
		case TLS_ROLE_GO_WRITE:
			prog = p->skel->progs.probe_go_write_return;
			break;
		case TLS_ROLE_GO_READ:
			prog = p->skel->progs.probe_go_read_return;
			break;
		default:
			prog = p->skel->progs.probe_go_handshake_return;
			break;
		}
		for (j = 0, count = 0; j < lib->nr_rets; j++) {
			if (lib->ret_sites[j] != i)
				continue;
			offsets[count] = lib->ret_offsets[j];
			cookies[count++] = cookie;
		}
		if (!count)
			return -ENOENT; /* a call that never ends: no entry without its returns */
		err = probes__attach_multi(p, lib->path, prog, false, offsets, cookies, count);
		if (err)
			return err;
	}
	return 0;
}

static int probes__attach_points(struct probes *p, const struct tls_library *lib,
				 const struct probe_point *points, uint32_t cookie)
{
	struct bpf_program *entries[] = {
		p->skel->progs.probe_send_enter,    p->skel->progs.probe_recv_enter,
		p->skel->progs.probe_send_ex_enter, p->skel->progs.probe_recv_ex_enter,
		p->skel->progs.probe_send_ex2_enter, p->skel->progs.probe_send_iov_enter,
		p->skel->progs.probe_set_fd,        p->skel->progs.probe_set_fd_ptr,
		p->skel->progs.probe_go_write_enter, p->skel->progs.probe_go_read_enter,
		p->skel->progs.probe_go_handshake_enter,
	};
	struct bpf_program *returns[] = {
		p->skel->progs.probe_return_int,
		p->skel->progs.probe_return_ssize,
		p->skel->progs.probe_return_iov,
	};
	size_t i, first_link = p->nr_links;
	int err = 0;

	/* Return probes first: an entry without its return would leave state behind. */
	for (i = 0; !err && i < sizeof(returns) / sizeof(returns[0]); i++)
		err = probes__attach_program(p, lib, points, returns[i], true, cookie);
	if (!err && lib->type->kind == TLS_LIBRARY_GO)
		err = probes__attach_go_returns(p, lib, cookie);
	for (i = 0; !err && i < sizeof(entries) / sizeof(entries[0]); i++)
		err = probes__attach_program(p, lib, points, entries[i], false, cookie);
	if (err) {
		while (p->nr_links > first_link)
			close(p->links[--p->nr_links].fd);
	}
	return err;
}

int probes__attach_library(struct probes *p, const struct tls_library *lib, uint32_t index,
			   struct probe_point *points)
{
	uint32_t cookie = index & TLSPCAP_COOKIE_LIBRARY_MASK;
	int err;

	if (!lib->sites_found || lib->refused[0])
		return -ENOENT;
	if (lib->type->plaintext_passthrough_check)
		cookie |= TLSPCAP_COOKIE_PASSTHROUGH_CHECK;
	err = probes__attach_points(p, lib, points, cookie);
	if (err) {
		/* the kernel refused a chosen point: the classic entries are never worse */
		probe_points__classic(lib, points, "the kernel refused a chosen point");
		err = probes__attach_points(p, lib, points, cookie);
	}
	return err ? err : __builtin_popcount(lib->sites_found);
}

int probes__detach_library(struct probes *p, uint32_t index)
{
	size_t i = 0, kept = p->nr_links, n;

	/* the library's links to the end (the order of links does not matter) */
	while (i < kept) {
		if (p->links[i].library == index) {
			struct probe_link l = p->links[i];

			p->links[i] = p->links[--kept];
			p->links[kept] = l;
		} else {
			i++;
		}
	}
	n = p->nr_links - kept;
	probe_links__release(p->links + kept, n);
	p->nr_links = kept;
	return (int)n;
}

int probes__pair_views(struct probes *p, const struct probes_view *receiver,
		       const struct probes_view *sender)
{
	struct {
		__u32 tgid;
		__u32 pad;
		__u64 ssl;
	} key = { .tgid = receiver->tgid, .ssl = receiver->ssl };
	struct {
		__u64 conn_id;
		__u32 sender_tgid;
		__u32 pad;
		__u64 sender_ssl;
		__u64 sender_conn_id;
	} value = {
		.conn_id = receiver->conn_id,
		.sender_tgid = sender->tgid,
		.sender_ssl = sender->ssl,
		.sender_conn_id = sender->conn_id,
	};

	return bpf_map__update_elem(p->skel->maps.peer_views, &key, sizeof(key), &value,
				    sizeof(value), BPF_ANY);
}

int probes__events_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.events);
}

int probes__control_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.control);
}

int probes__read_counters(const struct probes *p, uint64_t counters[TLSPCAP_COUNTER_COUNT])
{
	uint64_t *per_cpu = calloc(p->nr_cpus, sizeof(uint64_t));
	__u32 index;
	int cpu, err = 0;

	if (!per_cpu)
		return -ENOMEM;
	for (index = 0; index < TLSPCAP_COUNTER_COUNT; index++) {
		err = bpf_map__lookup_elem(p->skel->maps.counters, &index, sizeof(index), per_cpu,
					   p->nr_cpus * sizeof(uint64_t), 0);
		if (err)
			break;
		counters[index] = 0;
		for (cpu = 0; cpu < p->nr_cpus; cpu++)
			counters[index] += per_cpu[cpu];
	}
	free(per_cpu);
	return err;
}
