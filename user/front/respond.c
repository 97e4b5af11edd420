// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Direct responses sent from the route's precomputed bytes and the per-worker Date line. */
#include <string.h>
#include <time.h>

#include "front/conn.h"
#include "front/respond.h"
#include "http/resp_fmt.h"

/* Route <rr>'s answer for <c> as pieces: head, Date, Connection (if any), body. */
static void respond_pieces(struct og_conn *c, const struct og_route_rt *rr)
{
	struct og_worker_priv *p = c->p;
	int i = 0;

	c->rq->out[i].iov_base = rr->resp;
	c->rq->out[i++].iov_len = rr->resp_head_len;
	c->rq->out[i].iov_base = p->date_line;
	c->rq->out[i++].iov_len = p->date_len;
	c->rq->out_volatile = 1u << 1;
	c->rq->out_cached = 0;
	if (c->flags & CF_CLOSE) {
		c->rq->out[i].iov_base = (void *)resp_hdr_close;
		c->rq->out[i++].iov_len = RESP_HDR_CLOSE_LEN;
	} else if (c->flags & CF_KA10) {
		c->rq->out[i].iov_base = (void *)resp_hdr_keepalive;
		c->rq->out[i++].iov_len = RESP_HDR_KEEPALIVE_LEN;
	}
	c->rq->out[i].iov_base = rr->resp + rr->resp_head_len;
	c->rq->out[i++].iov_len = (c->flags & CF_HEAD) ? 2 : rr->resp_len - rr->resp_head_len;
	c->rq->nout = (uint8_t)i;
	c->rq->oi = 0;
}

void respond_direct(struct og_conn *c, const struct og_route_rt *rr)
{
	struct og_worker_priv *p = c->p;
	int route = c->rq->route;
	struct og_dresp *d = &p->dresp[route & (OG_DRESP_SLOTS - 1)];

	if ((c->flags & (CF_CLOSE | CF_KA10 | CF_HEAD)) ||
	    rr->resp_len + p->date_len > OG_DRESP_MAX) {
		respond_pieces(c, rr);
		return;
	}
	if (d->gen != c->rq->rt->gen || d->route != route || d->sec != p->date_sec) {
		char *o = d->data;

		memcpy(o, rr->resp, rr->resp_head_len);
		o += rr->resp_head_len;
		memcpy(o, p->date_line, p->date_len);
		o += p->date_len;
		memcpy(o, rr->resp + rr->resp_head_len, rr->resp_len - rr->resp_head_len);
		d->len = (uint16_t)(rr->resp_len + p->date_len);
		d->gen = c->rq->rt->gen;
		d->route = (int16_t)route;
		d->sec = p->date_sec;
	}
	c->rq->out[0].iov_base = d->data;
	c->rq->out[0].iov_len = d->len;
	c->rq->nout = 1;
	c->rq->oi = 0;
	c->rq->out_volatile = 0;
	c->rq->out_cached = 1;
}

void respond_direct_unshare(struct og_conn *c)
{
	const struct og_route_rt *rr = &c->rq->rt->routes[c->rq->route];
	size_t done = rr->resp_len + c->p->date_len - c->rq->out[0].iov_len;

	respond_pieces(c, rr);
	og_iov_advance(c->rq->out, &c->rq->oi, c->rq->nout, done);
}

void respond_date_refresh(struct og_worker_priv *p)
{
	time_t now = time(NULL);

	if (now == p->date_sec)
		return;
	p->date_sec = now;
	p->date_len = (uint32_t)resp_fmt_date(p->date_line, sizeof(p->date_line), now);
}
