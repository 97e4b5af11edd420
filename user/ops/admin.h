/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The admin HTTP server (/metrics, /healthz, /readyz, /config) on its own thread and event_base. */
#ifndef OG_ADMIN_H
#define OG_ADMIN_H

#include <stddef.h>

struct og_daemon;

/*
 * Bind the admin listener at the running config's admin.listen (loopback by default)
 * and start the admin thread. Does nothing and returns 0 when the config turns admin off.
 * Returns 0, or -errno with "admin.listen ADDR: why" in <err> (e.g. address in use).
 * Main thread, once, after <d>->rt is set. Endpoints:
 *   GET /metrics  Prometheus text 0.0.4 (metrics_render)
 *   GET /healthz  200 "ok" while the process runs
 *   GET /readyz   200 "ready" or 503 with the reason (admin_ready)
 *   GET /config   the effective config as YAML (config_dump; the token file's path only)
 *   GET /lanes    per-lane limit, in-flight, last window's p50/p99, counts (JSON)
 *   GET /limits   the controller's limits and overrides (JSON)
 *   POST /limits  set an override with a TTL (admin_limits_post)
 *   GET /faults   per route: the config's fault, a runtime override and its TTL, counts (JSON)
 *   POST /faults  set a route's fault override with a TTL (admin_faults_post)
 *   POST /reload  reload the config file like SIGHUP
 * The POSTs change state: they need "Authorization: Bearer TOKEN" (admin.token_file); 401
 * without it, 403 when no token is configured. Other paths get 404; other methods than
 * GET/HEAD (and POST where listed) get 405.
 */
int admin_start(struct og_daemon *d, char *err, size_t errlen);
/* POST /limits: lane=L&limit=N&ttl_ms=T or route=R&rps=N&burst=B&ttl_ms=T, as query
 * arguments or a flat JSON body. Returns 0 or -errno with the reason in <err>. */
struct evhttp_request;
int admin_limits_post(struct evhttp_request *req, char *err, size_t errlen);
/* POST /faults: route=R&delay_ms=D&delay_jitter_ms=J&delay_percent=P&abort_status=S&
 * abort_percent=A&ttl_ms=T (ttl_ms=0 removes), as query arguments or a flat JSON body.
 * Returns 0 or -errno with the reason in <err>. */
int admin_faults_post(struct evhttp_request *req, char *err, size_t errlen);
/* The GET /faults document into <out>. */
struct evbuffer;
void admin_faults_render(struct evbuffer *out);
/* The admin endpoints on <base> (no socket, no thread): admin_start uses it, and so does
 * tests/fuzz/fuzz_admin.c, which drives requests through it in one thread. POST /reload
 * calls <reload> once authorized (admin.token_file; without one nothing changes state). */
struct event_base;
struct evhttp;
struct evhttp *admin_http_new(struct event_base *base, struct og_daemon *d, void (*reload)(void));
/* Stop the admin thread and close its listener. Main thread; safe when not started. */
void admin_stop(void);

#endif /* OG_ADMIN_H */
