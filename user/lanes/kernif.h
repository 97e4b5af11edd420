/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The kernel writer's calls the lanes code makes (prototypes of user/lanes/kern.h, by wt-kern). */
#ifndef OG_KERNIF_H
#define OG_KERNIF_H

#include <stdint.h>

#include "ordergate/og_shared.h"

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
/* Throttle source <src> to <pps> with <burst> for <ttl_ms>. */
int kern_throttle(const struct og_addr_key *src, uint64_t pps, uint64_t burst, uint64_t ttl_ms);

#endif /* OG_KERNIF_H */
