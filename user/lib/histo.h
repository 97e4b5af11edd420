/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Latency histograms: fixed log-linear buckets, recorded in a few instructions, no allocation. */
#ifndef OG_HISTO_H
#define OG_HISTO_H

#include <stdatomic.h>
#include <stdint.h>

/*
 * Values are microseconds. Below HISTO_SUB they are exact; above, each power of two
 * [2^m, 2^(m+1)) is split into HISTO_SUB equal sub-buckets, so a bucket is at most
 * 1/HISTO_SUB (12.5 %) wide relative to its lower edge (HDR histogram with 1 digit).
 * The top bucket ends at 2^HISTO_TOP_BITS us (67 s); larger values land in it.
 * 192 buckets x 8 bytes = 1.5 KiB per histogram.
 */
#define HISTO_SUB_BITS 3
#define HISTO_SUB      (1u << HISTO_SUB_BITS)
#define HISTO_TOP_BITS 26
#define HISTO_NBUCKETS ((HISTO_TOP_BITS - HISTO_SUB_BITS + 1) * HISTO_SUB)

/*
 * One histogram with a single writer (its worker thread). Increments are relaxed
 * load + store, not locked RMW: readers on other threads (the admin scrape) see each
 * counter whole, perhaps a few microseconds stale, and <sum_ns> may lag the buckets.
 */
struct og_histo {
	_Atomic uint64_t b[HISTO_NBUCKETS]; /* observations per bucket */
	_Atomic uint64_t sum_ns;	    /* sum of recorded values, ns */
};

/* A merged, plain copy of one or more histograms (owned by one thread). */
struct og_histo_snap {
	uint64_t b[HISTO_NBUCKETS];
	uint64_t count;	 /* sum of b[] */
	uint64_t sum_ns; /* ns */
};

/* Bucket index of <us> microseconds: clz + shift, no branches beyond the small-value test. */
static inline unsigned histo_index(uint64_t us)
{
	unsigned m, i;

	if (us < HISTO_SUB)
		return (unsigned)us;
	m = 63u - (unsigned)__builtin_clzll(us);
	i = (m - HISTO_SUB_BITS + 1) * HISTO_SUB +
	    (unsigned)((us >> (m - HISTO_SUB_BITS)) & (HISTO_SUB - 1));
	return i < HISTO_NBUCKETS ? i : HISTO_NBUCKETS - 1;
}

/* Record a duration of <ns> nanoseconds into <h>. Single writer (the owning thread). */
static inline void histo_record(struct og_histo *h, uint64_t ns)
{
	_Atomic uint64_t *c = &h->b[histo_index(ns / 1000)];

	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_store_explicit(&h->sum_ns,
			      atomic_load_explicit(&h->sum_ns, memory_order_relaxed) + ns,
			      memory_order_relaxed);
}

/* Exclusive upper edge of bucket <i>, in microseconds (values in it are < this). */
uint64_t histo_upper_us(unsigned i);
/* Inclusive lower edge of bucket <i>, in microseconds. */
uint64_t histo_lower_us(unsigned i);
/* Add live histogram <h> (relaxed reads; any thread) into <s>. */
void histo_snap_add(struct og_histo_snap *s, const struct og_histo *h);
/*
 * Value at quantile <q> (0..1) of <s> in microseconds, interpolated linearly inside the
 * bucket holding that rank (error at most one bucket width, 12.5 %). 0 when <s> is empty.
 */
uint64_t histo_quantile_us(const struct og_histo_snap *s, double q);
/*
 * The bucket indices whose upper edges are exported as Prometheus `le` bounds: the
 * edges nearest to 0.5 ms, 1, 2.5, 5, 10, 25, 50, 75, 100, 250, 500, 750 ms, 1, 2.5, 5,
 * 7.5, 10, 15, 20, 30 s — exact edges, so cumulative counts are exact. Returns how many
 * (at most <max>) were stored into <idx>, increasing.
 */
int histo_le_buckets(unsigned *idx, int max);
/* Cumulative count of <s> for observations below the upper edge of bucket <i>. */
uint64_t histo_cum(const struct og_histo_snap *s, unsigned i);

#endif /* OG_HISTO_H */
