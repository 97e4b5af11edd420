/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Live lane state outside config generations: limits, in-flight, per-worker lane counters. */
#ifndef OG_LSTATE_H
#define OG_LSTATE_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/daemon.h"
#include "lib/histo.h"
#include "ordergate/og_shared.h"

/* Why a request was refused (x-ordergate-reason), or would have been under dry_run. */
enum lane_reason {
	LR_RATE_LIMITED = 0, /* the route's token bucket for this key was empty */
	LR_LANE_SHED,	     /* the lane's in-flight limit was reached */
	LR__N,
};

/*
 * One lane, shared by every worker. <limit> is written by the controller (main thread)
 * only; <inflight> by workers with atomic add/sub (one of each per admitted request).
 */
struct lane_live {
	_Atomic uint32_t limit;	   /* max in-flight admitted; 0 = unlimited */
	_Atomic int32_t inflight;  /* admitted, not yet answered, all workers */
	_Atomic uint32_t override; /* limit set by POST /limits (0 = none), wins over the law */
	_Atomic uint64_t override_until_ms; /* CLOCK_MONOTONIC ms the override expires */
	char pad[40];			    /* one cache line per lane: workers add to inflight */
};

/*
 * A lane's counters on one worker: single writer (that worker), relaxed load + store,
 * summed by readers on other threads (admin, controller) like metrics_worker.
 */
struct lanes_worker {
	struct og_histo dur[OG_LANE_MAX];	       /* first head byte .. last response byte */
	_Atomic uint64_t requests[OG_LANE_MAX];	       /* requests classified into the lane */
	_Atomic uint64_t admitted[OG_LANE_MAX];	       /* of those, admitted */
	_Atomic uint64_t rejected[OG_LANE_MAX][LR__N]; /* refused with 429 */
	_Atomic uint64_t dry_run[OG_LANE_MAX][LR__N];  /* would have been refused (dry_run) */
	_Atomic uint64_t exempt[OG_LANE_MAX];	       /* cancels and kill switch: never refused */
	_Atomic uint64_t errors[OG_LANE_MAX];	       /* answered 5xx (upstream errors included) */
	_Atomic uint64_t tier_honoured;		       /* x-traffic-tier from a trusted source */
	_Atomic uint64_t tier_untrusted; /* x-traffic-tier from an untrusted source: ignored */
	_Atomic uint64_t tier_invalid;	 /* trusted, but not order|normal|bulk: ignored */
	_Atomic uint64_t pins;		 /* kern_pin calls that were queued */
	_Atomic uint64_t pin_fail;	 /* kern_pin/kern_unpin refused (-EAGAIN, ...) */
	_Atomic uint64_t bucket_full;	 /* no bucket slot free: admitted without a limit */
};

/*
 * Route overrides set with POST /limits, resolved by the controller from route names to
 * the positions of config generation <gen> (names survive reloads, positions do not).
 * Workers use them only while their request's generation is <gen>.
 */
struct lanes_route_ov {
	_Atomic uint64_t gen;		    /* og_rt.gen the positions below belong to */
	_Atomic uint64_t v[CFG_MAX_ROUTES]; /* rps << 32 | burst; 0 = no override */
};

/* Every lane's live state, and every worker's lane counters. */
struct lanes_state {
	struct lane_live lane[OG_LANE_MAX]; /* index OG_LANE_* */
	struct lanes_route_ov route_ov;
	struct lanes_worker w[OG_MAX_WORKERS];
};

extern struct lanes_state og_lanes;

#define LANES_ADD(p, n)                                                                            \
	atomic_store_explicit((p), atomic_load_explicit((p), memory_order_relaxed) + (n),          \
			      memory_order_relaxed)

/* Lane name ("none", "order", "normal", "bulk"); "?" when out of range. */
const char *lanes_name(unsigned lane);
/* Reason token of <r> ("rate-limited", "lane-shed"). */
const char *lanes_reason_name(enum lane_reason r);

/* Sums over every worker of lane <lane>'s counters (any thread, relaxed). */
struct lanes_sum {
	uint64_t requests, admitted, exempt, errors;
	uint64_t rejected[LR__N], dry_run[LR__N];
};
void lanes_sum(unsigned lane, struct lanes_sum *out);
/* Per-process totals of the counters that are not per lane (any thread, relaxed). */
struct lanes_totals {
	uint64_t tier_honoured, tier_untrusted, tier_invalid, pins, pin_fail, bucket_full;
};
void lanes_totals(struct lanes_totals *out);
/* Merge lane <lane>'s latency histogram over every worker into <out> (added). */
void lanes_histo(unsigned lane, struct og_histo_snap *out);

#endif /* OG_LSTATE_H */
