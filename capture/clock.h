/* SPDX-License-Identifier: MIT */
/*
 * BPF timestamps are CLOCK_MONOTONIC; pcapng wants real time.  The offset
 * between the two is taken from the tightest of several paired reads and
 * re-sampled from time to time, since NTP slews the real-time clock.
 */
#ifndef TLSPCAP_CLOCK_H
#define TLSPCAP_CLOCK_H

#include <stdint.h>

struct clock_offset {
	int64_t realtime_minus_monotonic_ns;
	uint64_t sampled_at_ns;  /* monotonic time of the last calibration */
};

uint64_t clock__monotonic_ns(void);
uint64_t clock__realtime_ns(void);
void clock_offset__calibrate(struct clock_offset *c);
/* Recalibrates when the last sample is older than @max_age_ns. */
void clock_offset__refresh(struct clock_offset *c, uint64_t max_age_ns);
uint64_t clock_offset__to_realtime(const struct clock_offset *c, uint64_t monotonic_ns);

#endif /* TLSPCAP_CLOCK_H */
