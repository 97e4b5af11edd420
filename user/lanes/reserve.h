/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Order workers: listeners on order ports only there, order sources steered there, others niced. */
#ifndef OG_RESERVE_H
#define OG_RESERVE_H

#include <stdint.h>
#include <sys/socket.h>

#include "dp/dp.h"

/*
 * `reserve_workers: N` on the order lane. Workers 0..N-1 are the order workers:
 *  - a listener whose port is one of the order lane's dst_ports opens only on them;
 *  - on every other (shared) port, og_reuseport (SO_ATTACH_REUSEPORT_EBPF, plain
 *    sk_reuseport) sends SYNs from the order lane's src_cidrs to their sockets and every
 *    other source to the other workers' sockets; an empty slot falls back to the
 *    kernel's hash. Without src_cidrs no program is loaded;
 *  - the other workers' threads run at a positive nice (no privilege needed), so on a
 *    shared core an order worker that wakes is scheduled ahead of a busy bulk worker.
 * The callbacks below are handed to core/worker (struct worker_policy).
 */
struct reserve_opts {
	int n_workers;
	uint32_t n_reserved; /* lanes.order.reserve_workers; 0: off */
	const uint16_t *order_ports;
	int n_order_ports;
	const struct dp_prefix *order_src; /* lanes.order.match.src_cidrs */
	int n_order_src;
	int nice; /* the other workers' nice; 0: leave them alone */
};

/* Load og_reuseport and fill its source table (when there are sources). Main thread,
 * before the workers are created. Returns 0 or -errno with one line in <err>. */
int reserve_setup(const struct reserve_opts *o, char *err, size_t errlen);
/* Close the program and maps (listeners keep the program they run). */
void reserve_teardown(void);
/* 1 when worker <w> is an order worker. */
int reserve_is_order_worker(int w);
/* worker_policy callbacks: does worker <w> open a listener on <sa>; it opened <fd>
 * there (joins og_rp_socks, the group's first socket gets the program); worker <w>'s
 * thread starts (nice). Any thread. */
int reserve_wants(int w, const struct sockaddr *sa);
void reserve_opened(int w, int fd, const struct sockaddr *sa);
void reserve_thread_start(int w);

struct reserve_stats {
	uint32_t n_reserved, groups, sockets, attach_failed;
	int prog_loaded, nice;
};
void reserve_stats_read(struct reserve_stats *s);

#endif /* OG_RESERVE_H */
