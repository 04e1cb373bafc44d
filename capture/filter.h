/* SPDX-License-Identifier: MIT */
/*
 * The capture filter: a tcpdump expression (libpcap syntax), compiled for the
 * file's link type and judged once per connection on the packets a real
 * capture of that connection would have held: its SYN (client -> server) and
 * SYN-ACK (server -> client) with the REAL addresses and ports, not the
 * remapped synthetic ones.  A connection passes when either packet passes,
 * as tcpdump would then have shown the connection.
 */
#ifndef TLSPCAP_FILTER_H
#define TLSPCAP_FILTER_H

#include <stdbool.h>
#include <stddef.h>

struct tcp_endpoint;
struct capture_filter;

/* Room for libpcap's message about a bad expression (pcap_geterr). */
#define CAPTURE_FILTER_MESSAGE_MAX 512

/* Compiles @expression; NULL with errno set and libpcap's message in @msg. */
struct capture_filter *capture_filter__new(const char *expression, char *msg, size_t msg_size);
void capture_filter__free(struct capture_filter *f);
bool capture_filter__match(const struct capture_filter *f, const struct tcp_endpoint *client,
			   const struct tcp_endpoint *server);

#endif /* TLSPCAP_FILTER_H */
