// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config "limits" (the controller, the slow loop, what is never limited) and "xdp": schema. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config_int.h"

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
static int load_slow(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_slow *s)
{
	static const char *const keys[] = {
	    "syn_rate",	      "pkt_rate",	 "reject_rate",	 "throttle_pps",
	    "throttle_burst", "throttle_ttl_ms", "calm_windows", NULL};
	int r;

	if ((r = cfg_want_map(ld, v, "\"slow\"", "in limits")))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, k, keys, NULL, "in limits.slow")) {
		case 0:
			r = cfg_get_u32(ld, x, "syn_rate", 1, 100000000, " (SYNs per second)",
					&s->syn_rate);
			break;
		case 1:
			r = cfg_get_u32(ld, x, "pkt_rate", 1, 1000000000, " (packets per second)",
					&s->pkt_rate);
			break;
		case 2:
			r = cfg_get_u32(ld, x, "reject_rate", 1, 10000000, " (429s per second)",
					&s->reject_rate);
			break;
		case 3:
			r = cfg_get_u32(ld, x, "throttle_pps", 1, 100000000,
					" (packets per second)", &s->throttle_pps);
			break;
		case 4:
			r = cfg_get_u32(ld, x, "throttle_burst", 1, 100000000, " (packets)",
					&s->throttle_burst);
			break;
		case 5:
			/* at most the TTL cap the repeats double up to (lanes/slow.h ttl_max_ms) */
			r = CFG_GET_MS(ld, x, "throttle_ttl_ms", 100, 300000, &s->throttle_ttl_ms);
			break;
		case 6:
			r = cfg_get_u32(ld, x, "calm_windows", 1, 1000000, " (slow windows)",
					&s->calm_windows);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	return 0;
}

static int load_cancel(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_limits *l)
{
	static const char *const keys[] = {"method", "path_prefix", NULL};
	char g[64];
	int r;

	if ((r = cfg_want_map(ld, v, "\"cancel\"", "in limits")))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, k, keys, NULL, "in limits.cancel")) {
		case 0:
			if (x->type != CFG_N_SCALAR || !cfg_is_token(x->s, x->len) || x->len > 32)
				return cfg_fail(
				    ld, x, "\"method\" must be a method name like DELETE, got %s",
				    cfg_got(x, g, sizeof(g)));
			for (size_t j = 0; j < x->len; j++)
				if (islower((unsigned char)x->s[j]))
					return cfg_fail(ld, x,
							"method %s never matches: methods are "
							"case-sensitive",
							cfg_got(x, g, sizeof(g)));
			l->cancel_method = cfg_keep(ld, x->s, x->len);
			r = l->cancel_method ? 0 : cfg_oom(ld);
			break;
		case 1:
			r = cfg_get_path(ld, x, "path_prefix", 0, &l->cancel_prefix);
			l->cancel_prefix_len = r ? 0 : (uint32_t)strlen(l->cancel_prefix);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if (!l->cancel_method)
		return cfg_fail(ld, v,
				"\"cancel\" needs a method, e.g. { method: DELETE, "
				"path_prefix: /api/v1/orders }");
	return 0;
}

static int load_kill(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_limits *l)
{
	static const char *const keys[] = {"path", NULL};
	int r;

	if ((r = cfg_want_map(ld, v, "\"kill_switch\"", "in limits")))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		if (cfg_key_index(ld, k, keys, NULL, "in limits.kill_switch") < 0)
			return -EINVAL;
		if ((r = cfg_get_path(ld, x, "path", 0, &l->kill_path)))
			return r;
		l->kill_path_len = (uint32_t)strlen(l->kill_path);
	}
	if (!l->kill_path)
		return cfg_fail(ld, v, "\"kill_switch\" needs a path, e.g. { path: /api/v1/kill }");
	return 0;
}

int cfg_load_limits(struct cfg_ld *ld, const struct cfg_node *v)
{
	static const char *const keys[] = {
	    "fast_ms", "slow_ms", "decrease",	"dry_run", "cancel",	      "kill_switch",
	    "floor",   "ceiling", "grow_after", "slow",	   "queue_tolerance", NULL};
	struct cfg_limits *l = &ld->c->limits;
	const struct cfg_node *floor_n = NULL;
	int r;

	if ((r = cfg_want_map(ld, v, "\"limits\"", "")))
		return r;
	l->present = 1;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, k, keys, NULL, "in limits")) {
		case 0:
			r = CFG_GET_MS(ld, x, "fast_ms", 10, 60000, &l->fast_ms);
			break;
		case 1:
			r = CFG_GET_MS(ld, x, "slow_ms", 100, 3600000, &l->slow_ms);
			break;
		case 2:
			r = cfg_get_decimal(ld, x, "decrease", 0.1, 0.99, &l->decrease);
			break;
		case 3:
			r = cfg_get_bool(ld, x, "dry_run", &l->dry_run);
			break;
		case 4:
			r = load_cancel(ld, x, l);
			break;
		case 5:
			r = load_kill(ld, x, l);
			break;
		case 6:
			r = cfg_get_u32(ld, x, "floor", 1, 1000000, " (requests in flight)",
					&l->floor);
			floor_n = x;
			break;
		case 7:
			r = cfg_get_u32(ld, x, "ceiling", 1, 10000000, " (requests in flight)",
					&l->ceiling);
			break;
		case 8:
			r = cfg_get_u32(ld, x, "grow_after", 1, 1000, " (fast windows)",
					&l->grow_after);
			break;
		case 9:
			r = load_slow(ld, x, &l->slow);
			break;
		case 10:
			r = cfg_get_decimal(ld, x, "queue_tolerance", 0, 10, &l->queue_tolerance);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if (l->floor > l->ceiling)
		return cfg_fail(ld, floor_n ? floor_n : v,
				"\"floor\" (%u) is above \"ceiling\" (%u)", l->floor, l->ceiling);
	if (l->slow_ms < l->fast_ms)
		return cfg_fail(ld, v, "\"slow_ms\" (%u) is shorter than \"fast_ms\" (%u)",
				l->slow_ms, l->fast_ms);
	return 0;
}

int cfg_load_xdp(struct cfg_ld *ld, const struct cfg_node *v)
{
	static const char *const keys[] = {"interface", "mode", "pin_path", NULL};
	static const char *const modes[] = {"auto", "native", "generic", "skb", NULL};
	struct cfg_xdp *x = &ld->c->xdp;
	char g[64];
	int r;

	if ((r = cfg_want_map(ld, v, "\"xdp\"", "")))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *val = v->kids[2 * i + 1];
		int m;

		switch (cfg_key_index(ld, k, keys, NULL, "in xdp")) {
		case 0:
			if (val->type != CFG_N_SCALAR || !val->len ||
			    val->len >= sizeof(x->ifname) || memchr(val->s, '/', val->len) ||
			    memchr(val->s, 0, val->len) || memchr(val->s, ' ', val->len))
				return cfg_fail(ld, val,
						"\"interface\" must be an interface name of 1 to "
						"15 characters, got %s",
						cfg_got(val, g, sizeof(g)));
			memcpy(x->ifname, val->s, val->len);
			break;
		case 1:
			for (m = 0; modes[m]; m++)
				if (cfg_is_plain_word(val, modes[m]) ||
				    (val->type == CFG_N_SCALAR && !strcmp(val->s, modes[m])))
					break;
			if (!modes[m])
				return cfg_fail(ld, val,
						"\"mode\" must be auto, native, generic or skb, "
						"got %s",
						cfg_got(val, g, sizeof(g)));
			x->mode = m == 3 ? 2 : m; /* skb is generic by another name */
			break;
		case 2:
			/* a directory on bpffs: absolute, and short enough for the pin names */
			if (val->type != CFG_N_SCALAR || val->len < 2 || val->len > 200 ||
			    val->s[0] != '/' || memchr(val->s, 0, val->len))
				return cfg_fail(
				    ld, val,
				    "\"pin_path\" must be an absolute directory of 2 to "
				    "200 characters, e.g. /sys/fs/bpf/ordergate, got %s",
				    cfg_got(val, g, sizeof(g)));
			x->pin_path = cfg_keep(ld, val->s, val->len);
			if (!x->pin_path)
				return cfg_oom(ld);
			break;
		default:
			return -EINVAL;
		}
	}
	if (!x->ifname[0])
		return cfg_fail(ld, v, "\"xdp\" needs an interface, e.g. { interface: eth0 }");
	x->present = 1;
	return 0;
}
