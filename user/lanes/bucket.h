/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Token buckets per (route, key) shared by all workers: a fixed table of GCRA cells, CAS only. */
#ifndef OG_BUCKET_H
#define OG_BUCKET_H

#include <stdatomic.h>
#include <stdint.h>

/*
 * Each cell holds a key (a 64-bit hash of route name and key value; 0 = empty) and its
 * GCRA "theoretical arrival time" <tat> in ns. A request conforms when
 * tat - now <= (burst - 1) * T with T = 1e9 / rps; it then moves tat to max(tat, now) + T
 * with one compare-and-swap. That is a token bucket of <burst> tokens refilled at <rps>
 * in one word, so workers share it without a lock and without a torn (tokens, time) pair.
 *
 * The table is open-addressed with a probe window of BUCKET_PROBE cells. A key that finds
 * no free cell takes over a cell whose tat is in the past: that bucket is full again, so
 * forgetting it changes nothing (eviction of idle keys costs nothing to get right). When
 * every cell of the window is busy the request is admitted and counted (fail open: an
 * attacker spraying keys must not get other clients refused). Memory is fixed:
 * BUCKET_CELLS * 16 bytes (1 MiB).
 */
#define BUCKET_CELLS (1u << 16)
#define BUCKET_PROBE 8

struct bucket_cell {
	_Atomic uint64_t key; /* hash of (route name, key value); 0 = free */
	_Atomic uint64_t tat; /* ns, CLOCK_MONOTONIC: when the bucket is full again + T */
};

struct bucket_table {
	struct bucket_cell cell[BUCKET_CELLS];
};

enum bucket_verdict {
	BUCKET_OK = 0,	   /* conforming: a token was taken */
	BUCKET_LIMITED,	   /* not conforming: nothing taken, *wait_ns says for how long */
	BUCKET_TABLE_FULL, /* no cell for this key: admitted, nothing recorded */
};

/*
 * Take one token for <key> (non-zero) at <now_ns> with <rps> and <burst> (both >= 1).
 * <dry>: only check, take nothing. On BUCKET_LIMITED, <*wait_ns> is how long until a
 * token is there. Any thread; lock-free (a CAS loop on one cell).
 */
enum bucket_verdict bucket_take(struct bucket_table *t, uint64_t key, uint64_t now_ns, uint32_t rps,
				uint32_t burst, int dry, uint64_t *wait_ns);
/* The first cell <key> probes (exposed for tests that need colliding keys). */
uint32_t bucket_slot(uint64_t key);
/* Cells in use whose tat is still ahead of <now_ns> (the keys being limited). Any thread. */
uint32_t bucket_busy(const struct bucket_table *t, uint64_t now_ns);

/* 64-bit FNV-1a of <n> bytes at <p>, continuing from <h> (start with BUCKET_SEED). */
#define BUCKET_SEED 0xcbf29ce484222325ull
static inline uint64_t bucket_hash(uint64_t h, const void *p, uint32_t n)
{
	const unsigned char *s = p;

	for (uint32_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The one table of the process (lanes/admit.c). */
extern struct bucket_table og_buckets;

#endif /* OG_BUCKET_H */
