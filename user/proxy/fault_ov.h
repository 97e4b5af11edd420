/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Runtime fault overrides (POST /faults): keyed by route name, with a TTL, outside generations. */
#ifndef OG_FAULT_OV_H
#define OG_FAULT_OV_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct og_rt;

#define FAULT_OV_MAX	   64	   /* overrides at once */
#define FAULT_OV_TTL_MAX   3600000 /* ms: a forgotten drill lapses within the hour */
#define FAULT_OV_DELAY_MAX 600000  /* ms, the config's bound for delay_ms and delay_jitter_ms */

/* Overrides set and not yet swept (fault_ov_sweep): 0 = the hot path reads nothing else. */
extern _Atomic uint32_t fault_ov_live;

/* 1 when some override may exist. One relaxed load: what a request pays when none does. */
static inline int fault_ov_any(void)
{
	return atomic_load_explicit(&fault_ov_live, memory_order_relaxed) != 0;
}

/*
 * The override of route position <route> in generation <gen>, unexpired at <now_ms>
 * (CLOCK_MONOTONIC ms), into <out>. Returns 1 when one applies, 0 when none. Lock-free:
 * a seqlock read of the generation's table, retried while a writer is inside it. Requests
 * of the newest generation and of the three before it (workers that have not adopted the
 * newest yet) see overrides; older ones see none. Worker thread.
 */
int fault_ov_get(uint64_t gen, int route, uint64_t now_ms, struct cfg_fault *out);

/*
 * Set the override of the route named <name> to <f> for <ttl_ms> (1..FAULT_OV_TTL_MAX) from
 * <now_ms> (CLOCK_MONOTONIC ms), or
 * remove it when <ttl_ms> is 0 (no error when there was none). <f> gets the config's bounds
 * (delay 0..600000 ms, jitter <= delay, percentages 0..100, status 200..599); a delay_ms of
 * 0 turns delay_percent to 0 like the config does. The name must be an upstream route of the
 * newest generation (to remove an override, it need only have one). Returns 0, or -EINVAL / -ENOSPC
 * with the reason in <err>. Admin thread (any thread: takes the writers' mutex).
 */
int fault_ov_set(const char *name, const struct cfg_fault *f, uint64_t ttl_ms, uint64_t now_ms,
		 char *err, size_t errlen);

/*
 * Resolve the overrides for generation <rt> (names -> its route positions) into its table
 * (one of four, by generation number). Call before rt_publish(<rt>), after nothing can
 * fail any more: <rt> stays the newest generation until the next call. Main thread.
 */
void fault_ov_resolve(const struct og_rt *rt);

/* Drop overrides expired at <now_ms>, so fault_ov_live falls back to 0. Main thread. */
void fault_ov_sweep(uint64_t now_ms);

/* The unexpired override of the route named <name> at <now_ms> into <f> and its remaining
 * ms into <ttl_ms>. Returns 1 when there is one, else 0. Any thread (takes the mutex). */
int fault_ov_peek(const char *name, uint64_t now_ms, struct cfg_fault *f, uint64_t *ttl_ms);

#endif /* OG_FAULT_OV_H */
