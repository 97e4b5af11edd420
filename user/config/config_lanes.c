// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config "lanes" and a route's "lane" and "limit": schema and cross-checks. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_keys.h"

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
	char buf[64], g[64];
	int max, r;

	memset(out, 0, sizeof(*out));
	if (v->type != CFG_N_SCALAR || cfg_is_null(v) || v->len >= sizeof(buf) ||
	    memchr(v->s, 0, v->len))
		return cfg_fail(ld, v, "%s must be an address prefix like \"10.0.0.0/8\", got %s",
				what, cfg_got(v, g, sizeof(g)));
	memcpy(buf, v->s, v->len + 1);
	r = cfg_parse_cidr(buf, 3, out, &max);
	if (r == -EINVAL)
		return cfg_fail(ld, v,
				"%s %s: \"%s\" is not a numeric IPv4 or IPv6 address (no DNS "
				"lookups at load time)",
				what, cfg_got(v, g, sizeof(g)), buf);
	if (r)
		return cfg_fail(ld, v, "%s %s: the prefix length must be 0 to %d", what,
				cfg_got(v, g, sizeof(g)), max);
	for (int bit = out->prefix_len; bit < max; bit++)
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

static int get_ports(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		     const struct cfg_node *v)
{
	struct cfg_ld *ld = w->ld;
	struct cfg_lane *ln = w->obj;
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
static int get_class(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		     const struct cfg_node *v)
{
	struct cfg_ld *ld = w->ld;
	struct cfg_lane *ln = w->obj;
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

static int get_src_cidrs(const struct cfg_walk *w, const struct cfg_key *d,
			 const struct cfg_node *k, const struct cfg_node *v)
{
	struct cfg_lane *ln = w->obj;

	return get_cidr_list(w->ld, v, "\"src_cidrs\"", &ln->src_cidrs, &ln->n_src_cidrs);
}

/* The lane a walk over one of lanes.<order|normal|bulk> fills. */
static int lane_of(const struct cfg_walk *w)
{
	return (int)((struct cfg_lane *)w->obj - w->ld->c->lanes.lane);
}

static int load_match(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		      const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_FN("dst_ports", get_ports),
	    CFG_FN("src_cidrs", get_src_cidrs),
	    CFG_KEYS_END,
	};
	int r;

	if (lane_of(w) != OG_LANE_ORDER)
		return cfg_fail(w->ld, k,
				"\"match\" is for the order lane only (everything else is normal "
				"unless a route or a trusted x-traffic-tier says otherwise)");
	if ((r = cfg_want_map(w->ld, v, "\"match\"", w->where)))
		return r;
	return cfg_walk_keys(w, v, keys);
}

/* reserve_workers, others_nice: a number that only the order lane takes. */
static int order_u32(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		     const struct cfg_node *v)
{
	if (lane_of(w) != OG_LANE_ORDER)
		return cfg_fail(w->ld, k, "\"%s\" is for the order lane only", d->name);
	return cfg_get_u32(w->ld, v, d->name, d->lo, d->hi, d->unit, cfg_field(w, d));
}

static int others_u32(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		      const struct cfg_node *v)
{
	if (lane_of(w) == OG_LANE_ORDER)
		return cfg_fail(w->ld, k,
				"\"%s\" is for normal and bulk: the order lane is never shed "
				"(limit its routes instead)",
				d->name);
	return cfg_get_u32(w->ld, v, d->name, d->lo, d->hi, d->unit, cfg_field(w, d));
}

static int load_lane(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		     const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_FN("class", get_class),
	    CFG_MS(struct cfg_lane, "slo_p99_ms", slo_p99_ms, 0, 60000),
	    CFG_FN_U32(struct cfg_lane, "reserve_workers", reserve_workers, 0, 255, "", order_u32),
	    CFG_FN("match", load_match),
	    CFG_FN_U32(struct cfg_lane, "others_nice", others_nice, 0, 19, " (a nice value)",
		       order_u32),
	    CFG_FN_U32(struct cfg_lane, "max_inflight", max_inflight, 0, 10000000,
		       " (requests in flight)", others_u32),
	    CFG_KEYS_END,
	};
	struct cfg_seen seen[CFG_MAX_KEYS] = {0};
	struct cfg_walk lw = {w->ld, cfg_field(w, d), NULL, seen};
	char where[48];
	int r;

	snprintf(where, sizeof(where), "in lanes.%s", lane_names[lane_of(&lw)]);
	lw.where = where;
	if (cfg_is_null(v))
		return 0; /* "bulk:" alone: the lane exists with no class and no objective */
	if ((r = cfg_want_map(w->ld, v, "a lane", where)) || (r = cfg_walk_keys(&lw, v, keys)))
		return r;
	if (cfg_seen_key(seen, keys, "reserve_workers").v)
		w->ld->reserve_node = cfg_seen_key(seen, keys, "reserve_workers").v;
	return 0;
}

static int get_trusted(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		       const struct cfg_node *v)
{
	struct cfg_lanes *ls = w->obj;

	return get_cidr_list(w->ld, v, "\"trusted\"", &ls->trusted, &ls->n_trusted);
}

int cfg_load_lanes(struct cfg_ld *ld, const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_FN("trusted", get_trusted),
	    CFG_FN_AT(struct cfg_lanes, "order", lane[OG_LANE_ORDER], load_lane),
	    CFG_FN_AT(struct cfg_lanes, "normal", lane[OG_LANE_NORMAL], load_lane),
	    CFG_FN_AT(struct cfg_lanes, "bulk", lane[OG_LANE_BULK], load_lane),
	    CFG_KEYS_END,
	};
	struct cfg_lanes *ls = &ld->c->lanes;
	int r;

	if ((r = cfg_want_map(ld, v, "\"lanes\"", "")))
		return r;
	ls->present = 1;
	ls->lane[OG_LANE_ORDER].others_nice = 10;
	return cfg_walk_keys(&(struct cfg_walk){ld, ls, "in lanes"}, v, keys);
}

int cfg_load_route_lane(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
			const struct cfg_node *v)
{
	struct cfg_route *rt = w->obj;
	char g[64];

	for (int l = OG_LANE_ORDER; l < OG_LANE_MAX; l++)
		if (v->type == CFG_N_SCALAR && v->len == strlen(lane_names[l]) &&
		    !strcmp(v->s, lane_names[l])) {
			rt->lane = (uint8_t)l;
			return 0;
		}
	return cfg_fail(w->ld, v, "\"lane\" must be order, normal or bulk, got %s",
			cfg_got(v, g, sizeof(g)));
}

static int get_limit_key(const struct cfg_walk *w, const struct cfg_key *d,
			 const struct cfg_node *k, const struct cfg_node *v)
{
	struct cfg_ld *ld = w->ld;
	struct cfg_limit *lm = w->obj;
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

int cfg_load_route_limit(const struct cfg_walk *w, const struct cfg_key *d,
			 const struct cfg_node *k, const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_U32(struct cfg_limit, "rps", rps, 1, 10000000, " (requests per second)"),
	    CFG_U32(struct cfg_limit, "burst", burst, 1, 10000000, " (requests)"),
	    CFG_FN("key", get_limit_key),
	    CFG_KEYS_END,
	};
	struct cfg_seen seen[CFG_MAX_KEYS] = {0};
	struct cfg_ld *ld = w->ld;
	struct cfg_route *rt = w->obj;
	struct cfg_limit *lm = &rt->limit;
	char lwhere[96];
	int r;

	if ((r = cfg_want_part(w, v, "limit", lwhere, sizeof(lwhere))))
		return r;
	lm->key_kind = CFG_LKEY_SOURCE;
	if ((r = cfg_walk_keys(&(struct cfg_walk){ld, lm, lwhere, seen}, v, keys)))
		return r;
	if (!cfg_seen_key(seen, keys, "rps").v)
		return cfg_fail(ld, v,
				"\"limit\" needs rps, e.g. { rps: 2000, burst: 200, key: "
				"source }");
	if (!cfg_seen_key(seen, keys, "burst").v)
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
