/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Active health checks: GET <path> per server every interval, rise/fall, off the hot path. */
#ifndef OG_HEALTH_H
#define OG_HEALTH_H

#include <event2/event.h>

#include "core/daemon.h"

/*
 * (Re)start checks for every server of every upstream in <rt> with health enabled, on
 * <base> (the main thread's). Checks of a previous runtime are cancelled first. The
 * checker is the only writer of og_server.healthy / hc_*_streak. Returns 0 or -ENOMEM.
 */
int health_start(struct event_base *base, struct og_rt *rt);
/* Cancel every check (shutdown). */
void health_stop(void);

#endif /* OG_HEALTH_H */
