/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Lanes on the request path: classify a request, admit or refuse it, account it when done. */
#ifndef OG_LANES_H
#define OG_LANES_H

#include <stdint.h>

#include "config/config.h"
#include "http/http_parse.h"

struct og_conn;
struct og_worker;
struct og_req_event;

/* og_conn.lane_l4: the connection's L4 lane in the low bits, plus what is known of it. */
#define LC_LANE	   0x03 /* OG_LANE_ORDER or OG_LANE_NORMAL once LC_KNOWN */
#define LC_TRUSTED 0x40 /* the client is in lanes.trusted */
#define LC_KNOWN   0x80 /* computed (once per connection, at its first request) */

/* og_req.lane_flags */
#define LQ_INFLIGHT 0x01 /* counted in og_lanes.lane[lane].inflight: give it back when done */
#define LQ_EXEMPT   0x02 /* a cancel or the kill switch: never limited or shed */

/*
 * Classify the request whose head <m> (at <buf>) matched route index <route> (-1: none)
 * of <cfg> on connection <c>, then admit it: route token bucket, lane in-flight limit.
 * Sets c->rq->lane and lane_flags; pins the flow into the kernel when the L7 lane differs
 * from the connection's L4 lane. Returns NULL when admitted (dry_run admits and counts),
 * or the x-ordergate-reason of a 429 with c->rq->retry_after set. Worker thread; no lock,
 * no allocation; only when cfg->lanes_active.
 */
const char *lanes_admit(struct og_conn *c, const struct http_msg *m, const char *buf,
			const struct config *cfg, int route);
/* Request <e> is over (e->dur_ns: first head byte to last response byte): lane histogram
 * and counters, its in-flight slot given back. Worker thread (the hook table's). */
void lanes_request_done(struct og_worker *w, const struct og_req_event *e);
/* <c> is closing (its fd still open): remove its kernel pin if it has one. */
void lanes_conn_close(struct og_conn *c);

/* Pure parts, exposed for tests. */
/* 1 when address <a> (<family>, 4 or 16 bytes, network order) is in one of <v>[0..<n>). */
int lanes_cidr_match(const struct cfg_cidr *v, int n, int family, const uint8_t *a);
/* Lane of an x-traffic-tier value (<len> bytes at <s>): OG_LANE_* or OG_LANE_NONE. */
unsigned lanes_tier(const char *s, uint32_t len);

#endif /* OG_LANES_H */
