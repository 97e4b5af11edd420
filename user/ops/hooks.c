// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Hot-path calls into metrics and the access log: one place, cheap when logging is off. */
#include <string.h>

#include "ops/accesslog.h"
#include "front/conn.h"
#include "lanes/lanes.h"
#include "ops/hooks.h"
#include "ops/metrics.h"

void hook_request_done(struct og_worker *w, const struct og_conn *c)
{
	/* first byte of the head to last byte of the response, direct answers included */
	uint64_t dur =
	    c->rq->t_start_ns ? og_elapsed_ns(worker_now_ns(c->p), c->rq->t_start_ns) : 0;

	metrics_req_done(w->metrics, c->rq->route, c->rq->status, dur);
	if (c->rq->lane)
		lanes_request_done(w, c, dur);
	if (w->alog && alog_on()) {
		/* lb: u16 id_len, u16 method_len, u16 path_len, pad, id[64], method, path; no lb
		 * when the parser refused the head (method and path are then null) */
		const uint16_t *h = c->rq->lb ? (const uint16_t *)c->rq->lb->data : NULL;
		size_t il = h ? h[0] : 0, ml = h ? h[1] : 0, pl = h ? h[2] : 0;
		const char *s = h ? c->rq->lb->data + 8 : NULL,
			   *mp = h ? c->rq->lb->data + 72 : NULL;
		const struct config *cfg = c->rq->rt ? c->rq->rt->cfg : NULL;
		struct alog_entry e = {
		    .req_id = il ? s : NULL,
		    .req_id_len = il,
		    .client = (const struct sockaddr *)&c->peer,
		    .method = h ? mp : NULL,
		    .method_len = ml,
		    .path = h ? mp + ml : NULL,
		    .path_len = pl,
		    .route = cfg && c->rq->route >= 0 ? cfg->routes[c->rq->route].name : NULL,
		    .status = c->rq->status,
		    .bytes_in = c->rq->bytes_in,
		    .bytes_out = c->rq->bytes_out,
		    .dur_ns = dur,
		    .upstream =
			cfg && c->rq->up_srv >= 0
			    ? cfg->upstreams[c->rq->up_srv >> 8].servers[c->rq->up_srv & 0xff].text
			    : NULL,
		    .up_ns = c->rq->up_ns,
		};

		alog_write(w->alog, &e);
	}
}

void hook_upstream_done(struct og_worker *w, const struct og_conn *c, int ups, int srv, int status,
			uint64_t ns)
{
	struct og_conn *cc = (struct og_conn *)c;

	metrics_upstream_done(w->metrics, ups, srv, ns, status);
	if (cc) {
		cc->rq->up_ns = ns;
		cc->rq->up_srv = (int16_t)(ups << 8 | srv);
	}
}

void hook_error(struct og_worker *w, const char *reason)
{
	metrics_error(w->metrics, reason);
}

void hook_worker_init(struct og_worker *w)
{
	w->metrics = metrics_worker_new();
	w->alog = alog_worker_new(w->id);
}

void hook_worker_tick(struct og_worker *w)
{
}

void hook_worker_exit(struct og_worker *w)
{
}
