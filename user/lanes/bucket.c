// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* GCRA token buckets in a fixed open-addressed table, updated with compare-and-swap. */
#include <stddef.h>

#include "lanes/bucket.h"

struct bucket_table og_buckets;

/* Fold the hash so neighbouring keys spread over the table (FNV's low bits are weak). */
uint32_t bucket_slot(uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (uint32_t)key & (BUCKET_CELLS - 1);
}

/* Find or claim <key>'s cell; NULL when the probe window has no free or idle cell. */
static struct bucket_cell *cell_for(struct bucket_table *t, uint64_t key, uint64_t now_ns)
{
	uint32_t s = bucket_slot(key);
	struct bucket_cell *idle = NULL;

	for (int i = 0; i < BUCKET_PROBE; i++) {
		struct bucket_cell *c = &t->cell[(s + (uint32_t)i) & (BUCKET_CELLS - 1)];
		uint64_t k = atomic_load_explicit(&c->key, memory_order_acquire);

		if (k == key)
			return c;
		if (k == 0) {
			if (atomic_compare_exchange_strong(&c->key, &k, key))
				return c;
			if (k == key)
				return c; /* another worker claimed it for the same key */
			continue;
		}
		if (!idle && atomic_load_explicit(&c->tat, memory_order_relaxed) <= now_ns)
			idle = c;
	}
	if (idle) {
		uint64_t k = atomic_load_explicit(&idle->key, memory_order_relaxed);

		/* A full bucket carries no state: take the cell over. Losing the race means
		 * another key just took it; admit without a bucket this once. */
		if (atomic_load_explicit(&idle->tat, memory_order_relaxed) <= now_ns &&
		    atomic_compare_exchange_strong(&idle->key, &k, key))
			return idle;
	}
	return NULL;
}

enum bucket_verdict bucket_take(struct bucket_table *t, uint64_t key, uint64_t now_ns, uint32_t rps,
				uint32_t burst, int dry, uint64_t *wait_ns)
{
	struct bucket_cell *c;
	uint64_t T, tau, tat, ntat;

	if (!key)
		key = 1;
	c = cell_for(t, key, now_ns);
	if (!c)
		return BUCKET_TABLE_FULL;
	T = 1000000000ull / (rps ? rps : 1);
	if (!T)
		T = 1;
	tau = (uint64_t)(burst ? burst - 1 : 0) * T;
	tat = atomic_load_explicit(&c->tat, memory_order_relaxed);
	for (;;) {
		uint64_t base = tat > now_ns ? tat : now_ns;

		if (base - now_ns > tau) {
			if (wait_ns)
				*wait_ns = base - now_ns - tau;
			return BUCKET_LIMITED;
		}
		if (dry)
			return BUCKET_OK;
		ntat = base + T;
		if (atomic_compare_exchange_weak_explicit(&c->tat, &tat, ntat, memory_order_relaxed,
							  memory_order_relaxed))
			return BUCKET_OK;
	}
}

uint32_t bucket_busy(const struct bucket_table *t, uint64_t now_ns)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < BUCKET_CELLS; i++)
		if (atomic_load_explicit(&t->cell[i].key, memory_order_relaxed) &&
		    atomic_load_explicit(&t->cell[i].tat, memory_order_relaxed) > now_ns)
			n++;
	return n;
}
