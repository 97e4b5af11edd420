/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The daemon's kernel link in one start/stop: reserved workers, attach/adopt, writer, slow loop. */
#ifndef OG_KLINK_H
#define OG_KLINK_H

#include <stdint.h>

#include "dp/dp.h"
#include "lanes/slow.h"

struct evbuffer;

/*
 * Plain parameters, so the config glue is a few lines (see klink_opts_env for the
 * stand-in until the lanes/xdp config lands):
 *   xdp:   { interface, mode }          -> ifname, mode (ifname NULL: userspace only)
 *   lanes.order.reserve_workers         -> reserve_workers
 *   lanes.order.match.dst_ports         -> order_ports
 *   lanes.order.match.src_cidrs         -> order_src
 *   limits.slow_ms                      -> slow_ms
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
/*
 * Stand-in for the config sections until they exist on this branch:
 *   ORDERGATE_XDP="eth0[:auto|native|generic][@/pin/dir]"
 *   ORDERGATE_RESERVE="workers=1,ports=9443+9444,src=10.20.0.0/16+fd20::/16,nice=10"
 *   ORDERGATE_SLOW="ms=1000,syn=500,pps=50000,rejects=50,ttl_ms=10000,throttle_pps=100"
 * Returns 0, or -EINVAL with the bad part in <err>.
 */
int klink_opts_env(struct klink_opts *o, char *err, size_t errlen);

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
/* The stand-in's version: the order lane's ports and sources from <o> (ORDERGATE_RESERVE). */
int klink_l4_order(const struct klink_opts *o);

/* Admin: GET /flows?top=N as JSON (kernel og_flows joined with og_flow_lane pins and
 * og_throttle); Prometheus lines of the writer, slow loop and reserve. Admin thread. */
int klink_flows_json(struct evbuffer *b, int top);
void klink_metrics(struct evbuffer *b);

#endif /* OG_KLINK_H */
