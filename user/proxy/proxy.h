/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reverse proxy: forward a request upstream, relay the response, stream bodies with backpressure.
 */
#ifndef OG_PROXY_H
#define OG_PROXY_H

#include <stddef.h>

#include "http/http_parse.h"

struct og_conn;
struct og_upconn;

/* Forward the request whose head <m> (<head_len> bytes at <buf>) was just parsed on <c>
 * (route already chosen, c->rt referenced). Always ends in an answer: the upstream's
 * response, or 502/503/504 with x-ordergate-reason. Worker thread. */
void proxy_start(struct og_conn *c, const struct http_msg *m, const char *buf, int head_len);
/* Client socket events while c->state == CS_PROXY. */
void proxy_client_event(struct og_conn *c, short what);
/* The client's body read or write timed out while proxying. */
void proxy_client_timeout(struct og_conn *c);
/* The client connection is closing: drop the upstream side of its request. */
void proxy_abort(struct og_conn *c);

/*
 * A layer above the proxy (lanes/idem_guard.c) that may answer a proxied request itself and
 * watch its answer. Installed once at start, before the workers run; called only for
 * requests on routes with something attached (og_route_rt.idem), so other routes pay one
 * test. Worker thread.
 *   begin: head parsed, route chosen, nothing consumed yet. Returns 1 when it answered the
 *          request (it consumed the head then), 0 to proxy it.
 *   req_body: the request body is as complete as it gets before anything goes upstream:
 *          <len> bytes at <data> (as framed by the client: chunked when <chunked>), all of it
 *          when <whole> (else the rest streams, or nothing was buffered). Returns 1 when it
 *          answered the request instead (the head and the buffered body are consumed).
 *   resp_head / resp_body: the upstream's response head, then its body bytes as they come
 *          (as framed by the upstream), <done> 1 with the last piece (or alone).
 *   end:   the request is over (answered or not; c->rq->up_sent says whether a byte of it
 *          reached an upstream). Called from request accounting while c->rq->rt is held.
 * The last four only while c->rq->guard is set (begin sets it).
 */
struct proxy_guard {
	int (*begin)(struct og_conn *c, const struct http_msg *m, const char *buf, int head_len);
	int (*req_body)(struct og_conn *c, const char *data, uint32_t len, int chunked, int whole);
	void (*resp_head)(struct og_conn *c, const struct http_msg *m, const char *buf);
	void (*resp_body)(struct og_conn *c, const char *data, size_t len, int done);
	void (*end)(struct og_conn *c);
};
extern const struct proxy_guard *proxy_guard;
/* Install <g> (main thread, before the workers start). */
void proxy_set_guard(const struct proxy_guard *g);

#endif /* OG_PROXY_H */
