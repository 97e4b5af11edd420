/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The fast loop's control law as a pure function: one window's measurements in, limits out. */
#ifndef OG_CTRL_LAW_H
#define OG_CTRL_LAW_H

#include <stdint.h>

#include "ordergate/og_shared.h"

/* What one fast window measured in one lane. */
struct ctrl_lane_in {
	uint64_t count;	 /* completions the p99 is over (this window, and earlier ones while few) */
	uint64_t p99_us; /* their p99, us (meaningful when count >= params.min_samples) */
	uint64_t p50_us; /* their p50, us (logged) */
	double conc;	 /* mean concurrency: sum of their durations / window */
	int32_t inflight;  /* admitted, not answered, at the end of the window */
	uint64_t errors;   /* 5xx or unanswered in the window */
	uint64_t rejected; /* 429s in the window */
	uint64_t rx_pkts;  /* og_lane_stats rx_pkts delta (0 without the datapath) */
	uint64_t drops;	   /* og_lane_stats drop_* delta (0 without the datapath) */
};

struct ctrl_in {
	uint32_t window_ms;	      /* length of the window */
	uint32_t slo_us[OG_LANE_MAX]; /* lanes.<lane>.slo_p99_ms in us; 0 = none */
	struct ctrl_lane_in lane[OG_LANE_MAX];
};

struct ctrl_params {
	double decrease;      /* deepest multiplicative cut in one window (0.7) */
	uint32_t floor;	      /* no law-made limit goes below this */
	uint32_t ceiling;     /* a limit that grows past this becomes unlimited (0) */
	uint32_t grow_after;  /* windows under the SLO band before a limit grows */
	uint32_t min_samples; /* fewer completions than this: the window's p99 is not trusted */
	double queue_tol;     /* order p50 over base_p50 by this share means a queue (0 = off) */
};

/* The law's memory between windows (lives outside config generations, in ctrl.c). */
struct ctrl_lane_state {
	uint32_t limit; /* 0 = unlimited */
	uint32_t w_cut; /* the limit that was too high at the last cut (0 = none yet) */
	uint32_t step;	/* next additive step */
};

struct ctrl_state {
	struct ctrl_lane_state lane[OG_LANE_MAX];
	uint32_t good;	  /* consecutive windows under the band */
	double order_avg; /* slow average of the order lane's concurrency (growth detector) */
	int warm;	  /* order_avg holds a measurement */
	double base_p50;  /* the order lane's quiet p50, us: lowest seen, drifting up slowly */
};

enum ctrl_why {
	CTRL_HOLD = 0,	    /* nothing changed */
	CTRL_ORDER_SLOW,    /* order p99 over its SLO */
	CTRL_ORDER_GROWING, /* order in-flight growing fast */
	CTRL_ORDER_QUEUE,   /* order p50 above its quiet baseline: a queue has formed */
	CTRL_NORMAL_SLOW,   /* normal p99 over its SLO (bulk only is cut) */
	CTRL_UPSTREAM_ERR,  /* order/normal upstream errors above 10 % */
	CTRL_GROW,	    /* k windows under the SLO band: additive growth */
};

struct ctrl_out {
	uint32_t limit[OG_LANE_MAX]; /* new limits (0 = unlimited) */
	int change[OG_LANE_MAX];     /* -1 cut, +1 grown, 0 unchanged */
	enum ctrl_why why;
	double pressure; /* p99 / SLO of the lane that drove the decision (0: none) */
	double excess;	 /* concurrency the cut aimed to remove */
};

/* Name of <w> for logs and metrics ("order-p99-over-slo", ...). */
const char *ctrl_why_name(enum ctrl_why w);

/*
 * One fast window: from <in> and the state <st> (updated), decide new limits into <out>.
 * Pure: no clock, no globals, no I/O; the same inputs give the same outputs.
 * The order lane is never cut; bulk is cut first, normal only when bulk is at its floor.
 */
void ctrl_law(const struct ctrl_params *p, struct ctrl_state *st, const struct ctrl_in *in,
	      struct ctrl_out *out);

#endif /* OG_CTRL_LAW_H */
