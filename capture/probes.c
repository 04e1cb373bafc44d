// SPDX-License-Identifier: MIT
#include "probes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "discover.h"
#include "tlspcap.skel.h"

#define TRACEFS "/sys/kernel/tracing"

struct probes {
	struct tlspcap_bpf *skel;
	struct bpf_link **links;
	size_t nr_links;
	size_t cap_links;
	int nr_cpus;
};

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
	}
	return (struct role_programs){ NULL, NULL };
}

/* libbpf attaches tracepoints through tracefs, which is not mounted at boot here. */
static int ensure_tracefs(void)
{
	struct stat st;

	if (!stat(TRACEFS "/events", &st))
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY)
		return -errno;
	return 0;
}

static int probes__keep_link(struct probes *p, struct bpf_link *link)
{
	if (p->nr_links == p->cap_links) {
		size_t cap = p->cap_links ? p->cap_links * 2 : 64;
		struct bpf_link **links = realloc(p->links, cap * sizeof(*links));

		if (!links)
			return -ENOMEM;
		p->links = links;
		p->cap_links = cap;
	}
	p->links[p->nr_links++] = link;
	return 0;
}

struct probes *probes__open(const struct probes_config *cfg)
{
	struct probes *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return NULL;
	p->nr_cpus = libbpf_num_possible_cpus();
	err = ensure_tracefs();
	if (err)
		goto cleanup;
	p->skel = tlspcap_bpf__open();
	if (!p->skel) {
		err = -errno;
		goto cleanup;
	}
	p->skel->rodata->self_tgid = cfg->self;
	p->skel->rodata->snaplen = cfg->snaplen;
	p->skel->rodata->filter_pids = cfg->filter_pids;
	if (cfg->comm) {
		p->skel->rodata->filter_comm = true;
		strncpy((char *)p->skel->rodata->comm_filter, cfg->comm,
			sizeof(p->skel->rodata->comm_filter) - 1);
	}
	err = bpf_map__set_max_entries(p->skel->maps.events, cfg->ring_bytes);
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

void probes__free(struct probes *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nr_links; i++)
		bpf_link__destroy(p->links[i]);
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

static int probes__attach_site(struct probes *p, const char *path, const char *function,
			       struct bpf_program *prog, bool retprobe, uint32_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = function, .retprobe = retprobe,
		    .bpf_cookie = cookie);
	struct bpf_link *link;
	int err;

	link = bpf_program__attach_uprobe_opts(prog, -1, path, 0, &opts);
	if (!link)
		return -errno;
	err = probes__keep_link(p, link);
	if (err)
		bpf_link__destroy(link);
	return err;
}

int probes__attach_library(struct probes *p, const struct tls_library *lib, uint32_t index)
{
	uint32_t cookie = index & TLSPCAP_COOKIE_LIBRARY_MASK;
	int attached = 0, err = -ENOENT;
	size_t i;

	if (lib->type->plaintext_passthrough_check)
		cookie |= TLSPCAP_COOKIE_PASSTHROUGH_CHECK;
	for (i = 0; i < TLS_LIBRARY_MAX_SITES && lib->type->sites[i].symbol; i++) {
		const struct tls_probe_site *site = &lib->type->sites[i];
		struct role_programs progs = role_programs(p->skel, site->role);

		if (!(lib->sites_found & (1u << i)) || !progs.entry)
			continue;
		err = probes__attach_site(p, lib->path, site->symbol, progs.entry, false, cookie);
		if (!err && progs.ret)
			err = probes__attach_site(p, lib->path, site->symbol, progs.ret, true, cookie);
		if (err)
			return err;
		attached++;
	}
	return attached ? attached : err;
}

int probes__events_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.events);
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
