// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The lane controller: window measurements, the law, overrides, publication, decision log. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/daemon.h"
#include "dp/dp.h"
#include "lanes/ctrl.h"
#include "lanes/lstate.h"
#include "lib/log.h"

#define MAX_ROUTE_OV 64
#define MIN_SAMPLES  10 /* a window's p99 from fewer completions is not trusted */
#define ACC_WINDOWS  20 /* a lane's p99 spans at most this many windows */

struct route_ov {
	char name[65]; /* route name, "" = free */
	uint32_t rps, burst;
	uint64_t until_ms; /* CLOCK_MONOTONIC ms */
};

struct ctrl_pub og_ctrl;

/* Main-thread state, plus the override table the admin thread writes under <mu>. */
static struct {
	struct event *ev;
	uint32_t period_ms;
	uint64_t last_ms;
	struct ctrl_state st;
	struct og_histo_snap prev[OG_LANE_MAX];
	struct og_histo_snap acc[OG_LANE_MAX]; /* windows not yet holding MIN_SAMPLES */
	uint32_t acc_n[OG_LANE_MAX];
	struct lanes_sum prev_sum[OG_LANE_MAX];
	struct og_lane_stats prev_dp[OG_LANE_MAX];
	int have_prev_dp;
	struct dp_maps *dp;
	pthread_mutex_t mu;
	struct route_ov rov[MAX_ROUTE_OV];
	uint64_t rov_gen; /* generation the published positions were resolved for */
	uint32_t rov_version, rov_published;
} cs = {.mu = PTHREAD_MUTEX_INITIALIZER};

static uint32_t ld32(const _Atomic uint32_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static uint64_t ld64(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

void ctrl_attach_dp(struct dp_maps *m)
{
	cs.dp = m;
	cs.have_prev_dp = 0;
	atomic_store(&og_ctrl.kern, m != NULL);
}

/* The window's histogram of <lane>: the merged live one minus the last snapshot. */
static void window_histo(unsigned lane, struct og_histo_snap *win)
{
	struct og_histo_snap cur = {0};

	lanes_histo(lane, &cur);
	memset(win, 0, sizeof(*win));
	for (unsigned i = 0; i < HISTO_NBUCKETS; i++) {
		win->b[i] = cur.b[i] >= cs.prev[lane].b[i] ? cur.b[i] - cs.prev[lane].b[i] : 0;
		win->count += win->b[i];
	}
	win->sum_ns = cur.sum_ns >= cs.prev[lane].sum_ns ? cur.sum_ns - cs.prev[lane].sum_ns : 0;
	cs.prev[lane] = cur;
}

static void measure(struct ctrl_in *in, const struct config *cfg, uint32_t window_ms)
{
	struct og_lane_stats dp[OG_LANE_MAX];
	int dp_ok = cs.dp && dp_lane_stats_read(cs.dp, dp) == 0;

	memset(in, 0, sizeof(*in));
	in->window_ms = window_ms;
	for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++) {
		struct ctrl_lane_in *li = &in->lane[l];
		struct og_histo_snap win;
		struct lanes_sum sum;
		uint64_t rej_now = 0, rej_prev = 0;

		if (cfg->lanes.present)
			in->slo_us[l] = cfg->lanes.lane[l].slo_p99_ms * 1000u;
		window_histo(l, &win);
		li->conc = window_ms ? (double)win.sum_ns / ((double)window_ms * 1e6) : 0;
		/* a lane with few requests gets its p99 over as many windows as it takes to
		 * hold MIN_SAMPLES (at most ACC_WINDOWS): the law waits for it, never acts
		 * twice on the same old samples */
		for (unsigned i = 0; i < HISTO_NBUCKETS; i++)
			cs.acc[l].b[i] += win.b[i];
		cs.acc[l].count += win.count;
		cs.acc[l].sum_ns += win.sum_ns;
		cs.acc_n[l]++;
		li->count = cs.acc[l].count;
		li->p50_us = histo_quantile_us(&cs.acc[l], 0.50);
		li->p99_us = histo_quantile_us(&cs.acc[l], 0.99);
		if (cs.acc[l].count >= MIN_SAMPLES || cs.acc_n[l] >= ACC_WINDOWS) {
			memset(&cs.acc[l], 0, sizeof(cs.acc[l]));
			cs.acc_n[l] = 0;
		}
		li->inflight =
		    atomic_load_explicit(&og_lanes.lane[l].inflight, memory_order_relaxed);
		lanes_sum(l, &sum);
		li->errors = sum.errors - cs.prev_sum[l].errors;
		for (int r = 0; r < LR__N; r++) {
			rej_now += sum.rejected[r];
			rej_prev += cs.prev_sum[l].rejected[r];
		}
		li->rejected = rej_now - rej_prev;
		cs.prev_sum[l] = sum;
		if (dp_ok && cs.have_prev_dp) {
			li->rx_pkts = dp[l].rx_pkts - cs.prev_dp[l].rx_pkts;
			li->drops = dp[l].drop_block + dp[l].drop_throttle + dp[l].drop_error -
				    cs.prev_dp[l].drop_block - cs.prev_dp[l].drop_throttle -
				    cs.prev_dp[l].drop_error;
			atomic_fetch_add_explicit(&og_ctrl.kern_rx[l], li->rx_pkts,
						  memory_order_relaxed);
			atomic_fetch_add_explicit(&og_ctrl.kern_drops[l], li->drops,
						  memory_order_relaxed);
		}
		atomic_store_explicit(&og_ctrl.p50_us[l], li->p50_us, memory_order_relaxed);
		atomic_store_explicit(&og_ctrl.p99_us[l], li->p99_us, memory_order_relaxed);
		atomic_store_explicit(&og_ctrl.count[l], li->count, memory_order_relaxed);
	}
	if (dp_ok) {
		memcpy(cs.prev_dp, dp, sizeof(dp));
		cs.have_prev_dp = 1;
	}
}

/* One structured line per limit change, with every input that drove it. */
static void log_change(unsigned l, uint32_t from, const struct ctrl_out *o,
		       const struct ctrl_in *in)
{
	const struct ctrl_lane_in * or = &in->lane[OG_LANE_ORDER], *nm = &in->lane[OG_LANE_NORMAL],
				    *bk = &in->lane[OG_LANE_BULK];

	og_log("info",
	       "event=ctrl lane=%s change=%s limit_from=%u limit_to=%u why=%s pressure=%.2f "
	       "excess=%.1f window_ms=%u order_p99_us=%llu order_slo_us=%u order_p50_us=%llu "
	       "order_base_p50_us=%.0f order_n=%llu order_conc=%.1f normal_p99_us=%llu "
	       "normal_slo_us=%u normal_conc=%.1f "
	       "bulk_p99_us=%llu bulk_conc=%.1f inflight=%d/%d/%d errors=%llu/%llu/%llu "
	       "rejected=%llu/%llu/%llu rx_pkts=%llu/%llu/%llu drops=%llu/%llu/%llu",
	       lanes_name(l), o->change[l] < 0 ? "cut" : "grow", from, o->limit[l],
	       ctrl_why_name(o->why), o->pressure, o->excess, in->window_ms,
	       (unsigned long long) or->p99_us, in->slo_us[OG_LANE_ORDER],
	       (unsigned long long) or->p50_us, cs.st.base_p50, (unsigned long long) or->count,
	       or->conc, (unsigned long long)nm->p99_us, in->slo_us[OG_LANE_NORMAL], nm->conc,
	       (unsigned long long)bk->p99_us, bk->conc, or->inflight, nm->inflight, bk->inflight,
	       (unsigned long long) or->errors, (unsigned long long)nm->errors,
	       (unsigned long long)bk->errors, (unsigned long long) or->rejected,
	       (unsigned long long)nm->rejected, (unsigned long long)bk->rejected,
	       (unsigned long long) or->rx_pkts, (unsigned long long)nm->rx_pkts,
	       (unsigned long long)bk->rx_pkts, (unsigned long long) or->drops,
	       (unsigned long long)nm->drops, (unsigned long long)bk->drops);
}

/* The limit workers enforce: an unexpired override, else the law's. */
static void publish_limits(const struct config *cfg, uint64_t now_ms)
{
	for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++) {
		struct lane_live *ll = &og_lanes.lane[l];
		uint32_t eff = cfg->lanes.present ? cs.st.lane[l].limit : 0;
		uint32_t max = cfg->lanes.present ? cfg->lanes.lane[l].max_inflight : 0;
		uint32_t ov = ld32(&ll->override);

		/* the operator's static ceiling bounds the law (an override still wins) */
		if (max && (!eff || eff > max))
			eff = max;

		if (ov && ld64(&ll->override_until_ms) > now_ms)
			eff = ov;
		else if (ov)
			atomic_store(&ll->override, 0); /* expired */
		atomic_store_explicit(&og_ctrl.law_limit[l], cs.st.lane[l].limit,
				      memory_order_relaxed);
		atomic_store_explicit(&ll->limit, eff, memory_order_relaxed);
	}
}

/* Route overrides: names -> positions of the running generation, expired ones dropped. */
static void publish_routes(const struct og_rt *rt, uint64_t now_ms)
{
	struct lanes_route_ov *o = &og_lanes.route_ov;
	const struct config *cfg = rt->cfg;
	int dirty;

	pthread_mutex_lock(&cs.mu);
	for (int i = 0; i < MAX_ROUTE_OV; i++)
		if (cs.rov[i].name[0] && cs.rov[i].until_ms <= now_ms) {
			cs.rov[i].name[0] = 0;
			cs.rov_version++;
		}
	dirty = cs.rov_gen != rt->gen || cs.rov_published != cs.rov_version;
	if (dirty) {
		/* workers compare the generation first: park it while positions change */
		atomic_store_explicit(&o->gen, 0, memory_order_release);
		for (int r = 0; r < cfg->n_routes; r++) {
			uint64_t v = 0;

			for (int i = 0; i < MAX_ROUTE_OV; i++)
				if (cs.rov[i].name[0] &&
				    !strcmp(cs.rov[i].name, cfg->routes[r].name))
					v = (uint64_t)cs.rov[i].rps << 32 | cs.rov[i].burst;
			atomic_store_explicit(&o->v[r], v, memory_order_relaxed);
		}
		atomic_store_explicit(&o->gen, rt->gen, memory_order_release);
		cs.rov_gen = rt->gen;
		cs.rov_published = cs.rov_version;
	}
	pthread_mutex_unlock(&cs.mu);
}

void ctrl_fast_tick(uint64_t now_ms)
{
	const struct og_rt *rt = og_daemon_rt();
	const struct config *cfg;
	const struct cfg_limits *lim;
	struct ctrl_params p;
	struct ctrl_in in;
	struct ctrl_out out;
	uint32_t window;

	if (!rt)
		return;
	cfg = rt->cfg;
	lim = &cfg->limits;
	window = cs.last_ms && now_ms > cs.last_ms ? (uint32_t)(now_ms - cs.last_ms) : lim->fast_ms;
	cs.last_ms = now_ms;
	measure(&in, cfg, window);
	atomic_store_explicit(&og_ctrl.window_ms, window, memory_order_relaxed);
	atomic_fetch_add(&og_ctrl.ticks, 1);
	p = (struct ctrl_params){.decrease = lim->decrease,
				 .floor = lim->floor,
				 .ceiling = lim->ceiling,
				 .grow_after = lim->grow_after,
				 .min_samples = MIN_SAMPLES,
				 .queue_tol = lim->queue_tolerance};
	if (cfg->lanes.present) {
		uint32_t before[OG_LANE_MAX];

		for (int l = 0; l < OG_LANE_MAX; l++)
			before[l] = cs.st.lane[l].limit;
		ctrl_law(&p, &cs.st, &in, &out);
		for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++) {
			if (!out.change[l])
				continue;
			atomic_fetch_add(out.change[l] < 0 ? &og_ctrl.cuts[l] : &og_ctrl.grows[l],
					 1);
			log_change(l, before[l], &out, &in);
		}
	} else {
		memset(&cs.st, 0, sizeof(cs.st)); /* lanes gone: nothing limited */
	}
	publish_limits(cfg, now_ms);
	publish_routes(rt, now_ms);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	uint32_t want = og_daemon_rt() ? og_daemon_rt()->cfg->limits.fast_ms : cs.period_ms;

	ctrl_fast_tick(og_now_ms());
	if (want != cs.period_ms) { /* a reload changed fast_ms */
		struct timeval tv = {want / 1000, (want % 1000) * 1000};

		cs.period_ms = want;
		event_del(cs.ev);
		event_add(cs.ev, &tv);
		og_log("info", "event=ctrl fast_ms=%u", want);
	}
}

int ctrl_start(struct event_base *base)
{
	struct timeval tv;

	cs.period_ms = og_daemon_rt()->cfg->limits.fast_ms;
	tv.tv_sec = cs.period_ms / 1000;
	tv.tv_usec = (cs.period_ms % 1000) * 1000;
	cs.ev = event_new(base, -1, EV_PERSIST, on_timer, NULL);
	if (!cs.ev || event_add(cs.ev, &tv))
		return -ENOMEM;
	cs.last_ms = og_now_ms();
	return 0;
}

void ctrl_stop(void)
{
	if (cs.ev)
		event_free(cs.ev);
	cs.ev = NULL;
}

int ctrl_override_lane(unsigned lane, uint32_t limit, uint64_t ttl_ms, char *err, size_t errlen)
{
	const struct og_rt *rt = og_daemon_rt();
	struct lane_live *ll;

	if (lane < OG_LANE_ORDER || lane >= OG_LANE_MAX) {
		snprintf(err, errlen, "lane must be order, normal or bulk");
		return -EINVAL;
	}
	if (!rt || !rt->cfg->lanes.present) {
		snprintf(err, errlen, "no lanes section in the running config");
		return -EINVAL;
	}
	if (limit && !ttl_ms) {
		snprintf(err, errlen, "an override needs ttl_ms > 0");
		return -EINVAL;
	}
	if (lane == OG_LANE_ORDER && limit && limit < rt->cfg->limits.floor) {
		snprintf(err, errlen, "the order lane is never limited below its floor (%u)",
			 rt->cfg->limits.floor);
		return -EINVAL;
	}
	ll = &og_lanes.lane[lane];
	atomic_store(&ll->override_until_ms, og_now_ms() + ttl_ms);
	atomic_store(&ll->override, limit);
	og_log("info", "event=limits_override lane=%s limit=%u ttl_ms=%llu", lanes_name(lane),
	       limit, (unsigned long long)ttl_ms);
	return 0;
}

int ctrl_override_route(const char *name, uint32_t rps, uint32_t burst, uint64_t ttl_ms, char *err,
			size_t errlen)
{
	int slot = -1, r = 0;

	if (!name || !*name || strlen(name) > 64) {
		snprintf(err, errlen, "route must name a route (1 to 64 characters)");
		return -EINVAL;
	}
	if (rps && !ttl_ms) {
		snprintf(err, errlen, "an override needs ttl_ms > 0");
		return -EINVAL;
	}
	pthread_mutex_lock(&cs.mu);
	for (int i = 0; i < MAX_ROUTE_OV; i++) {
		if (!strcmp(cs.rov[i].name, name)) {
			slot = i;
			break;
		}
		if (slot < 0 && !cs.rov[i].name[0])
			slot = i;
	}
	if (slot < 0) {
		snprintf(err, errlen, "at most %d route overrides at a time", MAX_ROUTE_OV);
		r = -ENOSPC;
	} else if (!rps) {
		cs.rov[slot].name[0] = 0;
	} else {
		snprintf(cs.rov[slot].name, sizeof(cs.rov[slot].name), "%s", name);
		cs.rov[slot].rps = rps;
		cs.rov[slot].burst = burst ? burst : rps;
		cs.rov[slot].until_ms = og_now_ms() + ttl_ms;
	}
	cs.rov_version++;
	pthread_mutex_unlock(&cs.mu);
	if (!r)
		og_log("info", "event=limits_override route=\"%s\" rps=%u burst=%u ttl_ms=%llu",
		       name, rps, burst ? burst : rps, (unsigned long long)ttl_ms);
	return r;
}

/* A JSON string of a config name (names are letters, digits and _ . : / -: no escaping). */
static void jname(struct evbuffer *out, const char *s)
{
	evbuffer_add_printf(out, "\"%s\"", s);
}

void ctrl_render_lanes(struct evbuffer *out)
{
	const struct og_rt *rt = og_daemon_rt();
	struct lanes_totals t;

	lanes_totals(&t);
	evbuffer_add_printf(out,
			    "{\"enabled\":%s,\"dry_run\":%s,\"window_ms\":%u,\"kernel\":%s,"
			    "\"lanes\":[",
			    rt && rt->cfg->lanes.present ? "true" : "false",
			    rt && rt->cfg->limits.dry_run ? "true" : "false",
			    ld32(&og_ctrl.window_ms),
			    atomic_load(&og_ctrl.kern) ? "true" : "false");
	for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++) {
		struct lanes_sum s;

		lanes_sum(l, &s);
		evbuffer_add_printf(
		    out,
		    "%s{\"lane\":\"%s\",\"limit\":%u,\"inflight\":%d,\"slo_p99_ms\":%u,"
		    "\"p50_us\":%llu,\"p99_us\":%llu,\"window_count\":%llu,\"requests\":%llu,"
		    "\"admitted\":%llu,\"exempt\":%llu,\"errors\":%llu,"
		    "\"rejected\":{\"rate-limited\":%llu,\"lane-shed\":%llu},"
		    "\"dry_run\":{\"rate-limited\":%llu,\"lane-shed\":%llu},"
		    "\"kern_rx_pkts\":%llu,\"kern_drops\":%llu}",
		    l > OG_LANE_ORDER ? "," : "", lanes_name(l), ld32(&og_lanes.lane[l].limit),
		    (int)atomic_load(&og_lanes.lane[l].inflight),
		    rt && rt->cfg->lanes.present ? rt->cfg->lanes.lane[l].slo_p99_ms : 0,
		    (unsigned long long)ld64(&og_ctrl.p50_us[l]),
		    (unsigned long long)ld64(&og_ctrl.p99_us[l]),
		    (unsigned long long)ld64(&og_ctrl.count[l]), (unsigned long long)s.requests,
		    (unsigned long long)s.admitted, (unsigned long long)s.exempt,
		    (unsigned long long)s.errors, (unsigned long long)s.rejected[LR_RATE_LIMITED],
		    (unsigned long long)s.rejected[LR_LANE_SHED],
		    (unsigned long long)s.dry_run[LR_RATE_LIMITED],
		    (unsigned long long)s.dry_run[LR_LANE_SHED],
		    (unsigned long long)ld64(&og_ctrl.kern_rx[l]),
		    (unsigned long long)ld64(&og_ctrl.kern_drops[l]));
	}
	evbuffer_add_printf(out,
			    "],\"tier\":{\"honoured\":%llu,\"untrusted\":%llu,\"invalid\":%llu},"
			    "\"pins\":%llu,\"pin_failures\":%llu,\"bucket_table_full\":%llu}\n",
			    (unsigned long long)t.tier_honoured,
			    (unsigned long long)t.tier_untrusted,
			    (unsigned long long)t.tier_invalid, (unsigned long long)t.pins,
			    (unsigned long long)t.pin_fail, (unsigned long long)t.bucket_full);
}

void ctrl_render_limits(struct evbuffer *out)
{
	const struct og_rt *rt = og_daemon_rt();
	const struct cfg_limits *lim = rt ? &rt->cfg->limits : NULL;
	uint64_t now = og_now_ms();
	int first = 1;

	if (!lim)
		return;
	evbuffer_add_printf(out,
			    "{\"fast_ms\":%u,\"slow_ms\":%u,\"decrease\":%g,\"dry_run\":%s,"
			    "\"floor\":%u,\"ceiling\":%u,\"grow_after\":%u,"
			    "\"queue_tolerance\":%g,\"lanes\":[",
			    lim->fast_ms, lim->slow_ms, lim->decrease,
			    lim->dry_run ? "true" : "false", lim->floor, lim->ceiling,
			    lim->grow_after, lim->queue_tolerance);
	for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++) {
		uint32_t ov = ld32(&og_lanes.lane[l].override);
		uint64_t until = ld64(&og_lanes.lane[l].override_until_ms);

		evbuffer_add_printf(out,
				    "%s{\"lane\":\"%s\",\"limit\":%u,\"law\":%u,\"override\":%u,"
				    "\"override_ttl_ms\":%llu,\"cuts\":%llu,\"grows\":%llu}",
				    l > OG_LANE_ORDER ? "," : "", lanes_name(l),
				    ld32(&og_lanes.lane[l].limit), ld32(&og_ctrl.law_limit[l]),
				    ov && until > now ? ov : 0,
				    (unsigned long long)(ov && until > now ? until - now : 0),
				    (unsigned long long)ld64(&og_ctrl.cuts[l]),
				    (unsigned long long)ld64(&og_ctrl.grows[l]));
	}
	evbuffer_add_printf(out, "],\"routes\":[");
	pthread_mutex_lock(&cs.mu);
	for (int r = 0; r < rt->cfg->n_routes; r++) {
		const struct cfg_route *cr = &rt->cfg->routes[r];
		const struct route_ov *o = NULL;

		for (int i = 0; i < MAX_ROUTE_OV; i++)
			if (cs.rov[i].name[0] && !strcmp(cs.rov[i].name, cr->name) &&
			    cs.rov[i].until_ms > now)
				o = &cs.rov[i];
		if (!cr->has_limit && !o)
			continue;
		evbuffer_add_printf(out, "%s{\"route\":", first ? "" : ",");
		first = 0;
		jname(out, cr->name);
		if (cr->has_limit)
			evbuffer_add_printf(
			    out, ",\"rps\":%u,\"burst\":%u,\"key\":\"%s%s\"", cr->limit.rps,
			    cr->limit.burst,
			    cr->limit.key_kind == CFG_LKEY_HEADER ? "header:"
			    : cr->limit.key_kind == CFG_LKEY_NONE ? "none"
								  : "source",
			    cr->limit.key_kind == CFG_LKEY_HEADER ? cr->limit.key_header : "");
		if (o)
			evbuffer_add_printf(
			    out, ",\"override\":{\"rps\":%u,\"burst\":%u,\"ttl_ms\":%llu}", o->rps,
			    o->burst, (unsigned long long)(o->until_ms - now));
		evbuffer_add_printf(out, "}");
	}
	pthread_mutex_unlock(&cs.mu);
	evbuffer_add_printf(out, "]}\n");
}
