/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Direct responses (precomputed per route) and error responses with x-ordergate-reason. */
#ifndef OG_RESPOND_H
#define OG_RESPOND_H

#include <stddef.h>
#include <time.h>

#include "config/config.h"
#include "core/daemon.h"

struct og_conn;
struct og_worker_priv;

/* Precompute route <r>'s direct response into <rr>. Returns 0 or -ENOMEM. Main thread. */
int respond_build_route(struct og_route_rt *rr, const struct cfg_route *r);
/* Free what respond_build_route allocated. */
void respond_free_route(struct og_route_rt *rr);
/*
 * Format an error response for <status> with reason token <reason> into <buf> (<cap>
 * bytes). <close>: Connection: close; <ka10>: Connection: keep-alive (HTTP/1.0);
 * <head>: no body; <retry_after> > 0: a Retry-After field in seconds. Returns the length
 * (truncated responses never happen below 512 B).
 */
int respond_error_fmt(char *buf, size_t cap, int status, const char *reason, int close, int ka10,
		      int head, const char *date_line, size_t date_len, unsigned retry_after);
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
