/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-worker request metrics (single writer, no locks) and their Prometheus rendering. */
#ifndef OG_METRICS_H
#define OG_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "config/config.h"
#include "lib/histo.h"

struct evbuffer;
struct og_daemon;

/* Index used for requests that matched no route (parse errors, 404 no-route). */
#define METRICS_NO_ROUTE CFG_MAX_ROUTES

/*
 * x-ordergate-reason values counted in ordergate_errors_total{reason}. metrics_error()
 * maps the reason string to one of these; anything unknown counts as "other".
 */
#define METRICS_REASONS(X)                                                                         \
	X(OTHER, "other")                                                                          \
	X(BAD_REQUEST, "bad-request")                                                              \
	X(INCOMPLETE_REQUEST, "incomplete-request")                                                \
	X(REQUEST_TIMEOUT, "request-timeout")                                                      \
	X(BODY_TOO_LARGE, "body-too-large")                                                        \
	X(URI_TOO_LONG, "uri-too-long")                                                            \
	X(HEADERS_TOO_LARGE, "headers-too-large")                                                  \
	X(EXPECTATION_FAILED, "expectation-failed")                                                \
	X(NOT_IMPLEMENTED, "not-implemented")                                                      \
	X(VERSION_NOT_SUPPORTED, "version-not-supported")                                          \
	X(NO_ROUTE, "no-route")                                                                    \
	X(CONNECT_REFUSED, "connect-refused")                                                      \
	X(CONNECT_TIMEOUT, "connect-timeout")                                                      \
	X(CONNECT_FAILED, "connect-failed")                                                        \
	X(UPSTREAM_RESET, "upstream-reset")                                                        \
	X(UPSTREAM_CLOSED, "upstream-closed")                                                      \
	X(UPSTREAM_TIMEOUT, "upstream-timeout")                                                    \
	X(BAD_UPSTREAM_RESPONSE, "bad-upstream-response")                                          \
	X(BAD_CHUNKED_BODY, "bad-chunked-body")                                                    \
	X(BODY_TIMEOUT, "body-timeout")                                                            \
	X(NO_HEALTHY_SERVER, "no-healthy-server")                                                  \
	X(BREAKER_OPEN, "breaker-open")                                                            \
	X(OVERLOADED, "overloaded")                                                                \
	X(RATE_LIMITED, "rate-limited")                                                            \
	X(LANE_SHED, "lane-shed")                                                                  \
	X(SHUTTING_DOWN, "shutting-down")                                                          \
	X(FAULT_ABORT, "fault-abort")                                                              \
	X(IDEM_KEY_INVALID, "idempotency-key-invalid")                                             \
	X(IDEM_IN_FLIGHT, "idempotency-in-flight")                                                 \
	X(IDEM_NOT_REPLAYABLE, "idempotency-not-replayable")                                       \
	X(IDEM_KEY_REUSED, "idempotency-key-reused")                                               \
	X(IDEM_TABLE_FULL, "idempotency-table-full")

#define METRICS_REASON_ENUM(id, s) OG_REASON_##id,
enum og_reason { METRICS_REASONS(METRICS_REASON_ENUM) OG_REASON__N };
#undef METRICS_REASON_ENUM

/* Response status classes: [1]=1xx .. [5]=5xx; [0]=no response (closed unanswered /
 * upstream transport failure). */
#define METRICS_NCLASS 6

/*
 * One worker's metrics. Written only by its worker thread with relaxed load + store
 * (plain `add` instructions, no lock prefix); read by the admin thread when scraped.
 * Indexed by route / upstream / server index in the running config: a reload that
 * reorders routes or servers carries old counts over to whatever now holds that index
 * (Prometheus sees a counter keep going; a restart is the way to get clean series).
 * Sized for the config maximums (about 1 MiB of zeroed memory; untouched pages cost no RSS).
 */
struct metrics_worker {
	_Atomic uint64_t route_cls[CFG_MAX_ROUTES + 1][METRICS_NCLASS]; /* requests answered */
	struct og_histo route_dur[CFG_MAX_ROUTES + 1]; /* first head byte .. last response byte */
	struct og_histo up_dur[CFG_MAX_UPSTREAMS];     /* request sent .. response complete */
	_Atomic uint64_t srv_cls[CFG_MAX_UPSTREAMS][CFG_MAX_SERVERS][METRICS_NCLASS];
	_Atomic int64_t srv_active[CFG_MAX_UPSTREAMS][CFG_MAX_SERVERS]; /* gauge: conns busy */
	_Atomic int64_t srv_idle[CFG_MAX_UPSTREAMS][CFG_MAX_SERVERS];	/* gauge: conns pooled */
	_Atomic uint64_t reasons[OG_REASON__N]; /* error responses by x-ordergate-reason */
};

#define METRICS_ADD_(p, n)                                                                         \
	atomic_store_explicit((p), atomic_load_explicit((p), memory_order_relaxed) + (n),          \
			      memory_order_relaxed)

/* Status class index of HTTP <status> (0 for "no response"). */
static inline unsigned metrics_class(int status)
{
	unsigned c = (unsigned)status / 100u;

	return c < METRICS_NCLASS ? c : 0;
}

/*
 * A client request is finished: <route> index (-1 when none matched), final <status>
 * (0 when the connection closed unanswered), <dur_ns> from the first head byte read to the
 * last response byte written. Worker thread of <m> only; <m> may be NULL (metrics off).
 */
static inline void metrics_req_done(struct metrics_worker *m, int route, int status,
				    uint64_t dur_ns)
{
	unsigned r = (unsigned)route < CFG_MAX_ROUTES ? (unsigned)route : METRICS_NO_ROUTE;

	if (!m)
		return;
	METRICS_ADD_(&m->route_cls[r][metrics_class(status)], 1);
	histo_record(&m->route_dur[r], dur_ns);
}

/*
 * One upstream exchange finished: upstream <up> index, server <srv> index within it,
 * <dur_ns> from the first request byte written to the response complete (or failure),
 * upstream <status> (0 when the exchange failed without a response). Worker thread only.
 */
static inline void metrics_upstream_done(struct metrics_worker *m, int up, int srv, uint64_t dur_ns,
					 int status)
{
	if (!m || (unsigned)up >= CFG_MAX_UPSTREAMS || (unsigned)srv >= CFG_MAX_SERVERS)
		return;
	METRICS_ADD_(&m->srv_cls[up][srv][metrics_class(status)], 1);
	histo_record(&m->up_dur[up], dur_ns);
}

/*
 * Upstream pool gauges for server <srv> of upstream <up>: add <d_active> to the
 * connections carrying a request and <d_idle> to the pooled idle ones (e.g. +1/-1 when
 * a pooled connection is taken). Worker thread only.
 */
static inline void metrics_upconn(struct metrics_worker *m, int up, int srv, int d_active,
				  int d_idle)
{
	if (!m || (unsigned)up >= CFG_MAX_UPSTREAMS || (unsigned)srv >= CFG_MAX_SERVERS)
		return;
	if (d_active)
		METRICS_ADD_(&m->srv_active[up][srv], d_active);
	if (d_idle)
		METRICS_ADD_(&m->srv_idle[up][srv], d_idle);
}

/* Map an x-ordergate-reason string to its index (OG_REASON_OTHER when unknown). O(reasons)
 * strcmp: for the error path only. Any thread. */
enum og_reason metrics_reason(const char *reason);
/* The reason string of <r> ("other" when out of range). */
const char *metrics_reason_name(enum og_reason r);

/* Count an error response with x-ordergate-reason <reason>. Worker thread; <m> may be NULL. */
static inline void metrics_error(struct metrics_worker *m, const char *reason)
{
	if (m)
		METRICS_ADD_(&m->reasons[metrics_reason(reason)], 1);
}

/*
 * Merge route <route>'s duration histogram (-1: requests with no route) over every worker
 * of <d> into <out> (added to what <out> holds). With histo_quantile_us() this gives the
 * p50/p99 the lane controller compares with its SLOs. Any thread; relaxed reads, no lock.
 */
void metrics_route_histo(const struct og_daemon *d, int route, struct og_histo_snap *out);
/* Same for upstream <up>'s exchange-duration histogram. */
void metrics_upstream_histo(const struct og_daemon *d, int up, struct og_histo_snap *out);

/* Allocate a zeroed per-worker block; NULL on ENOMEM. Main thread, before the worker runs. */
struct metrics_worker *metrics_worker_new(void);
/* Free a block from metrics_worker_new (after its worker thread ended); NULL is fine. */
void metrics_worker_free(struct metrics_worker *m);

/*
 * Append the Prometheus text format (0.0.4) of daemon <d> to <out>: merges every worker's
 * og_wstats and metrics_worker with relaxed reads, labels series with names from the
 * running config. Any thread (the admin thread); takes no lock. Returns 0 or -ENOMEM.
 */
int metrics_render(struct evbuffer *out, const struct og_daemon *d);

/* Append the idempotency and fault-injection series of runtime <rt> (metrics_guard.c). */
struct og_rt;
void metrics_render_guards(struct evbuffer *out, const struct og_rt *rt);

#endif /* OG_METRICS_H */
