/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The lane controller on the main thread: fast loop, overrides, the slow loop's plug. */
#ifndef OG_CTRL_H
#define OG_CTRL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lanes/ctrl_law.h"

struct event_base;
struct evbuffer;
struct dp_maps;

/* What the controller publishes for readers on other threads (admin, metrics). */
struct ctrl_pub {
	_Atomic uint64_t ticks;			  /* fast windows run */
	_Atomic uint64_t p50_us[OG_LANE_MAX];	  /* last window */
	_Atomic uint64_t p99_us[OG_LANE_MAX];	  /* last window */
	_Atomic uint64_t count[OG_LANE_MAX];	  /* completions in the last window */
	_Atomic uint32_t law_limit[OG_LANE_MAX];  /* the law's limit (before overrides) */
	_Atomic uint64_t cuts[OG_LANE_MAX];	  /* limit changes down */
	_Atomic uint64_t grows[OG_LANE_MAX];	  /* limit changes up */
	_Atomic uint32_t window_ms;		  /* length of the last window */
	_Atomic int kern;			  /* og_lane_stats read (ctrl_attach_dp) */
	_Atomic uint64_t kern_rx[OG_LANE_MAX];	  /* og_lane_stats rx_pkts since attach */
	_Atomic uint64_t kern_drops[OG_LANE_MAX]; /* and drops (block, throttle, error) */
};
extern struct ctrl_pub og_ctrl;

/* Start the fast loop (every limits.fast_ms of the running config) on <base>. Main thread,
 * after the workers exist. Returns 0 or -ENOMEM. */
int ctrl_start(struct event_base *base);
/* Stop it (at exit). */
void ctrl_stop(void);
/* One fast window now (the timer's body; tests call it). Main thread. */
void ctrl_fast_tick(uint64_t now_ms);

/* Read og_lane_stats deltas through <m> each window from now on (NULL: stop). Called by
 * the kernel link (user/lanes/kern.c) after it attached or adopted the datapath. */
void ctrl_attach_dp(struct dp_maps *m);

/* Override lane <lane>'s in-flight limit with <limit> for <ttl_ms> (limit 0 and ttl 0:
 * remove). The order lane is never set below limits.floor. Any thread. 0 or -EINVAL. */
int ctrl_override_lane(unsigned lane, uint32_t limit, uint64_t ttl_ms, char *err, size_t errlen);
/* Override route <name>'s token bucket with <rps>/<burst> for <ttl_ms> (rps 0: remove).
 * Keyed by name: it follows the route across reloads. Any thread. 0, -EINVAL, -ENOSPC. */
int ctrl_override_route(const char *name, uint32_t rps, uint32_t burst, uint64_t ttl_ms, char *err,
			size_t errlen);

/* JSON of GET /lanes and GET /limits. Any thread. */
void ctrl_render_lanes(struct evbuffer *out);
void ctrl_render_limits(struct evbuffer *out);

#endif /* OG_CTRL_H */
