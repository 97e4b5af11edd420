// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config generations: derived per-route bytes and server state, published with one atomic store. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "http/resp_fmt.h"
#include "core/runtime.h"
#include "core/worker.h"

static struct og_rt *retired; /* main thread only */
static uint64_t next_gen = 1;

/* Route <r>'s direct response, formatted once per generation: status line and headers, then
 * "\r\n" and the body; the Date and Connection lines go in between when sent. */
static int route_build(struct og_route_rt *rr, const struct cfg_route *r)
{
	size_t cap = 256 + r->body_len, len;
	int has_ct = 0, body = resp_status_has_body(r->status);
	char *b;

	for (int i = 0; i < r->n_resp_headers; i++) {
		cap += strlen(r->resp_headers[i].name) + strlen(r->resp_headers[i].value) + 4;
		if (!strcasecmp(r->resp_headers[i].name, "content-type"))
			has_ct = 1;
	}
	b = malloc(cap);
	if (!b)
		return -ENOMEM;
	len = resp_fmt_status(b, cap, r->status);
	for (int i = 0; i < r->n_resp_headers; i++)
		len += resp_fmt_header(b + len, cap - len, r->resp_headers[i].name,
				       r->resp_headers[i].value);
	if (!has_ct)
		len += resp_fmt_header(b + len, cap - len, "Content-Type", "text/plain");
	if (body) {
		char cl[24];

		snprintf(cl, sizeof(cl), "%zu", r->body_len);
		len += resp_fmt_header(b + len, cap - len, "Content-Length", cl);
	}
	rr->resp_head_len = (uint32_t)len;
	memcpy(b + len, "\r\n", 2);
	len += 2;
	if (body) {
		memcpy(b + len, r->body, r->body_len);
		len += r->body_len;
	}
	rr->resp = b;
	rr->resp_len = (uint32_t)len;
	return 0;
}

static const struct og_server *find_prev(const struct og_rt *prev, const char *ups,
					 const char *addr)
{
	if (!prev)
		return NULL;
	for (int u = 0; u < prev->cfg->n_upstreams; u++) {
		if (strcmp(prev->cfg->upstreams[u].name, ups))
			continue;
		for (int s = 0; s < prev->ups[u].n_servers; s++)
			if (!strcmp(prev->ups[u].servers[s].addr->text, addr))
				return &prev->ups[u].servers[s];
	}
	return NULL;
}

struct og_rt *rt_new(struct config *cfg, const struct og_rt *prev)
{
	struct og_rt *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	rt->cfg = cfg;
	rt->routes = calloc(cfg->n_routes ? cfg->n_routes : 1, sizeof(*rt->routes));
	rt->ups = calloc(cfg->n_upstreams ? cfg->n_upstreams : 1, sizeof(*rt->ups));
	if (!rt->routes || !rt->ups)
		goto fail;
	for (int i = 0; i < cfg->n_routes; i++)
		if (cfg->routes[i].is_respond && route_build(&rt->routes[i], &cfg->routes[i]))
			goto fail;
	for (int u = 0; u < cfg->n_upstreams; u++) {
		struct og_upstream_rt *ur = &rt->ups[u];
		const struct cfg_upstream *cu = &cfg->upstreams[u];

		ur->cfg = cu;
		ur->n_servers = cu->n_servers;
		ur->servers = calloc(cu->n_servers ? cu->n_servers : 1, sizeof(*ur->servers));
		if (!ur->servers)
			goto fail;
		for (int s = 0; s < cu->n_servers; s++) {
			struct og_server *sv = &ur->servers[s];
			const struct og_server *old =
			    find_prev(prev, cu->name, cu->servers[s].text);

			sv->addr = &cu->servers[s];
			/* Without active checks a server is presumed up; with them too, until the
			 * first checks say otherwise (fail-open start, like nginx/haproxy). */
			atomic_init(&sv->healthy, 1);
			if (old) {
				atomic_init(&sv->healthy, atomic_load(&old->healthy));
				atomic_init(&sv->hc_ok_streak, atomic_load(&old->hc_ok_streak));
				atomic_init(&sv->hc_fail_streak, atomic_load(&old->hc_fail_streak));
				atomic_init(&sv->breaker, atomic_load(&old->breaker));
				atomic_init(&sv->open_until_ms, atomic_load(&old->open_until_ms));
				atomic_init(&sv->ejected_until_ms,
					    atomic_load(&old->ejected_until_ms));
				atomic_init(&sv->ejections, atomic_load(&old->ejections));
				atomic_init(&sv->breaker_opens, atomic_load(&old->breaker_opens));
			}
			if (!cu->health.enabled)
				atomic_store(&sv->healthy, 1);
		}
	}
	rt->gen = next_gen++;
	atomic_fetch_add(&og_d.gens_live, 1);
	return rt;
fail:
	rt_free(rt);
	return NULL;
}

void rt_free(struct og_rt *rt)
{
	if (!rt)
		return;
	if (rt->ext_free && rt->routes)
		rt->ext_free(rt);
	if (rt->gen)
		atomic_fetch_sub(&og_d.gens_live, 1);
	if (rt->routes)
		for (int i = 0; i < rt->cfg->n_routes; i++)
			free(rt->routes[i].resp);
	if (rt->ups)
		for (int u = 0; u < rt->cfg->n_upstreams; u++)
			free(rt->ups[u].servers);
	free(rt->routes);
	free(rt->ups);
	config_free(rt->cfg);
	free(rt);
}

void rt_publish(struct og_rt *rt)
{
	struct og_rt *old = atomic_exchange_explicit(&og_d.rt, rt, memory_order_acq_rel);

	if (old) {
		old->retired_ms = og_now_ms();
		old->older = retired;
		retired = old;
	}
}

void rt_collect(int all)
{
	struct og_rt **pp = &retired;

	while (*pp) {
		struct og_rt *rt = *pp;

		if (all || (og_now_ms() >= rt->retired_ms + 5000 && worker_rt_unused(rt))) {
			*pp = rt->older;
			rt_free(rt);
		} else {
			pp = &rt->older;
		}
	}
}
