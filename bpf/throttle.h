/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-source token bucket as a pure function of (entry, now), shared by og_xdp and unit tests. */
#ifndef OG_THROTTLE_H
#define OG_THROTTLE_H

#include "ordergate/og_shared.h"

/*
 * Tokens are nanotokens (one packet = OG_TB_NS) so a refill is elapsed_ns * rate
 * with no division. Every input is clamped so no product or sum can wrap:
 * elapsed <= OG_TB_MAX_ELAPSED (1e10) and rate <= OG_TB_MAX_RATE (1e8) give a
 * refill <= 1e18; the bucket depth is capped at OG_TB_MAX_BURST packets (1e18
 * nanotokens), so tokens + refill <= 2e18 < 2^64.
 * No map access here: user space includes this file to test it directly.
 */

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define OG_TB_MAX_BURST 1000000000ULL /* packets */

struct og_tb_result {
	__u64 tokens;  /* nanotokens left after this packet */
	__u64 last_ns; /* new refill time */
	int pass;      /* 1: a token was taken, 0: bucket empty, drop */
};

/* Refills <t> up to <now> and tries to take one packet's worth of tokens. */
static __always_inline void og_tb_take(const struct og_throttle *t, __u64 now,
				       struct og_tb_result *r)
{
	__u64 rate = t->rate_pps, burst = t->burst, cap, tokens, elapsed = 0;

	if (rate > OG_TB_MAX_RATE)
		rate = OG_TB_MAX_RATE;
	if (burst > OG_TB_MAX_BURST)
		burst = OG_TB_MAX_BURST;
	cap = burst * OG_TB_NS;
	tokens = t->tokens < cap ? t->tokens : cap;
	/* Coarse clocks of two CPUs may disagree a little: never refill backwards. */
	if (now > t->last_ns)
		elapsed = now - t->last_ns;
	if (elapsed > OG_TB_MAX_ELAPSED)
		elapsed = OG_TB_MAX_ELAPSED;
	tokens += elapsed * rate;
	if (tokens > cap)
		tokens = cap;
	r->last_ns = now > t->last_ns ? now : t->last_ns;
	if (tokens >= OG_TB_NS) {
		r->tokens = tokens - OG_TB_NS;
		r->pass = 1;
	} else {
		r->tokens = tokens;
		r->pass = 0;
	}
}

#endif /* OG_THROTTLE_H */
