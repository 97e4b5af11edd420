// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config generations: derived per-route bytes and server state, published with one atomic store. */
#include <stdlib.h>
#include <string.h>

#include "front/respond.h"
#include "core/runtime.h"
#include "core/worker.h"

static struct og_rt *retired; /* main thread only */
static uint64_t next_gen = 1;

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
		if (cfg->routes[i].is_respond &&
		    respond_build_route(&rt->routes[i], &cfg->routes[i]))
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
	if (rt->routes)
		for (int i = 0; i < rt->cfg->n_routes; i++)
			respond_free_route(&rt->routes[i]);
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
	uint64_t min = all ? UINT64_MAX : worker_min_gen();
	struct og_rt **pp = &retired;

	while (*pp) {
		struct og_rt *rt = *pp;

		if (all || (rt->gen < min && og_now_ms() >= rt->retired_ms + 5000)) {
			*pp = rt->older;
			rt_free(rt);
		} else {
			pp = &rt->older;
		}
	}
}
