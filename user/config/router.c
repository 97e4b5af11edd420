// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Route selection: the first route in config order whose every match condition holds. */
#include <string.h>

#include "config/router.h"

static int method_ok(const struct cfg_route *r, const struct http_msg *m, const char *buf)
{
	for (int i = 0; i < r->n_methods; i++) {
		if (r->methods[i] != m->method)
			continue;
		if (m->method != HTTP_M_OTHER)
			return 1;
		/* unknown methods compare by name, case-sensitively (RFC 9110 9.1) */
		if (r->method_name_lens[i] == m->method_s.len &&
		    !memcmp(r->method_names[i], buf + m->method_s.off, m->method_s.len))
			return 1;
	}
	return 0;
}

/* Any field named header_name (case-insensitive) whose value equals header_value exactly. */
static int header_ok(const struct cfg_route *r, const struct http_msg *m, const char *buf)
{
	for (int i = 0; i < m->n_headers; i++) {
		const struct http_header *h = &m->headers[i];

		if (h->value.len == r->header_value_len &&
		    !memcmp(buf + h->value.off, r->header_value, h->value.len) &&
		    http_span_ieq(buf, h->name, r->header_name))
			return 1;
	}
	return 0;
}

int router_match(const struct config *c, const struct http_msg *m, const char *buf)
{
	const char *path = buf + m->path.off;
	uint32_t plen = m->path.len;

	/* absolute-form with nothing after the authority: the path is "/" */
	if (!plen) {
		path = "/";
		plen = 1;
	}
	for (int i = 0; i < c->n_routes; i++) {
		const struct cfg_route *r = &c->routes[i];

		if (r->path && (r->path_len != plen || memcmp(r->path, path, plen)))
			continue;
		if (r->path_prefix &&
		    (r->path_prefix_len > plen || memcmp(r->path_prefix, path, r->path_prefix_len)))
			continue;
		if (r->n_methods && !method_ok(r, m, buf))
			continue;
		if (r->header_name && !header_ok(r, m, buf))
			continue;
		return i;
	}
	return -1;
}
