// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fault injection draws: a per-thread xorshift generator, percentages and jittered delays. */
#include <pthread.h>
#include <sys/random.h>
#include <time.h>

#include "proxy/fault.h"

struct fault_counts fault_counts;

static __thread uint64_t rng;

/* xorshift64*: plenty for drawing percentages, and no shared state between workers. */
static uint64_t next(void)
{
	if (!rng) {
		struct timespec ts;

		if (getrandom(&rng, sizeof(rng), GRND_NONBLOCK) != sizeof(rng) || !rng) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)pthread_self() ^ 1;
		}
	}
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

/* 1 with probability <pct> %. */
static int chance(uint32_t pct)
{
	return pct >= 100 || (pct && (next() >> 32) % 100 < pct);
}

struct fault_choice fault_pick(const struct cfg_fault *f)
{
	struct fault_choice ch = {0, 0};

	if (chance(f->abort_percent)) {
		ch.abort_status = f->abort_status;
		return ch;
	}
	if (f->delay_ms && chance(f->delay_percent)) {
		uint32_t span = 2 * f->delay_jitter_ms + 1;

		ch.delay_ms = f->delay_ms - f->delay_jitter_ms + (uint32_t)((next() >> 32) % span);
	}
	return ch;
}

void fault_count(int route, const struct fault_choice *ch)
{
	unsigned r = (unsigned)route < CFG_MAX_ROUTES ? (unsigned)route : CFG_MAX_ROUTES;

	if (ch->abort_status)
		atomic_fetch_add_explicit(&fault_counts.aborts[r], 1, memory_order_relaxed);
	if (ch->delay_ms) {
		atomic_fetch_add_explicit(&fault_counts.delays[r], 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&fault_counts.delay_ms[r], ch->delay_ms,
					  memory_order_relaxed);
	}
}
