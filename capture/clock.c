// SPDX-License-Identifier: MIT
#include "clock.h"

#include <time.h>

#define CALIBRATION_SAMPLES 5

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t clock__monotonic_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

uint64_t clock__realtime_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}

void clock_offset__calibrate(struct clock_offset *c)
{
	uint64_t best_window = UINT64_MAX;
	int i;

	/* The real-time read sits between two monotonic reads; the pair that
	 * is closest together bounds the error best. */
	for (i = 0; i < CALIBRATION_SAMPLES; i++) {
		uint64_t before = clock__monotonic_ns();
		uint64_t real = clock__realtime_ns();
		uint64_t after = clock__monotonic_ns();

		if (after - before < best_window) {
			best_window = after - before;
			c->realtime_minus_monotonic_ns =
				(int64_t)(real - (before + (after - before) / 2));
			c->sampled_at_ns = after;
		}
	}
}

void clock_offset__refresh(struct clock_offset *c, uint64_t max_age_ns)
{
	if (clock__monotonic_ns() - c->sampled_at_ns > max_age_ns)
		clock_offset__calibrate(c);
}

uint64_t clock_offset__to_realtime(const struct clock_offset *c, uint64_t monotonic_ns)
{
	return monotonic_ns + (uint64_t)c->realtime_minus_monotonic_ns;
}
