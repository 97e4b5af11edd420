// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The daemon instance and the lock-free views other threads take of it (readiness, clock). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/daemon.h"
#include "proxy/upstream.h"

struct og_daemon og_d;

uint64_t og_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int og_daemon_ready(char *why, size_t whylen)
{
	struct og_rt *rt = og_daemon_rt();
	uint64_t now = og_now_ms();

	if (!rt || !atomic_load(&og_d.ready)) {
		snprintf(why, whylen, "starting");
		return 0;
	}
	if (atomic_load(&og_d.draining)) {
		snprintf(why, whylen, "draining");
		return 0;
	}
	for (int i = 0; i < og_d.n_workers; i++) {
		if (!atomic_load(&og_d.workers[i].listening) && rt->cfg->n_listen) {
			snprintf(why, whylen, "worker %d has no listener", i);
			return 0;
		}
	}
	for (int r = 0; r < rt->cfg->n_routes; r++) {
		const struct cfg_route *cr = &rt->cfg->routes[r];
		struct og_upstream_rt *ur;
		int ok = 0;

		if (cr->is_respond)
			continue;
		ur = &rt->ups[cr->upstream];
		for (int s = 0; s < ur->n_servers && !ok; s++)
			ok = upstream_server_usable(&ur->servers[s], now);
		if (!ok) {
			snprintf(why, whylen, "upstream %s has no usable server", ur->cfg->name);
			return 0;
		}
	}
	return 1;
}
