// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config "routes": match (path, prefix, methods, header), respond or upstream, max_body, lane,
 * limit. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_keys.h"
#include "http/http_parse.h"

static const struct {
	const char *name;
	int id;
} methods[] = {
    {"GET", HTTP_M_GET},	 {"HEAD", HTTP_M_HEAD},	    {"POST", HTTP_M_POST},
    {"PUT", HTTP_M_PUT},	 {"DELETE", HTTP_M_DELETE}, {"PATCH", HTTP_M_PATCH},
    {"OPTIONS", HTTP_M_OPTIONS}, {"TRACE", HTTP_M_TRACE},   {"CONNECT", HTTP_M_CONNECT},
};

static int load_method(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_route *rt)
{
	char g[64], up[HTTP_MAX_METHOD + 1];
	int id = HTTP_M_OTHER, i = rt->n_methods;

	if (v->type != CFG_N_SCALAR || !cfg_is_token(v->s, v->len) || v->len > HTTP_MAX_METHOD)
		return cfg_fail(ld, v, "\"method\" must be a method name like GET, got %s",
				cfg_got(v, g, sizeof(g)));
	for (size_t j = 0; j <= v->len; j++)
		up[j] = (char)toupper((unsigned char)v->s[j]);
	for (size_t j = 0; j < sizeof(methods) / sizeof(methods[0]); j++) {
		if (!strcmp(v->s, methods[j].name))
			id = methods[j].id;
		else if (!strcmp(up, methods[j].name))
			return cfg_fail(
			    ld, v,
			    "method %s never matches: methods are case-sensitive (did you "
			    "mean \"%s\"?)",
			    cfg_got(v, g, sizeof(g)), methods[j].name);
	}
	if (i >= CFG_MAX_METHODS)
		return cfg_fail(ld, v, "a route lists at most %d methods", CFG_MAX_METHODS);
	for (int j = 0; j < i; j++)
		if (!strcmp(rt->method_names[j], v->s))
			return cfg_fail(ld, v, "method %s is listed twice",
					cfg_got(v, g, sizeof(g)));
	rt->methods[i] = id;
	rt->method_names[i] = cfg_keep(ld, v->s, v->len);
	if (!rt->method_names[i])
		return cfg_oom(ld);
	rt->method_name_lens[i] = (uint32_t)v->len;
	rt->n_methods = i + 1;
	return 0;
}

static int load_header_name(const struct cfg_walk *w, const struct cfg_key *d,
			    const struct cfg_node *k, const struct cfg_node *v)
{
	struct cfg_route *rt = w->obj;

	return cfg_get_header_name(w->ld, v, "header \"name\"", &rt->header_name);
}

static int load_header_value(const struct cfg_walk *w, const struct cfg_key *d,
			     const struct cfg_node *k, const struct cfg_node *v)
{
	struct cfg_route *rt = w->obj;

	return cfg_get_field_value(w->ld, v, "value", &rt->header_value);
}

static int load_match_header(const struct cfg_walk *w, const struct cfg_key *d,
			     const struct cfg_node *k, const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_FN("name", load_header_name),
	    CFG_FN("value", load_header_value),
	    CFG_KEYS_END,
	};
	struct cfg_seen seen[CFG_MAX_KEYS] = {0};
	struct cfg_route *rt = w->obj;
	struct cfg_ld *ld = w->ld;
	int r;

	if ((r = cfg_want_map(ld, v, "\"header\"", w->where)) ||
	    (r = cfg_walk_keys(&(struct cfg_walk){ld, rt, w->where, seen}, v, keys)))
		return r;
	if (!cfg_seen_key(seen, keys, "name").v || !cfg_seen_key(seen, keys, "value").v)
		return cfg_fail(ld, v,
				"\"header\" needs both name and value, e.g. { name: x-lane, "
				"value: order }");
	rt->header_value_len = (uint32_t)strlen(rt->header_value);
	/* the parser trims whitespace around field values, so such a value never matches */
	if (rt->header_value_len &&
	    (isspace((unsigned char)rt->header_value[0]) ||
	     isspace((unsigned char)rt->header_value[rt->header_value_len - 1])))
		return cfg_fail(
		    ld, cfg_seen_key(seen, keys, "value").v,
		    "header value has leading or trailing whitespace; request field values "
		    "are trimmed, so it would never match");
	return 0;
}

/* match.path or match.path_prefix: one of them. */
static int load_path(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		     const struct cfg_node *v)
{
	struct cfg_route *rt = w->obj;
	int r;

	if (rt->path || rt->path_prefix)
		return cfg_fail(w->ld, k,
				"use either \"path\" or \"path_prefix\" in one match, not both");
	if (!strcmp(d->name, "path")) {
		r = cfg_get_path(w->ld, v, "path", 1, &rt->path);
		rt->path_len = r ? 0 : (uint32_t)strlen(rt->path);
	} else {
		r = cfg_get_path(w->ld, v, "path_prefix", 0, &rt->path_prefix);
		rt->path_prefix_len = r ? 0 : (uint32_t)strlen(rt->path_prefix);
	}
	return r;
}

/* match.method: one method or a list. */
static int load_methods(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
			const struct cfg_node *v)
{
	int r = 0;

	if (v->type != CFG_N_SEQ)
		return load_method(w->ld, v, w->obj);
	if (!v->n)
		return cfg_fail(w->ld, v, "\"method\" lists no method");
	for (int j = 0; j < v->n && !r; j++)
		r = load_method(w->ld, v->kids[j], w->obj);
	return r;
}

static int load_match(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		      const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_FN("path", load_path),
	    CFG_FN("path_prefix", load_path),
	    CFG_FN("method", load_methods),
	    CFG_FN("header", load_match_header),
	    CFG_KEYS_END,
	};
	char mwhere[96];
	int r;

	if ((r = cfg_want_part(w, v, "match", mwhere, sizeof(mwhere))))
		return r;
	return cfg_walk_keys(&(struct cfg_walk){w->ld, w->obj, mwhere}, v, keys);
}

/* Fields ordergated writes itself in a direct response. */
static const char *const own_headers[] = {"content-length", "transfer-encoding",
					  "connection",	    "keep-alive",
					  "upgrade",	    "te",
					  "trailer",	    "date",
					  "server",	    NULL};

static int load_status(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		       const struct cfg_node *v)
{
	struct cfg_route *rt = w->obj;
	uint32_t st = 0;
	int r = cfg_get_u32(w->ld, v, "status", 200, 599, "", &st);

	rt->status = (uint16_t)st;
	return r;
}

static int load_body(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		     const struct cfg_node *v)
{
	struct cfg_route *rt = w->obj;
	char g[64];

	if (v->type != CFG_N_SCALAR)
		return cfg_fail(w->ld, v, "\"body\" must be a string, got %s",
				cfg_got(v, g, sizeof(g)));
	rt->body_len = cfg_is_null(v) ? 0 : v->len;
	rt->body = cfg_keep(w->ld, v->s, rt->body_len);
	return rt->body ? 0 : cfg_oom(w->ld);
}

static int load_resp_headers(const struct cfg_walk *w, const struct cfg_key *d,
			     const struct cfg_node *k, const struct cfg_node *x)
{
	struct cfg_route *rt = w->obj;
	struct cfg_ld *ld = w->ld;
	int r;

	if ((r = cfg_want_map(ld, x, "\"headers\"", w->where)))
		return r;
	if (x->n > CFG_MAX_RESP_HEADERS)
		return cfg_fail(ld, x->kids[2 * CFG_MAX_RESP_HEADERS],
				"at most %d response headers", CFG_MAX_RESP_HEADERS);
	for (int j = 0; j < x->n && !r; j++) {
		struct cfg_header *h = &rt->resp_headers[j];
		const struct cfg_node *hk = x->kids[2 * j];

		r = cfg_get_header_name(ld, hk, "a response header name", &h->name);
		for (int o = 0; !r && own_headers[o]; o++)
			if (!strcasecmp(h->name, own_headers[o]))
				r = cfg_fail(
				    ld, hk,
				    "response header \"%s\" is set by ordergated; remove it",
				    h->name);
		if (!r)
			r = cfg_get_field_value(ld, x->kids[2 * j + 1], h->name, &h->value);
		rt->n_resp_headers = j + 1;
	}
	return r;
}

/* A route's one action, respond: or upstream:, the other not written before it. */
static int one_action(const struct cfg_walk *w, const struct cfg_node *k)
{
	const struct cfg_route *rt = w->obj;

	if (rt->is_respond || w->ld->route_ups[rt - w->ld->c->routes])
		return cfg_fail(w->ld, k,
				"a route has exactly one action: \"respond\" or \"upstream\", "
				"not both");
	return 0;
}

static int load_respond(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
			const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_FN("status", load_status),
	    CFG_FN("body", load_body),
	    CFG_FN("headers", load_resp_headers),
	    CFG_KEYS_END,
	};
	struct cfg_seen seen[CFG_MAX_KEYS] = {0};
	struct cfg_route *rt = w->obj;
	struct cfg_ld *ld = w->ld;
	char rwhere[96];
	int r;

	if ((r = one_action(w, k)))
		return r;
	rt->is_respond = 1;
	if ((r = cfg_want_part(w, v, "respond", rwhere, sizeof(rwhere))))
		return r;
	rt->status = 200;
	if ((r = cfg_walk_keys(&(struct cfg_walk){ld, rt, rwhere, seen}, v, keys)))
		return r;
	if ((rt->status == 204 || rt->status == 304) && rt->body_len)
		return cfg_fail(ld, cfg_seen_key(seen, keys, "body").v,
				"a %u response has no body; remove \"body\"", rt->status);
	if (!rt->body && !(rt->body = cfg_keep(ld, "", 0)))
		return cfg_oom(ld);
	return 0;
}

static int load_upstream_name(const struct cfg_walk *w, const struct cfg_key *d,
			      const struct cfg_node *k, const struct cfg_node *v)
{
	const struct cfg_route *rt = w->obj;
	char g[64];
	int r;

	if ((r = one_action(w, k)))
		return r;
	if (v->type != CFG_N_SCALAR || cfg_is_null(v))
		return cfg_fail(w->ld, v, "\"upstream\" must name an upstream, got %s",
				cfg_got(v, g, sizeof(g)));
	w->ld->route_ups[rt - w->ld->c->routes] = v;
	return 0;
}

/* 1048576, "512k", "10m", "1g" (binary units), at most <max> bytes (<maxs> as written). */
static int load_size(struct cfg_ld *ld, const struct cfg_node *v, const char *key, uint64_t max,
		     const char *maxs, uint64_t *out)
{
	unsigned long long x = 0, mul = 1;
	size_t n = v->len;
	char g[64];

	if (v->type != CFG_N_SCALAR || !n || n > 14)
		goto bad;
	switch (tolower((unsigned char)v->s[n - 1])) {
	case 'k':
		mul = 1ull << 10;
		n--;
		break;
	case 'm':
		mul = 1ull << 20;
		n--;
		break;
	case 'g':
		mul = 1ull << 30;
		n--;
		break;
	}
	if (!n)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (v->s[i] < '0' || v->s[i] > '9')
			goto bad;
		x = x * 10 + (unsigned)(v->s[i] - '0');
	}
	if (x > max / mul)
		goto bad;
	*out = x * mul;
	return 0;
bad:
	return cfg_fail(ld, v,
			"\"%s\" must be a size in bytes (1048576) or with a k, m or g suffix "
			"(\"10m\"), at most %s, got %s",
			key, maxs, cfg_got(v, g, sizeof(g)));
}

static int load_max_body(const struct cfg_walk *w, const struct cfg_key *d,
			 const struct cfg_node *k, const struct cfg_node *v)
{
	struct cfg_route *rt = w->obj;

	return load_size(w->ld, v, "max_body", 64ull << 30, "64g", &rt->max_body);
}

static int load_request_buffer(const struct cfg_walk *w, const struct cfg_key *d,
			       const struct cfg_node *k, const struct cfg_node *v)
{
	struct cfg_route *rt = w->obj;
	uint64_t b = 0;
	int r = load_size(w->ld, v, "request_buffer", CFG_REQUEST_BUFFER_MAX, "64k", &b);

	rt->request_buffer = (uint32_t)b;
	return r;
}

/* Of two key nodes (either may be NULL), the one written last. */
static const struct cfg_node *later(const struct cfg_node *a, const struct cfg_node *b)
{
	if (!a || !b)
		return a ? a : b;
	return a->line > b->line || (a->line == b->line && a->col > b->col) ? a : b;
}

static int load_route(struct cfg_ld *ld, int idx, const struct cfg_node *v, struct cfg_route *rt)
{
	static const struct cfg_key keys[] = {
	    CFG_NAME(struct cfg_route, "name", name, "a route name"),
	    CFG_FN("match", load_match),
	    CFG_FN("respond", load_respond),
	    CFG_FN("upstream", load_upstream_name),
	    CFG_FN("max_body", load_max_body),
	    CFG_FN("lane", cfg_load_route_lane),
	    CFG_FN("limit", cfg_load_route_limit),
	    CFG_FN("request_buffer", load_request_buffer),
	    CFG_FN("idempotency", cfg_load_idempotency),
	    CFG_FN("fault", cfg_load_fault),
	    CFG_KEYS_END,
	};
	struct cfg_seen seen[CFG_MAX_KEYS] = {0};
	const struct cfg_node *guard;
	char where[48];
	int r;

	snprintf(where, sizeof(where), "in route %d", idx + 1);
	rt->max_body = 1u << 20;
	rt->request_buffer = CFG_REQUEST_BUFFER_MAX;
	rt->upstream = -1;
	if ((r = cfg_want_map(ld, v, "a route", where)))
		return r;
	ld->route_node[idx] = v;
	r = cfg_walk_keys(&(struct cfg_walk){ld, rt, where, seen}, v, keys);
	ld->route_name[idx] = cfg_seen_key(seen, keys, "name").v;
	ld->route_lane[idx] = cfg_seen_key(seen, keys, "lane").v;
	if (r)
		return r;
	if (!cfg_seen_key(seen, keys, "match").k)
		return cfg_fail(
		    ld, v, "route %d has no \"match\" (write match: {} to match every request)",
		    idx + 1);
	if (!rt->is_respond && !ld->route_ups[idx])
		return cfg_fail(ld, v, "route %d has no action: add \"respond\" or \"upstream\"",
				idx + 1);
	guard =
	    later(cfg_seen_key(seen, keys, "idempotency").k, cfg_seen_key(seen, keys, "fault").k);
	if (guard && rt->is_respond)
		return cfg_fail(ld, guard,
				"\"%s\" acts on the upstream exchange: route %d answers with "
				"\"respond\"",
				guard->s, idx + 1);
	return 0;
}

int cfg_load_routes(struct cfg_ld *ld, const struct cfg_node *v)
{
	struct config *c = ld->c;
	char g[64];
	int r;

	if (v->type != CFG_N_SEQ)
		return cfg_fail(ld, v, "\"routes\" must be a list of routes, got %s",
				cfg_got(v, g, sizeof(g)));
	if (v->n > CFG_MAX_ROUTES)
		return cfg_fail(ld, v->kids[CFG_MAX_ROUTES], "at most %d routes", CFG_MAX_ROUTES);
	for (int i = 0; i < v->n; i++) {
		c->n_routes = i + 1;
		if ((r = load_route(ld, i, v->kids[i], &c->routes[i])))
			return r;
	}
	return 0;
}

/* After the walk: route names (given or route<N>) unique, upstream names resolved. */
int cfg_finish_routes(struct cfg_ld *ld)
{
	struct config *c = ld->c;
	char gen[32];

	for (int i = 0; i < c->n_routes; i++) {
		struct cfg_route *rt = &c->routes[i];

		if (!rt->name) {
			snprintf(gen, sizeof(gen), "route%d", i + 1);
			if (!(rt->name = cfg_keep(ld, gen, strlen(gen))))
				return cfg_oom(ld);
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(c->routes[j].name, rt->name))
				return cfg_fail(
				    ld, ld->route_name[i] ? ld->route_name[i] : ld->route_node[i],
				    "route name \"%s\" is already used by route %d", rt->name,
				    j + 1);
		if (rt->is_respond)
			continue;
		for (int u = 0; u < c->n_upstreams; u++)
			if (!strcmp(c->upstreams[u].name, ld->route_ups[i]->s) &&
			    strlen(ld->route_ups[i]->s) == ld->route_ups[i]->len)
				rt->upstream = u;
		if (rt->upstream < 0) {
			char g[64];

			return cfg_fail(ld, ld->route_ups[i],
					"route %d names upstream %s, which is not defined%s", i + 1,
					cfg_got(ld->route_ups[i], g, sizeof(g)),
					c->n_upstreams ? " under \"upstreams\""
						       : " (there is no \"upstreams\" section)");
		}
	}
	return 0;
}
