// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The fast loop's law: proportional cuts bounded by `decrease`, careful additive growth. */
#include <math.h>
#include <string.h>

#include "lanes/ctrl_law.h"

#define BAND_LOW 0.9 /* p99 under 90 % of the SLO counts as a good window */

const char *ctrl_why_name(enum ctrl_why w)
{
	switch (w) {
	case CTRL_ORDER_SLOW:
		return "order-p99-over-slo";
	case CTRL_ORDER_GROWING:
		return "order-inflight-growing";
	case CTRL_ORDER_QUEUE:
		return "order-p50-over-baseline";
	case CTRL_NORMAL_SLOW:
		return "normal-p99-over-slo";
	case CTRL_UPSTREAM_ERR:
		return "upstream-errors";
	case CTRL_GROW:
		return "under-slo";
	default:
		return "hold";
	}
}

/* p99 / SLO of <lane>, 0 when it has no SLO or too few samples to say. */
static double pressure(const struct ctrl_params *p, const struct ctrl_in *in, int lane)
{
	const struct ctrl_lane_in *l = &in->lane[lane];

	if (!in->slo_us[lane] || l->count < p->min_samples)
		return 0;
	return (double)l->p99_us / (double)in->slo_us[lane];
}

/*
 * The order lane's p50 over its quiet baseline (1 = as fast as when nothing queued; 0 when
 * the window has too few samples or the check is off), and the baseline's update. The
 * baseline is the lowest window p50 seen; it drifts up by 1/256 of the gap per window (a
 * time constant of about 25 s at 100 ms windows), so an origin that became slower for good
 * is re-based, while a flood the law holds back leaves no gap to drift on.
 */
static double queueing(const struct ctrl_params *p, struct ctrl_state *st, const struct ctrl_in *in)
{
	const struct ctrl_lane_in *o = &in->lane[OG_LANE_ORDER];
	double q;

	if (p->queue_tol <= 0 || !in->slo_us[OG_LANE_ORDER] || o->count < p->min_samples ||
	    !o->p50_us)
		return 0;
	if (!st->base_p50 || (double)o->p50_us < st->base_p50) {
		st->base_p50 = (double)o->p50_us;
		return 1;
	}
	q = (double)o->p50_us / st->base_p50;
	st->base_p50 += ((double)o->p50_us - st->base_p50) / 256;
	return q;
}

/* The level a lane runs at now: its limit, or what it used when unlimited. */
static double level(const struct ctrl_lane_state *s, const struct ctrl_lane_in *l)
{
	double used = l->conc > l->inflight ? l->conc : (double)l->inflight;

	if (s->limit)
		return used < s->limit ? (used > s->limit * 0.5 ? s->limit : used) : s->limit;
	return used;
}

/*
 * Take <*excess> concurrency out of lane <lane>, at most down to decrease x its level and
 * never below the floor. Returns 1 when it cut.
 */
static int cut(const struct ctrl_params *p, struct ctrl_lane_state *s, const struct ctrl_lane_in *l,
	       double *excess, uint32_t *out)
{
	double lv = level(s, l), lo = lv * p->decrease, nl;

	if (lv <= p->floor || *excess <= 0)
		return 0;
	nl = lv - *excess;
	if (nl < lo)
		nl = lo;
	if (nl < p->floor)
		nl = p->floor;
	nl = floor(nl);
	if (nl >= lv)
		return 0;
	*excess -= lv - nl;
	s->w_cut = (uint32_t)ceil(lv);
	s->limit = (uint32_t)nl;
	/* growth after a cut starts at 2 % of the level that was too high: small against the
	 * 10 % a settled limit may wander */
	s->step = (uint32_t)ceil(s->w_cut * 0.02);
	if (!s->step)
		s->step = 1;
	*out = s->limit;
	return 1;
}

/* Grow <s> by its step: small below the level of the last cut, doubling beyond it. */
static void grow(const struct ctrl_params *p, struct ctrl_lane_state *s, uint32_t *out)
{
	uint64_t nl = (uint64_t)s->limit + s->step;

	if (s->limit >= s->w_cut) /* past the known-bad level: probe faster (the load left) */
		s->step = s->step * 2 > p->ceiling ? p->ceiling : s->step * 2;
	if (nl >= p->ceiling) {
		s->limit = 0;
		s->w_cut = 0;
	} else {
		s->limit = (uint32_t)nl;
	}
	*out = s->limit;
}

void ctrl_law(const struct ctrl_params *p, struct ctrl_state *st, const struct ctrl_in *in,
	      struct ctrl_out *out)
{
	static const int cut_order[] = {OG_LANE_BULK, OG_LANE_NORMAL};
	const struct ctrl_lane_in *o = &in->lane[OG_LANE_ORDER];
	double po = pressure(p, in, OG_LANE_ORDER), pn = pressure(p, in, OG_LANE_NORMAL);
	double pq = queueing(p, st, in), total = 0, ratio = po;
	int n_cut = 2;
	uint64_t served = o->count + in->lane[OG_LANE_NORMAL].count;
	uint64_t errs = o->errors + in->lane[OG_LANE_NORMAL].errors;

	memset(out, 0, sizeof(*out));
	for (int l = 0; l < OG_LANE_MAX; l++) {
		out->limit[l] = st->lane[l].limit;
		total += in->lane[l].conc > in->lane[l].inflight ? in->lane[l].conc
								 : in->lane[l].inflight;
	}
	out->why = CTRL_HOLD;
	if (po > 1) {
		out->why = CTRL_ORDER_SLOW;
	} else if (st->warm && o->conc > 2 * st->order_avg + p->floor) {
		/* queueing before the p99 shows it (or too few samples to have a p99) */
		out->why = CTRL_ORDER_GROWING;
		ratio = 1 / p->decrease;
	} else if (pq > 1 + p->queue_tol) {
		/* under the SLO, but orders wait behind others: the SLO is a ceiling, the goal
		 * is orders at their quiet latency; remove the share that brings p50 back */
		out->why = CTRL_ORDER_QUEUE;
		ratio = pq;
	} else if (served >= p->min_samples && errs * 10 > served) {
		out->why = CTRL_UPSTREAM_ERR;
		ratio = 1 / p->decrease;
	} else if (pn > 1) {
		out->why = CTRL_NORMAL_SLOW;
		ratio = pn;
		n_cut = 1; /* normal's own latency never cuts normal */
	}
	st->order_avg = st->warm ? st->order_avg * 0.8 + o->conc * 0.2 : o->conc;
	st->warm = 1;
	out->pressure = ratio;
	if (out->why != CTRL_HOLD) {
		/* latency grows with the concurrency in front of the upstream (queueing):
		 * remove the share that brings p99 back to the SLO, bulk first */
		double excess = total * (1 - 1 / ratio);
		int any = 0;

		out->excess = excess;
		st->good = 0;
		for (int i = 0; i < n_cut && excess > 0.5; i++) {
			int l = cut_order[i];

			if (cut(p, &st->lane[l], &in->lane[l], &excess, &out->limit[l])) {
				out->change[l] = -1;
				any = 1;
			}
			/* normal gives only once bulk has nothing left to give */
			if (l == OG_LANE_BULK &&
			    !(st->lane[l].limit && st->lane[l].limit <= p->floor))
				break;
		}
		if (!any)
			out->why = CTRL_HOLD; /* everything cuttable is at its floor */
		return;
	}
	if (in->slo_us[OG_LANE_ORDER] && o->count && o->count < p->min_samples) {
		/* orders are flowing but too few to judge yet: no growth on a guess */
		st->good = 0;
		return;
	}
	if (po >= BAND_LOW || pn >= BAND_LOW || (pq && pq > 1 + p->queue_tol / 2)) {
		st->good = 0; /* inside the band: hold, that is where a settled limit lives */
		return;
	}
	if (++st->good < p->grow_after)
		return;
	st->good = 0;
	/* normal is given back before bulk */
	for (int l = OG_LANE_NORMAL; l <= OG_LANE_BULK; l++) {
		const struct ctrl_lane_in *li = &in->lane[l];

		if (!st->lane[l].limit)
			continue;
		/* no orders to measure: grow only a lane whose flood is over (its limit no
		 * longer binds); one still pressing on its limit would hit the next orders */
		if (in->slo_us[OG_LANE_ORDER] && !o->count &&
		    (li->conc > st->lane[l].limit * 0.5 ||
		     li->inflight >= (int32_t)st->lane[l].limit))
			return;
		grow(p, &st->lane[l], &out->limit[l]);
		out->change[l] = 1;
		out->why = CTRL_GROW;
		return;
	}
}
