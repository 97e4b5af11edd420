/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one narrow interface from the hot path to metrics, the access log and the lane controller. */
#ifndef OG_CORE_HOOKS_H
#define OG_CORE_HOOKS_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/config.h"

struct og_worker;

/* The request's own words, kept only while a consumer wants them (og_hook_detail_on). */
struct og_req_detail {
	const char *req_id, *method, *path; /* method/path NULL when the parser refused it */
	uint16_t req_id_len, method_len, path_len;
};

/*
 * What happened to one request, as the front and the proxy saw it: all a consumer gets,
 * so none of them reads request internals. Filled field by field per request (no strings
 * resolved: og_req_route_name/og_req_upstream do that for the consumers that want them).
 * Pointers are valid only during the call.
 */
struct og_req_event {
	int16_t route;		       /* route index in cfg, -1 none */
	int16_t up_srv;		       /* server that answered: ups << 8 | srv, -1 none */
	uint16_t status;	       /* status sent, 0 = closed unanswered */
	uint8_t lane;		       /* OG_LANE_* the request rode, OG_LANE_NONE (0) none */
	uint64_t dur_ns;	       /* head complete to response flushed; 0 = one callback */
	uint64_t up_ns;		       /* upstream exchange of the answering attempt, 0 none */
	uint64_t bytes_in, bytes_out;  /* of this request and its response */
	const struct config *cfg;      /* the generation the request ran on */
	const struct sockaddr *client; /* peer address */
	const struct og_req_detail *detail; /* NULL unless og_hook_detail_on() at its head */
};

static inline const char *og_req_route_name(const struct og_req_event *e)
{
	return e->route >= 0 ? e->cfg->routes[e->route].name : NULL;
}

static inline const char *og_req_upstream(const struct og_req_event *e)
{
	return e->up_srv >= 0 ? e->cfg->upstreams[e->up_srv >> 8].servers[e->up_srv & 0xff].text
			      : NULL;
}

/*
 * Consumers of what the hot path reports. ops fills this once at start (ops/hooks.c),
 * before the workers start; every entry is always callable (no-ops until then).
 * Worker thread, on the worker that served the request.
 */
struct og_hooks {
	/* a request is over: response flushed, or the connection closed mid-way */
	void (*request_done)(struct og_worker *w, const struct og_req_event *e);
	/* an upstream attempt on server <srv> of <ups> ended: <status> 0 = transport failure */
	void (*upstream_done)(struct og_worker *w, int ups, int srv, int status, uint64_t ns);
	/* upstream connections to <ups>/<srv> changed: carrying a request += <d_active>,
	 * pooled += <d_idle> */
	void (*upconn)(struct og_worker *w, int ups, int srv, int d_active, int d_idle);
	/* an error response with x-ordergate-reason <reason> was produced */
	void (*error)(struct og_worker *w, const char *reason);
	/* worker created (main thread, before it starts): attach per-worker consumer state */
	void (*worker_init)(struct og_worker *w);
};

extern struct og_hooks og_hooks;
/* 1 while a consumer wants the request details (method, path, request id) in the event:
 * the front keeps them only then. Set by ops (the access log). */
extern _Atomic int og_hook_detail;

static inline int og_hook_detail_on(void)
{
	return atomic_load_explicit(&og_hook_detail, memory_order_relaxed);
}

#endif /* OG_CORE_HOOKS_H */
