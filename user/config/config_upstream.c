// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config "upstreams": servers, balance, timeouts, health checks, breaker, outlier ejection. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_keys.h"

/* health:, breaker: and outlier: of an upstream, a mapping each: <sect> names it. */
static int load_part(const struct cfg_walk *w, const struct cfg_node *v, const char *sect,
		     const struct cfg_key *keys)
{
	const struct cfg_upstream *u = w->obj;
	char where[128], what[32];
	int r;

	snprintf(where, sizeof(where), "in %s of upstream \"%s\"", sect, u->name);
	snprintf(what, sizeof(what), "\"%s\"", sect);
	if ((r = cfg_want_map(w->ld, v, what, where)))
		return r;
	return cfg_walk_keys(&(struct cfg_walk){w->ld, w->obj, where}, v, keys);
}

static int load_health(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		       const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_PATH(struct cfg_upstream, "path", health.path),
	    CFG_MS(struct cfg_upstream, "interval_ms", health.interval_ms, 10, CFG_MS_MAX),
	    CFG_MS(struct cfg_upstream, "timeout_ms", health.timeout_ms, 1, CFG_MS_MAX),
	    CFG_U32(struct cfg_upstream, "rise", health.rise, 1, 1000, ""),
	    CFG_U32(struct cfg_upstream, "fall", health.fall, 1, 1000, ""),
	    CFG_KEYS_END,
	};
	struct cfg_upstream *u = w->obj;

	u->health.enabled = 1;
	return load_part(w, v, "health", keys);
}

/* statuses: [502, 503, 504]: upstream responses that count as server failures. */
static int load_statuses(const struct cfg_walk *w, const struct cfg_key *d,
			 const struct cfg_node *k, const struct cfg_node *v)
{
	struct cfg_ld *ld = w->ld;
	struct cfg_statuses *out = cfg_field(w, d);
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
 * statuses that count and (outlier only) max_ejection_percent.
 */
static int load_breaker(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
			const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_U32(struct cfg_upstream, "consecutive_failures", breaker.consecutive_failures, 0,
		    1000000, " (0 = off)"),
	    CFG_MS(struct cfg_upstream, "open_ms", breaker.open_ms, 1, CFG_MS_MAX),
	    CFG_FN_AT(struct cfg_upstream, "statuses", breaker.statuses, load_statuses),
	    CFG_KEYS_END,
	};

	return load_part(w, v, "breaker", keys);
}

static int load_outlier(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
			const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_U32(struct cfg_upstream, "consecutive_5xx", outlier.consecutive_5xx, 0, 1000000,
		    " (0 = off)"),
	    CFG_MS(struct cfg_upstream, "eject_ms", outlier.eject_ms, 1, CFG_MS_MAX),
	    CFG_FN_AT(struct cfg_upstream, "statuses", outlier.statuses, load_statuses),
	    CFG_U32(struct cfg_upstream, "max_ejection_percent", outlier.max_ejection_percent, 0,
		    100, " (percent)"),
	    CFG_KEYS_END,
	};

	return load_part(w, v, "outlier", keys);
}

/* round_robin | least_request | hash(header:NAME) | hash(NAME) | hash(source) */
static int load_balance(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
			const struct cfg_node *v)
{
	struct cfg_ld *ld = w->ld;
	struct cfg_upstream *u = w->obj;
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

static int load_servers(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
			const struct cfg_node *v)
{
	struct cfg_ld *ld = w->ld;
	struct cfg_upstream *u = w->obj;
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
	static const struct cfg_key keys[] = {
	    CFG_FN("servers", load_servers),
	    CFG_FN("balance", load_balance),
	    CFG_U32(struct cfg_upstream, "keepalive", keepalive, 0, 100000, " (idle connections)"),
	    CFG_MS(struct cfg_upstream, "connect_timeout_ms", connect_timeout_ms, 1, CFG_MS_MAX),
	    CFG_MS(struct cfg_upstream, "timeout_ms", timeout_ms, 1, CFG_MS_MAX),
	    CFG_U32(struct cfg_upstream, "retries", retries, 0, 10, ""),
	    CFG_FN("health", load_health),
	    CFG_FN("breaker", load_breaker),
	    CFG_FN("outlier", load_outlier),
	    CFG_MS(struct cfg_upstream, "keepalive_timeout_ms", keepalive_timeout_ms, 1,
		   CFG_MS_MAX),
	    CFG_U32(struct cfg_upstream, "keepalive_requests", keepalive_requests, 1, 1000000000,
		    ""),
	    CFG_U32(struct cfg_upstream, "max_connections", max_connections, 1, 1000000,
		    " (per server and worker)"),
	    CFG_KEYS_END,
	};
	struct cfg_seen seen[CFG_MAX_KEYS] = {0};
	char where[128];
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
	if ((r = cfg_walk_keys(&(struct cfg_walk){ld, u, where, seen}, v, keys)))
		return r;
	if (!cfg_seen_key(seen, keys, "servers").v)
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
