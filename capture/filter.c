// SPDX-License-Identifier: MIT
#include "filter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_stream.h"

#define FILTER_SNAPLEN 65535

struct capture_filter {
	struct bpf_program program;
};

struct capture_filter *capture_filter__new(const char *expression, char *msg, size_t msg_size)
{
	struct capture_filter *f = calloc(1, sizeof(*f));
	pcap_t *dead;
	int err = 0;

	if (!f)
		return NULL;
	/* The file's link type, LINKTYPE_RAW (PCAPNG_LINKTYPE_RAW), is DLT_RAW in
	 * libpcap's API: the expression sees the IP packets the file holds. */
	dead = pcap_open_dead(DLT_RAW, FILTER_SNAPLEN);
	if (!dead) {
		snprintf(msg, msg_size, "libpcap: cannot open a dead handle");
		err = -ENOMEM;
		goto cleanup;
	}
	if (pcap_compile(dead, &f->program, expression, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(msg, msg_size, "%s", pcap_geterr(dead));
		err = -EINVAL;
	}
cleanup:
	if (dead)
		pcap_close(dead);
	if (err) {
		free(f);
		errno = -err;
		return NULL;
	}
	return f;
}

void capture_filter__free(struct capture_filter *f)
{
	if (!f)
		return;
	pcap_freecode(&f->program);
	free(f);
}

/* An IP + TCP header from @src to @dst with @flags; returns its length. */
static size_t build_packet(uint8_t *buf, const struct tcp_endpoint *src,
			   const struct tcp_endpoint *dst, uint8_t flags)
{
	size_t ip_len = src->family == AF_INET ? sizeof(struct iphdr) : sizeof(struct ip6_hdr);
	struct tcphdr *tcp = (struct tcphdr *)(buf + ip_len);

	memset(buf, 0, ip_len + sizeof(*tcp));
	if (src->family == AF_INET) {
		struct iphdr *ip = (struct iphdr *)buf;

		ip->version = 4;
		ip->ihl = sizeof(*ip) / 4;
		ip->tot_len = htons(sizeof(*ip) + sizeof(*tcp));
		ip->frag_off = htons(IP_DF);
		ip->ttl = 64;
		ip->protocol = IPPROTO_TCP;
		memcpy(&ip->saddr, src->addr, 4);
		memcpy(&ip->daddr, dst->addr, 4);
	} else {
		struct ip6_hdr *ip = (struct ip6_hdr *)buf;

		ip->ip6_flow = htonl(6u << 28);
		ip->ip6_plen = htons(sizeof(*tcp));
		ip->ip6_nxt = IPPROTO_TCP;
		ip->ip6_hlim = 64;
		memcpy(&ip->ip6_src, src->addr, 16);
		memcpy(&ip->ip6_dst, dst->addr, 16);
	}
	tcp->th_sport = htons(src->port);
	tcp->th_dport = htons(dst->port);
	tcp->th_off = sizeof(*tcp) / 4;
	tcp->th_flags = flags;
	tcp->th_win = htons(65535);
	return ip_len + sizeof(*tcp);
}

static bool packet_passes(const struct capture_filter *f, const struct tcp_endpoint *src,
			  const struct tcp_endpoint *dst, uint8_t flags)
{
	uint8_t buf[sizeof(struct ip6_hdr) + sizeof(struct tcphdr)];
	struct pcap_pkthdr hdr = { 0 };

	hdr.caplen = hdr.len = build_packet(buf, src, dst, flags);
	return pcap_offline_filter(&f->program, &hdr, buf) != 0;
}

bool capture_filter__match(const struct capture_filter *f, const struct tcp_endpoint *client,
			   const struct tcp_endpoint *server)
{
	if (client->family != server->family ||
	    (client->family != AF_INET && client->family != AF_INET6))
		return false;
	return packet_passes(f, client, server, TH_SYN) ||
	       packet_passes(f, server, client, TH_SYN | TH_ACK);
}
