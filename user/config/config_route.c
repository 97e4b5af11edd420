// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config "routes": match (path, prefix, methods, header), respond or upstream, max_body, lane,
 * limit. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
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

static int load_match_header(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_route *rt,
			     const char *where)
{
	static const char *const keys[] = {"name", "value", NULL};
	const struct cfg_node *valn = NULL;
	int r, have = 0;

	if ((r = cfg_want_map(ld, v, "\"header\"", where)))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, k, keys, NULL, where)) {
		case 0:
			r = cfg_get_header_name(ld, x, "header \"name\"", &rt->header_name);
			have |= 1;
			break;
		case 1:
			r = cfg_get_field_value(ld, x, "value", &rt->header_value);
			valn = x;
			have |= 2;
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if (have != 3)
		return cfg_fail(ld, v,
				"\"header\" needs both name and value, e.g. { name: x-lane, "
				"value: order }");
	rt->header_value_len = (uint32_t)strlen(rt->header_value);
	/* the parser trims whitespace around field values, so such a value never matches */
	if (rt->header_value_len &&
	    (isspace((unsigned char)rt->header_value[0]) ||
	     isspace((unsigned char)rt->header_value[rt->header_value_len - 1])))
		return cfg_fail(
		    ld, valn,
		    "header value has leading or trailing whitespace; request field values "
		    "are trimmed, so it would never match");
	return 0;
}

static int load_match(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_route *rt,
		      const char *where)
{
	static const char *const keys[] = {"path", "path_prefix", "method", "header", NULL};
	char mwhere[96];
	const struct cfg_node *pathn = NULL;
	int r;

	snprintf(mwhere, sizeof(mwhere), "in match of %s", where + 3);
	if ((r = cfg_want_map(ld, v, "\"match\"", where)))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, k, keys, NULL, mwhere)) {
		case 0:
		case 1:
			if (pathn)
				return cfg_fail(
				    ld, k,
				    "use either \"path\" or \"path_prefix\" in one match, "
				    "not both");
			pathn = k;
			if (!strcmp(k->s, "path")) {
				r = cfg_get_path(ld, x, "path", 1, &rt->path);
				rt->path_len = r ? 0 : (uint32_t)strlen(rt->path);
			} else {
				r = cfg_get_path(ld, x, "path_prefix", 0, &rt->path_prefix);
				rt->path_prefix_len = r ? 0 : (uint32_t)strlen(rt->path_prefix);
			}
			break;
		case 2:
			r = 0;
			if (x->type == CFG_N_SEQ) {
				if (!x->n)
					return cfg_fail(ld, x, "\"method\" lists no method");
				for (int j = 0; j < x->n && !r; j++)
					r = load_method(ld, x->kids[j], rt);
			} else {
				r = load_method(ld, x, rt);
			}
			break;
		case 3:
			r = load_match_header(ld, x, rt, mwhere);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	return 0;
}

/* Fields ordergated writes itself in a direct response. */
static const char *const own_headers[] = {"content-length", "transfer-encoding",
					  "connection",	    "keep-alive",
					  "upgrade",	    "te",
					  "trailer",	    "date",
					  "server",	    NULL};

static int load_respond(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_route *rt,
			const char *where)
{
	static const char *const keys[] = {"status", "body", "headers", NULL};
	char rwhere[96];
	const struct cfg_node *bodyn = NULL;
	uint32_t st = 0;
	int r;

	snprintf(rwhere, sizeof(rwhere), "in respond of %s", where + 3);
	if ((r = cfg_want_map(ld, v, "\"respond\"", where)))
		return r;
	rt->status = 200;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, k, keys, NULL, rwhere)) {
		case 0:
			r = cfg_get_u32(ld, x, "status", 200, 599, "", &st);
			rt->status = (uint16_t)st;
			break;
		case 1: {
			char g[64];

			if (x->type != CFG_N_SCALAR)
				return cfg_fail(ld, x, "\"body\" must be a string, got %s",
						cfg_got(x, g, sizeof(g)));
			bodyn = x;
			rt->body_len = cfg_is_null(x) ? 0 : x->len;
			rt->body = cfg_keep(ld, x->s, rt->body_len);
			r = rt->body ? 0 : cfg_oom(ld);
			break;
		}
		case 2:
			if ((r = cfg_want_map(ld, x, "\"headers\"", rwhere)))
				return r;
			if (x->n > CFG_MAX_RESP_HEADERS)
				return cfg_fail(ld, x->kids[2 * CFG_MAX_RESP_HEADERS],
						"at most %d response headers",
						CFG_MAX_RESP_HEADERS);
			for (int j = 0; j < x->n && !r; j++) {
				struct cfg_header *h = &rt->resp_headers[j];
				const struct cfg_node *hk = x->kids[2 * j];

				r = cfg_get_header_name(ld, hk, "a response header name", &h->name);
				for (int o = 0; !r && own_headers[o]; o++)
					if (!strcasecmp(h->name, own_headers[o]))
						r = cfg_fail(
						    ld, hk,
						    "response header \"%s\" is set by ordergated; "
						    "remove it",
						    h->name);
				if (!r)
					r = cfg_get_field_value(ld, x->kids[2 * j + 1], h->name,
								&h->value);
				rt->n_resp_headers = j + 1;
			}
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if ((rt->status == 204 || rt->status == 304) && rt->body_len)
		return cfg_fail(ld, bodyn, "a %u response has no body; remove \"body\"",
				rt->status);
	if (!rt->body && !(rt->body = cfg_keep(ld, "", 0)))
		return cfg_oom(ld);
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

static int load_route(struct cfg_ld *ld, int idx, const struct cfg_node *v, struct cfg_route *rt)
{
	static const char *const keys[] = {"name",	  "match", "respond", "upstream",
					   "max_body",	  "lane",  "limit",   "request_buffer",
					   "idempotency", "fault", NULL};
	const struct cfg_node *action = NULL, *match = NULL, *guard = NULL;
	char where[48];
	int r;

	snprintf(where, sizeof(where), "in route %d", idx + 1);
	rt->max_body = 1u << 20;
	rt->request_buffer = CFG_REQUEST_BUFFER_MAX;
	rt->upstream = -1;
	if ((r = cfg_want_map(ld, v, "a route", where)))
		return r;
	ld->route_node[idx] = v;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];
		int ki = cfg_key_index(ld, k, keys, NULL, where);

		if ((ki == 2 || ki == 3) && action)
			return cfg_fail(
			    ld, k,
			    "a route has exactly one action: \"respond\" or \"upstream\", "
			    "not both");
		switch (ki) {
		case 0:
			r = cfg_get_name(ld, x, "a route name", &rt->name);
			ld->route_name[idx] = x;
			break;
		case 1:
			match = k;
			r = load_match(ld, x, rt, where);
			break;
		case 2:
			action = k;
			rt->is_respond = 1;
			r = load_respond(ld, x, rt, where);
			break;
		case 3: {
			char g[64];

			action = k;
			if (x->type != CFG_N_SCALAR || cfg_is_null(x))
				return cfg_fail(ld, x, "\"upstream\" must name an upstream, got %s",
						cfg_got(x, g, sizeof(g)));
			ld->route_ups[idx] = x;
			break;
		}
		case 4:
			r = load_size(ld, x, "max_body", 64ull << 30, "64g", &rt->max_body);
			break;
		case 5:
			r = cfg_load_route_lane(ld, x, rt);
			ld->route_lane[idx] = x;
			break;
		case 6:
			r = cfg_load_route_limit(ld, x, rt, where);
			break;
		case 7: {
			uint64_t b = 0;

			r = load_size(ld, x, "request_buffer", CFG_REQUEST_BUFFER_MAX, "64k", &b);
			rt->request_buffer = (uint32_t)b;
			break;
		}
		case 8:
		case 9:
			guard = k;
			r = ki == 8 ? cfg_load_idempotency(ld, x, rt, where)
				    : cfg_load_fault(ld, x, rt, where);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if (!match)
		return cfg_fail(
		    ld, v, "route %d has no \"match\" (write match: {} to match every request)",
		    idx + 1);
	if (!action)
		return cfg_fail(ld, v, "route %d has no action: add \"respond\" or \"upstream\"",
				idx + 1);
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
