// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config "upstreams": servers, balance, timeouts, health checks, breaker, outlier ejection. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

static int load_health(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_upstream *u)
{
	static const char *const keys[] = {"path", "interval_ms", "timeout_ms",
					   "rise", "fall",	  NULL};
	char where[128];
	int r;

	snprintf(where, sizeof(where), "in health of upstream \"%s\"", u->name);
	if ((r = cfg_want_map(ld, v, "\"health\"", where)))
		return r;
	u->health.enabled = 1;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, k, keys, NULL, where)) {
		case 0:
			r = cfg_get_path(ld, x, "path", 0, &u->health.path);
			break;
		case 1:
			r = CFG_GET_MS(ld, x, "interval_ms", 10, CFG_MS_MAX,
				       &u->health.interval_ms);
			break;
		case 2:
			r = CFG_GET_MS(ld, x, "timeout_ms", 1, CFG_MS_MAX, &u->health.timeout_ms);
			break;
		case 3:
			r = cfg_get_u32(ld, x, "rise", 1, 1000, "", &u->health.rise);
			break;
		case 4:
			r = cfg_get_u32(ld, x, "fall", 1, 1000, "", &u->health.fall);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	return 0;
}

/* statuses: [502, 503, 504]: upstream responses that count as server failures. */
static int load_statuses(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_statuses *out)
{
	char g[64];

	if (v->type != CFG_N_SEQ)
		return cfg_fail(ld, v, "\"statuses\" must be a list of statuses 500..599, got %s",
				cfg_got(v, g, sizeof(g)));
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < v->n; i++) {
		uint32_t st;
		int r = cfg_get_u32(ld, v->kids[i], "statuses", 500, 599, "", &st);

		if (r)
			return r;
		out->bits[(st - 500) / 64] |= 1ull << ((st - 500) % 64);
	}
	return 0;
}

static void default_statuses(struct cfg_statuses *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned st = 502; st <= 504; st++)
		s->bits[(st - 500) / 64] |= 1ull << ((st - 500) % 64);
}

/*
 * breaker: and outlier: have the same shape, a failure count (0 = off), a time in ms, the
 * statuses that count and (outlier only) max_ejection_percent: <keys> names them, <sect>
 * the section; <pct> NULL when the section has no percentage.
 */
static int load_count_ms(struct cfg_ld *ld, const struct cfg_node *v, const struct cfg_upstream *u,
			 const char *sect, const char *const keys[], uint32_t *count, uint32_t *ms,
			 struct cfg_statuses *statuses, uint32_t *pct)
{
	char where[128], what[32];
	int r;

	snprintf(where, sizeof(where), "in %s of upstream \"%s\"", sect, u->name);
	snprintf(what, sizeof(what), "\"%s\"", sect);
	if ((r = cfg_want_map(ld, v, what, where)))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, k, keys, NULL, where)) {
		case 0:
			r = cfg_get_u32(ld, x, keys[0], 0, 1000000, " (0 = off)", count);
			break;
		case 1:
			r = CFG_GET_MS(ld, x, keys[1], 1, CFG_MS_MAX, ms);
			break;
		case 2:
			r = load_statuses(ld, x, statuses);
			break;
		case 3:
			r = cfg_get_u32(ld, x, keys[3], 0, 100, " (percent)", pct);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	return 0;
}

static int load_breaker(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_upstream *u)
{
	static const char *const keys[] = {"consecutive_failures", "open_ms", "statuses", NULL};

	return load_count_ms(ld, v, u, "breaker", keys, &u->breaker.consecutive_failures,
			     &u->breaker.open_ms, &u->breaker.statuses, NULL);
}

static int load_outlier(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_upstream *u)
{
	static const char *const keys[] = {"consecutive_5xx", "eject_ms", "statuses",
					   "max_ejection_percent", NULL};

	return load_count_ms(ld, v, u, "outlier", keys, &u->outlier.consecutive_5xx,
			     &u->outlier.eject_ms, &u->outlier.statuses,
			     &u->outlier.max_ejection_percent);
}

/* round_robin | least_request | hash(header:NAME) | hash(NAME) | hash(source) */
static int load_balance(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_upstream *u)
{
	const char *s = v->s, *arg;
	size_t n;
	char g[64];

	if (v->type != CFG_N_SCALAR || strlen(s) != v->len)
		goto bad;
	if (!strcmp(s, "round_robin")) {
		u->balance = CFG_BAL_ROUND_ROBIN;
		return 0;
	}
	if (!strcmp(s, "least_request")) {
		u->balance = CFG_BAL_LEAST_REQUEST;
		return 0;
	}
	if (strncmp(s, "hash(", 5) || v->len < 7 || s[v->len - 1] != ')')
		goto bad;
	arg = s + 5;
	n = v->len - 6;
	if (n == 6 && !memcmp(arg, "source", 6)) {
		u->balance = CFG_BAL_HASH_SOURCE;
		return 0;
	}
	if (n > 7 && !memcmp(arg, "header:", 7)) {
		arg += 7;
		n -= 7;
	}
	if (!cfg_is_token(arg, n) || n > 256)
		goto bad;
	u->hash_header = cfg_keep(ld, arg, n);
	if (!u->hash_header)
		return cfg_oom(ld);
	for (char *p = u->hash_header; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	u->balance = CFG_BAL_HASH_HEADER;
	return 0;
bad:
	return cfg_fail(ld, v,
			"\"balance\" must be round_robin, least_request, hash(header:NAME) or "
			"hash(source), got %s",
			cfg_got(v, g, sizeof(g)));
}

static int load_servers(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_upstream *u)
{
	char g[64];

	if (v->type != CFG_N_SEQ)
		return cfg_fail(ld, v, "\"servers\" must be a list of \"host:port\", got %s",
				cfg_got(v, g, sizeof(g)));
	if (!v->n)
		return cfg_fail(
		    ld, v, "\"servers\" of upstream \"%s\" must name at least one server", u->name);
	if (v->n > CFG_MAX_SERVERS)
		return cfg_fail(ld, v->kids[CFG_MAX_SERVERS],
				"an upstream takes at most %d servers", CFG_MAX_SERVERS);
	for (int i = 0; i < v->n; i++) {
		if (cfg_get_addr(ld, v->kids[i], "server", 1, &u->servers[i]))
			return -EINVAL;
		for (int j = 0; j < i; j++)
			if (u->servers[i].len == u->servers[j].len &&
			    !memcmp(&u->servers[i].ss, &u->servers[j].ss, u->servers[i].len))
				return cfg_fail(ld, v->kids[i],
						"server \"%s\" is listed twice in upstream \"%s\"",
						u->servers[i].text, u->name);
	}
	u->n_servers = v->n;
	return 0;
}

static int load_upstream(struct cfg_ld *ld, const struct cfg_node *k, const struct cfg_node *v,
			 struct cfg_upstream *u)
{
	static const char *const keys[] = {"servers",
					   "balance",
					   "keepalive",
					   "connect_timeout_ms",
					   "timeout_ms",
					   "retries",
					   "health",
					   "breaker",
					   "outlier",
					   "keepalive_timeout_ms",
					   "keepalive_requests",
					   "max_connections",
					   NULL};
	char where[128];
	const struct cfg_node *servers = NULL;
	int r;

	if (cfg_get_name(ld, k, "an upstream name", &u->name))
		return -EINVAL;
	u->balance = CFG_BAL_ROUND_ROBIN;
	u->keepalive = 32;
	u->connect_timeout_ms = 1000;
	u->timeout_ms = 30000;
	u->retries = 1;
	u->health.interval_ms = 1000;
	u->health.timeout_ms = 500;
	u->health.rise = 2;
	u->health.fall = 3;
	u->breaker.consecutive_failures = 5;
	u->breaker.open_ms = 30000;
	u->outlier.consecutive_5xx = 5;
	u->outlier.eject_ms = 10000;
	u->outlier.max_ejection_percent = 50;
	default_statuses(&u->breaker.statuses);
	default_statuses(&u->outlier.statuses);
	/* below the idle timeouts of common application servers (5-20 s), so we close first */
	u->keepalive_timeout_ms = 4000;
	u->keepalive_requests = 1000;
	u->max_connections = 1024;
	snprintf(where, sizeof(where), "in upstream \"%s\"", u->name);
	if ((r = cfg_want_map(ld, v, "an upstream", where)))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *kk = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (cfg_key_index(ld, kk, keys, NULL, where)) {
		case 0:
			servers = x;
			r = load_servers(ld, x, u);
			break;
		case 1:
			r = load_balance(ld, x, u);
			break;
		case 2:
			r = cfg_get_u32(ld, x, "keepalive", 0, 100000, " (idle connections)",
					&u->keepalive);
			break;
		case 3:
			r = CFG_GET_MS(ld, x, "connect_timeout_ms", 1, CFG_MS_MAX,
				       &u->connect_timeout_ms);
			break;
		case 4:
			r = CFG_GET_MS(ld, x, "timeout_ms", 1, CFG_MS_MAX, &u->timeout_ms);
			break;
		case 5:
			r = cfg_get_u32(ld, x, "retries", 0, 10, "", &u->retries);
			break;
		case 6:
			r = load_health(ld, x, u);
			break;
		case 7:
			r = load_breaker(ld, x, u);
			break;
		case 8:
			r = load_outlier(ld, x, u);
			break;
		case 9:
			r = CFG_GET_MS(ld, x, "keepalive_timeout_ms", 1, CFG_MS_MAX,
				       &u->keepalive_timeout_ms);
			break;
		case 10:
			r = cfg_get_u32(ld, x, "keepalive_requests", 1, 1000000000, "",
					&u->keepalive_requests);
			break;
		case 11:
			r = cfg_get_u32(ld, x, "max_connections", 1, 1000000,
					" (per server and worker)", &u->max_connections);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if (!servers)
		return cfg_fail(ld, v, "upstream \"%s\" has no \"servers\"", u->name);
	if (u->health.enabled && !u->health.path && !(u->health.path = cfg_keep(ld, "/healthz", 8)))
		return cfg_oom(ld);
	return 0;
}

int cfg_load_upstreams(struct cfg_ld *ld, const struct cfg_node *v)
{
	struct config *c = ld->c;
	char g[64];
	int r;

	if (v->type != CFG_N_MAP)
		return cfg_fail(
		    ld, v, "\"upstreams\" must be a mapping of name: { servers: [...] }, got %s",
		    cfg_got(v, g, sizeof(g)));
	if ((r = cfg_want_map(ld, v, "\"upstreams\"", "in upstreams")))
		return r;
	if (v->n > CFG_MAX_UPSTREAMS)
		return cfg_fail(ld, v->kids[2 * CFG_MAX_UPSTREAMS], "at most %d upstreams",
				CFG_MAX_UPSTREAMS);
	for (int i = 0; i < v->n; i++) {
		if ((r = load_upstream(ld, v->kids[2 * i], v->kids[2 * i + 1], &c->upstreams[i])))
			return r;
		c->n_upstreams = i + 1;
	}
	return 0;
}
