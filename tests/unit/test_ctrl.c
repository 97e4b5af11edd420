// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The fast loop's law against a queueing model: 3x overload converges, settles, recovers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lanes/ctrl_law.h"
#include "../lib/og_test.h"

/*
 * A synthetic upstream: K requests are served in parallel in S0 each; beyond K they
 * share it (processor sharing), so every request takes S0 * N / K with N in flight.
 * Orders arrive open-loop at ORDER_RPS; bulk clients keep `demand` requests
 * outstanding (closed loop), capped by the bulk lane's limit. The order SLO is met
 * while N <= 2K, so the best bulk limit is 2K minus the orders in flight.
 */
#define K	  32
#define S0_US	  2000.0
#define ORDER_RPS 1000.0
#define SLO_US	  6000 /* p99 = 1.5 x the mean in this model: met up to N = 2K */
#define WIN_MS	  100

struct plant {
	double demand_bulk, demand_normal;
	unsigned tick;
	uint32_t slo_us; /* 0: SLO_US */
	double slower;	 /* the upstream's service time x this (0: 1) */
};

/* Deterministic +-3 % noise on p99, so the law sees a jittery signal. */
static double jitter(unsigned t)
{
	unsigned x = t * 2654435761u;

	return 1.0 + ((double)(x >> 16 & 0xff) / 255.0 - 0.5) * 0.06;
}

/* One window of the model under <limit>s; fills <in> as ctrl.c would from histograms. */
static void plant_run(struct plant *pl, const uint32_t limit[OG_LANE_MAX], struct ctrl_in *in)
{
	double s0 = S0_US * (pl->slower ? pl->slower : 1.0);
	double nb = pl->demand_bulk, nn = pl->demand_normal, no = 0, lat = s0;

	if (limit[OG_LANE_BULK] && nb > limit[OG_LANE_BULK])
		nb = limit[OG_LANE_BULK];
	if (limit[OG_LANE_NORMAL] && nn > limit[OG_LANE_NORMAL])
		nn = limit[OG_LANE_NORMAL];
	for (int i = 0; i < 50; i++) { /* fixed point of Little's law for the orders */
		double n = no + nb + nn;

		lat = s0 * (n > K ? n / K : 1.0);
		no = ORDER_RPS * lat / 1e6;
	}
	memset(in, 0, sizeof(*in));
	in->window_ms = WIN_MS;
	in->slo_us[OG_LANE_ORDER] = pl->slo_us ? pl->slo_us : SLO_US;
	in->lane[OG_LANE_ORDER].count = (uint64_t)(ORDER_RPS * WIN_MS / 1000);
	in->lane[OG_LANE_ORDER].p99_us = (uint64_t)(lat * 1.5 * jitter(pl->tick++));
	in->lane[OG_LANE_ORDER].p50_us = (uint64_t)lat;
	in->lane[OG_LANE_ORDER].conc = no;
	in->lane[OG_LANE_ORDER].inflight = (int32_t)no;
	in->lane[OG_LANE_BULK].conc = nb;
	in->lane[OG_LANE_BULK].inflight = (int32_t)nb;
	in->lane[OG_LANE_BULK].count = (uint64_t)(nb / lat * 1e6 * WIN_MS / 1000);
	in->lane[OG_LANE_NORMAL].conc = nn;
	in->lane[OG_LANE_NORMAL].inflight = (int32_t)nn;
	in->lane[OG_LANE_NORMAL].count = (uint64_t)(nn / lat * 1e6 * WIN_MS / 1000);
}

static const struct ctrl_params P = {
    .decrease = 0.7, .floor = 4, .ceiling = 4096, .grow_after = 3, .min_samples = 20};

struct run {
	struct ctrl_state st;
	struct plant pl;
	uint32_t limit[OG_LANE_MAX];
	struct ctrl_in in;
	struct ctrl_out out;
};

static void step_with(struct run *r, const struct ctrl_params *p)
{
	plant_run(&r->pl, r->limit, &r->in);
	ctrl_law(p, &r->st, &r->in, &r->out);
	memcpy(r->limit, r->out.limit, sizeof(r->limit));
}

static void step(struct run *r)
{
	step_with(r, &P);
}

static double order_p99_ratio(const struct run *r)
{
	return (double)r->in.lane[OG_LANE_ORDER].p99_us / SLO_US;
}

static void test_overload_step(void)
{
	struct run r = {.pl = {.demand_bulk = 16}};
	int converged = -1;
	uint32_t lo = UINT32_MAX, hi = 0;
	double best = 2 * K - ORDER_RPS * 2 * S0_US / 1e6; /* N = 2K, orders at 2 x S0 */
	double worst_ratio = 0;

	for (int t = 0; t < 20; t++)
		step(&r);
	OK(r.limit[OG_LANE_BULK] == 0 && r.limit[OG_LANE_NORMAL] == 0,
	   "light load: no lane limited (bulk %u)", r.limit[OG_LANE_BULK]);
	OK(order_p99_ratio(&r) < 1, "light load: order p99 under the SLO (%.2f)",
	   order_p99_ratio(&r));
	/* a step to 3x the concurrency the upstream can take within the SLO */
	r.pl.demand_bulk = 3 * 2 * K;
	step(&r);
	OK(order_p99_ratio(&r) > 2.5, "overload step: order p99 at %.1f x SLO before any cut",
	   order_p99_ratio(&r));
	OK(r.out.change[OG_LANE_BULK] == -1 && r.out.why == CTRL_ORDER_SLOW,
	   "first overloaded window cuts bulk (%s)", ctrl_why_name(r.out.why));
	OK(r.limit[OG_LANE_BULK] >= (uint32_t)(3 * 2 * K * 0.7) - 1,
	   "a cut is never deeper than decrease (%u of %d)", r.limit[OG_LANE_BULK], 3 * 2 * K);
	OK(r.out.change[OG_LANE_ORDER] == 0 && r.limit[OG_LANE_ORDER] == 0,
	   "the order lane is never limited");
	for (int t = 1; t < 10 && converged < 0; t++) {
		step(&r);
		if (order_p99_ratio(&r) <= 1.1)
			converged = t + 1;
	}
	OK(converged > 0 && converged <= 10,
	   "order p99 back within 10 %% of the SLO after %d fast ticks (<= 10)", converged);
	/* settled: the limit stays within +-10 % of the best one, orders within their SLO */
	for (int t = 0; t < 200; t++) {
		step(&r);
		if (t < 20)
			continue;
		if (r.limit[OG_LANE_BULK] < lo)
			lo = r.limit[OG_LANE_BULK];
		if (r.limit[OG_LANE_BULK] > hi)
			hi = r.limit[OG_LANE_BULK];
		if (order_p99_ratio(&r) > worst_ratio)
			worst_ratio = order_p99_ratio(&r);
	}
	og_diag("settled bulk limit %u..%u, best %.1f, worst order p99 %.2f x SLO", lo, hi, best,
		worst_ratio);
	OK(lo >= best * 0.9 && hi <= best * 1.1 && lo > 0,
	   "settled: bulk limit %u..%u within +-10 %% of %.1f", lo, hi, best);
	OK(worst_ratio <= 1.1, "settled: order p99 at most 1.1 x SLO (%.2f)", worst_ratio);
	OK(r.limit[OG_LANE_NORMAL] == 0, "normal untouched while bulk could give");
	/* the load ends: limits grow back to unlimited */
	r.pl.demand_bulk = 16;
	converged = -1;
	for (int t = 0; t < 150 && converged < 0; t++) {
		step(&r);
		if (r.limit[OG_LANE_BULK] == 0)
			converged = t + 1;
	}
	OK(converged > 0, "recovery: bulk unlimited again after %d ticks", converged);
	OK(order_p99_ratio(&r) < 1, "recovery: order p99 under the SLO");
}

static void test_normal_after_bulk(void)
{
	struct run r = {.pl = {.demand_bulk = 200, .demand_normal = 200}};
	int bulk_floor_first = 1;

	for (int t = 0; t < 60; t++) {
		step(&r);
		if (r.out.change[OG_LANE_NORMAL] == -1 && r.limit[OG_LANE_BULK] != P.floor)
			bulk_floor_first = 0;
	}
	OK(r.limit[OG_LANE_BULK] == P.floor, "both lanes flooding: bulk at its floor (%u)",
	   r.limit[OG_LANE_BULK]);
	OK(r.limit[OG_LANE_NORMAL] > 0 && r.limit[OG_LANE_NORMAL] < 200,
	   "normal limited once bulk had nothing left (%u)", r.limit[OG_LANE_NORMAL]);
	OK(bulk_floor_first, "normal is cut only when bulk is at its floor in that window");
	OK(order_p99_ratio(&r) <= 1.1, "orders within 1.1 x SLO (%.2f)", order_p99_ratio(&r));
	/* load gone: normal is given back first */
	r.pl.demand_bulk = 2;
	r.pl.demand_normal = 2;
	int bulk_grew_first = 0;

	for (int t = 0; t < 400 && r.limit[OG_LANE_NORMAL]; t++) {
		step(&r);
		if (r.out.change[OG_LANE_BULK] == 1 && r.limit[OG_LANE_NORMAL])
			bulk_grew_first = 1;
	}
	OK(r.limit[OG_LANE_NORMAL] == 0, "normal unlimited again");
	OK(!bulk_grew_first, "bulk does not grow while normal is still limited");
	OK(r.limit[OG_LANE_BULK] == P.floor, "bulk still at its floor when normal is whole (%u)",
	   r.limit[OG_LANE_BULK]);
}

static void test_pure_and_bounds(void)
{
	struct ctrl_state a = {0}, b = {0};
	struct ctrl_in in = {.window_ms = 100, .slo_us = {0, 5000, 0, 0}};
	struct ctrl_out oa, ob;
	struct ctrl_params p = P;

	in.lane[OG_LANE_ORDER].count = 100;
	in.lane[OG_LANE_ORDER].p99_us = 50000; /* 10x the SLO */
	in.lane[OG_LANE_BULK].conc = 5;
	in.lane[OG_LANE_BULK].inflight = 5;
	ctrl_law(&p, &a, &in, &oa);
	ctrl_law(&p, &b, &in, &ob);
	OK(!memcmp(&oa, &ob, sizeof(oa)) && !memcmp(&a, &b, sizeof(a)),
	   "same inputs, same decision and state");
	OK(oa.limit[OG_LANE_BULK] == p.floor, "a cut stops at the floor (%u)",
	   oa.limit[OG_LANE_BULK]);
	ctrl_law(&p, &a, &in, &oa);
	OK(oa.limit[OG_LANE_BULK] == p.floor && oa.change[OG_LANE_BULK] == 0,
	   "at the floor: bulk not cut again");
	/* too few samples: no p99 verdict */
	memset(&a, 0, sizeof(a));
	in.lane[OG_LANE_ORDER].count = 3;
	ctrl_law(&p, &a, &in, &oa);
	OK(oa.why != CTRL_ORDER_SLOW, "3 samples are not a p99 (%s)", ctrl_why_name(oa.why));
	a.lane[OG_LANE_BULK].limit = 50;
	a.lane[OG_LANE_BULK].w_cut = 60;
	a.lane[OG_LANE_BULK].step = 2;
	in.lane[OG_LANE_ORDER].p99_us = 100;
	for (int t = 0; t < 20; t++)
		ctrl_law(&p, &a, &in, &oa);
	OK(oa.limit[OG_LANE_BULK] == 50, "orders flowing but too few to judge: no growth (%u)",
	   oa.limit[OG_LANE_BULK]);
	in.lane[OG_LANE_ORDER].count = 0;
	in.lane[OG_LANE_BULK].conc = 60;
	in.lane[OG_LANE_BULK].inflight = 50;
	for (int t = 0; t < 10; t++)
		ctrl_law(&p, &a, &in, &oa);
	OK(oa.limit[OG_LANE_BULK] == 50,
	   "no orders, bulk still pressing on its limit: hold, the next orders would pay (%u)",
	   oa.limit[OG_LANE_BULK]);
	in.lane[OG_LANE_BULK].conc = 10;
	in.lane[OG_LANE_BULK].inflight = 10;
	for (int t = 0; t < 3; t++)
		ctrl_law(&p, &a, &in, &oa);
	OK(oa.limit[OG_LANE_BULK] == 52, "no orders and the bulk flood is over: bulk grows (%u)",
	   oa.limit[OG_LANE_BULK]);
	/* order in-flight jumping: cut before the p99 shows it */
	memset(&a, 0, sizeof(a));
	in.lane[OG_LANE_ORDER].count = 0;
	in.lane[OG_LANE_ORDER].conc = 2;
	in.lane[OG_LANE_BULK].conc = 100;
	in.lane[OG_LANE_BULK].inflight = 100;
	ctrl_law(&p, &a, &in, &oa);
	in.lane[OG_LANE_ORDER].conc = 40;
	ctrl_law(&p, &a, &in, &oa);
	OK(oa.why == CTRL_ORDER_GROWING && oa.limit[OG_LANE_BULK] == 70,
	   "order in-flight x20: bulk cut by decrease to 70 (%s, %u)", ctrl_why_name(oa.why),
	   oa.limit[OG_LANE_BULK]);
}

/*
 * A loose SLO (the p99 never crosses it) and queue_tol 0.1: the law still keeps orders at
 * their quiet latency, by their p50 against the baseline; an upstream that became slower
 * for good is re-based, and bulk is given back.
 */
static void test_queue_baseline(void)
{
	struct ctrl_params p = P;
	struct run r = {.pl = {.demand_bulk = 16, .slo_us = 100000}};
	double p50_worst = 0, quiet;
	int cut_by_queue = 0, p99_over = 0;

	p.queue_tol = 0.1;
	for (int t = 0; t < 20; t++)
		step_with(&r, &p);
	quiet = (double)r.in.lane[OG_LANE_ORDER].p50_us;
	OK(r.limit[OG_LANE_BULK] == 0 && r.st.base_p50 == quiet,
	   "light load: nothing limited, baseline p50 %.0f us", r.st.base_p50);
	r.pl.demand_bulk = 3 * 2 * K;
	for (int t = 0; t < 200; t++) {
		step_with(&r, &p);
		p99_over |= r.in.lane[OG_LANE_ORDER].p99_us >= r.pl.slo_us;
		if (r.out.why == CTRL_ORDER_QUEUE)
			cut_by_queue = 1;
		if (t >= 20 && r.in.lane[OG_LANE_ORDER].p50_us / quiet > p50_worst)
			p50_worst = (double)r.in.lane[OG_LANE_ORDER].p50_us / quiet;
	}
	OK(!p99_over, "the loose SLO is never crossed: only the p50 can drive the law");
	OK(cut_by_queue, "3x overload under a loose SLO: bulk cut for the queue (%s)",
	   ctrl_why_name(CTRL_ORDER_QUEUE));
	/* the band is 1.05..1.1 x quiet; a growth probe may overshoot it for a window */
	OK(p50_worst <= 1.2, "settled: order p50 at most 1.2 x its quiet p50 (%.2f)", p50_worst);
	OK(r.limit[OG_LANE_BULK] >= K * 0.7 && r.limit[OG_LANE_BULK] <= K * 1.15,
	   "settled: bulk near the upstream's own concurrency (%u, K = %d)", r.limit[OG_LANE_BULK],
	   K);
	/* the upstream becomes 30 % slower for good, no flood: re-based, bulk given back */
	r.pl.demand_bulk = 16;
	r.pl.slower = 1.3;
	for (int t = 0; t < 1500 && r.limit[OG_LANE_BULK]; t++)
		step_with(&r, &p);
	OK(r.limit[OG_LANE_BULK] == 0 && r.st.base_p50 > quiet * 1.15,
	   "slower upstream: baseline re-based to %.0f us, bulk unlimited again (%u)",
	   r.st.base_p50, r.limit[OG_LANE_BULK]);
}

int main(void)
{
	test_overload_step();
	test_queue_baseline();
	test_normal_after_bulk();
	test_pure_and_bounds();
	return og_done();
}
