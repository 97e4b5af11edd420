// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Router: requests parsed by the real HTTP parser against a loaded config; first match wins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/og_test.h"
#include "config/config.h"
#include "http/http_parse.h"
#include "config/router.h"

static const char routes_yaml[] =
    "upstreams:\n"
    "  o: { servers: [\"127.0.0.1:1\"] }\n"
    "routes:\n"
    "  - name: ping\n"
    "    match: { path: /ping }\n"
    "    respond: { status: 200, body: pong }\n"
    "  - name: orders_post\n"
    "    match: { path_prefix: /api/v1/orders, method: POST }\n"
    "    upstream: o\n"
    "  - name: orders_read\n"
    "    match: { path_prefix: /api/v1/orders, method: [GET, HEAD] }\n"
    "    upstream: o\n"
    "  - name: purge\n"
    "    match: { path_prefix: /cache/, method: PURGE }\n"
    "    respond: { status: 200 }\n"
    "  - name: lane_order\n"
    "    match: { path_prefix: /api/, header: { name: X-Lane, value: order } }\n"
    "    upstream: o\n"
    "  - name: api\n"
    "    match: { path_prefix: /api/ }\n"
    "    upstream: o\n"
    "  - name: shadowed\n" /* after the /api/ prefix: never reached */
    "    match: { path: /api/special }\n"
    "    respond: { status: 200 }\n"
    "  - name: root\n"
    "    match: { path: / }\n"
    "    respond: { status: 200 }\n"
    "  - name: star\n"
    "    match: { path: \"*\", method: OPTIONS }\n"
    "    respond: { status: 204 }\n"
    "  - name: post_only_header\n"
    "    match: { method: [PUT], header: { name: x-k, value: \"\" } }\n"
    "    respond: { status: 200 }\n";

struct rcase {
	const char *req;
	const char *route; /* expected route name, NULL = no match */
};

#define H "Host: h\r\n"
static const struct rcase cases[] = {
    {"GET /ping HTTP/1.1\r\n" H "\r\n", "ping"},
    {"GET /ping?x=1 HTTP/1.1\r\n" H "\r\n", "ping"},
    {"HEAD /ping HTTP/1.1\r\n" H "\r\n", "ping"},
    {"GET /ping/ HTTP/1.1\r\n" H "\r\n", NULL},
    {"GET /pingx HTTP/1.1\r\n" H "\r\n", NULL},
    {"GET /pin HTTP/1.1\r\n" H "\r\n", NULL},
    {"GET /PING HTTP/1.1\r\n" H "\r\n", NULL},
    {"POST /api/v1/orders HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", "orders_post"},
    {"POST /api/v1/orders/123 HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", "orders_post"},
    {"POST /api/v1/ordersX HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", "orders_post"},
    {"GET /api/v1/orders/1 HTTP/1.1\r\n" H "\r\n", "orders_read"},
    {"HEAD /api/v1/orders HTTP/1.1\r\n" H "\r\n", "orders_read"},
    {"DELETE /api/v1/orders/1 HTTP/1.1\r\n" H "\r\n", "api"},
    {"PATCH /api/v1/orders/1 HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", "api"},
    {"PURGE /cache/x HTTP/1.1\r\n" H "\r\n", "purge"},
    {"PURGEX /cache/x HTTP/1.1\r\n" H "\r\n", NULL},
    {"PURG /cache/x HTTP/1.1\r\n" H "\r\n", NULL},
    {"GET /cache/x HTTP/1.1\r\n" H "\r\n", NULL},
    {"GET /api/x HTTP/1.1\r\n" H "x-lane: order\r\n\r\n", "lane_order"},
    {"GET /api/x HTTP/1.1\r\n" H "X-LANE:   order  \r\n\r\n", "lane_order"},
    {"GET /api/x HTTP/1.1\r\n" H "X-Lane: Order\r\n\r\n", "api"},
    {"GET /api/x HTTP/1.1\r\n" H "X-Lane: order2\r\n\r\n", "api"},
    {"GET /api/x HTTP/1.1\r\n" H "X-Lanes: order\r\n\r\n", "api"},
    {"GET /api/x HTTP/1.1\r\n" H "X-Lane: bulk\r\nX-Lane: order\r\n\r\n", "lane_order"},
    {"GET /api/v1/orders HTTP/1.1\r\n" H "X-Lane: order\r\n\r\n", "orders_read"},
    {"GET /api/special HTTP/1.1\r\n" H "\r\n", "api"},
    {"GET /api HTTP/1.1\r\n" H "\r\n", NULL},
    {"GET / HTTP/1.1\r\n" H "\r\n", "root"},
    {"GET /?q HTTP/1.1\r\n" H "\r\n", "root"},
    {"OPTIONS * HTTP/1.1\r\n" H "\r\n", "star"},
    {"GET http://example.com/api/x HTTP/1.1\r\nHost: example.com\r\n\r\n", "api"},
    {"GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", "root"},
    {"PUT /z HTTP/1.1\r\n" H "x-k:\r\nContent-Length: 0\r\n\r\n", "post_only_header"},
    {"PUT /z HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", NULL},
    {"GET /z HTTP/1.0\r\n\r\n", NULL},
};

static int parse(const char *req, struct http_msg *m)
{
	http_msg_init(m);
	return http_parse_request_head(m, req, strlen(req));
}

int main(void)
{
	char err[512] = "";
	struct config *c = config_load_string(routes_yaml, sizeof(routes_yaml) - 1, "routes.yaml",
					      err, sizeof(err));
	struct config *empty;
	struct http_msg *m = calloc(1, sizeof(*m));
	struct timespec t0, t1;
	int idx = -1;

	OK(c != NULL, "routes config loads (%s)", err);
	if (!c || !m)
		return og_done();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *k = &cases[i];
		int r = parse(k->req, m);
		const char *got;

		if (r <= 0) {
			OK(0, "case %zu parses (%d): %.40s", i + 1, r, k->req);
			continue;
		}
		idx = router_match(c, m, k->req);
		got = idx >= 0 ? c->routes[idx].name : NULL;
		OK((!got && !k->route) || (got && k->route && !strcmp(got, k->route)),
		   "case %zu: %.*s -> %s (got %s)", i + 1, (int)strcspn(k->req, "\r"), k->req,
		   k->route ? k->route : "none", got ? got : "none");
	}

	/* A config without routes answers nothing; match: {} answers everything. */
	empty = config_load_string("listen: [\":1\"]\n", 15, "e.yaml", err, sizeof(err));
	OK(empty && parse(cases[0].req, m) > 0 && router_match(empty, m, cases[0].req) == -1,
	   "no routes: -1 (%s)", empty ? "ok" : err);
	config_free(empty);
	empty = config_load_string("routes: [ { match: {}, respond: {} } ]\n", 38, "a.yaml", err,
				   sizeof(err));
	OK(empty && parse("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", m) > 0 &&
	       router_match(empty, m, "BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n") == 0,
	   "match {} matches any method and path (%s)", empty ? "ok" : err);
	config_free(empty);

	/* Not a benchmark gate (the box is shared), just a figure for the report. */
	{
		const char *req = "GET /api/x HTTP/1.1\r\nHost: h\r\nX-Lane: bulk\r\n\r\n";
		long n = 2000000, sum = 0;
		double ns;

		parse(req, m);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (long i = 0; i < n; i++)
			sum += router_match(c, m, req);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
		     (double)n;
		OK(sum == 5 * n, "timing loop matched route \"api\" every time");
		og_diag("router_match: %.1f ns per request through 6 routes", ns);
	}
	free(m);
	config_free(c);
	return og_done();
}
