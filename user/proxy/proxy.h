/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reverse proxy: forward a request upstream, relay the response, stream bodies with backpressure.
 */
#ifndef OG_PROXY_H
#define OG_PROXY_H

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

#endif /* OG_PROXY_H */
