// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Live lane state: the one instance, names, and sums over workers for readers. */
#include <string.h>

#include "lanes/lstate.h"

_Static_assert(sizeof(struct lane_live) == 64, "one cache line per lane");

struct lanes_state og_lanes;

const char *lanes_name(unsigned lane)
{
	static const char *const n[OG_LANE_MAX] = {"none", "order", "normal", "bulk"};

	return lane < OG_LANE_MAX ? n[lane] : "?";
}

const char *lanes_reason_name(enum lane_reason r)
{
	return r == LR_RATE_LIMITED ? "rate-limited" : r == LR_LANE_SHED ? "lane-shed" : "other";
}

#define RD(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* Workers whose blocks may hold counts: all of them before the daemon sized its pool. */
static int n_blocks(void)
{
	return og_d.n_workers > 0 && og_d.n_workers <= OG_MAX_WORKERS ? og_d.n_workers
								      : OG_MAX_WORKERS;
}

void lanes_sum(unsigned lane, struct lanes_sum *out)
{
	memset(out, 0, sizeof(*out));
	if (lane >= OG_LANE_MAX)
		return;
	for (int i = 0; i < n_blocks(); i++) {
		struct lanes_worker *w = &og_lanes.w[i];

		out->requests += RD(w->requests[lane]);
		out->admitted += RD(w->admitted[lane]);
		out->exempt += RD(w->exempt[lane]);
		out->errors += RD(w->errors[lane]);
		for (int r = 0; r < LR__N; r++) {
			out->rejected[r] += RD(w->rejected[lane][r]);
			out->dry_run[r] += RD(w->dry_run[lane][r]);
		}
	}
}

void lanes_histo(unsigned lane, struct og_histo_snap *out)
{
	if (lane >= OG_LANE_MAX)
		return;
	for (int i = 0; i < n_blocks(); i++)
		histo_snap_add(out, &og_lanes.w[i].dur[lane]);
}

void lanes_totals(struct lanes_totals *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < n_blocks(); i++) {
		struct lanes_worker *w = &og_lanes.w[i];

		out->tier_honoured += RD(w->tier_honoured);
		out->tier_untrusted += RD(w->tier_untrusted);
		out->tier_invalid += RD(w->tier_invalid);
		out->pins += RD(w->pins);
		out->pin_fail += RD(w->pin_fail);
		out->bucket_full += RD(w->bucket_full);
	}
}
