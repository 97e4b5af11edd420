// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The daemon's kernel link: reserved workers, attach/adopt + writer + slow loop, admin views. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "core/worker.h"
#include "lanes/ctrl.h"
#include "lanes/kern.h"
#include "lanes/klink.h"
#include "lanes/reserve.h"
#include "lib/log.h"

static struct {
	int started;
	char pin_dir[256];
	char ifname[16];   /* what the kernel link started with: xdp.interface, */
	int mode;	   /* xdp.mode, */
	char pin_cfg[256]; /* xdp.pin_path ("" unwritten), */
	uint32_t slow_ms;  /* limits.slow_ms */
	struct dp_maps cm; /* the controller's (main thread): og_lane_stats */
	int cm_open;
	pthread_mutex_t mu; /* admin's map handles (one admin thread; cheap insurance) */
	struct dp_maps am;
	int am_open;
	struct klink_l4 l4; /* what klink_apply_l4 wrote last */
} L = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void cidr_prefix(const struct cfg_cidr *c, struct dp_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = c->family;
	p->len = c->prefix_len;
	memcpy(p->addr, c->addr, c->family == AF_INET ? 4 : 16);
}

void klink_opts_default(struct klink_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->slow_ms = 1000;
	slow_params_default(&o->slow);
	o->nice = 10;
}

/* The strings klink_opts points at: a config generation is freed after a reload, these stay. */
static char opt_ifname[16], opt_pin[256];

/* limits.slow over the slow loop's parameters (what the config does not name keeps its value). */
static void slow_from_config(struct slow_params *p, const struct cfg_slow *cs)
{
	p->syn_rate = cs->syn_rate;
	p->pkt_rate = cs->pkt_rate;
	p->reject_rate = cs->reject_rate;
	p->throttle_pps = cs->throttle_pps;
	p->throttle_burst = cs->throttle_burst;
	p->ttl_ms = cs->throttle_ttl_ms;
	p->calm_ticks = cs->calm_windows;
}

void klink_opts_config(struct klink_opts *o, const struct config *cfg)
{
	const struct cfg_lane *ol = &cfg->lanes.lane[OG_LANE_ORDER];

	o->ifname = NULL;
	o->pin_dir = NULL;
	if (cfg->xdp.present) {
		snprintf(opt_ifname, sizeof(opt_ifname), "%s", cfg->xdp.ifname);
		o->ifname = opt_ifname;
		o->mode = cfg->xdp.mode;
		if (cfg->xdp.pin_path) {
			snprintf(opt_pin, sizeof(opt_pin), "%s", cfg->xdp.pin_path);
			o->pin_dir = opt_pin;
		}
	}
	o->slow_ms = cfg->limits.slow_ms;
	slow_from_config(&o->slow, &cfg->limits.slow);
	o->reserve_workers = cfg->lanes.present ? ol->reserve_workers : 0;
	o->nice = (int)ol->others_nice;
	o->n_order_ports = 0;
	o->n_order_src = 0;
	if (!cfg->lanes.present)
		return;
	for (int i = 0; i < ol->n_dst_ports && i < 64; i++)
		o->order_ports[o->n_order_ports++] = ol->dst_ports[i];
	for (int i = 0; i < ol->n_src_cidrs && i < 64; i++)
		cidr_prefix(&ol->src_cidrs[i], &o->order_src[o->n_order_src++]);
}

int klink_prepare(const struct klink_opts *o, char *err, size_t errlen)
{
	struct reserve_opts r = {.n_workers = o->n_workers,
				 .n_reserved = o->reserve_workers,
				 .order_ports = o->order_ports,
				 .n_order_ports = o->n_order_ports,
				 .order_src = o->order_src,
				 .n_order_src = o->n_order_src,
				 .nice = o->nice};
	int ret;

	if (!o->reserve_workers)
		return 0;
	ret = reserve_setup(&r, err, errlen);
	if (ret)
		return ret;
	worker_policy.wants = reserve_wants;
	worker_policy.opened = reserve_opened;
	worker_policy.thread_start = reserve_thread_start;
	og_log("info",
	       "event=reserve_workers reserved=%u workers=%d order_ports=%d "
	       "order_src=%d nice=%d",
	       o->reserve_workers, o->n_workers, o->n_order_ports, o->n_order_src, o->nice);
	return 0;
}

int klink_start(const struct klink_opts *o, char *err, size_t errlen)
{
	struct kern_opts ko = {.ifname = o->ifname,
			       .mode = o->mode,
			       .pin_dir = o->pin_dir,
			       .tick = slow_tick,
			       .tick_ms = o->slow_ms ? o->slow_ms : 1000};
	struct kern_stats ks;
	int ret;

	if (!o->ifname)
		return 0;
	ret = slow_init(&o->slow);
	if (ret) {
		snprintf(err, errlen, "slow loop: out of memory");
		return ret;
	}
	ret = kern_start(&ko, err, errlen);
	if (ret) {
		slow_fini();
		return ret;
	}
	kern_stats_read(&ks);
	snprintf(L.pin_dir, sizeof(L.pin_dir), "%s", ks.pin_dir);
	snprintf(L.ifname, sizeof(L.ifname), "%s", o->ifname);
	snprintf(L.pin_cfg, sizeof(L.pin_cfg), "%s", o->pin_dir ? o->pin_dir : "");
	L.mode = o->mode;
	L.slow_ms = ko.tick_ms;
	L.started = 1;
	/* the controller reads og_lane_stats deltas each fast window through its own handles */
	if (dp_maps_open(&L.cm, L.pin_dir, err, errlen) == 0) {
		L.cm_open = 1;
		ctrl_attach_dp(&L.cm);
	} else {
		og_log("warn", "event=kern_start note=\"controller without og_lane_stats: %s\"",
		       err);
		err[0] = 0;
	}
	/* admin /flows' handles are opened now, as root: after a drop to `user:` the pin
	 * dir (0700, root) can no longer be opened, but handles opened before still work */
	if (dp_maps_open(&L.am, L.pin_dir, err, errlen) == 0)
		L.am_open = 1;
	else
		err[0] = 0; /* /flows retries lazily */
	og_log("info", "event=kern_start ifname=%s %s pin_dir=%s slow_ms=%u", o->ifname,
	       ks.adopted ? "adopted=1" : "attached=1", ks.pin_dir, ko.tick_ms);
	return 0;
}

void klink_stop(void)
{
	if (L.cm_open) {
		ctrl_attach_dp(NULL);
		dp_maps_close(&L.cm);
		L.cm_open = 0;
	}
	if (L.started) {
		kern_stop();
		slow_fini();
		L.started = 0;
	}
	pthread_mutex_lock(&L.mu);
	if (L.am_open)
		dp_maps_close(&L.am);
	L.am_open = 0;
	pthread_mutex_unlock(&L.mu);
	reserve_teardown();
}

static int has_port(const struct klink_l4 *l4, int lane, unsigned int port)
{
	for (int i = 0; i < l4->n_ports[lane]; i++)
		if (l4->ports[lane][i] == port)
			return 1;
	return 0;
}

static int has_src(const struct klink_l4 *l4, int lane, const struct dp_prefix *p)
{
	for (int i = 0; i < l4->n_src[lane]; i++)
		if (!memcmp(&l4->src[lane][i], p, sizeof(*p)))
			return 1;
	return 0;
}

/* Set (or clear, lane NONE) the lane of rule <p>, keeping its block flag. */
static int src_lane(struct dp_maps *m, const struct dp_prefix *p, unsigned int lane)
{
	struct og_src_rule r = {0};
	int ret = dp_src_rule_get(m, p, &r);

	if (ret && ret != -ENOENT)
		return ret;
	r.lane = (__u8)lane;
	if (!r.lane && !r.flags)
		return ret == -ENOENT ? 0 : dp_src_rule_del(m, p);
	return dp_src_rule_set(m, p, &r);
}

int klink_apply_l4(const struct klink_l4 *l4)
{
	struct dp_maps own, *mp = &L.cm;
	char err[256], buf[64];
	int lane, i, ret, first = 0, n = 0;

	if (!L.started)
		return 0;
	/* the handles opened at start (main thread, like this call): a reload after the
	 * privilege drop can no longer open the root-owned pins */
	if (!L.cm_open) {
		ret = dp_maps_open(&own, L.pin_dir, err, sizeof(err));
		if (ret) {
			og_log("warn", "event=kern_l4 err=\"%s\"", err);
			return ret;
		}
		mp = &own;
	}
	for (lane = OG_LANE_ORDER; lane < OG_LANE_MAX; lane++) {
		for (i = 0; i < L.l4.n_ports[lane]; i++)
			if (!has_port(l4, lane, L.l4.ports[lane][i]) &&
			    (ret = dp_port_lane_set(mp, L.l4.ports[lane][i], OG_LANE_NONE)) &&
			    ret != -ENOENT && !first)
				first = ret;
		for (i = 0; i < L.l4.n_src[lane]; i++)
			if (!has_src(l4, lane, &L.l4.src[lane][i]) &&
			    (ret = src_lane(mp, &L.l4.src[lane][i], OG_LANE_NONE)) && !first)
				first = ret;
	}
	for (lane = OG_LANE_ORDER; lane < OG_LANE_MAX; lane++) {
		for (i = 0; i < l4->n_ports[lane]; i++, n++)
			if ((ret = dp_port_lane_set(mp, l4->ports[lane][i], lane)) && !first)
				first = ret;
		for (i = 0; i < l4->n_src[lane]; i++, n++) {
			ret = src_lane(mp, &l4->src[lane][i], lane);
			if (ret && !first)
				first = ret;
			if (ret)
				og_log("warn", "event=kern_l4 src=%s lane=%s err=\"%s\"",
				       dp_prefix_str(&l4->src[lane][i], buf, sizeof(buf)),
				       dp_lane_name(lane), strerror(-ret));
		}
	}
	if (mp == &own)
		dp_maps_close(&own);
	L.l4 = *l4;
	og_log("info", "event=kern_l4 rules=%d err=%d", n, first);
	return first;
}

int klink_apply_config(const struct config *cfg)
{
	static struct klink_l4 l4; /* large: not on the stack; main thread only */
	const struct cfg_lane *ol = &cfg->lanes.lane[OG_LANE_ORDER];

	memset(&l4, 0, sizeof(l4));
	/* only the order lane has an L4 match; without lanes: the previous rules go */
	for (int i = 0; cfg->lanes.present && i < ol->n_dst_ports && i < 64; i++)
		l4.ports[OG_LANE_ORDER][l4.n_ports[OG_LANE_ORDER]++] = ol->dst_ports[i];
	for (int i = 0; cfg->lanes.present && i < ol->n_src_cidrs && i < 64; i++)
		cidr_prefix(&ol->src_cidrs[i], &l4.src[OG_LANE_ORDER][l4.n_src[OG_LANE_ORDER]++]);
	return klink_apply_l4(&l4);
}

static int same_cidrs(const struct cfg_cidr *a, int na, const struct cfg_cidr *b, int nb)
{
	return na == nb && (!na || !memcmp(a, b, (size_t)na * sizeof(*a)));
}

static int same_ports(const uint16_t *a, int na, const uint16_t *b, int nb)
{
	return na == nb && (!na || !memcmp(a, b, (size_t)na * sizeof(*a)));
}

void klink_reload(const struct config *old, const struct config *cfg)
{
	const struct cfg_lane *a = &old->lanes.lane[OG_LANE_ORDER];
	const struct cfg_lane *b = &cfg->lanes.lane[OG_LANE_ORDER];
	const struct cfg_xdp *y = &cfg->xdp;
	uint32_t ra = old->lanes.present ? a->reserve_workers : 0;
	uint32_t rb = cfg->lanes.present ? b->reserve_workers : 0;
	struct slow_params sp;

	/* live: the L4 lanes in og_port_lane/og_src_rules, and the slow loop's thresholds */
	klink_apply_config(cfg);
	slow_params_default(&sp);
	slow_from_config(&sp, &cfg->limits.slow);
	if (L.started)
		slow_set_params(&sp);
	/* on restart only: the attach and the writer's period (compared with what runs, so a
	 * second reload still says it), the reserved workers */
	if (L.started ? !y->present || strcmp(L.ifname, y->ifname) || L.mode != y->mode ||
			    strcmp(L.pin_cfg, y->pin_path ? y->pin_path : "")
		      : y->present)
		og_log("warn",
		       "event=reload note=\"xdp: takes effect on restart; the datapath stays as "
		       "it is, nothing is attached or detached\" xdp_running=%s xdp_config=%s",
		       L.started ? L.ifname : "-", y->present ? y->ifname : "-");
	if (L.started && L.slow_ms != cfg->limits.slow_ms)
		og_log("warn",
		       "event=reload note=\"limits.slow_ms takes effect on restart\" "
		       "slow_ms_running=%u slow_ms_config=%u",
		       L.slow_ms, cfg->limits.slow_ms);
	if (ra != rb ||
	    (rb && (a->others_nice != b->others_nice ||
		    !same_ports(a->dst_ports, a->n_dst_ports, b->dst_ports, b->n_dst_ports) ||
		    !same_cidrs(a->src_cidrs, a->n_src_cidrs, b->src_cidrs, b->n_src_cidrs))))
		og_log("warn",
		       "event=reload note=\"lanes.order reserve_workers, others_nice and the "
		       "listener placement and steering of its match take effect on restart "
		       "(kernel and L7 classification follow the new match now)\"");
}

/* ---- admin ---- */

struct fl {
	struct og_flow_key k;
	struct og_flow_stats s;
};

struct fl_vec {
	struct fl *v;
	size_t n, cap;
};

static int fl_collect(const struct og_flow_key *k, const struct og_flow_stats *s, void *ctx)
{
	struct fl_vec *fv = ctx;

	if (fv->n == fv->cap) {
		size_t cap = fv->cap ? fv->cap * 2 : 1024;
		struct fl *p = realloc(fv->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		fv->v = p;
		fv->cap = cap;
	}
	fv->v[fv->n].k = *k;
	fv->v[fv->n++].s = *s;
	return 0;
}

static int by_bytes(const void *a, const void *b)
{
	const struct fl *x = a, *y = b;

	return x->s.bytes < y->s.bytes ? 1 : x->s.bytes > y->s.bytes ? -1 : 0;
}

int klink_flows_json(struct evbuffer *b, int top)
{
	struct fl_vec fv = {0};
	char err[256], sa[64], da[64];
	uint64_t now = dp_now_coarse_ns();
	size_t i, shown;
	int ret;

	if (!L.started)
		return -ENODEV;
	pthread_mutex_lock(&L.mu);
	if (!L.am_open) {
		ret = dp_maps_open(&L.am, L.pin_dir, err, sizeof(err));
		if (ret) {
			pthread_mutex_unlock(&L.mu);
			return ret;
		}
		L.am_open = 1;
	}
	ret = dp_flows_foreach(&L.am, fl_collect, &fv);
	if (ret) {
		pthread_mutex_unlock(&L.mu);
		free(fv.v);
		return ret;
	}
	if (fv.n)
		qsort(fv.v, fv.n, sizeof(*fv.v), by_bytes);
	shown = top > 0 && (size_t)top < fv.n ? (size_t)top : fv.n;
	evbuffer_add_printf(b, "{\"count\":%zu,\"shown\":%zu,\"flows\":[", fv.n, shown);
	for (i = 0; i < shown; i++) {
		const struct fl *f = &fv.v[i];
		struct og_addr_key ak = {.family = f->k.family};
		struct og_flow_pin pin;
		struct og_throttle t;
		int pinned, throttled;

		memcpy(ak.addr, f->k.saddr, sizeof(ak.addr));
		pinned = bpf_map_lookup_elem(L.am.fd[DP_MAP_FLOW_LANE], &f->k, &pin) == 0;
		throttled = bpf_map_lookup_elem(L.am.fd[DP_MAP_THROTTLE], &ak, &t) == 0 &&
			    t.expires_ns > dp_now_ns();
		dp_addr_str(f->k.family, f->k.saddr, sa, sizeof(sa));
		dp_addr_str(f->k.family, f->k.daddr, da, sizeof(da));
		evbuffer_add_printf(
		    b,
		    "%s{\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"proto\":%u,"
		    "\"lane\":\"%s\",\"lane_src\":\"%s\",\"pinned\":%s,\"pinned_lane\":\"%s\","
		    "\"throttled\":%s,\"pkts\":%llu,\"bytes\":%llu,\"syns\":%u,\"age_s\":%.1f,"
		    "\"idle_s\":%.1f}",
		    i ? "," : "", sa, ntohs(f->k.sport), da, ntohs(f->k.dport), f->k.proto,
		    dp_lane_name(f->s.lane), dp_lsrc_name(f->s.lane_src), pinned ? "true" : "false",
		    pinned ? dp_lane_name(pin.lane) : "", throttled ? "true" : "false",
		    (unsigned long long)f->s.pkts, (unsigned long long)f->s.bytes, f->s.syns,
		    f->s.first_ns && now > f->s.first_ns ? (now - f->s.first_ns) / 1e9 : 0.0,
		    f->s.last_ns && now > f->s.last_ns ? (now - f->s.last_ns) / 1e9 : 0.0);
	}
	evbuffer_add_printf(b, "]}\n");
	pthread_mutex_unlock(&L.mu);
	free(fv.v);
	return 0;
}

void klink_metrics(struct evbuffer *b)
{
	struct reserve_stats r;
	struct kern_stats k;
	struct slow_stats s;

	reserve_stats_read(&r);
	evbuffer_add_printf(
	    b,
	    "# HELP ordergate_reserve_workers Workers reserved for the order lane.\n"
	    "# TYPE ordergate_reserve_workers gauge\n"
	    "ordergate_reserve_workers %u\n"
	    "# HELP ordergate_reuseport_sockets Listeners in og_rp_socks.\n"
	    "# TYPE ordergate_reuseport_sockets gauge\n"
	    "ordergate_reuseport_sockets %u\n",
	    r.n_reserved, r.sockets);
	if (!L.started)
		return;
	kern_stats_read(&k);
	slow_stats_read(&s);
	evbuffer_add_printf(
	    b,
	    "# HELP ordergate_kern_requests_total Kernel writer requests by result.\n"
	    "# TYPE ordergate_kern_requests_total counter\n"
	    "ordergate_kern_requests_total{result=\"posted\"} %llu\n"
	    "ordergate_kern_requests_total{result=\"queue_full\"} %llu\n"
	    "ordergate_kern_requests_total{result=\"applied\"} %llu\n"
	    "ordergate_kern_requests_total{result=\"failed\"} %llu\n"
	    "# HELP ordergate_kern_throttles_live Unexpired og_throttle entries at the last "
	    "recount.\n"
	    "# TYPE ordergate_kern_throttles_live gauge\n"
	    "ordergate_kern_throttles_live %u\n"
	    "# HELP ordergate_slow_decisions_total Slow loop decisions by action.\n"
	    "# TYPE ordergate_slow_decisions_total counter\n"
	    "ordergate_slow_decisions_total{action=\"throttle\"} %llu\n"
	    "ordergate_slow_decisions_total{action=\"release\"} %llu\n"
	    "ordergate_slow_decisions_total{action=\"demote\"} %llu\n"
	    "# HELP ordergate_slow_ticks_total Slow loop windows run.\n"
	    "# TYPE ordergate_slow_ticks_total counter\n"
	    "ordergate_slow_ticks_total %llu\n"
	    "# HELP ordergate_slow_flows Flows in the last og_flows read.\n"
	    "# TYPE ordergate_slow_flows gauge\n"
	    "ordergate_slow_flows %llu\n"
	    "# HELP ordergate_slow_throttled Sources the slow loop holds throttled.\n"
	    "# TYPE ordergate_slow_throttled gauge\n"
	    "ordergate_slow_throttled %u\n"
	    "# HELP ordergate_slow_tick_seconds Duration of the last slow loop window's work.\n"
	    "# TYPE ordergate_slow_tick_seconds gauge\n"
	    "ordergate_slow_tick_seconds %.6f\n"
	    "# HELP ordergate_slow_notes_lost_total L7 rejection notes that found no slot.\n"
	    "# TYPE ordergate_slow_notes_lost_total counter\n"
	    "ordergate_slow_notes_lost_total %llu\n",
	    (unsigned long long)k.posted, (unsigned long long)k.full, (unsigned long long)k.applied,
	    (unsigned long long)k.failed, k.throttles_live, (unsigned long long)s.throttles,
	    (unsigned long long)s.releases, (unsigned long long)s.demotes,
	    (unsigned long long)s.ticks, (unsigned long long)s.flows, s.throttled, s.last_ns / 1e9,
	    (unsigned long long)s.notes_lost);
}
