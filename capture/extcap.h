/* SPDX-License-Identifier: MIT */
/*
 * tlspcap as a Wireshark extcap program (extcap(4)): Wireshark and tshark find
 * it in their extcap folder, list its one interface, show its options (PIDs,
 * command name, snap length) and start it with --capture --fifo PATH, which is
 * an ordinary capture written into PATH; the capture filter box is the filter
 * expression (capture/filter.h).
 */
#ifndef TLSPCAP_EXTCAP_H
#define TLSPCAP_EXTCAP_H

#include <stdio.h>

#define EXTCAP_INTERFACE "tlspcap"
#define EXTCAP_DISPLAY "TLS plaintext (tlspcap)"

struct options;

/* Answers the question in opts->extcap (not a capture) on @out; returns the exit status. */
int extcap__answer(const struct options *opts, FILE *out);

#endif /* TLSPCAP_EXTCAP_H */
