// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config "lanes" and a route's "lane" and "limit": schema and cross-checks. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

_Static_assert(OG_LANE_ORDER == 1 && OG_LANE_NORMAL == 2 && OG_LANE_BULK == 3 && OG_LANE_MAX == 4,
	       "lane ids are the interface between config, lanes and the kernel");

static const char *const lane_names[OG_LANE_MAX] = {NULL, "order", "normal", "bulk"};

int cfg_get_bool(struct cfg_ld *ld, const struct cfg_node *v, const char *key, int *out)
{
	char g[64];

	if (cfg_is_plain_word(v, "true")) {
		*out = 1;
		return 0;
	}
	if (cfg_is_plain_word(v, "false")) {
		*out = 0;
		return 0;
	}
	return cfg_fail(ld, v, "\"%s\" must be true or false, got %s", key,
			cfg_got(v, g, sizeof(g)));
}

int cfg_get_decimal(struct cfg_ld *ld, const struct cfg_node *v, const char *key, double lo,
		    double hi, double *out)
{
	uint64_t mant = 0, scale = 1;
	int dot = 0, digits = 0;
	char g[64];
	double x;

	if (v->type != CFG_N_SCALAR || !v->len || v->len > 12)
		goto bad;
	for (size_t i = 0; i < v->len; i++) {
		char ch = v->s[i];

		if (ch == '.' && !dot) {
			dot = 1;
			continue;
		}
		if (ch < '0' || ch > '9')
			goto bad;
		digits++;
		mant = mant * 10 + (uint64_t)(ch - '0');
		if (dot)
			scale *= 10;
	}
	/* one correctly rounded division: "0.7" gives the same double as the literal 0.7 */
	x = (double)mant / (double)scale;
	if (!digits || x < lo || x > hi)
		goto bad;
	*out = x;
	return 0;
bad:
	return cfg_fail(ld, v, "\"%s\" must be a decimal from %g to %g, got %s", key, lo, hi,
			cfg_got(v, g, sizeof(g)));
}

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Host bits must be zero. */
static int get_cidr(struct cfg_ld *ld, const struct cfg_node *v, const char *what,
		    struct cfg_cidr *out)
{
	char buf[64], g[64], *slash;
	unsigned long plen;
	int max;

	memset(out, 0, sizeof(*out));
	if (v->type != CFG_N_SCALAR || cfg_is_null(v) || v->len >= sizeof(buf) ||
	    memchr(v->s, 0, v->len))
		return cfg_fail(ld, v, "%s must be an address prefix like \"10.0.0.0/8\", got %s",
				what, cfg_got(v, g, sizeof(g)));
	memcpy(buf, v->s, v->len + 1);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return cfg_fail(ld, v,
				"%s %s: \"%s\" is not a numeric IPv4 or IPv6 address (no DNS "
				"lookups at load time)",
				what, cfg_got(v, g, sizeof(g)), buf);
	}
	plen = (unsigned long)max;
	if (slash) {
		char *end;

		if (!slash[1] || strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
		    strlen(slash + 1) > 3 || (plen = strtoul(slash + 1, &end, 10)) > (unsigned)max)
			return cfg_fail(ld, v, "%s %s: the prefix length must be 0 to %d", what,
					cfg_got(v, g, sizeof(g)), max);
	}
	out->prefix_len = (uint8_t)plen;
	for (int bit = (int)plen; bit < max; bit++)
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return cfg_fail(ld, v,
					"%s %s has bits set after the prefix length; write the "
					"network address",
					what, cfg_got(v, g, sizeof(g)));
	return 0;
}

/* A list of prefixes (1..CFG_MAX_CIDRS), or one. */
static int get_cidr_list(struct cfg_ld *ld, const struct cfg_node *v, const char *what,
			 struct cfg_cidr **out, int *n_out)
{
	int n = v->type == CFG_N_SEQ ? v->n : 1;
	char g[64];

	if (v->type == CFG_N_MAP || cfg_is_null(v))
		return cfg_fail(ld, v, "%s must be a list of address prefixes, got %s", what,
				cfg_got(v, g, sizeof(g)));
	if (n > CFG_MAX_CIDRS)
		return cfg_fail(ld, v->kids[CFG_MAX_CIDRS], "%s takes at most %d prefixes", what,
				CFG_MAX_CIDRS);
	*out = n ? cfg_alloc(&ld->c->mem, (size_t)n * sizeof(**out)) : NULL;
	if (n && !*out)
		return cfg_oom(ld);
	for (int i = 0; i < n; i++) {
		const struct cfg_node *one = v->type == CFG_N_SEQ ? v->kids[i] : v;

		if (get_cidr(ld, one, what, &(*out)[i]))
			return -EINVAL;
		for (int j = 0; j < i; j++)
			if (!memcmp(&(*out)[i], &(*out)[j], sizeof(**out)))
				return cfg_fail(ld, one, "%s lists %s twice", what,
						cfg_got(one, g, sizeof(g)));
	}
	*n_out = n;
	return 0;
}

static int get_ports(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_lane *ln)
{
	int n = v->type == CFG_N_SEQ ? v->n : 1;
	char g[64];

	if (v->type == CFG_N_MAP || cfg_is_null(v))
		return cfg_fail(ld, v, "\"dst_ports\" must be a list of ports, got %s",
				cfg_got(v, g, sizeof(g)));
	if (n > CFG_MAX_PORTS)
		return cfg_fail(ld, v->kids[CFG_MAX_PORTS], "\"dst_ports\" takes at most %d ports",
				CFG_MAX_PORTS);
	ln->dst_ports = n ? cfg_alloc(&ld->c->mem, (size_t)n * sizeof(uint16_t)) : NULL;
	if (n && !ln->dst_ports)
		return cfg_oom(ld);
	for (int i = 0; i < n; i++) {
		const struct cfg_node *one = v->type == CFG_N_SEQ ? v->kids[i] : v;
		uint32_t port;

		if (cfg_get_u32(ld, one, "dst_ports", 1, 65535, " (a port)", &port))
			return -EINVAL;
		for (int j = 0; j < i; j++)
			if (ln->dst_ports[j] == port)
				return cfg_fail(ld, one, "port %u is listed twice", port);
		ln->dst_ports[i] = (uint16_t)port;
	}
	ln->n_dst_ports = n;
	return 0;
}

/* "1:10": HTB major:minor, both hex as tc writes them. */
static int get_class(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_lane *ln)
{
	unsigned long maj, min;
	char g[64], *end;
	const char *colon;

	if (v->type != CFG_N_SCALAR || !v->len || v->len > 9 || memchr(v->s, 0, v->len))
		goto bad;
	colon = strchr(v->s, ':');
	if (!colon || colon == v->s || !colon[1] || !isxdigit((unsigned char)v->s[0]) ||
	    !isxdigit((unsigned char)colon[1]))
		goto bad;
	maj = strtoul(v->s, &end, 16);
	if (end != colon || maj < 1 || maj > 0xffff)
		goto bad;
	min = strtoul(colon + 1, &end, 16);
	if (*end || min < 1 || min > 0xffff)
		goto bad;
	ln->class_id = (uint32_t)(maj << 16 | min);
	snprintf(ln->class_str, sizeof(ln->class_str), "%lx:%lx", maj, min);
	return 0;
bad:
	return cfg_fail(
	    ld, v, "\"class\" must be an HTB class \"MAJOR:MINOR\" in hex like \"1:10\", got %s",
	    cfg_got(v, g, sizeof(g)));
}

static int load_match(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_lane *ln,
		      const char *where)
{
	static const char *const keys[] = {"dst_ports", "src_cidrs", NULL};
	int r;

	if ((r = cfg_want_map(ld, v, "\"match\"", where)))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, k, keys, NULL, where)) {
		case 0:
			r = get_ports(ld, x, ln);
			break;
		case 1:
			r = get_cidr_list(ld, x, "\"src_cidrs\"", &ln->src_cidrs, &ln->n_src_cidrs);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	return 0;
}

static int load_lane(struct cfg_ld *ld, const struct cfg_node *v, int lane)
{
	static const char *const keys[] = {
	    "class", "slo_p99_ms", "reserve_workers", "match", "others_nice", "max_inflight", NULL};
	struct cfg_lane *ln = &ld->c->lanes.lane[lane];
	char where[48];
	int r;

	snprintf(where, sizeof(where), "in lanes.%s", lane_names[lane]);
	if (cfg_is_null(v))
		return 0; /* "bulk:" alone: the lane exists with no class and no objective */
	if ((r = cfg_want_map(ld, v, "a lane", where)))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, k, keys, NULL, where)) {
		case 0:
			r = get_class(ld, x, ln);
			break;
		case 1:
			r = CFG_GET_MS(ld, x, "slo_p99_ms", 0, 60000, &ln->slo_p99_ms);
			break;
		case 2:
			if (lane != OG_LANE_ORDER)
				return cfg_fail(ld, k,
						"\"reserve_workers\" is for the order lane only");
			r = cfg_get_u32(ld, x, "reserve_workers", 0, 255, "", &ln->reserve_workers);
			ld->reserve_node = x;
			break;
		case 3:
			if (lane != OG_LANE_ORDER)
				return cfg_fail(ld, k,
						"\"match\" is for the order lane only (everything "
						"else is normal unless a route or a trusted "
						"x-traffic-tier says otherwise)");
			r = load_match(ld, x, ln, where);
			break;
		case 4:
			if (lane != OG_LANE_ORDER)
				return cfg_fail(ld, k,
						"\"others_nice\" is for the order lane only");
			r = cfg_get_u32(ld, x, "others_nice", 0, 19, " (a nice value)",
					&ln->others_nice);
			break;
		case 5:
			if (lane == OG_LANE_ORDER)
				return cfg_fail(
				    ld, k,
				    "\"max_inflight\" is for normal and bulk: the order "
				    "lane is never shed (limit its routes instead)");
			r = cfg_get_u32(ld, x, "max_inflight", 0, 10000000, " (requests in flight)",
					&ln->max_inflight);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	return 0;
}

int cfg_load_lanes(struct cfg_ld *ld, const struct cfg_node *v)
{
	static const char *const keys[] = {"trusted", "order", "normal", "bulk", NULL};
	struct cfg_lanes *ls = &ld->c->lanes;
	int r;

	if ((r = cfg_want_map(ld, v, "\"lanes\"", "")))
		return r;
	ls->present = 1;
	ls->lane[OG_LANE_ORDER].others_nice = 10;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];
		int ki = cfg_key_index(ld, k, keys, NULL, "in lanes");

		if (ki < 0)
			return -EINVAL;
		if (ki == 0)
			r = get_cidr_list(ld, x, "\"trusted\"", &ls->trusted, &ls->n_trusted);
		else
			r = load_lane(ld, x, ki);
		if (r)
			return r;
	}
	return 0;
}

int cfg_load_route_lane(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_route *rt)
{
	char g[64];

	for (int l = OG_LANE_ORDER; l < OG_LANE_MAX; l++)
		if (v->type == CFG_N_SCALAR && v->len == strlen(lane_names[l]) &&
		    !strcmp(v->s, lane_names[l])) {
			rt->lane = (uint8_t)l;
			return 0;
		}
	return cfg_fail(ld, v, "\"lane\" must be order, normal or bulk, got %s",
			cfg_got(v, g, sizeof(g)));
}

static int get_limit_key(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_limit *lm)
{
	char g[64];

	if (cfg_is_plain_word(v, "source") || cfg_is_plain_word(v, "none")) {
		lm->key_kind = v->s[0] == 's' ? CFG_LKEY_SOURCE : CFG_LKEY_NONE;
		return 0;
	}
	if (v->type == CFG_N_SCALAR && v->len > 7 && !strncmp(v->s, "header:", 7) &&
	    cfg_is_token(v->s + 7, v->len - 7) && v->len - 7 <= 256) {
		lm->key_kind = CFG_LKEY_HEADER;
		lm->key_header = cfg_keep(ld, v->s + 7, v->len - 7);
		if (!lm->key_header)
			return cfg_oom(ld);
		for (char *p = lm->key_header; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		lm->key_hlen = (uint32_t)(v->len - 7);
		return 0;
	}
	return cfg_fail(ld, v, "\"key\" must be source, none or header:NAME, got %s",
			cfg_got(v, g, sizeof(g)));
}

int cfg_load_route_limit(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_route *rt,
			 const char *where)
{
	static const char *const keys[] = {"rps", "burst", "key", NULL};
	struct cfg_limit *lm = &rt->limit;
	char lwhere[96];
	int r, have_rps = 0, have_burst = 0;

	snprintf(lwhere, sizeof(lwhere), "in limit of %s", where + 3);
	if ((r = cfg_want_map(ld, v, "\"limit\"", where)))
		return r;
	lm->key_kind = CFG_LKEY_SOURCE;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, k, keys, NULL, lwhere)) {
		case 0:
			r = cfg_get_u32(ld, x, "rps", 1, 10000000, " (requests per second)",
					&lm->rps);
			have_rps = 1;
			break;
		case 1:
			r = cfg_get_u32(ld, x, "burst", 1, 10000000, " (requests)", &lm->burst);
			have_burst = 1;
			break;
		case 2:
			r = get_limit_key(ld, x, lm);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if (!have_rps)
		return cfg_fail(ld, v,
				"\"limit\" needs rps, e.g. { rps: 2000, burst: 200, key: "
				"source }");
	if (!have_burst)
		lm->burst = lm->rps;
	rt->has_limit = 1;
	return 0;
}

int cfg_finish_lanes(struct cfg_ld *ld)
{
	struct config *c = ld->c;

	c->lanes_active = c->lanes.present;
	for (int i = 0; i < c->n_routes; i++) {
		struct cfg_route *rt = &c->routes[i];
		uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */

		/* every route: a POST /limits override may give one a bucket later */
		for (const char *p = rt->name; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
		rt->limit.key_seed = h;
		if (rt->has_limit)
			c->lanes_active = 1;
	}

	for (int i = 0; i < c->n_routes; i++)
		if (c->routes[i].lane && !c->lanes.present)
			return cfg_fail(ld, ld->route_lane[i],
					"route %d sets \"lane\" but there is no \"lanes\" section "
					"(add lanes: { order: {}, normal: {}, bulk: {} })",
					i + 1);
	if (c->lanes.lane[OG_LANE_ORDER].reserve_workers >= c->workers)
		return cfg_fail(ld, ld->reserve_node,
				"\"reserve_workers\" (%u) leaves no worker for the other lanes "
				"(workers: %u%s)",
				c->lanes.lane[OG_LANE_ORDER].reserve_workers, c->workers,
				ld->workers_node ? "" : ", the number of online CPUs");
	return 0;
}
