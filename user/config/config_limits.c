// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config "limits" (the controller, the slow loop, what is never limited) and "xdp": schema. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config_keys.h"

void cfg_limits_defaults(struct cfg_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->fast_ms = 100;
	l->slow_ms = 1000;
	l->decrease = 0.7;
	l->floor = 4;
	l->ceiling = 4096;
	l->grow_after = 3;
	l->queue_tolerance = 0.1;
	/* the slow loop's defaults (lanes/slow.c slow_params_default says the same) */
	l->slow = (struct cfg_slow){.syn_rate = 500,
				    .pkt_rate = 50000,
				    .reject_rate = 50,
				    .throttle_pps = 100,
				    .throttle_burst = 200,
				    .throttle_ttl_ms = 10000,
				    .calm_windows = 3};
}

/* limits.slow: per-source thresholds and the throttle a source over one gets. */
static int load_slow(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		     const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_U32(struct cfg_slow, "syn_rate", syn_rate, 1, 100000000, " (SYNs per second)"),
	    CFG_U32(struct cfg_slow, "pkt_rate", pkt_rate, 1, 1000000000, " (packets per second)"),
	    CFG_U32(struct cfg_slow, "reject_rate", reject_rate, 1, 10000000, " (429s per second)"),
	    CFG_U32(struct cfg_slow, "throttle_pps", throttle_pps, 1, 100000000,
		    " (packets per second)"),
	    CFG_U32(struct cfg_slow, "throttle_burst", throttle_burst, 1, 100000000, " (packets)"),
	    /* at most the TTL cap the repeats double up to (lanes/slow.h ttl_max_ms) */
	    CFG_MS(struct cfg_slow, "throttle_ttl_ms", throttle_ttl_ms, 100, 300000),
	    CFG_U32(struct cfg_slow, "calm_windows", calm_windows, 1, 1000000, " (slow windows)"),
	    CFG_KEYS_END,
	};
	int r;

	if ((r = cfg_want_map(w->ld, v, "\"slow\"", "in limits")))
		return r;
	return cfg_walk_keys(&(struct cfg_walk){w->ld, cfg_field(w, d), "in limits.slow"}, v, keys);
}

static int load_cancel_method(const struct cfg_walk *w, const struct cfg_key *d,
			      const struct cfg_node *k, const struct cfg_node *x)
{
	struct cfg_limits *l = w->obj;
	char g[64];

	if (x->type != CFG_N_SCALAR || !cfg_is_token(x->s, x->len) || x->len > 32)
		return cfg_fail(w->ld, x, "\"method\" must be a method name like DELETE, got %s",
				cfg_got(x, g, sizeof(g)));
	for (size_t j = 0; j < x->len; j++)
		if (islower((unsigned char)x->s[j]))
			return cfg_fail(w->ld, x,
					"method %s never matches: methods are case-sensitive",
					cfg_got(x, g, sizeof(g)));
	l->cancel_method = cfg_keep(w->ld, x->s, x->len);
	return l->cancel_method ? 0 : cfg_oom(w->ld);
}

static int load_cancel_prefix(const struct cfg_walk *w, const struct cfg_key *d,
			      const struct cfg_node *k, const struct cfg_node *x)
{
	struct cfg_limits *l = w->obj;
	int r = cfg_get_path(w->ld, x, "path_prefix", 0, &l->cancel_prefix);

	l->cancel_prefix_len = r ? 0 : (uint32_t)strlen(l->cancel_prefix);
	return r;
}

static int load_cancel(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		       const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_FN("method", load_cancel_method),
	    CFG_FN("path_prefix", load_cancel_prefix),
	    CFG_KEYS_END,
	};
	struct cfg_limits *l = w->obj;
	int r;

	if ((r = cfg_want_map(w->ld, v, "\"cancel\"", "in limits")) ||
	    (r = cfg_walk_keys(&(struct cfg_walk){w->ld, l, "in limits.cancel"}, v, keys)))
		return r;
	if (!l->cancel_method)
		return cfg_fail(w->ld, v,
				"\"cancel\" needs a method, e.g. { method: DELETE, "
				"path_prefix: /api/v1/orders }");
	return 0;
}

static int load_kill_path(const struct cfg_walk *w, const struct cfg_key *d,
			  const struct cfg_node *k, const struct cfg_node *x)
{
	struct cfg_limits *l = w->obj;
	int r = cfg_get_path(w->ld, x, "path", 0, &l->kill_path);

	if (!r)
		l->kill_path_len = (uint32_t)strlen(l->kill_path);
	return r;
}

static int load_kill(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		     const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {CFG_FN("path", load_kill_path), CFG_KEYS_END};
	struct cfg_limits *l = w->obj;
	int r;

	if ((r = cfg_want_map(w->ld, v, "\"kill_switch\"", "in limits")) ||
	    (r = cfg_walk_keys(&(struct cfg_walk){w->ld, l, "in limits.kill_switch"}, v, keys)))
		return r;
	if (!l->kill_path)
		return cfg_fail(w->ld, v,
				"\"kill_switch\" needs a path, e.g. { path: /api/v1/kill }");
	return 0;
}

int cfg_load_limits(struct cfg_ld *ld, const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_MS(struct cfg_limits, "fast_ms", fast_ms, 10, 60000),
	    CFG_MS(struct cfg_limits, "slow_ms", slow_ms, 100, 3600000),
	    CFG_DEC(struct cfg_limits, "decrease", decrease, 0.1, 0.99),
	    CFG_BOOL(struct cfg_limits, "dry_run", dry_run),
	    CFG_FN("cancel", load_cancel),
	    CFG_FN("kill_switch", load_kill),
	    CFG_U32(struct cfg_limits, "floor", floor, 1, 1000000, " (requests in flight)"),
	    CFG_U32(struct cfg_limits, "ceiling", ceiling, 1, 10000000, " (requests in flight)"),
	    CFG_U32(struct cfg_limits, "grow_after", grow_after, 1, 1000, " (fast windows)"),
	    CFG_FN_AT(struct cfg_limits, "slow", slow, load_slow),
	    CFG_DEC(struct cfg_limits, "queue_tolerance", queue_tolerance, 0, 10),
	    CFG_KEYS_END,
	};
	struct cfg_seen seen[CFG_MAX_KEYS] = {0};
	struct cfg_limits *l = &ld->c->limits;
	const struct cfg_node *floor_n;
	int r;

	if ((r = cfg_want_map(ld, v, "\"limits\"", "")))
		return r;
	l->present = 1;
	if ((r = cfg_walk_keys(&(struct cfg_walk){ld, l, "in limits", seen}, v, keys)))
		return r;
	floor_n = cfg_seen_key(seen, keys, "floor").v;
	if (l->floor > l->ceiling)
		return cfg_fail(ld, floor_n ? floor_n : v,
				"\"floor\" (%u) is above \"ceiling\" (%u)", l->floor, l->ceiling);
	if (l->slow_ms < l->fast_ms)
		return cfg_fail(ld, v, "\"slow_ms\" (%u) is shorter than \"fast_ms\" (%u)",
				l->slow_ms, l->fast_ms);
	return 0;
}

static int load_ifname(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		       const struct cfg_node *val)
{
	struct cfg_xdp *x = w->obj;
	char g[64];

	if (val->type != CFG_N_SCALAR || !val->len || val->len >= sizeof(x->ifname) ||
	    memchr(val->s, '/', val->len) || memchr(val->s, 0, val->len) ||
	    memchr(val->s, ' ', val->len))
		return cfg_fail(w->ld, val,
				"\"interface\" must be an interface name of 1 to 15 characters, "
				"got %s",
				cfg_got(val, g, sizeof(g)));
	memcpy(x->ifname, val->s, val->len);
	return 0;
}

static int load_mode(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		     const struct cfg_node *val)
{
	static const char *const modes[] = {"auto", "native", "generic", "skb", NULL};
	struct cfg_xdp *x = w->obj;
	char g[64];
	int m;

	for (m = 0; modes[m]; m++)
		if (cfg_is_plain_word(val, modes[m]) ||
		    (val->type == CFG_N_SCALAR && !strcmp(val->s, modes[m])))
			break;
	if (!modes[m])
		return cfg_fail(w->ld, val, "\"mode\" must be auto, native, generic or skb, got %s",
				cfg_got(val, g, sizeof(g)));
	x->mode = m == 3 ? 2 : m; /* skb is generic by another name */
	return 0;
}

/* a directory on bpffs: absolute, and short enough for the pin names */
static int load_pin_path(const struct cfg_walk *w, const struct cfg_key *d,
			 const struct cfg_node *k, const struct cfg_node *val)
{
	struct cfg_xdp *x = w->obj;
	char g[64];

	if (val->type != CFG_N_SCALAR || val->len < 2 || val->len > 200 || val->s[0] != '/' ||
	    memchr(val->s, 0, val->len))
		return cfg_fail(w->ld, val,
				"\"pin_path\" must be an absolute directory of 2 to 200 "
				"characters, e.g. /sys/fs/bpf/ordergate, got %s",
				cfg_got(val, g, sizeof(g)));
	x->pin_path = cfg_keep(w->ld, val->s, val->len);
	return x->pin_path ? 0 : cfg_oom(w->ld);
}

int cfg_load_xdp(struct cfg_ld *ld, const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_FN("interface", load_ifname),
	    CFG_FN("mode", load_mode),
	    CFG_FN("pin_path", load_pin_path),
	    CFG_KEYS_END,
	};
	struct cfg_xdp *x = &ld->c->xdp;
	int r;

	if ((r = cfg_want_map(ld, v, "\"xdp\"", "")) ||
	    (r = cfg_walk_keys(&(struct cfg_walk){ld, x, "in xdp"}, v, keys)))
		return r;
	if (!x->ifname[0])
		return cfg_fail(ld, v, "\"xdp\" needs an interface, e.g. { interface: eth0 }");
	x->present = 1;
	return 0;
}
