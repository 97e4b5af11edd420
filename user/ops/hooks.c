// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The hot path's hooks wired to metrics and the access log: one place, cheap when logging is off.
 */
#include "core/daemon.h"
#include "core/hooks.h"
#include "ops/accesslog.h"
#include "ops/hooks.h"
#include "ops/metrics.h"

static void on_request_done(struct og_worker *w, const struct og_req_event *ev)
{
	metrics_req_done(w->metrics, ev->route, ev->status, ev->dur_ns);
	if (w->alog && alog_on()) {
		const struct og_req_detail *d = ev->detail;
		struct alog_entry e = {
		    .req_id = d && d->req_id_len ? d->req_id : NULL,
		    .req_id_len = d ? d->req_id_len : 0,
		    .client = ev->client,
		    .method = d ? d->method : NULL,
		    .method_len = d ? d->method_len : 0,
		    .path = d ? d->path : NULL,
		    .path_len = d ? d->path_len : 0,
		    .route = og_req_route_name(ev),
		    .status = ev->status,
		    .bytes_in = ev->bytes_in,
		    .bytes_out = ev->bytes_out,
		    .dur_ns = ev->dur_ns,
		    .upstream = og_req_upstream(ev),
		    .up_ns = ev->up_ns,
		};

		alog_write(w->alog, &e);
	}
}

static void on_upstream_done(struct og_worker *w, int ups, int srv, int status, uint64_t ns)
{
	metrics_upstream_done(w->metrics, ups, srv, ns, status);
}

static void on_upconn(struct og_worker *w, int ups, int srv, int d_active, int d_idle)
{
	metrics_upconn(w->metrics, ups, srv, d_active, d_idle);
}

static void on_error(struct og_worker *w, const char *reason)
{
	metrics_error(w->metrics, reason);
}

static void on_worker_init(struct og_worker *w)
{
	w->metrics = metrics_worker_new();
	w->alog = alog_worker_new(w->id);
}

void hooks_register(void)
{
	og_hooks.request_done = on_request_done;
	og_hooks.upstream_done = on_upstream_done;
	og_hooks.upconn = on_upconn;
	og_hooks.error = on_error;
	og_hooks.worker_init = on_worker_init;
}
