// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The slow loop's decision: a pure function from one window of flow stats to kernel actions. */
#include <stdlib.h>
#include <string.h>

#include "lanes/slow.h"

#define STRIKES_MAX 20 /* 2^20 x ttl_ms is past any ttl_max_ms */

void slow_params_default(struct slow_params *p)
{
	*p = (struct slow_params){
	    .syn_rate = 500,
	    .pkt_rate = 50000,
	    .reject_rate = 50,
	    .throttle_pps = 100,
	    .throttle_burst = 200,
	    .ttl_ms = 10000,
	    .ttl_max_ms = 300000,
	    .calm_ticks = 3,
	    .forgive_ms = 60000,
	    .heavy_factor = 20.0,
	    .heavy_min_bytes = 1 << 20,
	    .heavy_min_flows = 4,
	};
}

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct og_addr_key));
}

static const struct slow_src_in *src_find(const struct slow_src_in *src, int n,
					  const struct og_addr_key *k)
{
	return n > 0 ? bsearch(k, src, n, sizeof(*src), addr_cmp) : NULL;
}

static struct slow_src_state *state_get(struct slow_state *st, const struct og_addr_key *k,
					int create)
{
	for (int i = 0; i < st->n_src; i++)
		if (!memcmp(&st->src[i].src, k, sizeof(*k)))
			return &st->src[i];
	if (!create || st->n_src == SLOW_MAX_SRC)
		return NULL;
	memset(&st->src[st->n_src], 0, sizeof(st->src[0]));
	st->src[st->n_src].src = *k;
	return &st->src[st->n_src++];
}

static uint64_t per_s(uint64_t n, uint64_t window_ms)
{
	return window_ms ? n * 1000 / window_ms : n;
}

/* The threshold <in> is over, or NULL; <half> asks whether it is over half of any. */
static const char *over(const struct slow_params *p, const struct slow_src_in *in, uint64_t w,
			int half)
{
	uint64_t d = half ? 2 : 1;

	if (per_s(in->syns, w) * d > p->syn_rate)
		return "syn_rate";
	if (per_s(in->pkts, w) * d > p->pkt_rate)
		return "pkt_rate";
	if (per_s(in->rejects, w) * d > p->reject_rate)
		return "rejects";
	return NULL;
}

static struct slow_action *emit(struct slow_action *out, int max, int *n)
{
	if (*n >= max)
		return NULL;
	memset(&out[*n], 0, sizeof(out[0]));
	return &out[(*n)++];
}

static void inputs(struct slow_action *a, const struct slow_src_in *in, uint64_t w)
{
	if (!in)
		return;
	a->syn_rate = per_s(in->syns, w);
	a->pkt_rate = per_s(in->pkts, w);
	a->reject_rate = per_s(in->rejects, w);
}

static void throttle_sources(const struct slow_params *p, struct slow_state *st, uint64_t now,
			     uint64_t w, const struct slow_src_in *src, int n_src,
			     struct slow_action *out, int max, int *n)
{
	for (int i = 0; i < n_src; i++) {
		const char *why = over(p, &src[i], w, 0);
		struct slow_src_state *ss;
		struct slow_action *a;
		uint64_t ttl;

		if (!why)
			continue;
		ss = state_get(st, &src[i].src, 1);
		if (!ss)
			continue; /* table full: the source waits for a slot */
		ss->calm = 0;
		ss->calm_since_ms = 0;
		/* still covered through the next window: the kernel keeps dropping */
		if (ss->until_ms > now + w)
			continue;
		if (ss->strikes < STRIKES_MAX)
			ss->strikes++;
		ttl = p->ttl_ms << (ss->strikes - 1);
		if (ttl > p->ttl_max_ms || ttl < p->ttl_ms)
			ttl = p->ttl_max_ms;
		ss->until_ms = now + ttl;
		ss->dropped_seen = 0; /* the new entry counts from 0 */
		a = emit(out, max, n);
		if (!a)
			return;
		a->kind = SLOW_THROTTLE;
		a->src = src[i].src;
		a->pps = p->throttle_pps;
		a->burst = p->throttle_burst;
		a->ttl_ms = ttl;
		a->strikes = ss->strikes;
		a->why = why;
		inputs(a, &src[i], w);
	}
}

/* Throttled and striking sources that calmed: release early, forgive, forget. */
static void calm_sources(const struct slow_params *p, struct slow_state *st, uint64_t now,
			 uint64_t w, const struct slow_src_in *src, int n_src,
			 struct slow_action *out, int max, int *n)
{
	int i = 0;

	while (i < st->n_src) {
		struct slow_src_state *ss = &st->src[i];
		const struct slow_src_in *in = src_find(src, n_src, &ss->src);
		uint64_t dropped = 0;
		struct slow_action *a;

		if (in && in->dropped_total >= ss->dropped_seen) {
			dropped = in->dropped_total - ss->dropped_seen;
			ss->dropped_seen = in->dropped_total;
		}
		/* still pushing against its bucket: not calm, whatever og_flows says */
		if ((in && over(p, in, w, 1)) || per_s(dropped, w) * 2 > p->throttle_pps) {
			ss->calm = 0;
			ss->calm_since_ms = 0;
			i++;
			continue;
		}
		if (!ss->calm_since_ms)
			ss->calm_since_ms = now;
		ss->calm++;
		if (ss->until_ms && ss->until_ms <= now) {
			ss->until_ms = 0; /* lapsed in the kernel by itself */
		} else if (ss->until_ms && ss->calm >= p->calm_ticks && (a = emit(out, max, n))) {
			a->kind = SLOW_RELEASE;
			a->src = ss->src;
			a->strikes = ss->strikes;
			a->why = "calm";
			inputs(a, in, w);
			ss->until_ms = 0;
		}
		if (!ss->until_ms && ss->strikes && now - ss->calm_since_ms >= p->forgive_ms) {
			ss->strikes--;
			ss->calm_since_ms = now;
		}
		if (!ss->until_ms && !ss->strikes) {
			*ss = st->src[--st->n_src]; /* forget it; look at the moved one next */
			continue;
		}
		i++;
	}
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void demote_heavy(const struct slow_params *p, const struct slow_flow_in *fl, int n_fl,
			 struct slow_action *out, int max, int *n)
{
	uint64_t *b = n_fl ? malloc(sizeof(*b) * (size_t)n_fl) : NULL;

	if (!b)
		return;
	for (int lane = OG_LANE_ORDER; lane <= OG_LANE_NORMAL; lane++) {
		uint64_t med;
		int m = 0;

		for (int i = 0; i < n_fl; i++)
			if (fl[i].lane == lane && fl[i].bytes)
				b[m++] = fl[i].bytes;
		if (m < (int)p->heavy_min_flows)
			continue;
		qsort(b, m, sizeof(*b), u64_cmp);
		med = m & 1 ? b[m / 2] : (b[m / 2 - 1] + b[m / 2]) / 2;
		for (int i = 0; i < n_fl; i++) {
			struct slow_action *a;

			if (fl[i].lane != lane || fl[i].bytes < p->heavy_min_bytes ||
			    (double)fl[i].bytes <= p->heavy_factor * (double)med)
				continue;
			a = emit(out, max, n);
			if (!a)
				break;
			a->kind = SLOW_DEMOTE;
			a->flow = fl[i].k;
			a->src.family = fl[i].k.family;
			memcpy(a->src.addr, fl[i].k.saddr, sizeof(a->src.addr));
			a->bytes = fl[i].bytes;
			a->median = med;
			a->why = "heavy";
		}
	}
	free(b);
}

int slow_decide(const struct slow_params *p, struct slow_state *st, uint64_t now_ms,
		uint64_t window_ms, const struct slow_src_in *src, int n_src,
		const struct slow_flow_in *flows, int n_flows, struct slow_action *out, int max)
{
	int n = 0;

	throttle_sources(p, st, now_ms, window_ms, src, n_src, out, max, &n);
	calm_sources(p, st, now_ms, window_ms, src, n_src, out, max, &n);
	demote_heavy(p, flows, n_flows, out, max, &n);
	return n;
}
