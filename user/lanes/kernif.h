/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The kernel writer's calls the lanes code makes (prototypes of user/lanes/kern.h, by wt-kern). */
#ifndef OG_KERNIF_H
#define OG_KERNIF_H

#include <stddef.h>
#include <stdint.h>

#include "ordergate/og_shared.h"

struct cfg_xdp;

/*
 * The daemon's single writer to og_flow_lane / og_throttle / og_config lives in
 * user/lanes/kern.c. Until it is linked in, kern_weak.c gives these weak definitions
 * that return -ENOSYS, so the lanes code builds and runs userspace-only. Callable from
 * any worker thread; never block.
 */
/* Queue a pin of flow <k> to <lane>; -EAGAIN when the queue is full. */
int kern_pin(const struct og_flow_key *k, uint8_t lane);
/* Queue the removal of <k>'s pin. */
int kern_unpin(const struct og_flow_key *k);
/* Attach (or adopt) the datapath named by the config's xdp: section, then plug the
 * controller in (ctrl_attach_dp, ctrl_set_slow). Main thread, at start. -ENOSYS when the
 * kernel link is not built in. The name is this side's proposal: glue as needed. */
int kern_start(const struct cfg_xdp *x, char *err, size_t errlen);
/* Throttle source <src> to <pps> with <burst> for <ttl_ms>. */
int kern_throttle(const struct og_addr_key *src, uint64_t pps, uint64_t burst, uint64_t ttl_ms);

#endif /* OG_KERNIF_H */
