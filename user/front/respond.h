/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Direct responses: a route's precomputed bytes plus the worker's Date line, cached whole. */
#ifndef OG_RESPOND_H
#define OG_RESPOND_H

#include <stddef.h>
#include <time.h>

#include "core/daemon.h"

struct og_conn;
struct og_worker_priv;

/*
 * Point <c>'s output at route <rr>'s precomputed bytes plus the worker's Date line:
 * a plain keep-alive answer as the worker's cached whole copy (one segment), others as
 * pieces. c->rq->route and c->rq->rt must be those of <rr>.
 */
void respond_direct(struct og_conn *c, const struct og_route_rt *rr);
/*
 * A cached whole response did not go out at once: re-point what is left at the route's
 * own bytes and the Date line (which conn_flush copies), since the cache changes each
 * second. Only in the callback that called respond_direct (the Date line is unchanged).
 */
void respond_direct_unshare(struct og_conn *c);
/* Refresh the worker's cached Date line when the second changed. Worker thread. */
void respond_date_refresh(struct og_worker_priv *p);

#endif /* OG_RESPOND_H */
