// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Log-linear latency histograms: bucket edges, merging, quantiles and exported bounds. */
#include "lib/histo.h"

#include <stddef.h>

uint64_t histo_lower_us(unsigned i)
{
	unsigned g, m;

	if (i < HISTO_SUB)
		return i;
	g = i / HISTO_SUB;
	m = g + HISTO_SUB_BITS - 1;
	return (uint64_t)(HISTO_SUB + i % HISTO_SUB) << (m - HISTO_SUB_BITS);
}

uint64_t histo_upper_us(unsigned i)
{
	unsigned g, m;

	if (i < HISTO_SUB)
		return i + 1;
	g = i / HISTO_SUB;
	m = g + HISTO_SUB_BITS - 1;
	return histo_lower_us(i) + (1ull << (m - HISTO_SUB_BITS));
}

void histo_snap_add(struct og_histo_snap *s, const struct og_histo *h)
{
	for (unsigned i = 0; i < HISTO_NBUCKETS; i++) {
		uint64_t v = atomic_load_explicit(&h->b[i], memory_order_relaxed);

		s->b[i] += v;
		s->count += v;
	}
	s->sum_ns += atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
}

uint64_t histo_quantile_us(const struct og_histo_snap *s, double q)
{
	uint64_t cum = 0;
	double rank;

	if (!s->count)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* rank in 1..count: the smallest observation is rank 1, the largest rank count */
	rank = q * (double)s->count;
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < HISTO_NBUCKETS; i++) {
		uint64_t lo, hi;
		double frac;

		if (!s->b[i] || (double)(cum + s->b[i]) < rank) {
			cum += s->b[i];
			continue;
		}
		lo = histo_lower_us(i);
		hi = histo_upper_us(i);
		frac = (rank - (double)cum) / (double)s->b[i];
		return lo + (uint64_t)(frac * (double)(hi - lo - 1) + 0.5);
	}
	return histo_upper_us(HISTO_NBUCKETS - 1) - 1;
}

/* Prometheus-style nice bounds in microseconds; each is exported as the nearest edge. */
static const uint64_t le_targets_us[] = {
    500,    1000,   2500,    5000,    10000,   25000,	50000,	  75000,    100000,   250000,
    500000, 750000, 1000000, 2500000, 5000000, 7500000, 10000000, 15000000, 20000000, 30000000,
};

int histo_le_buckets(unsigned *idx, int max)
{
	int n = 0;

	for (size_t t = 0; t < sizeof(le_targets_us) / sizeof(le_targets_us[0]) && n < max; t++) {
		uint64_t want = le_targets_us[t], best_d = UINT64_MAX;
		unsigned best = 0;

		for (unsigned i = 0; i < HISTO_NBUCKETS; i++) {
			uint64_t e = histo_upper_us(i);
			uint64_t d = e > want ? e - want : want - e;

			if (d < best_d) {
				best_d = d;
				best = i;
			}
		}
		if (n && idx[n - 1] >= best)
			continue; /* two targets on one edge: keep bounds strictly increasing */
		idx[n++] = best;
	}
	return n;
}

uint64_t histo_cum(const struct og_histo_snap *s, unsigned i)
{
	uint64_t c = 0;

	for (unsigned j = 0; j <= i && j < HISTO_NBUCKETS; j++)
		c += s->b[j];
	return c;
}
