/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The daemon's kernel link in one start/stop: reserved workers, attach/adopt, writer, slow loop. */
#ifndef OG_KLINK_H
#define OG_KLINK_H

#include <stdint.h>

#include "config/config.h"
#include "dp/dp.h"
#include "lanes/slow.h"

struct evbuffer;

/*
 * What the kernel link runs with, from the config (klink_opts_config):
 *   xdp: { interface, mode, pin_path }  -> ifname, mode, pin_dir (no xdp: userspace only)
 *   lanes.order.reserve_workers         -> reserve_workers
 *   lanes.order.others_nice             -> nice
 *   lanes.order.match.dst_ports         -> order_ports
 *   lanes.order.match.src_cidrs         -> order_src
 *   limits.slow_ms, limits.slow         -> slow_ms, slow
 */
struct klink_opts {
	const char *ifname; /* NULL: no kernel writer, no slow loop */
	int mode;	    /* enum dp_xdp_mode */
	const char *pin_dir;
	uint32_t slow_ms; /* 0: 1000 */
	struct slow_params slow;
	int n_workers;
	uint32_t reserve_workers;
	uint16_t order_ports[64];
	int n_order_ports;
	struct dp_prefix order_src[64];
	int n_order_src;
	int nice; /* the non-order workers' nice when reserve_workers > 0 */
};

/* Defaults: no xdp, slow loop defaults, nice 10. */
void klink_opts_default(struct klink_opts *o);
/* Fill <o> from <cfg> (see above); n_workers is the caller's. Once, at start: the strings are
 * copied to static storage that outlives <cfg>. */
void klink_opts_config(struct klink_opts *o, const struct config *cfg);

/* Before the workers are created: reserved-worker policy. After: klink_start. */
int klink_prepare(const struct klink_opts *o, char *err, size_t errlen);
int klink_start(const struct klink_opts *o, char *err, size_t errlen);
void klink_stop(void);

/*
 * The L4 half of lanes: lanes.<lane>.match.dst_ports -> og_port_lane and .src_cidrs ->
 * og_src_rules (lane only; a block flag an operator set on the same prefix is kept), so
 * og_xdp/og_tc_* classify a flow before any byte of HTTP. What the previous call wrote and
 * this one does not is removed. Main thread, after klink_start (start and reload).
 * Returns 0 or the first -errno (the rest is still applied); no datapath: 0.
 */
struct klink_l4 {
	uint16_t ports[OG_LANE_MAX][64];
	int n_ports[OG_LANE_MAX];
	struct dp_prefix src[OG_LANE_MAX][64];
	int n_src[OG_LANE_MAX];
};
int klink_apply_l4(const struct klink_l4 *l4);
/* klink_apply_l4 of <cfg>'s L4 lanes (lanes.order.match; none without lanes:). */
int klink_apply_config(const struct config *cfg);
/*
 * A reload from <old> to <cfg> succeeded (main thread, after it is published): the L4
 * lanes and the slow loop's thresholds apply now; a changed xdp:, limits.slow_ms or
 * reserved-worker setting is logged as taking effect on restart (nothing is re-attached).
 */
void klink_reload(const struct config *old, const struct config *cfg);

/* Admin: GET /flows?top=N as JSON (kernel og_flows joined with og_flow_lane pins and
 * og_throttle); Prometheus lines of the writer, slow loop and reserve. Admin thread. */
int klink_flows_json(struct evbuffer *b, int top);
void klink_metrics(struct evbuffer *b);

#endif /* OG_KLINK_H */
