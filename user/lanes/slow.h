/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The slow loop: per-source throttles and heavy-flow demotion decided from kernel flow stats. */
#ifndef OG_SLOW_H
#define OG_SLOW_H

#include <stdint.h>

#include <linux/types.h>
#include <ordergate/og_shared.h>

#include "dp/dp.h"

/*
 * Every slow_ms the kernel writer's thread reads og_flows (batch lookups), diffs it
 * against the previous read, adds the L7 rejections workers noted per source, and asks
 * slow_decide() -- a pure function of (params, state, window inputs) -- what to do:
 *  - a source over the SYN rate, the packet rate or the L7 rejection rate gets an
 *    og_throttle entry whose TTL doubles on each repeat (strike), up to ttl_max_ms; one
 *    still over it when its entry is about to lapse is throttled again;
 *  - a throttled source under half of every threshold, and dropped by og_xdp at no more
 *    than half its bucket's rate, for calm_ticks windows is released early; strikes are
 *    forgiven one per forgive_ms of calm;
 *  - a flow of the order or normal lane that moved more than heavy_factor times its
 *    lane's median bytes in the window (and at least heavy_min_bytes) is pinned to bulk.
 * Each action is counted and logged with the inputs that drove it.
 */

struct slow_params {
	uint64_t syn_rate;	  /* SYNs/s per source; default 500 */
	uint64_t pkt_rate;	  /* packets/s per source; default 50000 */
	uint64_t reject_rate;	  /* L7 rejections/s per source; default 50 */
	uint64_t throttle_pps;	  /* the bucket a throttled source gets; default 100 */
	uint64_t throttle_burst;  /* default 200 */
	uint64_t ttl_ms;	  /* first TTL; default 10000 */
	uint64_t ttl_max_ms;	  /* TTL cap after repeats; default 300000 */
	uint32_t calm_ticks;	  /* windows under half of every threshold before release; 3 */
	uint64_t forgive_ms;	  /* calm time that takes one strike away; default 60000 */
	double heavy_factor;	  /* x lane median bytes; default 20 */
	uint64_t heavy_min_bytes; /* a heavy flow moved at least this much; default 1 MiB */
	uint32_t heavy_min_flows; /* flows a lane needs for its median to count; default 4 */
};
void slow_params_default(struct slow_params *p);

/* One source's counts over the window (deltas), and for a source the loop holds throttled
 * its og_throttle entry's drop counter (cumulative: og_xdp drops a throttled source's SYNs
 * before they get og_flows state, so a throttled flood shows only there). */
struct slow_src_in {
	struct og_addr_key src;
	uint64_t syns, pkts, rejects;
	uint64_t dropped_total;
};

/* One flow's bytes over the window and its lane now. */
struct slow_flow_in {
	struct og_flow_key k;
	uint64_t bytes;
	uint8_t lane;
	uint8_t pad[7];
};

/* What the loop remembers of a source between windows. */
struct slow_src_state {
	struct og_addr_key src;
	uint32_t strikes;	/* throttles so far, less what calm forgave */
	uint32_t calm;		/* consecutive calm windows */
	uint64_t until_ms;	/* throttled until (0 = not throttled) */
	uint64_t calm_since_ms; /* start of the current calm stretch */
	uint64_t dropped_seen;	/* og_throttle.dropped at the last window */
};

#define SLOW_MAX_SRC 4096

struct slow_state {
	struct slow_src_state src[SLOW_MAX_SRC];
	int n_src;
};

enum slow_kind { SLOW_THROTTLE = 1, SLOW_RELEASE, SLOW_DEMOTE };

struct slow_action {
	int kind; /* enum slow_kind */
	struct og_addr_key src;
	struct og_flow_key flow;
	uint64_t pps, burst, ttl_ms;
	uint32_t strikes;
	/* inputs that drove it, per second over the window, and the reason */
	uint64_t syn_rate, pkt_rate, reject_rate, bytes, median;
	const char *why; /* "syn_rate", "pkt_rate", "rejects", "calm", "heavy" */
};

/*
 * Decide over one window of <window_ms> ending at <now_ms>. <src> must be sorted by
 * address (memcmp of og_addr_key, one entry per source); <flows> in any order. Writes at most <max>
 * actions to <out>; returns how many. Pure: no I/O, no clock; <st> is the only thing it changes.
 */
int slow_decide(const struct slow_params *p, struct slow_state *st, uint64_t now_ms,
		uint64_t window_ms, const struct slow_src_in *src, int n_src,
		const struct slow_flow_in *flows, int n_flows, struct slow_action *out, int max);

/* ---- the loop around it (slow_loop.c) ---- */

/* Note one L7 rejection of <src>. Worker threads; lock-free, allocation-free: a
 * per-thread table of counters the slow loop reads. */
void lanes_slow_note_reject(const struct og_addr_key *src);

/* Start the loop state with <p> (NULL: defaults); slow_tick is then handed to
 * kern_opts.tick with period slow_ms. Returns 0 or -ENOMEM. */
int slow_init(const struct slow_params *p);
void slow_fini(void);
/* New thresholds (a reload): the loop takes them at its next window. Any thread. */
void slow_set_params(const struct slow_params *p);
/* One window: read og_flows from <m>, decide, post the actions to the kernel writer. */
void slow_tick(struct dp_maps *m, uint64_t now_ms, void *ctx);

struct slow_stats {
	uint64_t ticks, flows, throttles, releases, demotes, post_failed, notes_lost;
	uint32_t throttled; /* sources throttled now */
	uint64_t last_ns;   /* duration of the last tick */
};
void slow_stats_read(struct slow_stats *s);

#endif /* OG_SLOW_H */
