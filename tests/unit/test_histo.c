// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Histogram bucket math, exported bounds and quantiles against exactly known inputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/histo.h"
#include "../lib/og_test.h"

/* Reference index by brute force over the edges: the bucket with lower <= us < upper. */
static unsigned ref_index(uint64_t us)
{
	for (unsigned i = 0; i < HISTO_NBUCKETS; i++)
		if (us >= histo_lower_us(i) && us < histo_upper_us(i))
			return i;
	return HISTO_NBUCKETS - 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	int bad = 0;

	/* edges tile [0, 2^26) without gaps or overlaps, and widths stay within 1/8 */
	OK_EQ(histo_lower_us(0), 0, "first bucket starts at 0");
	for (unsigned i = 1; i < HISTO_NBUCKETS; i++) {
		if (histo_lower_us(i) != histo_upper_us(i - 1))
			bad++;
		if (i >= HISTO_SUB &&
		    (histo_upper_us(i) - histo_lower_us(i)) * HISTO_SUB > histo_lower_us(i))
			bad++;
	}
	OK(bad == 0, "buckets are contiguous and at most 12.5%% wide (%d bad)", bad);
	OK_EQ(histo_upper_us(HISTO_NBUCKETS - 1), 1ull << HISTO_TOP_BITS, "top edge is 2^26 us");
	OK(histo_upper_us(HISTO_NBUCKETS - 1) > 60000000ull, "range covers 60 s");

	/* histo_index agrees with the edge table on every edge +-1 and on random values */
	bad = 0;
	for (unsigned i = 0; i < HISTO_NBUCKETS; i++) {
		uint64_t lo = histo_lower_us(i), hi = histo_upper_us(i);

		if (histo_index(lo) != i || histo_index(hi - 1) != i)
			bad++;
	}
	srand(42);
	for (int k = 0; k < 100000; k++) {
		uint64_t us = ((uint64_t)rand() << 31 | (uint64_t)rand()) % (1ull << 27);

		if (histo_index(us) != ref_index(us))
			bad++;
	}
	OK(bad == 0, "histo_index matches the edge table on edges and 100k random values (%d bad)",
	   bad);
	OK_EQ(histo_index(0), 0, "0 us -> bucket 0");
	OK_EQ(histo_index(7), 7, "7 us exact");
	OK_EQ(histo_index(8), 8, "8 us -> bucket 8");
	OK_EQ(histo_index(1000), ref_index(1000), "1 ms");
	OK_EQ(histo_index(UINT64_MAX), HISTO_NBUCKETS - 1, "huge values clamp to the top bucket");
	OK_EQ(histo_index(3600ull * 1000000), HISTO_NBUCKETS - 1, "1 h clamps to the top bucket");

	/* record: the bucket and sum move; count derives from buckets */
	struct og_histo *h = calloc(1, sizeof(*h));
	struct og_histo_snap *s = calloc(1, sizeof(*s));

	histo_record(h, 1500000); /* 1.5 ms */
	histo_record(h, 999);	  /* 0 us */
	histo_snap_add(s, h);
	OK_EQ(s->count, 2, "two observations");
	OK_EQ(s->sum_ns, 1500999, "sum in ns is exact");
	OK_EQ(s->b[histo_index(1500)], 1, "1.5 ms in its bucket");
	OK_EQ(s->b[0], 1, "999 ns in bucket 0");
	histo_snap_add(s, h);
	OK_EQ(s->count, 4, "merging twice adds");

	/* exported bounds: strictly increasing, each within 6.25% of its nice target */
	static const double targets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					 0.075,	 0.1,	0.25,	0.5,   0.75, 1,	    2.5,
					 5,	 7.5,	10,	15,    20,   30};
	unsigned le[32];
	int n = histo_le_buckets(le, 32);

	OK_EQ(n, 20, "20 exported bounds");
	bad = 0;
	for (int i = 0; i < n; i++) {
		double sec = (double)histo_upper_us(le[i]) / 1e6;

		if (i && le[i] <= le[i - 1])
			bad++;
		if (fabs(sec - targets[i]) / targets[i] > 0.0625)
			bad++;
	}
	OK(bad == 0, "bounds increase and sit within 6.25%% of 0.5ms..30s (%d bad)", bad);

	/* quantiles: 10000 log-uniform values from 10 us to 10 s vs the exact order statistic */
	struct og_histo *h2 = calloc(1, sizeof(*h2));
	struct og_histo_snap *s2 = calloc(1, sizeof(*s2));
	uint64_t *v = malloc(10000 * sizeof(*v));
	static const double qs[] = {0.5, 0.9, 0.99, 0.999};

	for (int k = 0; k < 10000; k++) {
		v[k] = (uint64_t)(10.0 * pow(1e6, (double)rand() / RAND_MAX)); /* us */
		histo_record(h2, v[k] * 1000);
	}
	histo_snap_add(s2, h2);
	qsort(v, 10000, sizeof(*v), cmp_u64);
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		uint64_t exact = v[(size_t)ceil(qs[k] * 10000) - 1];
		uint64_t got = histo_quantile_us(s2, qs[k]);
		double err = fabs((double)got - (double)exact) / (double)exact;

		OK(err <= 0.125, "p%g: got %llu us, exact %llu us, error %.3f <= 0.125",
		   qs[k] * 100, (unsigned long long)got, (unsigned long long)exact, err);
	}
	/* constant input: every quantile falls inside that value's bucket */
	struct og_histo *h3 = calloc(1, sizeof(*h3));
	struct og_histo_snap *s3 = calloc(1, sizeof(*s3));

	for (int k = 0; k < 100; k++)
		histo_record(h3, 5000000); /* 5 ms */
	histo_snap_add(s3, h3);
	uint64_t p50 = histo_quantile_us(s3, 0.5), p99 = histo_quantile_us(s3, 0.99);

	OK(p50 >= histo_lower_us(histo_index(5000)) && p50 < histo_upper_us(histo_index(5000)),
	   "constant 5 ms: p50 %llu us in its bucket", (unsigned long long)p50);
	OK(p99 >= p50 && p99 < histo_upper_us(histo_index(5000)), "p99 %llu >= p50, same bucket",
	   (unsigned long long)p99);
	memset(s3, 0, sizeof(*s3));
	OK_EQ(histo_quantile_us(s3, 0.99), 0, "empty histogram -> 0");

	/* cumulative counts for `le` */
	OK_EQ(histo_cum(s2, HISTO_NBUCKETS - 1), 10000, "cum of the last bucket = count");
	uint64_t below1ms = 0;

	for (int k = 0; k < 10000; k++)
		below1ms += v[k] < histo_upper_us(histo_index(1000));
	OK_EQ(histo_cum(s2, histo_index(1000)), below1ms, "cum up to the 1 ms bucket is exact");

	free(h);
	free(s);
	free(h2);
	free(s2);
	free(h3);
	free(s3);
	free(v);
	return og_done();
}
