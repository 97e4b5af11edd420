// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Prometheus series of what acts around the upstream exchange: idempotency and fault.
 * Route names go into labels as they are: the config allows no character that needs escaping. */
#include <event2/buffer.h>
#include <stddef.h>

#include "core/daemon.h"
#include "lanes/idem.h"
#include "ops/metrics.h"
#include "proxy/fault.h"

static void head(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_idem(struct evbuffer *out, const struct og_rt *rt)
{
	static const char *const ends[3] = {"released", "stored", "unknown"};
	const struct config *cfg = rt->cfg;

	head(out, "ordergate_idempotency_requests_total", "counter",
	     "Requests with an Idempotency-Key on a route with idempotency, by outcome.");
	for (int r = 0; r < cfg->n_routes; r++) {
		struct idem_stats st;

		if (!rt->routes[r].idem)
			continue;
		idem_stats(rt->routes[r].idem, &st);
		for (int v = 0; v < IDEM__N; v++)
			evbuffer_add_printf(out,
					    "ordergate_idempotency_requests_total{route=\"%s\","
					    "outcome=\"%s\"} %llu\n",
					    cfg->routes[r].name, idem_verdict_name(v),
					    (unsigned long long)st.verdicts[v]);
	}
	head(out, "ordergate_idempotency_claims_total", "counter",
	     "Claims ended: answer stored for replay, released (nothing reached the upstream), "
	     "or unknown (not replayable).");
	for (int r = 0; r < cfg->n_routes; r++) {
		struct idem_stats st;

		if (!rt->routes[r].idem)
			continue;
		idem_stats(rt->routes[r].idem, &st);
		for (int k = 0; k < 3; k++)
			evbuffer_add_printf(
			    out,
			    "ordergate_idempotency_claims_total{route=\"%s\",end=\"%s\"} "
			    "%llu\n",
			    cfg->routes[r].name, ends[k], (unsigned long long)st.ends[k]);
	}
	head(out, "ordergate_idempotency_entries", "gauge",
	     "Keys held: in flight, or answered and not yet reclaimed after their window.");
	for (int r = 0; r < cfg->n_routes; r++) {
		struct idem_stats st;

		if (!rt->routes[r].idem)
			continue;
		idem_stats(rt->routes[r].idem, &st);
		evbuffer_add_printf(out, "ordergate_idempotency_entries{route=\"%s\"} %llu\n",
				    cfg->routes[r].name, (unsigned long long)st.entries);
	}
}

/* 1 when route position <r> has injected anything. */
static int faulted(int r)
{
	return atomic_load_explicit(&fault_counts.delays[r], memory_order_relaxed) ||
	       atomic_load_explicit(&fault_counts.aborts[r], memory_order_relaxed);
}

static void render_fault(struct evbuffer *out, const struct config *cfg)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} series[] = {
	    {"ordergate_fault_delays_total", "Requests held back by an injected delay.",
	     offsetof(struct fault_counts, delays)},
	    {"ordergate_fault_delay_ms_total", "Milliseconds of injected delay drawn.",
	     offsetof(struct fault_counts, delay_ms)},
	    {"ordergate_fault_aborts_total", "Requests answered by an injected abort.",
	     offsetof(struct fault_counts, aborts)},
	};

	for (size_t s = 0; s < sizeof(series) / sizeof(series[0]); s++) {
		const _Atomic uint64_t *a =
		    (const _Atomic uint64_t *)((const char *)&fault_counts + series[s].off);

		head(out, series[s].name, "counter", series[s].help);
		/* routes with a fault: section, and those a POST /faults override acted on */
		for (int r = 0; r < cfg->n_routes; r++)
			if (cfg->routes[r].has_fault || faulted(r))
				evbuffer_add_printf(out, "%s{route=\"%s\"} %llu\n", series[s].name,
						    cfg->routes[r].name,
						    (unsigned long long)atomic_load_explicit(
							&a[r], memory_order_relaxed));
	}
}

void metrics_render_guards(struct evbuffer *out, const struct og_rt *rt)
{
	if (!rt || !rt->cfg)
		return;
	if (rt->routes)
		render_idem(out, rt);
	render_fault(out, rt->cfg);
}
