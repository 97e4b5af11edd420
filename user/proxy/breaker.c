// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Lock-free circuit breaker on shared atomics: successes are plain loads on the hot path. */
#include "proxy/breaker.h"

#define R memory_order_relaxed

int breaker_allows(struct og_server *s, uint64_t now_ms, int take_probe)
{
	uint32_t st = atomic_load_explicit(&s->breaker, memory_order_acquire);
	uint64_t until;

	if (st == OG_BRK_CLOSED)
		return 1;
	until = atomic_load_explicit(&s->open_until_ms, R);
	if (now_ms < until)
		return 0;
	/* Open past its time, or a half-open probe that never reported back: probe again. */
	if (!take_probe)
		return 1;
	if (!atomic_compare_exchange_strong(&s->breaker, &st, OG_BRK_HALF_OPEN))
		return 0;
	/* the probe must report within this window, else another probe is allowed */
	atomic_store_explicit(&s->open_until_ms, now_ms + 10000, R);
	return 1;
}

void breaker_success(struct og_server *s)
{
	uint32_t st;

	if (atomic_load_explicit(&s->consec_fail, R))
		atomic_store_explicit(&s->consec_fail, 0, R);
	st = atomic_load_explicit(&s->breaker, R);
	if (st == OG_BRK_HALF_OPEN)
		atomic_compare_exchange_strong(&s->breaker, &st, OG_BRK_CLOSED);
}

static void trip(struct og_server *s, const struct cfg_breaker *b, uint64_t now_ms)
{
	atomic_store_explicit(&s->open_until_ms, now_ms + b->open_ms, R);
	atomic_store_explicit(&s->consec_fail, 0, R);
	atomic_fetch_add_explicit(&s->breaker_opens, 1, R);
}

void breaker_failure(struct og_server *s, const struct cfg_breaker *b, uint64_t now_ms,
		     int may_open)
{
	uint32_t st;

	if (!b->consecutive_failures)
		return;
	st = atomic_load_explicit(&s->breaker, R);
	if (st == OG_BRK_HALF_OPEN) {
		/* the last usable server of its pool: closed and passing traffic beats every
		 * request answered 503 (Envoy's panic threshold) */
		if (atomic_compare_exchange_strong(&s->breaker, &st,
						   may_open ? OG_BRK_OPEN : OG_BRK_CLOSED) &&
		    may_open)
			trip(s, b, now_ms);
		return;
	}
	if (st == OG_BRK_OPEN)
		return;
	if (atomic_fetch_add_explicit(&s->consec_fail, 1, R) + 1 >= b->consecutive_failures) {
		if (!may_open) {
			atomic_store_explicit(&s->consec_fail, 0, R);
			return;
		}
		/* open_until first, so a reader that sees OPEN sees its deadline */
		atomic_store_explicit(&s->open_until_ms, now_ms + b->open_ms, R);
		if (atomic_compare_exchange_strong(&s->breaker, &st, OG_BRK_OPEN))
			trip(s, b, now_ms);
	}
}
