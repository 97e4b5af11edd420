/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The daemon's one writer to og_config, og_throttle and og_flow_lane, fed by a lock-free queue. */
#ifndef OG_KERN_H
#define OG_KERN_H

#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include <ordergate/og_shared.h>

#include "dp/dp.h"

/*
 * Workers never touch a BPF map: kern_pin/kern_unpin/kern_throttle copy the request into
 * a bounded lock-free queue and return at once (-EAGAIN when it is full, counted). One
 * writer thread drains it, applies each request through user/dp, recounts
 * og_config.throttle_count after throttle changes (and every second, so lapsed entries
 * stop costing og_xdp a lookup), and runs the registered tick (the slow loop) every
 * tick_ms with the maps in hand. With no kern_start (no `xdp:` section) every call
 * returns -ENODEV at the cost of one load.
 */

struct kern_opts {
	const char *ifname;   /* attach to / adopt on this interface; NULL: maps only */
	int mode;	      /* enum dp_xdp_mode for a fresh attach */
	const char *pin_dir;  /* NULL: the adopted attach's, else OG_PIN_DIR */
	__u32 flows;	      /* og_flows size for a fresh attach; 0: default */
	struct dp_maps *maps; /* tests: use these open maps (fds are dup()ed), no attach */
	uint32_t queue;	      /* queue slots; 0: 4096 */
	uint32_t tick_ms;     /* period of <tick>; 0: 1000 */
	/* Run on the writer thread every tick_ms; may read the maps and call kern_apply_*. */
	void (*tick)(struct dp_maps *m, uint64_t now_ms, void *ctx);
	void *tick_ctx;
};

struct kern_stats {
	uint64_t posted;   /* requests queued */
	uint64_t full;	   /* requests refused: queue full (-EAGAIN) */
	uint64_t applied;  /* requests the writer applied */
	uint64_t failed;   /* requests the kernel refused (map full, bad value) */
	uint64_t recounts; /* throttle_count recomputations */
	uint32_t throttles_live;
	int running;	   /* writer thread up */
	int attached;	   /* this process attached the datapath */
	int adopted;	   /* an existing attach was adopted */
	char pin_dir[256]; /* maps in use */
	char ifname[16];
};

/* Attach (or adopt an attach already on <o>->ifname, replacing nothing), open the maps
 * and start the writer thread. Returns 0 or -errno with one line in <err>. Main thread. */
int kern_start(const struct kern_opts *o, char *err, size_t errlen);
/* Apply what is queued, stop the writer, close the maps. Detaches nothing: the programs
 * run on, fail-open, with the last pins and throttles (which lapse by their TTL). */
void kern_stop(void);
/* 1 when the writer runs. Any thread. */
int kern_active(void);

/* The og_flow_key of an accepted TCP connection, as og_xdp sees its packets: source =
 * the peer (getpeername), destination = the local address (getsockname). IPv4-mapped
 * IPv6 addresses become IPv4. Returns 0 or -EAFNOSUPPORT. Cheap: call it at accept. */
struct sockaddr;
int kern_flow_key(const struct sockaddr *peer, const struct sockaddr *local, struct og_flow_key *k);

/* Queue a pin of flow <k> (ingress direction) to <lane>; -EAGAIN if the queue is full,
 * -EINVAL for a bad lane, -ENODEV with no writer. Any thread; never blocks. */
int kern_pin(const struct og_flow_key *k, uint8_t lane);
int kern_unpin(const struct og_flow_key *k);
/* Queue a throttle of <src>: a full bucket of <burst> packets refilled at <pps>, lapsing
 * after <ttl_ms>. Same returns. kern_unthrottle queues its removal. */
int kern_throttle(const struct og_addr_key *src, uint64_t pps, uint64_t burst, uint64_t ttl_ms);
int kern_unthrottle(const struct og_addr_key *src);
/* Wait (bounded by <timeout_ms>) until everything queued before the call is applied.
 * 0, or -ETIMEDOUT. Off the hot path (tests, admin). */
int kern_flush(int timeout_ms);
void kern_stats_read(struct kern_stats *s);

#endif /* OG_KERN_H */
