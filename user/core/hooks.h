/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one narrow interface from the hot path to metrics, the access log and the lane controller. */
#ifndef OG_CORE_HOOKS_H
#define OG_CORE_HOOKS_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

struct og_worker;

/*
 * What happened to one request, as the front and the proxy saw it: all a consumer gets,
 * so none of them reads request internals. Pointers are valid only during the call.
 */
struct og_req_event {
	int16_t route;			/* route index, -1 none */
	uint8_t lane;			/* OG_LANE_* the request rode, OG_LANE_NONE (0) none */
	uint16_t status;		/* status sent, 0 = closed unanswered */
	uint64_t dur_ns;		/* head complete to response flushed; 0 = in one callback */
	uint64_t up_ns;			/* upstream exchange of the answering attempt, 0 none */
	uint64_t bytes_in, bytes_out;	/* of this request and its response */
	const char *route_name;		/* NULL when no route matched */
	const char *upstream;		/* server that answered ("host:port"), NULL none */
	const struct sockaddr *client;	/* peer address */
	const char *req_id;		/* the rest only while og_hook_detail_on() (access log) */
	const char *method, *path;	/* NULL when the parser refused the head */
	uint16_t req_id_len, method_len, path_len;
};

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
